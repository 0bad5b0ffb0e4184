using TinyGrad.Backends;

namespace TinyGrad;

// Elementwise maps. Each backward is written from the output y where that is cheaper than from x.
public sealed partial class Tensor
{
    /// <summary>eˣ. d/dx = y.</summary>
    public Tensor Exp() => Map(UnaryOp.Exp, "exp", 0f, (gy, y) => gy * y);

    /// <summary>ln x. d/dx = 1/x.</summary>
    public Tensor Log() => Map(UnaryOp.Log, "log", 0f, (gy, _) => gy / this);

    /// <summary>tanh x. d/dx = 1 − y².</summary>
    public Tensor Tanh() => Map(UnaryOp.Tanh, "tanh", 0f, (gy, y) => gy * (1f - y * y));

    /// <summary>σ(x) = 1/(1 + e⁻ˣ). d/dx = y(1 − y).</summary>
    public Tensor Sigmoid() => Map(UnaryOp.Sigmoid, "sigmoid", 0f, (gy, y) => gy * y * (1f - y));

    /// <summary>max(x, 0). d/dx = [x &gt; 0].</summary>
    public Tensor Relu() => Map(UnaryOp.Relu, "relu", 0f, (gy, _) => gy * Mask(this));

    /// <summary>ln(1 + eˣ), stable for any x. d/dx = σ(x).</summary>
    public Tensor Softplus() => Map(UnaryOp.Softplus, "softplus", 0f, (gy, _) => gy * Raw(UnaryOp.Sigmoid, this));

    /// <summary>ln σ(x) = −softplus(−x), stable for any x. d/dx = 1 − σ(x) = σ(−x).</summary>
    public Tensor LogSigmoid() => Map(UnaryOp.LogSigmoid, "logsigmoid", 0f, (gy, _) => gy * Raw(UnaryOp.Sigmoid, -this));

    /// <summary>√x. d/dx = 1/(2y).</summary>
    public Tensor Sqrt() => Map(UnaryOp.Sqrt, "sqrt", 0f, (gy, y) => gy * 0.5f / y);

    /// <summary>xᵖ for a scalar exponent. d/dx = p·xᵖ⁻¹.</summary>
    public Tensor Pow(float p) => Map(UnaryOp.Pow, "pow", p, (gy, _) => gy * p * Raw(UnaryOp.Pow, this, p - 1f));

    // A map without a tape entry, for use inside backward closures (which already run under no-grad).
    private static Tensor Raw(UnaryOp op, Tensor x, float s = 0f)
    {
        var y = Empty(x._shape, x.Backend);
        x.Backend.Unary(op, x.Storage, y.Storage, x.Numel, s);
        return y;
    }

    private static Tensor Mask(Tensor x) => Raw(UnaryOp.Step, x);
}
