namespace Units;

/// <summary>The terminal's heat map: one row per unit, one character per word, its height the unit's value.</summary>
public static class TextHeatmap
{
    // Eight heights from −1 to +1: an LSTM's h = o·tanh(c) always lies in (−1, 1), so one fixed scale fits every unit
    // and rows can be compared by eye; ▄ is about 0.
    private const string Levels = "▁▂▃▄▅▆▇█";

    /// <summary>Prints the sentence (numbered), a ruler, then each chosen unit's h over the words.</summary>
    /// <param name="words">The sentence, one word per step.</param>
    /// <param name="units">The units to show, in the order to show them.</param>
    /// <param name="h">The hidden states [T, 1, H], flattened: step t, unit u at t·H + u.</param>
    /// <param name="hidden">H, the layer's width.</param>
    /// <param name="variance">Each unit's variance over the sentence, printed at the row's end.</param>
    public static void Print(IReadOnlyList<string> words, IReadOnlyList<int> units, float[] h, int hidden, IReadOnlyList<double> variance)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(units);
        ArgumentNullException.ThrowIfNull(h);
        ArgumentNullException.ThrowIfNull(variance);
        Console.WriteLine("   " + string.Join(" ", words.Select((w, t) => $"{t}:{w}")));
        const string indent = "   unit      ";
        var ruler = new char[words.Count];
        for (int t = 0; t < ruler.Length; t++) ruler[t] = t % 5 == 0 ? '|' : ' '; // every fifth word, to find a column
        Console.WriteLine(indent + new string(ruler) + "  (a mark every 5 words, from word 0)");
        foreach (int u in units)
        {
            var row = new char[words.Count];
            for (int t = 0; t < row.Length; t++)
            {
                float v = Math.Clamp(h[t * hidden + u], -1f, 1f);
                row[t] = Levels[(int)MathF.Round((v + 1f) / 2f * (Levels.Length - 1))];
            }
            Console.WriteLine($"   unit {u,4} {new string(row)}  variance {variance[u]:0.000}");
        }
    }
}
