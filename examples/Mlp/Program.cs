// A two-layer perceptron learns "two moons": 2-D points in two interleaved half-circles, which no straight line
// separates. Linear(2 → 16) → tanh → Linear(16 → 2), cross-entropy loss, Adam, full batch. It prints the loss as
// it falls, then the learned decision boundary as an ASCII picture with the training points drawn on top.
//
// The second rung of the ladder: examples/Micrograd showed one gradient; here the same Backward() drives
// hundreds of optimizer steps over whole tensors. Run with --quick for a short run (CI does).
using System.Globalization;
using System.Text;
using TinyGrad;
using TinyGrad.NN;
using TinyGrad.Optim;

bool quick = args.Contains("--quick");
int steps = quick ? 300 : 2000;
int logEvery = quick ? 50 : 200;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

// Every random number (data, noise, initial weights) comes from one seeded generator: the same run everywhere.
var generator = new Generator(seed: 0);
var (trainX, trainY) = TwoMoons(200, noise: 0.1f, generator);
var (testX, testY) = TwoMoons(200, noise: 0.1f, generator); // fresh points from the same distribution

var model = new MoonsNet(hidden: 16, generator);
var optimizer = new Adam(model.Parameters(), lr: 0.02f);
Console.WriteLine($"two moons: {trainY.Length} training points, {testY.Length} test points; model {model.ParameterCount()} parameters; {steps} Adam steps");

// ---- training ----------------------------------------------------------------------------------------------
// One step = forward (records the tape), loss, backward (replays it), update. The whole data set is one batch.
for (int step = 1; step <= steps; step++)
{
    var logits = model.Forward(trainX);                  // [N, 2]: one score per class
    var loss = Tensor.CrossEntropy(logits, trainY);      // mean of −log softmax(logits)[label]
    optimizer.ZeroGrad();                                // gradients accumulate, so clear last step's
    loss.Backward();
    optimizer.Step();
    if (step == 1 || step % logEvery == 0)
        Console.WriteLine($"step {step,5}  loss {loss.Item():0.0000}  train accuracy {Accuracy(model, trainX, trainY):P1}");
}

double trainAccuracy = Accuracy(model, trainX, trainY), testAccuracy = Accuracy(model, testX, testY);
Console.WriteLine($"final: train accuracy {trainAccuracy:P1}, test accuracy {testAccuracy:P1}");
Console.WriteLine();
Console.WriteLine(Boundary(model, trainX, trainY));

// The full run must separate the training set perfectly; the quick run only has to have learned the shape.
double required = quick ? 0.95 : 1.0;
if (trainAccuracy < required)
{
    Console.WriteLine($"FAILED: train accuracy {trainAccuracy:P1} is below the {required:P0} this run must reach");
    return 1;
}
return 0;

// ---- data --------------------------------------------------------------------------------------------------

// scikit-learn's make_moons with random angles: class 0 on the upper arc (cos θ, sin θ), class 1 on the lower
// arc (1 − cos θ, 0.5 − sin θ), θ uniform in [0, π], plus Gaussian noise. Returns x [n, 2] and the labels.
static (Tensor X, int[] Y) TwoMoons(int n, float noise, Generator g)
{
    var x = new float[n * 2];
    var y = new int[n];
    for (int i = 0; i < n; i++)
    {
        y[i] = i % 2;
        double theta = Math.PI * g.NextDouble();
        double px = y[i] == 0 ? Math.Cos(theta) : 1 - Math.Cos(theta);
        double py = y[i] == 0 ? Math.Sin(theta) : 0.5 - Math.Sin(theta);
        x[2 * i] = (float)(px + noise * g.NextGaussian());
        x[2 * i + 1] = (float)(py + noise * g.NextGaussian());
    }
    return (Tensor.FromArray(x, n, 2), y);
}

// ---- evaluation --------------------------------------------------------------------------------------------

// The fraction of points whose larger logit is their label. No-grad: evaluation records nothing on the tape.
static double Accuracy(MoonsNet model, Tensor x, int[] y)
{
    using var _ = Autograd.NoGrad();
    var logits = model.Forward(x).ToArray();
    int correct = 0;
    for (int i = 0; i < y.Length; i++)
        if ((logits[2 * i + 1] > logits[2 * i] ? 1 : 0) == y[i]) correct++;
    return (double)correct / y.Length;
}

// The plane from x ∈ [−1.5, 2.5], y ∈ [−1, 1.5] as characters: the model's class for each cell ('.' for 0,
// ' ' for 1), computed as one batch, with the training points on top ('o' class 0, '#' class 1).
static string Boundary(MoonsNet model, Tensor points, int[] labels)
{
    const int cols = 72, rows = 26;
    const float x0 = -1.5f, x1 = 2.5f, y0 = -1f, y1 = 1.5f;
    var grid = new float[rows * cols * 2];
    for (int r = 0; r < rows; r++)
    {
        for (int c = 0; c < cols; c++)
        {
            grid[2 * (r * cols + c)] = x0 + (x1 - x0) * (c + 0.5f) / cols;
            grid[2 * (r * cols + c) + 1] = y1 - (y1 - y0) * (r + 0.5f) / rows; // row 0 at the top
        }
    }
    float[] logits;
    using (Autograd.NoGrad()) logits = model.Forward(Tensor.FromArray(grid, rows * cols, 2)).ToArray();
    var canvas = new char[rows, cols];
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            canvas[r, c] = logits[2 * (r * cols + c) + 1] > logits[2 * (r * cols + c)] ? ' ' : '.';
    var p = points.ToArray();
    for (int i = 0; i < labels.Length; i++)
    {
        int c = (int)((p[2 * i] - x0) / (x1 - x0) * cols), r = (int)((y1 - p[2 * i + 1]) / (y1 - y0) * rows);
        if (r is >= 0 and < rows && c is >= 0 and < cols) canvas[r, c] = labels[i] == 0 ? 'o' : '#';
    }
    var sb = new StringBuilder("decision boundary ('.' = class 0 region, ' ' = class 1 region; points: o = class 0, # = class 1)\n");
    sb.Append('+').Append('-', cols).Append("+\n");
    for (int r = 0; r < rows; r++)
    {
        sb.Append('|');
        for (int c = 0; c < cols; c++) sb.Append(canvas[r, c]);
        sb.Append("|\n");
    }
    return sb.Append('+').Append('-', cols).Append('+').ToString();
}

// ---- the model ---------------------------------------------------------------------------------------------

/// <summary>
/// Linear → tanh → Linear. A <see cref="Module"/> subclass registers its layers, so <see cref="Module.Parameters"/>
/// finds their weights and biases for the optimizer (and a state dict would name them hidden.weight, ...).
/// </summary>
sealed class MoonsNet : Module
{
    private readonly Linear _hidden;
    private readonly Linear _output;

    public MoonsNet(int hidden, Generator generator)
    {
        _hidden = RegisterModule("hidden", new Linear(2, hidden, generator));
        _output = RegisterModule("output", new Linear(hidden, 2, generator));
    }

    /// <summary>x [N, 2] → logits [N, 2]. Without the tanh the two layers would collapse into one linear map,
    /// and a straight line cannot separate the moons.</summary>
    public Tensor Forward(Tensor x) => _output.Forward(_hidden.Forward(x).Tanh());
}
