using System.Globalization;
using System.Text.Json;
using TinyGrad;
using TinyGrad.IO;
using TinyGrad.Optim;

namespace WordLM;

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
            var sums = JsonSerializer.Deserialize<double[]>(meta["sums"])!;
            var best = Part("best/");
            return new TrainingState(
                int.Parse(meta["epoch"], CultureInfo.InvariantCulture), counters[0], counters[1], sums[0], counters[2], sums[1],
                JsonSerializer.Deserialize<double[]>(meta["valid_history"])!, meta["averaged"] == "1",
                JsonSerializer.Deserialize<ulong[]>(meta["model_rng"])!, JsonSerializer.Deserialize<ulong[]>(meta["trainer_rng"])!, sums[2],
                Part("weights/"), best.Count > 0 ? best : null,
                new OptimizerState(meta["optimizer_kind"], Part("optim/"), JsonSerializer.Deserialize<Dictionary<string, double>>(meta["optimizer_scalars"])!));
        }
        catch (Exception e) when (e is KeyNotFoundException or JsonException or FormatException or IndexOutOfRangeException or NullReferenceException)
        {
            throw new SafeTensorsException(path, $"damaged training state ({e.Message})");
        }
    }
}
