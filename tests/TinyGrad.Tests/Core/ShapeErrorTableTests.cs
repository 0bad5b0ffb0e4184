namespace TinyGrad.Tests.Core;

using System.Reflection;
using TinyGrad;
using TinyGrad.NN;
using TinyGrad.NN.Heads;
using TinyGrad.Optim;

// Every public op given wrong shapes fails with an ArgumentException (or, for a state that does not fit,
// InvalidOperationException/StateDictException) whose message names the op and every shape involved, formatted as
// Shapes.Format formats them ("[3, 4]"); never IndexOutOfRange or NullReference from deep inside a kernel.
// A reflection guard makes every public Tensor method that returns tensors either appear in the table or carry an
// exemption with its reason, so a new op cannot slip in without a row.
public class ShapeErrorTableTests
{
    private static Tensor Z(params int[] shape) => Tensor.Zeros(shape);

    private static Tensor P(params int[] shape) => Tensor.Zeros(shape).RequireGrad();

    /// <summary>One row: the public member it covers, the case, the call that must throw, and what the message must contain.</summary>
    public sealed record Row(string Member, string Case, Action Act, string[] Mentions)
    {
        public override string ToString() => $"{Member}: {Case}";
    }

    private static readonly Generator G = new(1);

    public static readonly Row[] Rows =
    [
        // Broadcasting binary ops (the operators +, -, *, / call these).
        new("Add", "broadcast", () => Tensor.Add(Z(2, 3), Z(4)), ["add", "[2, 3]", "[4]"]),
        new("Sub", "broadcast", () => Tensor.Sub(Z(2, 3), Z(3, 2)), ["sub", "[2, 3]", "[3, 2]"]),
        new("Mul", "broadcast", () => Tensor.Mul(Z(4, 1, 3), Z(2, 2)), ["mul", "[4, 1, 3]", "[2, 2]"]),
        new("Div", "broadcast", () => Tensor.Div(Z(5), Z(2, 4)), ["div", "[5]", "[2, 4]"]),
        new("Add", "operator", () => _ = Z(2, 3) + Z(3, 3), ["add", "[2, 3]", "[3, 3]"]),

        // Matrix products in every variant.
        new("MatMul", "2-D inner", () => Z(2, 3).MatMul(Z(4, 5)), ["matmul", "[2, 3]", "[4, 5]"]),
        new("MatMul", "2-D transposed A", () => Tensor.MatMul(Z(3, 2), Z(4, 5), transposeA: true), ["matmul", "[3, 2]", "[4, 5]"]),
        new("MatMul", "2-D transposed B", () => Tensor.MatMul(Z(2, 3), Z(5, 4), transposeB: true), ["matmul", "[2, 3]", "[5, 4]"]),
        new("MatMul", "2-D both transposed", () => Tensor.MatMul(Z(3, 2), Z(5, 4), true, true), ["matmul", "[3, 2]", "[5, 4]"]),
        new("MatMul", "3-D batch sizes", () => Tensor.MatMul(Z(2, 3, 4), Z(3, 4, 5)), ["matmul", "[2, 3, 4]", "[3, 4, 5]"]),
        new("MatMul", "3-D inner", () => Tensor.MatMul(Z(2, 3, 4), Z(2, 5, 5)), ["matmul", "[2, 3, 4]", "[2, 5, 5]"]),
        new("MatMul", "3-D·2-D inner", () => Tensor.MatMul(Z(2, 3, 4), Z(5, 6)), ["matmul", "[2, 3, 4]", "[5, 6]"]),
        new("MatMul", "3-D·2-D transposed B", () => Tensor.MatMul(Z(2, 3, 4), Z(6, 5), transposeB: true), ["matmul", "[2, 3, 4]", "[6, 5]"]),
        new("MatMul", "3-D transposed · 2-D", () => Tensor.MatMul(Z(2, 3, 4), Z(3, 5), transposeA: true), ["matmul", "[2, 3, 4]", "[3, 5]"]),
        new("MatMul", "1-D", () => Z(3).MatMul(Z(3, 2)), ["matmul", "[3]", "[3, 2]"]),
        new("MatMul", "2-D·3-D", () => Tensor.MatMul(Z(3, 4), Z(2, 4, 5)), ["matmul", "[3, 4]", "[2, 4, 5]"]),
        new("MatMul", "4-D", () => Tensor.MatMul(Z(1, 2, 3, 4), Z(1, 2, 4, 3)), ["matmul", "[1, 2, 3, 4]", "[1, 2, 4, 3]"]),

        // Layout.
        new("Reshape", "count", () => Z(2, 3).Reshape(5), ["reshape", "[2, 3]", "[5]"]),
        new("Reshape", "inferred", () => Z(2, 3).Reshape(4, -1), ["reshape", "[2, 3]", "[4, -1]"]),
        new("Reshape", "two inferred", () => Z(2, 3).Reshape(-1, -1), ["reshape", "[2, 3]", "[-1, -1]"]),
        new("Reshape", "negative", () => Z(2, 3).Reshape(-2, -3), ["reshape", "[2, 3]", "[-2, -3]"]),
        new("Reshape", "rank 5", () => Z(2, 3).Reshape(1, 1, 2, 1, 3), ["reshape", "[2, 3]", "[1, 1, 2, 1, 3]"]),
        new("Unsqueeze", "axis", () => Z(2, 3).Unsqueeze(3), ["unsqueeze", "axis 3", "[2, 3]"]),
        new("Unsqueeze", "rank 5", () => Z(1, 2, 3, 4).Unsqueeze(0), ["unsqueeze", "[1, 2, 3, 4]"]),
        new("Squeeze", "size", () => Z(2, 3).Squeeze(1), ["squeeze", "[2, 3]"]),
        new("Squeeze", "axis", () => Z(2, 3).Squeeze(-3), ["squeeze", "axis -3", "[2, 3]"]),
        new("Permute", "count", () => Z(2, 3).Permute(0), ["permute", "[0]", "[2, 3]"]),
        new("Permute", "repeat", () => Z(2, 3, 4).Permute(0, 0, 1), ["permute", "[0, 0, 1]", "[2, 3, 4]"]),
        new("Permute", "range", () => Z(2, 3).Permute(0, 2), ["permute", "axis 2", "[2, 3]"]),
        new("Transpose", "axis", () => Z(2, 3).Transpose(0, 2), ["transpose", "axis 2", "[2, 3]"]),
        new("get_T", "3-D", () => _ = Z(2, 3, 4).T, ["T", "[2, 3, 4]"]),
        new("Expand", "shape", () => Z(2, 3).Expand(4, 3), ["expand", "[2, 3]", "[4, 3]"]),
        new("SumTo", "shape", () => Z(2, 3).SumTo([4]), ["sum_to", "[2, 3]", "[4]"]),
        new("SumTo", "not a broadcast", () => Z(3).SumTo([2, 3]), ["sum_to", "[3]", "[2, 3]"]),

        // Slicing and joining.
        new("Narrow", "range", () => Z(2, 3).Narrow(1, 2, 2), ["narrow", "[2, 3]"]),
        new("Narrow", "axis", () => Z(2, 3).Narrow(2, 0, 1), ["narrow", "axis 2", "[2, 3]"]),
        new("Split", "sizes", () => Z(4, 3).Split([1, 2]), ["split", "[1, 2]", "[4, 3]"]),
        new("Split", "size", () => Z(4, 3).Split(0), ["split", "[4, 3]"]),
        new("Split", "axis", () => Z(4, 3).Split(2, axis: 2), ["split", "axis 2", "[4, 3]"]),
        new("Chunk", "divisible", () => Z(4, 3).Chunk(2, axis: 1), ["chunk", "[4, 3]"]),
        new("Cat", "shapes", () => Tensor.Cat([Z(2, 3), Z(3, 4)], 1), ["cat", "[2, 3]", "[3, 4]"]),
        new("Cat", "ranks", () => Tensor.Cat([Z(2, 3), Z(2, 3, 1)], 0), ["cat", "[2, 3]", "[2, 3, 1]"]),
        new("Cat", "axis", () => Tensor.Cat([Z(2, 3), Z(2, 3)], 2), ["cat", "axis 2", "[2, 3]"]),
        new("Stack", "shapes", () => Tensor.Stack([Z(2), Z(3)]), ["stack", "[2]", "[3]"]),
        new("Stack", "axis", () => Tensor.Stack([Z(2, 3), Z(2, 3)], 4), ["stack", "axis 4", "[2, 3]"]),

        // Indexing.
        new("IndexSelect", "range", () => Z(3, 2).IndexSelect([0, 3]), ["index_select", "3", "[3, 2]"]),
        new("IndexSelect", "scalar", () => Tensor.Scalar(1f).IndexSelect([0]), ["index_select", "[]"]),
        new("Gather", "count", () => Z(2, 3).Gather([0]), ["gather", "[2, 3]"]),
        new("Gather", "range", () => Z(2, 3).Gather([0, 3]), ["gather", "3", "[2, 3]"]),
        new("Gather", "scalar", () => Tensor.Scalar(1f).Gather([0]), ["gather", "[]"]),

        // Softmax family and losses.
        new("Softmax", "axis", () => Z(2, 3).Softmax(2), ["softmax", "axis 2", "[2, 3]"]),
        new("LogSoftmax", "axis", () => Z(2, 3).LogSoftmax(-3), ["log_softmax", "axis -3", "[2, 3]"]),
        new("LogSigsoftmax", "axis", () => Z(2, 3).LogSigsoftmax(-3), ["log_softmax", "axis -3", "[2, 3]"]),
        new("Sigsoftmax", "axis", () => Z(2, 3).Sigsoftmax(5), ["log_softmax", "axis 5", "[2, 3]"]),
        new("LogNormalize", "axis", () => Z(2, 3).LogNormalize(Normalizer.Sigsoftmax, 2), ["log_softmax", "axis 2", "[2, 3]"]),
        new("CrossEntropy", "targets", () => Tensor.CrossEntropy(Z(2, 3), [0]), ["cross_entropy", "1 targets", "[2, 3]"]),
        new("CrossEntropy", "rank", () => Tensor.CrossEntropy(Z(2, 3, 4), [0, 1]), ["cross_entropy", "[2, 3, 4]"]),
        new("CrossEntropy", "range", () => Tensor.CrossEntropy(Z(2, 3), [0, 3]), ["cross_entropy", "3", "[2, 3]"]),
        new("NllLoss", "targets", () => Tensor.NllLoss(Z(2, 3), [0, 1, 2]), ["nll_loss", "3 targets", "[2, 3]"]),
        new("NllLoss", "rank", () => Tensor.NllLoss(Z(6), [0]), ["nll_loss", "[6]"]),
        new("NllLoss", "range", () => Tensor.NllLoss(Z(2, 3), [0, -1]), ["nll_loss", "-1", "[2, 3]"]),

        // Reductions.
        new("Sum", "axis", () => Z(2, 3).Sum(2), ["sum", "axis 2", "[2, 3]"]),
        new("Mean", "axis", () => Z(2, 3).Mean(-3), ["mean", "axis -3", "[2, 3]"]),
        new("Max", "axis", () => Z(2, 3).Max(5), ["max", "axis 5", "[2, 3]"]),
        new("LogSumExp", "axis", () => Z(2, 3).LogSumExp(2), ["logsumexp", "axis 2", "[2, 3]"]),
        new("Sum", "scalar", () => Tensor.Scalar(1f).Sum(0), ["sum", "axis 0", "[]"]),

        // The LSTM layer op.
        new("LstmLayer", "input rank", () => Tensor.LstmLayer(Z(3, 4), Z(2, 5), Z(2, 5), Z(20, 4), Z(20, 5), null, null), ["lstm", "[3, 4]", "[20, 4]", "[20, 5]"]),
        new("LstmLayer", "input size", () => Tensor.LstmLayer(Z(3, 2, 4), Z(2, 5), Z(2, 5), Z(20, 3), Z(20, 5), null, null), ["lstm", "[3, 2, 4]", "[20, 3]", "[20, 5]"]),
        new("LstmLayer", "W_hh", () => Tensor.LstmLayer(Z(3, 2, 4), Z(2, 5), Z(2, 5), Z(20, 4), Z(20, 4), null, null), ["lstm", "[20, 4]"]),
        new("LstmLayer", "state", () => Tensor.LstmLayer(Z(3, 2, 4), Z(3, 5), Z(2, 5), Z(20, 4), Z(20, 5), null, null), ["lstm", "[3, 5]", "[2, 5]", "[3, 2, 4]"]),
        new("LstmLayer", "bias", () => Tensor.LstmLayer(Z(3, 2, 4), Z(2, 5), Z(2, 5), Z(20, 4), Z(20, 5), Z(20), Z(5)), ["lstm", "[20]", "[5]"]),
        new("LstmLayer", "one bias", () => Tensor.LstmLayer(Z(3, 2, 4), Z(2, 5), Z(2, 5), Z(20, 4), Z(20, 5), Z(20), null), ["lstm", "[20]"]),

        // Factories.
        new("Zeros", "negative", () => Tensor.Zeros(2, -1), ["zeros", "[2, -1]"]),
        new("Zeros", "rank 5", () => Tensor.Zeros(1, 1, 1, 1, 1), ["zeros", "[1, 1, 1, 1, 1]"]),
        new("Ones", "negative", () => Tensor.Ones(-3), ["[-3]"]),
        new("Full", "negative", () => Tensor.Full([-1, 2], 1f), ["[-1, 2]"]),
        new("FromArray", "count", () => Tensor.FromArray([1f, 2f, 3f], 2, 2), ["from_array", "3 values", "[2, 2]"]),
        new("Uniform", "negative", () => Tensor.Uniform([2, -2], 0f, 1f, G), ["[2, -2]"]),
        new("Rand", "negative", () => Tensor.Rand([-2], G), ["[-2]"]),
        new("Normal", "negative", () => Tensor.Normal([-4, 1], 0f, 1f, G), ["[-4, 1]"]),
        new("Randn", "negative", () => Tensor.Randn([1, 2, 3, 4, 5], G), ["[1, 2, 3, 4, 5]"]),

        // Modules, heads, optimizers.
        new("Linear.Forward", "features", () => new Linear(4, 3, G).Forward(Z(2, 5)), ["Linear", "[2, 5]", "4"]),
        new("Linear.Forward", "rank", () => new Linear(4, 3, G).Forward(Z(4)), ["Linear", "[4]"]),
        new("Embedding.Forward", "ids", () => new Embedding(10, 4, G).Forward([1, 2, 3, 4, 5], 2, 3), ["embedding", "[2, 3]"]),
        new("Embedding.Forward", "range", () => new Embedding(10, 4, G).Forward([1, 12], 2, 1), ["embedding", "12", "[10, 4]"]),
        new("LSTM.Forward", "input", () => new LSTM(4, 6, 1, G).Forward(Z(3, 2, 5)), ["LSTM", "[3, 2, 5]"]),
        new("LSTM.Forward", "state", () => new LSTM(4, 6, 1, G).Forward(Z(3, 2, 4), new LstmState([Z(3, 6)], [Z(3, 6)])), ["lstm", "[3, 6]", "[3, 2, 4]"]),
        new("LockedDropout.Forward", "rank", () => new LockedDropout(0.5f, G).Forward(Z(2, 3)), ["LockedDropout", "[2, 3]"]),
        new("Regularization.TAR", "rank", () => Regularization.TemporalActivationRegularization(Z(2, 3), 1f), ["TAR", "[2, 3]"]),
        .. HeadRows(HeadKind.Softmax), .. HeadRows(HeadKind.Sigsoftmax), .. HeadRows(HeadKind.Mos), .. HeadRows(HeadKind.Moss),
        new("Module.LoadStateDict", "shape", () => new Linear(4, 3, G).LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = Z(4, 3), ["bias"] = Z(3) }),
            ["weight", "[4, 3]", "[3, 4]"]),
        new("Optimizer.LoadState", "buffer shape", LoadMismatchedOptimizerState, ["Sgd", "[2, 3]", "[3, 2]"]),
        new("Optimizer.Step", "gradient shape", () =>
        {
            var p = P(2, 3);
            p.Grad = Z(3, 2);
            new Sgd([p], 0.1f).Step();
        }, ["Sgd", "[3, 2]", "[2, 3]"]),
    ];

    private static Row[] HeadRows(HeadKind kind)
    {
        string name = HeadKinds.Name(kind); // the op names in the messages: "mos_nll"
        OutputHead Head() => OutputHead.Create(kind, inputSize: 8, vocabSize: 10, new Generator(2), embeddingSize: 6, experts: 3);
        return
        [
            new($"OutputHead({name}).Nll", "hidden size", () => Head().Nll(Z(5, 7), [0, 1, 2, 3, 4]), [name, "[5, 7]"]),
            new($"OutputHead({name}).Nll", "target count", () => Head().Nll(Z(5, 8), [0, 1, 2]), [name, "3 targets", "[5, 8]"]),
            new($"OutputHead({name}).Nll", "target range", () => Head().Nll(Z(2, 8), [0, 10]), [name, "10"]),
            new($"OutputHead({name}).LogProbs", "hidden rank", () => Head().LogProbs(Z(2, 3, 8)), [name, "[2, 3, 8]"]),
            new($"OutputHead({name}).LogProbsComposed", "hidden size", () => Head().LogProbsComposed(Z(4, 9)), [name, "[4, 9]"]),
            new($"OutputHead({name}).NllComposed", "target count", () => Head().NllComposed(Z(4, 8), [1]), ["nll_loss", "1 targets", "[4, 10]"]),
        ];
    }

    private static void LoadMismatchedOptimizerState()
    {
        var a = P(2, 3);
        a.Grad = Tensor.Ones(2, 3);
        var sgd = new Sgd([a], 0.1f, momentum: 0.9f);
        sgd.Step();
        new Sgd([P(3, 2)], 0.1f, momentum: 0.9f).LoadState(sgd.GetState());
    }

    public static TheoryData<Row> Table()
    {
        var data = new TheoryData<Row>();
        foreach (var row in Rows) data.Add(row);
        return data;
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Wrong_shapes_fail_with_a_message_naming_the_op_and_the_shapes(Row row)
    {
        var error = Record.Exception(row.Act);
        Assert.NotNull(error);
        Assert.True(error is ArgumentException or InvalidOperationException or StateDictException,
            $"{row}: {error.GetType().Name} instead of an ArgumentException: {error.Message}");
        foreach (var m in row.Mentions) Assert.True(error.Message.Contains(m, StringComparison.Ordinal), $"{row}: '{m}' is not in: {error.Message}");
    }

    // Public Tensor members that return tensors but cannot fail on a shape, with the reason.
    private static readonly Dictionary<string, string> Exempt = new()
    {
        ["Neg"] = "elementwise: any shape",
        ["RSub"] = "elementwise: any shape",
        ["RDiv"] = "elementwise: any shape",
        ["Exp"] = "elementwise: any shape",
        ["Log"] = "elementwise: any shape",
        ["Tanh"] = "elementwise: any shape",
        ["Sigmoid"] = "elementwise: any shape",
        ["Relu"] = "elementwise: any shape",
        ["Softplus"] = "elementwise: any shape",
        ["LogSigmoid"] = "elementwise: any shape",
        ["Sqrt"] = "elementwise: any shape",
        ["Pow"] = "elementwise: any shape",
        ["Flatten"] = "any shape flattens",
        ["Clone"] = "any shape",
        ["Detach"] = "any shape",
        ["To"] = "a device move, not a shape",
        ["RequireGrad"] = "a flag",
        ["RetainGrad"] = "a flag (refuses only a tensor that needs no gradient)",
        ["get_Grad"] = "a property (the gradient; Optimizer.Step checks its shape: row)",
        ["CheckFinite"] = "checks values, not shapes",
        ["Scalar"] = "rank 0 by definition",
        ["op_Addition"] = "calls Add (row: Add operator)",
        ["op_Subtraction"] = "calls Sub",
        ["op_Multiply"] = "calls Mul",
        ["op_Division"] = "calls Div",
        ["op_UnaryNegation"] = "elementwise: any shape",
    };

    [Fact]
    public void Every_public_tensor_op_has_a_row_or_a_reasoned_exemption()
    {
        static bool ReturnsTensors(Type t) => t == typeof(Tensor) || t == typeof(Tensor[]) ||
            (t.IsGenericType && t.FullName!.StartsWith("System.ValueTuple", StringComparison.Ordinal) && t.GetGenericArguments().Contains(typeof(Tensor)));
        var ops = typeof(Tensor).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => ReturnsTensors(m.ReturnType))
            .Select(m => m.Name)
            .Distinct()
            .ToList();
        var covered = Rows.Select(r => r.Member).ToHashSet();
        var missing = ops.Where(name => !covered.Contains(name) && !Exempt.ContainsKey(name)).ToList();
        Assert.True(missing.Count == 0, $"public Tensor ops with no row in ShapeErrorTableTests.Rows and no exemption: {string.Join(", ", missing)}");
        var stale = Exempt.Keys.Where(name => !ops.Contains(name)).ToList();
        Assert.True(stale.Count == 0, $"exemptions for members that no longer exist: {string.Join(", ", stale)}");
    }
}
