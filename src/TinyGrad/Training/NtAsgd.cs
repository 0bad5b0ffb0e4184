namespace TinyGrad.Training;

/// <summary>
/// NT-ASGD's trigger (Merity et al. 2018, "non-monotonically triggered averaged SGD"): switch from plain SGD to
/// averaged SGD once the validation loss stops improving, with a patience of <c>nonMono</c> epochs.
/// </summary>
/// <remarks>
/// As in AWD-LSTM's main.py, the new loss is compared with the history of the epochs before it, and only then added:
/// <c>len(best_val_loss) &gt; nonmono and val_loss &gt; min(best_val_loss[:-nonmono])</c>, then
/// <c>best_val_loss.append(val_loss)</c>. (Appending first and checking after fires one epoch early.)
/// </remarks>
public static class NtAsgd
{
    /// <summary>
    /// Whether <paramref name="validLoss"/> triggers the switch, given the validation losses of the epochs before it
    /// (<paramref name="history"/>, not yet holding this one).
    /// </summary>
    public static bool ShouldSwitch(IReadOnlyList<double> history, double validLoss, int nonMono)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count <= nonMono) return false;
        double best = double.PositiveInfinity;
        for (int i = 0; i < history.Count - nonMono; i++) best = Math.Min(best, history[i]);
        return validLoss > best;
    }
}
