using System.Text.Json;
using System.Text.Json.Serialization;

namespace WordLM;

/// <summary>Writes a verb's <c>--metrics-json</c> file: indented JSON, written whole when the verb ends.</summary>
public static class MetricsFile
{
    // A run that blew up can end with an infinite perplexity (exp of a large but finite loss); JSON has no number
    // for it, so it is written as the string "Infinity" rather than failing the whole write.
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Serialises <paramref name="metrics"/> (an object or a list of objects) to <paramref name="path"/>.</summary>
    public static void Write(string path, object metrics)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(metrics);
        File.WriteAllText(path, JsonSerializer.Serialize(metrics, Indented));
    }
}
