using System.Text;

namespace TinyGrad;

/// <summary>The outcome of a <see cref="GradCheck"/> run.</summary>
/// <param name="Passed">Whether every checked input was within tolerance.</param>
/// <param name="MaxError">The worst relative error over the inputs (see <see cref="GradCheck"/>).</param>
/// <param name="Report">One line per input: its error and its worst element.</param>
public sealed record GradCheckResult(bool Passed, double MaxError, string Report);

/// <summary>
/// Checks an op's analytic backward against central finite differences. Point it at any function of
/// tensors, including your own <see cref="Autograd.Function"/> ops.
/// </summary>
/// <remarks>
/// <para>The scalar probed is L = Σ f(x) ⊙ R for a fixed random R, so every output element is tested at
/// once. The analytic gradient is f's backward with upstream gradient R. Each input element is nudged by
/// ±h (h = eps·max(1, |x|)); the two values of L are accumulated in double precision and divided by the
/// perturbation actually stored in float32, so the only float32 error left is f's own rounding.</para>
/// <para>Errors are compared per input as ‖numeric − analytic‖₂ / max(‖numeric‖₂, ‖analytic‖₂, 1e−3).
/// With the defaults (eps 1e−3, tolerance 2e−3) correct ops at small sizes land near 1e−4, while a gradient
/// off by 1 % lands near 1e−2: the negative-control test in the suite shows both.</para>
/// </remarks>
public static class GradCheck
{
    /// <summary>Runs the check on every input that has <see cref="Tensor.RequiresGrad"/> set. Inputs and their gradients are restored.</summary>
    public static GradCheckResult Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-3, double tolerance = 2e-3, ulong seed = 1234)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(inputs);
        var savedGrads = inputs.Select(x => x.Grad).ToArray();
        foreach (var x in inputs) x.Grad = null;
        try
        {
            var y = f(inputs);
            var rng = new Generator(seed);
            var weights = new float[y.Numel];
            for (int i = 0; i < weights.Length; i++) weights[i] = (float)(rng.NextDouble() * 2 - 1);
            if (y.RequiresGrad) y.Backward(Tensor.FromArray(weights, y.ShapeRef, y.Device));

            var report = new StringBuilder();
            bool passed = true;
            double worst = 0;
            for (int t = 0; t < inputs.Length; t++)
            {
                var x = inputs[t];
                if (!x.RequiresGrad) continue;
                var analytic = x.Grad?.ToArray() ?? new float[x.Numel];
                var numeric = Numeric(f, inputs, x, weights, eps);
                double diff = 0, na = 0, nn = 0, worstElement = -1;
                int at = 0;
                for (int i = 0; i < numeric.Length; i++)
                {
                    double d = numeric[i] - analytic[i];
                    diff += d * d;
                    na += (double)analytic[i] * analytic[i];
                    nn += numeric[i] * numeric[i];
                    if (Math.Abs(d) > worstElement)
                    {
                        worstElement = Math.Abs(d);
                        at = i;
                    }
                }
                double error = Math.Sqrt(diff) / Math.Max(Math.Max(Math.Sqrt(na), Math.Sqrt(nn)), 1e-3);
                worst = Math.Max(worst, error);
                bool ok = error <= tolerance;
                passed &= ok;
                report.Append($"input {t} {Shapes.Format(x.ShapeRef)}: relative error {error:E2} ({(ok ? "ok" : "FAIL")})");
                if (numeric.Length > 0) report.Append($"; worst element {at}: numeric {numeric[at]:G6}, analytic {analytic[at]:G6}");
                report.AppendLine();
            }
            return new GradCheckResult(passed, worst, report.ToString());
        }
        finally
        {
            for (int i = 0; i < inputs.Length; i++) inputs[i].Grad = savedGrads[i];
        }
    }

    /// <summary>Like <see cref="Check"/>, but throws an <see cref="InvalidOperationException"/> with the report when it fails.</summary>
    public static void Assert(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-3, double tolerance = 2e-3)
    {
        var result = Check(f, inputs, eps, tolerance);
        if (!result.Passed) throw new InvalidOperationException($"gradcheck failed (tolerance {tolerance:E1}):\n{result.Report}");
    }

    private static double[] Numeric(Func<Tensor[], Tensor> f, Tensor[] inputs, Tensor x, float[] weights, double eps)
    {
        var original = x.ToArray();
        var numeric = new double[original.Length];
        var probe = (float[])original.Clone();
        using var _ = Autograd.NoGrad();
        try
        {
            for (int i = 0; i < original.Length; i++)
            {
                double h = eps * Math.Max(1.0, Math.Abs(original[i]));
                float plus = (float)(original[i] + h), minus = (float)(original[i] - h);
                probe[i] = plus;
                Write(x, probe);
                double lp = Dot(f(inputs), weights);
                probe[i] = minus;
                Write(x, probe);
                double lm = Dot(f(inputs), weights);
                probe[i] = original[i];
                numeric[i] = (lp - lm) / ((double)plus - minus);
            }
        }
        finally
        {
            Write(x, original);
        }
        return numeric;
    }

    private static double Dot(Tensor y, float[] weights)
    {
        var values = y.ToArray();
        double sum = 0;
        for (int i = 0; i < values.Length; i++) sum += (double)values[i] * weights[i];
        return sum;
    }

    // Overwrites a tensor's elements in place through its backend (so the check works on any device).
    private static void Write(Tensor x, float[] data)
    {
        var staged = x.Backend.FromHost(data);
        x.Backend.CopyBlocks(staged, 0, data.Length, x.Storage, 0, data.Length, data.Length, 1);
    }
}
