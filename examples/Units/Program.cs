// Looking inside a trained word-level LSTM, one unit at a time: what some hidden units do over a sentence, what
// the model loses when one of them is silenced, and how large each parameter's gradient is. The fourth rung of the
// ladder (after Micrograd, Mlp and CharLM): the first three build and train models; this one takes a trained
// WordLM apart with the inspection API (LSTMCell.UnrollLayer, UnitMask.Ablate, forward hooks, Backward()).
//
//   dotnet run -c Release --project examples/Units [-- --quick] [--checkpoint PATH [--data DIR]] [--out DIR] [--seed N]
using System.Diagnostics;
using System.Globalization;
using TinyGrad;
using TinyGrad.Data;
using TinyGrad.Inspection;
using TinyGrad.Models;
using TinyGrad.NN;
using TinyGrad.NN.Heads;
using TinyGrad.Training;
using Units;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Console.OutputEncoding = System.Text.Encoding.UTF8; // the shading characters of the terminal heat map
var clock = Stopwatch.StartNew();
string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
bool quick = args.Contains("--quick");
string? checkpoint = Option("--checkpoint"), dataDir = Option("--data");
ulong seed = ulong.Parse(Option("--seed") ?? "1");
int shownUnits = quick ? 6 : 16, maxWords = quick ? 12 : 30;

// ---- the model and the text to look at ---------------------------------------------------------------------
WordLM model;
Vocabulary vocab;
int[] test;
try
{
    (model, vocab, test) = checkpoint is null ? TrainSmallModel(quick, seed) : LoadCheckpoint(checkpoint, dataDir);
}
catch (Exception e) when (e is ArgumentException or IOException or CorpusException or CheckpointException)
{
    Console.Error.WriteLine($"units: {e.Message}");
    return 2;
}
model.Eval(); // no dropout anywhere below: every number is a property of the weights alone
int last = model.Rnns.Count - 1;
LSTM top = model.Rnns[last]; // the layer below the head: its units are what the head reads
int hidden = model.Config.NHidLast;
shownUnits = Math.Min(shownUnits, hidden);
Console.WriteLine($"model: {model.Config.NLayers} LSTM layers, embedding {model.Config.EmSize}, last layer {hidden} units, " +
    $"{HeadKinds.Name(model.Config.Head)} head over {vocab.Count} words; {model.ParameterCount():N0} parameters");
bool failed = false;

// ---- 1. the activations of chosen units over one sentence ---------------------------------------------------
// The first sentence of the test split (through its <eos>), read from a zero state, as the test split starts.
// ForwardLayers runs the model once with the fused LSTM and keeps every layer's output; UnrollLayer then replays the
// last layer one step at a time with plain ops, so its gates and cell state are tensors we can read.
int eos = vocab.TryGetId(Vocabulary.Eos, out int eosId) ? eosId : -1; // a text without line ends has none
int length = Math.Min(maxWords, Array.IndexOf(test, eos) is int end and >= 0 ? end + 1 : test.Length);
int[] sentence = test[..length];
string[] words = [.. sentence.Select(id => vocab[id])];
LstmCellTrace trace;
Tensor fused;
using (Autograd.NoGrad())
{
    var layers = model.ForwardLayers(sentence, steps: length, batch: 1);
    var input = last == 0 ? layers.Embedding : layers.Layers[last - 1]; // in eval mode exactly what the layer read
    fused = layers.Layers[last];
    trace = LSTMCell.UnrollLayer(top, 0, input);
}
float[] h = trace.Output.ToArray();            // [T, 1, H] flattened: step t, unit u at t·H + u
float[] c = trace.Stack(s => s.C).ToArray();   // the cell state, same layout
float[] fusedH = fused.ToArray();
float maxDifference = 0;
for (int k = 0; k < h.Length; k++) maxDifference = Math.Max(maxDifference, Math.Abs(h[k] - fusedH[k]));
// Same sums in a different order (the fused kernel adds x·W_ih and h·W_hh differently), so equal up to rounding.
bool unrollAgrees = maxDifference <= 1e-4f; // NaN fails too
Console.WriteLine();
Console.WriteLine($"1. the last LSTM layer over the first test sentence ({length} words), replayed step by step with LSTMCell.UnrollLayer");
Console.WriteLine($"   max |h(unrolled) − h(fused)| = {maxDifference:0.0e+0}  {(maxDifference <= 1e-5f ? "(within 1e-5)" : unrollAgrees ? "(within 1e-4)" : "FAILED: beyond 1e-4")}");
failed |= !unrollAgrees;

// The units that move most over this sentence: highest variance of h across its words.
double[] variance = [.. Enumerable.Range(0, hidden).Select(u => Variance(h, u, hidden, length))];
int[] chosen = [.. Enumerable.Range(0, hidden).OrderByDescending(u => variance[u]).Take(shownUnits)];
Console.WriteLine($"   the {shownUnits} units with the largest variance of h over the sentence (▁ = −1, ▄ = 0, █ = +1):");
TextHeatmap.Print(words, chosen, h, hidden, variance);
// Cells integrate, hidden states are squashed: the range of c shows how much a unit has accumulated.
int busiest = chosen[0];
var cRange = Enumerable.Range(0, length).Select(t => c[t * hidden + busiest]).ToArray();
Console.WriteLine($"   unit {busiest}'s cell state c runs from {cRange.Min():0.00} to {cRange.Max():0.00} while its h stays in (−1, 1): h = o·tanh(c)");

string outDir = Option("--out") ?? (quick ? Path.Combine(Path.GetTempPath(), $"units-{Environment.ProcessId}") : ".");
string png = Path.Combine(outDir, "units-heatmap.png");
HeatmapImage.Save(png, words, chosen, h, c, hidden);
Console.WriteLine($"   heat map (h and c, units × words) written to {png}");
if (quick && Option("--out") is null) Directory.Delete(outDir, recursive: true); // CI: drawn, then not left behind

// ---- 2. ablating one unit ----------------------------------------------------------------------------------
// UnitMask.Ablate puts a forward hook on the layer that zeroes one unit of its output: the head never sees it (the
// layer's own recurrence still does). Disposing the handle removes the hook, which must give back the model exactly.
Console.WriteLine();
Console.WriteLine($"2. ablating units of the last LSTM layer (UnitMask.Ablate), test split of {test.Length:N0} tokens, 10 streams");
var intact = Evaluation.Evaluate(model, test, batchSize: 10);
Console.WriteLine($"   {"intact model",-38} perplexity {intact.Perplexity,8:0.000}");
var random = new Generator(seed ^ 0xAB1A7E);
int randomUnit;
do randomUnit = random.NextInt(hidden); while (hidden > 3 && chosen.Take(3).Contains(randomUnit));
var ablations = chosen.Take(3).Select(u => ($"unit {u,4} (variance rank {Array.IndexOf(chosen, u) + 1})", new[] { u }))
    .Append(($"unit {randomUnit,4} (chosen at random)", new[] { randomUnit }))
    .Append(($"all {shownUnits} high-variance units", chosen));
foreach (var (label, units) in ablations)
{
    EvaluationResult ablated;
    using (UnitMask.Ablate(top, units))
        ablated = Evaluation.Evaluate(model, test, batchSize: 10);
    double change = ablated.Perplexity - intact.Perplexity;
    Console.WriteLine($"   {"without " + label,-38} perplexity {ablated.Perplexity,8:0.000}  {Signed(change, "0.000"),8}  ({Signed(100 * change / intact.Perplexity, "0.0")}%)");
}
var restored = Evaluation.Evaluate(model, test, batchSize: 10);
// The hook multiplied by an exact 0/1 mask and is gone now: the same ops on the same bits give the same sum, bit for bit.
bool restoredExactly = !top.HasForwardHooks && BitConverter.DoubleToInt64Bits(restored.Loss) == BitConverter.DoubleToInt64Bits(intact.Loss);
Console.WriteLine($"   {"hooks removed",-38} perplexity {restored.Perplexity,8:0.000}  " +
    (restoredExactly ? "(loss identical to the intact model's, bit for bit)" : $"FAILED: loss {restored.Loss:R} is not the intact {intact.Loss:R}"));
failed |= !restoredExactly;

// ---- 3. the gradient of every parameter --------------------------------------------------------------------
// One window of the test split (35 steps × 10 streams), mean NLL, Backward(): each parameter's .Grad now holds
// ∂loss/∂parameter. Eval mode, so no dropout: the numbers depend on the weights and the window only.
Console.WriteLine();
var (inputs, targets, steps) = new Batches(test, 10).Window(0, 35);
model.ZeroGrad(); // a trainer's last step may have left gradients behind; Backward() adds to them
var (loss, _, _) = model.TrainingLoss(inputs, targets, steps, 10, state: null);
loss.Backward();
bool tied = ReferenceEquals(model.Head.Decoder.Weight, model.Encoder.Weight);
var norms = model.NamedParameters() // a tied weight appears once, under its first name (encoder.weight)
    .Select(p => (Name: p.Key, p.Value.Shape, Norm: L2(p.Value.Grad)))
    .OrderByDescending(r => r.Norm).ToList();
Console.WriteLine($"3. gradient L2 norm of every parameter, one window ({steps} steps × 10 streams, loss {loss.Item():0.000})");
Console.WriteLine($"   {"parameter",-40} {"shape",-12} {"‖grad‖",10}");
foreach (var (name, shape, norm) in norms)
{
    string label = tied && name == "encoder.weight" ? "encoder.weight = decoder.weight (tied)" : name;
    Console.WriteLine($"   {label,-40} {"[" + string.Join(", ", shape) + "]",-12} {norm,10:0.0000}");
}
double total = Math.Sqrt(norms.Sum(r => r.Norm * r.Norm));
Console.WriteLine($"   {"all together (what clipping measures)",-53} {total,10:0.0000}");
if (tied) Console.WriteLine("   the tied matrix is one tensor used twice (embedding rows, decoder), so its gradient is the sum of both uses");

Console.WriteLine();
Console.WriteLine($"done in {clock.Elapsed.TotalSeconds:0.0} s{(failed ? "; FAILED (see above)" : "")}");
return failed ? 1 : 0;

// Trains a small two-layer model on the built-in corpus of seed 1 (the one WordLM's no-argument run uses) with the
// library's trainer: a few seconds, far from converged, but long enough for units to specialise.
static (WordLM, Vocabulary, int[]) TrainSmallModel(bool quick, ulong seed)
{
    var corpus = SyntheticCorpus.Generate(1);
    var config = new WordLMConfig(corpus.VocabSize, emSize: 64, nHid: 128, nLayers: 2, HeadKind.Softmax);
    var options = new TrainingOptions { Epochs = 1, MaxSteps = quick ? 20 : 200, BatchSize = 32, Seed = seed, TestBatchSize = 10 };
    Console.WriteLine($"training a small WordLM on the built-in corpus ({corpus.Train.Length:N0} training tokens, optimum perplexity " +
        $"{corpus.OptimumPerplexity:0.00}) for {options.MaxSteps} steps; --checkpoint PATH looks at a model of yours instead");
    var result = new LanguageModelTrainer(config, TokenSplits.From(corpus), options).Fit();
    Console.WriteLine($"trained in {result.Seconds:0.0} s: validation perplexity {result.BestValidPerplexity:0.00} (a uniform guess: {corpus.VocabSize})");
    return (result.Model, corpus.Vocabulary, corpus.Test);
}

// A saved model and a test split in its vocabulary: --data DIR's test.txt, or else the built-in corpus of seed 1,
// which the checkpoint of WordLM's no-argument run was trained on.
static (WordLM, Vocabulary, int[]) LoadCheckpoint(string path, string? dataDir)
{
    var (model, vocab) = WordLMCheckpoint.Load(path, note: n => Console.WriteLine($"note: {n}"));
    Console.WriteLine($"loaded {path}");
    if (dataDir is not null) return (model, vocab, TextCorpus.Tokenize(Path.Combine(dataDir, "test.txt"), vocab));
    var corpus = SyntheticCorpus.Generate(1);
    var ids = new int[corpus.Test.Length];
    for (int i = 0; i < ids.Length; i++)
    {
        string word = corpus.Vocabulary[corpus.Test[i]];
        if (!vocab.TryGetId(word, out ids[i]))
            throw new ArgumentException($"{path} was not trained on the built-in corpus (its vocabulary lacks '{word}'); give --data DIR with a test.txt");
    }
    return (model, vocab, ids);
}

// The variance over the T steps of unit u of h [T, 1, H].
static double Variance(float[] h, int u, int units, int steps)
{
    double mean = 0, square = 0;
    for (int t = 0; t < steps; t++) mean += h[t * units + u];
    mean /= steps;
    for (int t = 0; t < steps; t++) square += (h[t * units + u] - mean) * (h[t * units + u] - mean);
    return square / steps;
}

// +1.234 or −1.234 (a true minus sign; −0.0 for a small negative change, so its sign is not lost in rounding).
static string Signed(double x, string format) => (x < 0 ? "−" : "+") + Math.Abs(x).ToString(format, CultureInfo.InvariantCulture);

// ‖g‖₂ in double; a parameter the loss does not reach has no gradient, norm 0.
static double L2(Tensor? grad) => grad is null ? 0 : Math.Sqrt(grad.ToArray().Sum(g => (double)g * g));
