using TinyGrad.Models;

namespace WordLM;

/// <summary>
/// Whether a model shape can be built at all, decided in 64-bit arithmetic before anything is allocated: each
/// tensor must fit one .NET array, and the weights with their gradients and optimizer moments the memory there is.
/// Without this, <c>--nhid 1 --emsize 100000</c> overflowed an int deep inside the constructor.
/// </summary>
public static class ModelSize
{
    // Weights, gradients and Adam's two moments: four floats per parameter while training.
    private const int FloatsPerParameter = 4;

    /// <summary>The element count of the largest tensor and the parameter count of <paramref name="config"/>.</summary>
    public static (long Largest, long Total) Count(WordLMConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long v = config.VocabSize, e = config.EmSize, k = config.Experts, last = config.NHidLast;
        var tensors = new List<long> { v * e }; // the embedding
        foreach (var (input, hidden) in config.LayerSizes())
            tensors.AddRange([4L * hidden * input, 4L * hidden * hidden, 4L * hidden, 4L * hidden]);
        long decoderIn = config.IsMixture ? e : last;
        if (!config.Tied) tensors.Add(v * decoderIn);
        tensors.Add(v); // the decoder bias
        if (config.IsMixture) tensors.AddRange([last * k, last * k * e, k * e]);
        return (tensors.Max(), tensors.Sum());
    }

    /// <summary>Refuses a shape whose largest tensor exceeds an array or whose training memory exceeds what is available.</summary>
    /// <exception cref="ArgumentException">The model is too large; the message gives the sizes.</exception>
    public static void Check(WordLMConfig config)
    {
        var (largest, total) = Count(config);
        string shape = $"--emsize {config.EmSize} --nhid {config.NHid} --nhidlast {config.NHidLast} --nlayers {config.NLayers}" +
                       (config.IsMixture ? $" --experts {config.Experts}" : "") + $" over {config.VocabSize:N0} words";
        if (largest > Array.MaxLength)
            throw new ArgumentException($"the model is too large: {shape} needs a tensor of {largest:N0} elements, more than the {Array.MaxLength:N0} an array holds");
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        double needed = (double)total * sizeof(float) * FloatsPerParameter;
        if (available > 0 && needed > available)
            throw new ArgumentException($"the model is too large: {shape} has {total:N0} parameters, {needed / (1 << 30):F1} GiB to train, more than the {available / (double)(1 << 30):F1} GiB of memory available");
    }
}
