namespace WordLM;

using TinyGrad.NN.Heads;

/// <summary>The training-curve image of <c>--plot</c>: validation perplexity per epoch, one line per run (head).</summary>
public static class Curves
{
    /// <summary>Writes a PNG of the runs' validation curves, with the optimum as a dashed line when it is known.</summary>
    public static void Save(string path, IReadOnlyList<TrainMetrics> runs)
    {
        ArgumentNullException.ThrowIfNull(path);
        var plot = new ScottPlot.Plot();
        foreach (var run in runs)
        {
            if (run.ValidPplByEpoch.Count == 0) continue;
            double[] epochs = [.. Enumerable.Range(1, run.ValidPplByEpoch.Count).Select(e => (double)e)];
            var line = plot.Add.Scatter(epochs, run.ValidPplByEpoch.ToArray());
            line.LegendText = HeadKinds.Name(run.Head);
            line.LineWidth = 2;
        }
        if (runs.FirstOrDefault()?.OptimumPpl is double optimum)
        {
            var floor = plot.Add.HorizontalLine(optimum);
            floor.LinePattern = ScottPlot.LinePattern.Dashed;
            floor.LegendText = $"optimum ({optimum:F2})";
        }
        plot.Title("WordLM: validation perplexity");
        plot.XLabel("epoch");
        plot.YLabel("validation perplexity");
        plot.ShowLegend();
        plot.Legend.Alignment = ScottPlot.Alignment.UpperRight; // the curves fall, so the upper right is usually empty
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        plot.SavePng(path, 900, 560);
        Console.WriteLine($"curves written to {path}");
    }
}
