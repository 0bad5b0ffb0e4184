using System.Globalization;
using System.Text;
using TinyGrad.Backends;

namespace TinyGrad;

/// <summary>
/// A float32, row-major tensor of rank 0 to 4: a shape over a <see cref="Backends.Storage"/>, plus what
/// autograd needs (whether it requires a gradient, the gradient, and the tape node that made it).
/// Ops live in the <c>Ops/</c> folder as partial-class members, each with its backward beside it.
/// </summary>
public sealed partial class Tensor
{
    private readonly int[] _shape;
    private bool _requiresGrad;

    internal Tensor(Storage storage, int[] shape)
    {
        if (Shapes.Numel(shape) > storage.Length)
            throw new ArgumentException($"tensor: shape {Shapes.Format(shape)} needs {Shapes.Numel(shape)} elements but the storage holds {storage.Length}");
        Storage = storage;
        _shape = shape;
    }

    /// <summary>The buffer holding the elements (shared by reshaped views).</summary>
    public Storage Storage { get; }

    /// <summary>The tape node that produced this tensor; null for a leaf.</summary>
    internal Autograd.Node? Creator { get; set; }

    /// <summary>A copy of the shape.</summary>
    public int[] Shape => (int[])_shape.Clone();

    internal int[] ShapeRef => _shape;

    /// <summary>Number of axes.</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements.</summary>
    public int Numel => Shapes.Numel(_shape);

    /// <summary>Size of one axis (negative counts from the end).</summary>
    public int Size(int axis) => _shape[Shapes.Axis(axis, _shape, "size")];

    /// <summary>Where the data lives.</summary>
    public Device Device => Storage.Backend.Device;

    internal IBackend Backend => Storage.Backend;

    /// <summary>An optional name, used in error messages (e.g. by <see cref="CheckFinite"/>).</summary>
    public string? Name { get; set; }

    /// <summary>
    /// The accumulated gradient, or null before any backward pass (and after <see cref="ZeroGrad"/>). Leaves keep it;
    /// an intermediate tensor's is freed once used, unless <see cref="RetainGrad"/> asked to keep it.
    /// </summary>
    public Tensor? Grad { get; set; }

    /// <summary>True for tensors not produced by a recorded op (parameters and inputs).</summary>
    public bool IsLeaf => Creator is null;

    /// <summary>Whether gradients flow to this tensor. Set it on leaves; op outputs inherit it.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!IsLeaf && !value)
                throw new InvalidOperationException("RequiresGrad: cannot turn off gradients of a non-leaf tensor; use Detach()");
            _requiresGrad = value;
        }
    }

    /// <summary>Marks this tensor as requiring a gradient and returns it (for fluent construction).</summary>
    public Tensor RequireGrad(bool requires = true)
    {
        RequiresGrad = requires;
        return this;
    }

    // ---- creation ---------------------------------------------------------------------------

    private static Device Dev(Device? device) => device ?? Device.Default;

    internal static Tensor Empty(int[] shape, IBackend backend) => new(backend.Allocate(Shapes.Numel(shape)), shape);

    /// <summary>A tensor whose contents are undefined, for a kernel that overwrites every element (skips zeroing large buffers).</summary>
    internal static Tensor Uninitialized(int[] shape, IBackend backend) => new(backend.AllocateUninitialized(Shapes.Numel(shape)), shape);

    /// <summary>A tensor of zeros on the default device (<see cref="Device.Default"/>).</summary>
    public static Tensor Zeros(params int[] shape) => Zeros(shape, null);

    /// <summary>A tensor of zeros on <paramref name="device"/>.</summary>
    public static Tensor Zeros(int[] shape, Device? device) => Empty(Shapes.Validate(shape, "zeros"), Dev(device).Backend);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, float value, Device? device = null)
    {
        var t = Zeros(shape, device);
        if (value != 0f) t.Backend.Fill(t.Storage, value);
        return t;
    }

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor Scalar(float value, Device? device = null) => Full([], value, device);

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape (1-D when no shape is given; see <see cref="Scalar"/> for rank 0).</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FromArray(data, shape is null || shape.Length == 0 ? [data.Length] : shape, null);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/> with exactly the given shape (empty: rank 0) on <paramref name="device"/>.</summary>
    public static Tensor FromArray(float[] data, int[] shape, Device? device)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        Shapes.Validate(shape, "from_array");
        if (Shapes.Numel(shape) != data.Length)
            throw new ArgumentException($"from_array: {data.Length} values do not fill shape {Shapes.Format(shape)} ({Shapes.Numel(shape)} elements)");
        return new Tensor(Dev(device).Backend.FromHost(data), (int[])shape.Clone());
    }

    /// <summary>Uniform samples in [low, high) from an explicit generator.</summary>
    public static Tensor Uniform(int[] shape, float low, float high, Generator generator, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var data = new float[Shapes.Numel(Shapes.Validate(shape, "uniform"))];
        for (int i = 0; i < data.Length; i++) data[i] = low + (high - low) * generator.NextFloat();
        return FromArray(data, shape, device);
    }

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(int[] shape, Generator generator, Device? device = null) => Uniform(shape, 0f, 1f, generator, device);

    /// <summary>Normal samples with the given mean and standard deviation from an explicit generator.</summary>
    public static Tensor Normal(int[] shape, float mean, float std, Generator generator, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var data = new float[Shapes.Numel(Shapes.Validate(shape, "normal"))];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(mean + std * generator.NextGaussian());
        return FromArray(data, shape, device);
    }

    /// <summary>Standard normal samples.</summary>
    public static Tensor Randn(int[] shape, Generator generator, Device? device = null) => Normal(shape, 0f, 1f, generator, device);

    // ---- reading ------------------------------------------------------------------------------

    /// <summary>A host copy of the elements in row-major order.</summary>
    public float[] ToArray()
    {
        var data = new float[Numel];
        Backend.ToHost(Storage, data);
        return data;
    }

    /// <summary>The value of a one-element tensor.</summary>
    public float Item()
    {
        if (Numel != 1)
            throw new InvalidOperationException($"item: only a one-element tensor has a single value; this one has shape {Shapes.Format(_shape)}");
        return ToArray()[0];
    }

    /// <summary>A new tensor sharing this storage but cut from the tape: no gradient flows through it.</summary>
    public Tensor Detach() => new(Storage, _shape) { Name = Name };

    /// <summary>Copies to another device (the same tensor when it is already there). Differentiable.</summary>
    public Tensor To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device == Device) return this;
        var result = FromArray(ToArray(), _shape, device);
        return Autograd.Record("to", result, [this], gy => AccumulateGrad(gy.To(Device)));
    }

    /// <summary>Clears the gradient (PyTorch's zero_grad with set_to_none).</summary>
    public void ZeroGrad() => Grad = null;

    /// <summary>
    /// Runs reverse-mode autodiff from this tensor: replays this thread's tape backwards, accumulating
    /// into the <see cref="Grad"/> of every leaf that requires one, then frees what it replayed (other graphs recorded on this thread stay differentiable).
    /// A non-scalar tensor needs an explicit upstream <paramref name="gradient"/> of its own shape. Gradient hooks
    /// (<see cref="RegisterHook"/>) run during the pass; <see cref="RetainGrad"/> keeps an intermediate's gradient.
    /// </summary>
    public void Backward(Tensor? gradient = null) => Autograd.Backward(this, gradient);

    /// <summary>Throws an <see cref="ArithmeticException"/> naming this tensor if any element is NaN or ±∞.</summary>
    public Tensor CheckFinite(string? name = null)
    {
        var data = ToArray();
        for (int i = 0; i < data.Length; i++)
        {
            if (!float.IsFinite(data[i]))
                throw new ArithmeticException(
                    $"check_finite: tensor '{name ?? Name ?? "unnamed"}' of shape {Shapes.Format(_shape)} has {data[i]} at flat index {i}");
        }
        return this;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        var data = ToArray();
        Format(sb, data, 0, 0);
        sb.Append(", shape=").Append(Shapes.Format(_shape));
        if (RequiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    // Prints at most 3 leading and 3 trailing entries per axis, like NumPy's summarised output.
    private void Format(StringBuilder sb, float[] data, int axis, int offset)
    {
        if (axis == _shape.Length)
        {
            sb.Append(data[offset].ToString("0.0000", CultureInfo.InvariantCulture));
            return;
        }
        int n = _shape[axis], stride = Shapes.Numel(_shape.AsSpan(axis + 1));
        sb.Append('[');
        for (int i = 0; i < n; i++)
        {
            if (n > 6 && i == 3)
            {
                sb.Append("..., ");
                i = n - 3;
            }
            Format(sb, data, axis + 1, offset + i * stride);
            if (i < n - 1) sb.Append(", ");
        }
        sb.Append(']');
    }

    // ---- gradient plumbing ---------------------------------------------------------------------

    /// <summary>
    /// Adds <paramref name="g"/> into <see cref="Grad"/> (called by backward closures). Leaves keep a private
    /// copy so that optimizers may scale it in place; intermediate gradients are used once and dropped.
    /// </summary>
    /// <remarks>
    /// A leaf's existing gradient is added to in place (as PyTorch accumulates into <c>.grad</c>): a reference to
    /// <see cref="Grad"/> taken before a backward pass sees the sum, and a tied weight (one tensor, two uses) sums
    /// both uses into one buffer. So a leaf never keeps <paramref name="g"/> itself, which the caller may hand to
    /// others too; to give a leaf a fresh buffer without a copy, hand it over as a <see cref="GradientBuffer"/>.
    /// </remarks>
    internal void AccumulateGrad(Tensor g) => AccumulateGrad(g, owned: false);

    /// <summary>
    /// Adds a fresh gradient buffer into <see cref="Grad"/>; a leaf without a gradient keeps the buffer itself (no
    /// copy). The buffer can be handed over once only, so it can never become two tensors' gradient.
    /// </summary>
    internal void AccumulateGrad(GradientBuffer g)
    {
        ArgumentNullException.ThrowIfNull(g);
        AccumulateGrad(g.Take(), owned: true);
    }

    private void AccumulateGrad(Tensor g, bool owned)
    {
        if (!RequiresGrad) return;
        if (Creator is { Released: true })
            throw new InvalidOperationException(
                $"backward: tensor of shape {Shapes.Format(_shape)} was produced by '{Creator.Op}', whose graph was already released by an earlier Backward(); run the forward pass again");
        if (!Shapes.Equal(g._shape, _shape))
            throw new InvalidOperationException($"backward: gradient of shape {Shapes.Format(g._shape)} for a tensor of shape {Shapes.Format(_shape)}");
        // A leaf with gradient hooks collects this pass's gradient apart; the hooks see it whole after the replay.
        if (IsLeaf && HasGradHooks && Autograd.DeferLeafGradient(this, g, owned)) return;
        AddToGrad(g, owned);
    }

    /// <summary>The accumulation itself, past the checks (and, for a hooked leaf, after its hooks ran).</summary>
    internal void AddToGrad(Tensor g, bool owned)
    {
        using var _ = Autograd.NoGrad();
        if (Grad is null) Grad = IsLeaf && !owned ? g.Clone() : g;
        else if (IsLeaf && Grad.Device == g.Device && Shapes.Equal(Grad._shape, _shape))
        {
            var strides = Shapes.Strides(_shape);
            Backend.Binary(BinaryOp.Add, Grad.Storage, strides, g.Storage, strides, Grad.Storage, _shape);
        }
        else Grad = Grad + g;
    }

    /// <summary>
    /// Accumulates a gradient that is cheaper to add in place than to build densely (a scatter-add into a
    /// few rows): a leaf's own gradient buffer is updated directly, so an embedding's backward touches only
    /// the looked-up rows once the buffer exists.
    /// </summary>
    internal void AccumulateGradInPlace(Action<Storage> addInto)
    {
        if (!RequiresGrad) return;
        if (IsLeaf && !HasGradHooks) // a hooked leaf must see this pass's gradient on its own, so it takes the dense path
        {
            Grad ??= Zeros(_shape, Device);
            addInto(Grad.Storage);
            return;
        }
        var g = Zeros(_shape, Device);
        addInto(g.Storage);
        AccumulateGrad(new GradientBuffer(g));
    }

    internal static void SameDevice(string op, Tensor a, Tensor b)
    {
        if (a.Device != b.Device)
            throw new ArgumentException($"{op}: tensors are on different devices ({a.Device} {Shapes.Format(a._shape)} and {b.Device} {Shapes.Format(b._shape)}); move one with To()");
    }
}
