// A character-level language model: Embedding → LSTM → Linear, trained to predict each next character of a text,
// then asked to write. The third rung of the ladder (after Micrograd and Mlp), and WordLM in miniature: WordLM adds
// words, several layers, dropout, other output heads and a real training loop, but the step is this one.
//
//   dotnet run -c Release --project examples/CharLM [-- --quick] [--text FILE] [--seed N] [--temperature T] [--prompt P]
using System.Globalization;
using TinyGrad;
using TinyGrad.NN;
using TinyGrad.Optim;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
bool quick = args.Contains("--quick");
string text = Option("--text") is string path ? File.ReadAllText(path) : BuiltInText();
ulong seed = ulong.Parse(Option("--seed") ?? "0");
float temperature = float.Parse(Option("--temperature") ?? "0.7");
int steps = quick ? 40 : 400, logEvery = quick ? 10 : 50;
const int window = 48, batch = 16, embedSize = 32, hiddenSize = 128; // T characters per row, B rows per step

// The vocabulary is the set of characters in the text, sorted so that the ids do not depend on their order.
char[] vocab = [.. text.Distinct().Order()];
var idOf = vocab.Select((c, id) => (c, id)).ToDictionary(p => p.c, p => p.id);
int[] data = [.. text.Select(c => idOf[c])];
if (data.Length <= window + 1) throw new ArgumentException($"the text has {data.Length} characters; it needs more than {window + 1}");

// One generator draws the initial weights, the training windows and the samples: the same seed, the same run.
var generator = new Generator(seed);
var embedding = new Embedding(vocab.Length, embedSize, generator); // character id → vector
var lstm = new LSTM(embedSize, hiddenSize, numLayers: 1, generator); // reads the vectors left to right
var decoder = new Linear(hiddenSize, vocab.Length, generator);      // hidden state → a score per next character
Tensor[] parameters = [.. embedding.Parameters(), .. lstm.Parameters(), .. decoder.Parameters()];
var optimizer = new Adam(parameters, lr: 0.01f);
Console.WriteLine($"{data.Length} characters, vocabulary {vocab.Length}; {parameters.Sum(p => p.Numel)} parameters; {steps} steps of {batch}×{window} characters");
Console.WriteLine($"a model that guesses uniformly has loss ln {vocab.Length} = {Math.Log(vocab.Length):0.000}");

// ---- training ----------------------------------------------------------------------------------------------
double smoothed = 0;
for (int step = 1; step <= steps; step++)
{
    // B windows at random places; the target of each character is the one after it. Time-major [T, B], as the
    // LSTM reads it. Each window starts from a zero state: its first characters are guessed from little context.
    var inputs = new int[window * batch];
    var targets = new int[window * batch];
    for (int b = 0; b < batch; b++)
    {
        int start = generator.NextInt(data.Length - window - 1);
        for (int t = 0; t < window; t++)
        {
            inputs[t * batch + b] = data[start + t];
            targets[t * batch + b] = data[start + t + 1];
        }
    }
    var (hidden, _) = lstm.Forward(embedding.Forward(inputs, window, batch));      // [T, B, H]
    var logits = decoder.Forward(hidden).Reshape(window * batch, vocab.Length);    // [T·B, V]
    var loss = Tensor.CrossEntropy(logits, targets);                               // mean −log p(next character)
    optimizer.ZeroGrad();
    loss.Backward();                             // back through the decoder, every LSTM step, into the embedding
    ClipGrad.ClipGradNorm(parameters, 1f);       // an LSTM's gradient can spike; cap its norm so one step can't wreck it
    optimizer.Step();

    smoothed = step == 1 ? loss.Item() : 0.9 * smoothed + 0.1 * loss.Item(); // one window is noisy; average a little
    if (step == 1 || step % logEvery == 0) Console.WriteLine($"step {step,5}  loss {smoothed:0.000}");
}
if (!(smoothed < 0.8 * Math.Log(vocab.Length))) // NaN fails too; CI relies on this exit code
{
    Console.WriteLine($"FAILED: the loss {smoothed:0.000} is not clearly below uniform guessing's {Math.Log(vocab.Length):0.000}");
    return 1;
}

// ---- sampling ----------------------------------------------------------------------------------------------
// Feed a prompt, then repeatedly draw the next character from softmax(logits / temperature) and feed it back,
// carrying the LSTM's state. Temperature below 1 sharpens the distribution (safer, more repetitive text); above 1
// flattens it (more surprising, more misspelt).
string prompt = Option("--prompt") ?? text[..Math.Max(1, text.IndexOf(' '))];
int[] context = [.. prompt.Select(c => idOf.TryGetValue(c, out int id) ? id : throw new ArgumentException($"the prompt's '{c}' is not in the text"))];
var output = new System.Text.StringBuilder(prompt);
using (Autograd.NoGrad())                        // nothing to differentiate: record no tape
{
    var (h, state) = lstm.Forward(embedding.Forward(context, context.Length, 1));
    var last = h.Reshape(context.Length, hiddenSize).IndexSelect([context.Length - 1]); // [1, H]: after the prompt
    for (int i = 0; i < (quick ? 80 : 400); i++)
    {
        float[] p = (decoder.Forward(last) / temperature).Softmax().ToArray();
        int next = Draw(p, generator);
        output.Append(vocab[next]);
        (h, state) = lstm.Forward(embedding.Forward([next], 1, 1), state);
        last = h.Reshape(1, hiddenSize);
    }
}
Console.WriteLine();
Console.WriteLine($"sample at temperature {temperature}:");
Console.WriteLine(output);
return 0;

// Picks index i with probability p[i]: walk the cumulative sum until it passes a uniform draw.
static int Draw(float[] p, Generator g)
{
    float u = g.NextFloat(), sum = 0;
    for (int i = 0; i < p.Length; i++)
        if ((sum += p[i]) > u) return i;
    return p.Length - 1; // the sum fell just short of 1 by rounding
}

// Seven of Shakespeare's sonnets (public domain), about 4 KB: sonnets.txt, built into the program.
static string BuiltInText()
{
    using var stream = typeof(Program).Assembly.GetManifestResourceStream("sonnets.txt")!;
    return new StreamReader(stream).ReadToEnd();
}
