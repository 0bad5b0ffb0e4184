using ScottPlot; // the Multiplot extension methods (AddPlots, GetPlot, SavePng)

namespace Units;

/// <summary>The heat map PNG: h above, c below, one row per unit and one column per word.</summary>
public static class HeatmapImage
{
    /// <summary>Writes the image of the chosen units' hidden and cell states over the sentence.</summary>
    /// <param name="path">The PNG to write; its folder is created.</param>
    /// <param name="words">The sentence, one word per step (the column labels).</param>
    /// <param name="units">The units to draw, top row first.</param>
    /// <param name="h">The hidden states [T, 1, H], flattened: step t, unit u at t·H + u.</param>
    /// <param name="c">The cell states, laid out as <paramref name="h"/>.</param>
    /// <param name="hidden">H, the layer's width.</param>
    public static void Save(string path, IReadOnlyList<string> words, IReadOnlyList<int> units, float[] h, float[] c, int hidden)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(units);
        var multiplot = new ScottPlot.Multiplot();
        multiplot.AddPlots(2);
        // h lies in (−1, 1); c is unbounded, so its colour scale is symmetric around 0 at its largest magnitude.
        float cMax = Math.Max(1e-6f, units.SelectMany(u => Enumerable.Range(0, words.Count).Select(t => Math.Abs(c[t * hidden + u]))).Max());
        Draw(multiplot.GetPlot(0), "hidden state h = o·tanh(c)", words, units, h, hidden, 1.0);
        Draw(multiplot.GetPlot(1), "cell state c", words, units, c, hidden, cMax);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        multiplot.SavePng(path, Math.Max(700, 120 + 34 * words.Count), 2 * (140 + 26 * units.Count));
    }

    private static void Draw(ScottPlot.Plot plot, string title, IReadOnlyList<string> words, IReadOnlyList<int> units,
        float[] values, int hidden, double range)
    {
        // ScottPlot draws row 0 of the array at the top; cell (r, t) is centred at x = t, y = rows − 1 − r.
        var cells = new double[units.Count, words.Count];
        for (int r = 0; r < units.Count; r++)
            for (int t = 0; t < words.Count; t++)
                cells[r, t] = values[t * hidden + units[r]];
        var map = plot.Add.Heatmap(cells);
        map.Colormap = new ScottPlot.Colormaps.Balance(); // diverging: blue negative, white 0, red positive
        map.ManualRange = new ScottPlot.Range(-range, range);
        plot.Add.ColorBar(map);
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, words.Count).Select(t => (double)t)], [.. words]);
        // Words slanted down to the right; the axis does not measure rotated labels, so it is given room for the longest.
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 20 + 8 * words.Max(w => w.Length);
        plot.Axes.Margins(0, 0); // the cells fill the frame
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, units.Count).Select(r => (double)(units.Count - 1 - r))],
            [.. units.Select(u => $"unit {u}")]);
        plot.Title(title);
    }
}
