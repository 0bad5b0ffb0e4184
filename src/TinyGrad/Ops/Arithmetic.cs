using TinyGrad.Backends;

namespace TinyGrad;

// Elementwise binary ops with NumPy broadcasting, their scalar variants, and the C# operators.
public sealed partial class Tensor
{
    private static Tensor Broadcasting(BinaryOp op, string name, Tensor a, Tensor b, Func<Tensor, Tensor?> gradA, Func<Tensor, Tensor?> gradB)
    {
        SameDevice(name, a, b);
        var shape = Shapes.Broadcast(a._shape, b._shape, name);
        var y = Empty(shape, a.Backend);
        a.Backend.Binary(op, a.Storage, Shapes.BroadcastStrides(a._shape, shape), b.Storage, Shapes.BroadcastStrides(b._shape, shape), y.Storage, shape);
        return Autograd.Record(name, y, [a, b], gy =>
        {
            // A broadcast input was used many times over: its gradient sums over the broadcast axes.
            if (a.RequiresGrad && gradA(gy) is Tensor ga) a.AccumulateGrad(ga.SumTo(a._shape));
            if (b.RequiresGrad && gradB(gy) is Tensor gb) b.AccumulateGrad(gb.SumTo(b._shape));
        });
    }

    /// <summary>a + b (broadcasting). d/da = 1, d/db = 1.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Broadcasting(BinaryOp.Add, "add", a, b, gy => gy, gy => gy);

    /// <summary>a − b (broadcasting). d/da = 1, d/db = −1.</summary>
    public static Tensor Sub(Tensor a, Tensor b) => Broadcasting(BinaryOp.Sub, "sub", a, b, gy => gy, gy => -gy);

    /// <summary>a · b (broadcasting). d/da = b, d/db = a.</summary>
    public static Tensor Mul(Tensor a, Tensor b) => Broadcasting(BinaryOp.Mul, "mul", a, b, gy => gy * b, gy => gy * a);

    /// <summary>a / b (broadcasting). d/da = 1/b, d/db = −a/b².</summary>
    public static Tensor Div(Tensor a, Tensor b) => Broadcasting(BinaryOp.Div, "div", a, b, gy => gy / b, gy => -gy * a / (b * b));

    /// <summary>Applies a scalar-parameterised map and records its backward.</summary>
    internal Tensor Map(UnaryOp op, string name, float s, Func<Tensor, Tensor, Tensor> backward)
    {
        var y = Empty(_shape, Backend);
        Backend.Unary(op, Storage, y.Storage, Numel, s);
        return Autograd.Record(name, y, [this], gy => AccumulateGrad(backward(gy, y)));
    }

    /// <summary>−x.</summary>
    public Tensor Neg() => Map(UnaryOp.Neg, "neg", 0f, (gy, _) => -gy);

    /// <summary>x + s.</summary>
    public Tensor Add(float s) => Map(UnaryOp.AddScalar, "add", s, (gy, _) => gy);

    /// <summary>x − s.</summary>
    public Tensor Sub(float s) => Map(UnaryOp.AddScalar, "sub", -s, (gy, _) => gy);

    /// <summary>x · s.</summary>
    public Tensor Mul(float s) => Map(UnaryOp.MulScalar, "mul", s, (gy, _) => gy * s);

    /// <summary>x / s.</summary>
    public Tensor Div(float s) => Map(UnaryOp.DivScalar, "div", s, (gy, _) => gy / s);

    /// <summary>s − x.</summary>
    public Tensor RSub(float s) => Map(UnaryOp.RSubScalar, "rsub", s, (gy, _) => -gy);

    /// <summary>s / x. d/dx = −s/x² = −y/x.</summary>
    public Tensor RDiv(float s) => Map(UnaryOp.RDivScalar, "rdiv", s, (gy, y) => -gy * y / this);

    /// <summary>a + b.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    /// <summary>a − b.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    /// <summary>a · b (elementwise).</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    /// <summary>a / b (elementwise).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    /// <summary>−a.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();
    /// <summary>a + s.</summary>
    public static Tensor operator +(Tensor a, float s) => a.Add(s);
    /// <summary>s + a.</summary>
    public static Tensor operator +(float s, Tensor a) => a.Add(s);
    /// <summary>a − s.</summary>
    public static Tensor operator -(Tensor a, float s) => a.Sub(s);
    /// <summary>s − a.</summary>
    public static Tensor operator -(float s, Tensor a) => a.RSub(s);
    /// <summary>a · s.</summary>
    public static Tensor operator *(Tensor a, float s) => a.Mul(s);
    /// <summary>s · a.</summary>
    public static Tensor operator *(float s, Tensor a) => a.Mul(s);
    /// <summary>a / s.</summary>
    public static Tensor operator /(Tensor a, float s) => a.Div(s);
    /// <summary>s / a.</summary>
    public static Tensor operator /(float s, Tensor a) => a.RDiv(s);
}
