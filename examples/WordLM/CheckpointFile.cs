using TinyGrad.Data;
using TinyGrad.Models;

namespace WordLM;

/// <summary>
/// The <c>--checkpoint</c> of eval, generate and rank: loaded strictly, with a note on stderr for anything the
/// loader read leniently, and refused when a weight is NaN or infinite (a model saved from a diverged run would
/// otherwise score "ppl NaN" or sample garbage with exit code 0).
/// </summary>
public static class CheckpointFile
{
    /// <summary>Loads <paramref name="path"/> as a WordLM checkpoint with finite weights.</summary>
    /// <exception cref="ArgumentException">A weight is not finite; the message names the file and the first such tensor.</exception>
    public static (TinyGrad.Models.WordLM Model, Vocabulary Vocab) Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (model, vocab) = WordLMCheckpoint.Load(path, note: n => Console.Error.WriteLine($"wordlm: note: {n}"));
        foreach (var (name, tensor) in model.StateDict())
        {
            var values = tensor.ToArray();
            int bad = Array.FindIndex(values, v => !float.IsFinite(v));
            if (bad >= 0)
                throw new ArgumentException($"--checkpoint {path}: the tensor {name} holds {values[bad]} (element {bad}); a checkpoint with non-finite weights cannot be used");
        }
        return (model, vocab);
    }
}
