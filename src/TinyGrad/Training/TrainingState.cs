using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using TinyGrad;
using TinyGrad.IO;
using TinyGrad.Optim;

namespace TinyGrad.Training;

/// <summary>
/// Everything a run needs to continue after its last completed epoch, kept in a sibling of the <c>--save</c>
/// model file (<c>model.safetensors.state</c>) so that the model file stays a clean, PyTorch-loadable state
/// dict: the current (not best) weights, the best weights, the optimizer's buffers and scalars, the counters,
/// the validation history and both random streams. Written atomically after every epoch.
/// </summary>
public sealed record TrainingState(
    int Epoch, long Step, long TrainTokens, double TrainNllSum, long TrainNllCount, double BestValid, double[] ValidHistory,
    bool Averaged, ulong[] ModelRng, ulong[] TrainerRng, double Seconds,
    Dictionary<string, Tensor> Weights, Dictionary<string, Tensor>? Best, OptimizerState Optimizer)
{
    private const string Format = "tinygrad.wordlm.train-state";

    // A hand-edited "NaN" or "Infinity" reads as the number, so the range check can name the field (plain JSON would
    // fail with a parser message instead).
    private static readonly JsonSerializerOptions Numbers = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>
    /// The options that define the run (<see cref="RunIdentity"/>), compared on resume; null in states written
    /// before they were kept.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Run { get; init; }

    /// <summary>The state file that goes with a model file.</summary>
    public static string PathFor(string modelPath) => modelPath + ".state";

    /// <summary>Writes the state (atomically, through <see cref="SafeTensors.Save"/>).</summary>
    public void Save(string path)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        tensors.AddRange(Weights.Select(p => new KeyValuePair<string, Tensor>("weights/" + p.Key, p.Value)));
        if (Best is not null) tensors.AddRange(Best.Select(p => new KeyValuePair<string, Tensor>("best/" + p.Key, p.Value)));
        tensors.AddRange(Optimizer.Buffers.Select(p => new KeyValuePair<string, Tensor>("optim/" + p.Key, p.Value)));
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["epoch"] = Epoch.ToString(CultureInfo.InvariantCulture),
            ["counters"] = JsonSerializer.Serialize(new[] { Step, TrainTokens, TrainNllCount }),
            ["sums"] = JsonSerializer.Serialize(new[] { TrainNllSum, BestValid, Seconds }),
            ["valid_history"] = JsonSerializer.Serialize(ValidHistory),
            ["averaged"] = Averaged ? "1" : "0",
            ["model_rng"] = JsonSerializer.Serialize(ModelRng),
            ["trainer_rng"] = JsonSerializer.Serialize(TrainerRng),
            ["optimizer_kind"] = Optimizer.Kind,
            ["optimizer_scalars"] = JsonSerializer.Serialize(Optimizer.Scalars),
        };
        if (Run is not null) meta[RunIdentity.MetaKey] = JsonSerializer.Serialize(Run);
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>Reads a state written by <see cref="Save"/>; a wrong or damaged file is an error naming it.</summary>
    public static TrainingState Load(string path)
    {
        var (tensors, meta) = SafeTensors.Load(path);
        try
        {
            if (meta.GetValueOrDefault("format") != Format)
                throw new SafeTensorsException(path, $"not a WordLM training state (format '{meta.GetValueOrDefault("format")}'); --resume takes the .state file written beside --save");
            Dictionary<string, Tensor> Part(string prefix) =>
                tensors.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Key[prefix.Length..], t => t.Value);
            var counters = JsonSerializer.Deserialize<long[]>(meta["counters"])!;
            var sums = JsonSerializer.Deserialize<double[]>(meta["sums"], Numbers)!;
            var best = Part("best/");
            var state = new TrainingState(
                int.Parse(meta["epoch"], CultureInfo.InvariantCulture), counters[0], counters[1], sums[0], counters[2], sums[1],
                JsonSerializer.Deserialize<double[]>(meta["valid_history"], Numbers)!, meta["averaged"] == "1",
                JsonSerializer.Deserialize<ulong[]>(meta["model_rng"])!, JsonSerializer.Deserialize<ulong[]>(meta["trainer_rng"])!, sums[2],
                Part("weights/"), best.Count > 0 ? best : null,
                new OptimizerState(meta["optimizer_kind"], Part("optim/"), JsonSerializer.Deserialize<Dictionary<string, double>>(meta["optimizer_scalars"])!))
            {
                Run = meta.TryGetValue(RunIdentity.MetaKey, out var run) ? JsonSerializer.Deserialize<Dictionary<string, string>>(run) : null,
            };
            if (state.Problem(meta["averaged"]) is string problem)
                throw new SafeTensorsException(path, $"damaged training state: {problem}");
            return state;
        }
        catch (Exception e) when (e is KeyNotFoundException or JsonException or FormatException or IndexOutOfRangeException or NullReferenceException or OverflowException)
        {
            throw new SafeTensorsException(path, $"damaged training state ({e.Message})");
        }
    }

    // The first field outside what a run can write (a hand-edited or damaged state), or null. Each check names the
    // field as the file stores it, so the message points at what to fix.
    private string? Problem(string averaged)
    {
        static bool Finite(double x) => double.IsFinite(x) && x >= 0;
        if (Epoch < 1) return $"epoch = {Epoch} must be ≥ 1";
        if (Step < 0 || TrainTokens < 0 || TrainNllCount < 0)
            return $"counters = [{Step}, {TrainTokens}, {TrainNllCount}] (step, tokens, loss count) must be ≥ 0";
        if (!Finite(TrainNllSum) || !Finite(BestValid) || !Finite(Seconds))
            return $"sums = [{TrainNllSum}, {BestValid}, {Seconds}] (loss sum, best valid loss, seconds) must be finite and ≥ 0";
        if (ValidHistory.Length != Epoch)
            return $"valid_history has {ValidHistory.Length} entries, but epoch = {Epoch} needs one per epoch";
        if (ValidHistory.FirstOrDefault(v => !Finite(v)) is double bad && !Finite(bad))
            return $"valid_history holds {bad}; every validation loss is finite and ≥ 0";
        if (BestValid < ValidHistory.Min()) return $"sums: the best valid loss {BestValid} is below every entry of valid_history";
        if (averaged is not ("0" or "1")) return $"averaged = '{averaged}' must be 0 or 1";
        foreach (var (name, words) in new[] { ("model_rng", ModelRng), ("trainer_rng", TrainerRng) })
        {
            if (words.Length != 6 || (words[0] | words[1] | words[2] | words[3]) == 0 || words[4] > 1)
                return $"{name} is not a generator state (6 words with a nonzero stream and a 0/1 flag; found {words.Length})";
        }
        return null;
    }
}
