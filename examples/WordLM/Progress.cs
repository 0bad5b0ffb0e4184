using System.Diagnostics;

namespace WordLM;

/// <summary>
/// Training progress: epoch, step, lr, ms/step, tokens/s, loss, perplexity and ETA every <c>interval</c> steps.
/// On a terminal the line is rewritten in place; when output is redirected each report is a plain line.
/// </summary>
public sealed class Progress(int interval, long plannedSteps, int maxSteps)
{
    private readonly bool _inPlace = !Console.IsOutputRedirected;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Stopwatch _window = Stopwatch.StartNew();
    private double _lossSum;
    private long _tokens;
    private int _count;
    private bool _open;

    /// <summary>Records one step and prints when the interval is complete.</summary>
    public void Step(int epoch, long step, float lr, float loss, int tokens)
    {
        _lossSum += loss;
        _tokens += tokens;
        if (++_count < interval) return;
        double ms = _window.Elapsed.TotalMilliseconds / _count;
        double tokensPerSecond = _tokens / Math.Max(1e-9, _window.Elapsed.TotalSeconds);
        double mean = _lossSum / _count;
        long total = maxSteps > 0 ? Math.Min(maxSteps, plannedSteps) : plannedSteps;
        double eta = Math.Max(0, total - step) * _clock.Elapsed.TotalSeconds / step;
        string line = $"epoch {epoch} | step {step,6:N0}/{total:N0} | lr {lr:G3} | {ms,7:F1} ms/step | {tokensPerSecond,8:N0} tok/s | loss {mean:F4} | ppl {Math.Exp(mean),8:F2} | eta {TimeSpan.FromSeconds(eta).ToString(@"hh\:mm\:ss")}";
        if (_inPlace)
        {
            Console.Write("\r" + line);
            _open = true;
        }
        else Console.WriteLine(line);
        _lossSum = 0;
        _tokens = 0;
        _count = 0;
        _window.Restart();
    }

    /// <summary>Ends an in-place line before other output.</summary>
    public void EndLine()
    {
        if (_open) Console.WriteLine();
        _open = false;
    }
}
