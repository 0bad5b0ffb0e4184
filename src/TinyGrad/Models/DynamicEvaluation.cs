using TinyGrad.Backends;
using TinyGrad.Data;
using TinyGrad.NN;

namespace TinyGrad.Models;

/// <summary>The settings of <see cref="DynamicEvaluation"/>; the defaults are those of MoS's dynamiceval.py.</summary>
public sealed record DynamicEvaluationOptions
{
    /// <summary>The learning rate η of the update.</summary>
    public float Lr { get; init; } = 0.002f;

    /// <summary>λ, the decay toward the trained weights (global prior).</summary>
    public float Lambda { get; init; } = 0.02f;

    /// <summary>ε, added to the RMS gradient in the update's denominator.</summary>
    public float Epsilon { get; init; } = 0.001f;

    /// <summary>The window length: the model adapts after every window of this many words.</summary>
    public int Bptt { get; init; } = 5;

    /// <summary>Parallel streams of the training split when collecting the gradient statistics.</summary>
    public int StatsBatchSize { get; init; } = 100;

    /// <summary>At most this many training windows for the gradient statistics (0: the whole split).</summary>
    public int StatsMaxBatches { get; init; }

    /// <summary>Mean squared gradients for the statistics instead of summed ones (dynamiceval.py's --ms).</summary>
    public bool MeanSquare { get; init; }
}

/// <summary>The result of a dynamic evaluation: the overall score and each window's mean NLL, in order.</summary>
/// <param name="Result">The mean NLL per predicted word, its perplexity and the number of predicted words.</param>
/// <param name="WindowLosses">Each window's mean NLL, scored before the model adapted to that window.</param>
public sealed record DynamicEvaluationResult(EvaluationResult Result, IReadOnlyList<double> WindowLosses);

/// <summary>
/// Dynamic evaluation (Krause et al., 2018, "Dynamic Evaluation of Neural Sequence Models"), as MoS's dynamiceval.py:
/// the model keeps learning while it reads the test stream. Each window of <see cref="DynamicEvaluationOptions.Bptt"/>
/// words is scored first, with the weights as they are, and only then used for an update, so no prediction ever sees
/// its own word.
/// </summary>
/// <remarks>
/// <para>The update, per parameter W with trained value W₀: W += λ·d·(W₀ − W) − η·∇/(RMS + ε). RMS is the root of the
/// summed (or mean) squared gradients over the training split, collected once beforehand, and d = RMS / Σ mean(RMS)
/// is a per-weight decay rate clipped at 1/λ, so the weights that move most in training are pulled back hardest.</para>
/// <para>The test stream is one stream (batch size 1) with the LSTM state carried; the last, shorter window counts in
/// proportion to its length. The model is in eval mode throughout (no dropout), and its trained weights are restored
/// afterwards, so a checkpoint on disk and the model in memory are both left as they were.</para>
/// </remarks>
public static class DynamicEvaluation
{
    /// <summary>Scores <paramref name="test"/> while adapting <paramref name="model"/>, with statistics from <paramref name="train"/>.</summary>
    public static DynamicEvaluationResult Evaluate(WordLM model, int[] train, int[] test, DynamicEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        var o = options ?? new DynamicEvaluationOptions();
        if (!(o.Lr >= 0) || !(o.Lambda > 0) || !(o.Epsilon > 0) || o.Bptt <= 0 || o.StatsBatchSize <= 0 || o.StatsMaxBatches < 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"dynamic evaluation: lr {o.Lr} ≥ 0, lambda {o.Lambda} > 0, epsilon {o.Epsilon} > 0, bptt {o.Bptt}, batch size {o.StatsBatchSize} > 0 and max batches {o.StatsMaxBatches} ≥ 0 are required");
        var parameters = model.Parameters().ToList();
        bool wasTraining = model.Training;
        model.Eval(); // dropout off; gradients still flow
        var trained = parameters.Select(p => p.Detach().Clone()).ToList();
        try
        {
            var rms = GradientRms(model, parameters, new Batches(train, o.StatsBatchSize, "training split"), o);
            var decay = DecayRates(rms, o.Lambda);
            return Adapt(model, parameters, trained, rms, decay, new Batches(test, 1, "test split"), o);
        }
        finally
        {
            using (Autograd.NoGrad())
            {
                for (int i = 0; i < parameters.Count; i++) Copy(trained[i], parameters[i]);
            }
            foreach (var p in parameters) p.ZeroGrad();
            model.Train(wasTraining);
        }
    }

    // RMS of each weight's gradient over the training split's windows (dynamiceval.py's gradstat).
    private static List<Tensor> GradientRms(WordLM model, List<Tensor> parameters, Batches batches, DynamicEvaluationOptions o)
    {
        List<Tensor> squares;
        using (Autograd.NoGrad()) squares = [.. parameters.Select(p => Tensor.Zeros(p.Shape, p.Device))];
        int windows = 0;
        LstmState[]? state = null;
        foreach (int start in batches.Starts(o.Bptt))
        {
            state = Step(model, parameters, batches, start, o.Bptt, state, out _);
            using (Autograd.NoGrad())
            {
                for (int i = 0; i < parameters.Count; i++)
                {
                    var g = parameters[i].Grad;
                    if (g is not null) AddInPlace(squares[i], g * g);
                }
            }
            if (++windows == o.StatsMaxBatches) break;
        }
        using (Autograd.NoGrad()) return [.. squares.Select(s => (o.MeanSquare ? s / Math.Max(1, windows) : s).Sqrt())];
    }

    // d = RMS / Σ_params mean(RMS), clipped at 1/λ so that a decay step never overshoots W₀.
    private static List<Tensor> DecayRates(List<Tensor> rms, float lambda)
    {
        using var _ = Autograd.NoGrad();
        double total = rms.Sum(r => (double)r.Mean().Item());
        float scale = total > 0 ? (float)(1 / total) : 0f;
        var rates = new List<Tensor>(rms.Count);
        foreach (var r in rms)
        {
            var d = (r * scale).ToArray();
            for (int j = 0; j < d.Length; j++) d[j] = MathF.Min(d[j], 1f / lambda);
            rates.Add(Tensor.FromArray(d, r.Shape, r.Device));
        }
        return rates;
    }

    // Reads the test stream window by window: score, then update (dynamiceval.py's evaluate).
    private static DynamicEvaluationResult Adapt(WordLM model, List<Tensor> parameters, List<Tensor> trained, List<Tensor> rms,
        List<Tensor> decay, Batches batches, DynamicEvaluationOptions o)
    {
        // The per-weight factors of the update are fixed for the whole stream.
        var factors = decay.Zip(rms, (d, r) => UpdateFactors(d, r, o)).ToList();
        var windowLosses = new List<double>();
        double total = 0, weight = 0;
        long tokens = 0;
        LstmState[]? state = null;
        foreach (int start in batches.Starts(o.Bptt))
        {
            state = Step(model, parameters, batches, start, o.Bptt, state, out var scored);
            windowLosses.Add(scored.Loss);
            // A shorter last window counts in proportion to its length, as dynamiceval.py weighs it.
            double w = (double)scored.Words / o.Bptt;
            total += w * scored.Loss;
            weight += w;
            tokens += scored.Words;
            for (int i = 0; i < parameters.Count; i++)
            {
                var p = parameters[i];
                if (p.Grad is null) continue;
                // W += λ·d·(W₀ − W) − η·∇/(RMS + ε), in one pass over the five arrays (UpdateComposed spells it out).
                var (pull, denom) = factors[i];
                p.Backend.Optimizer().DynamicEvaluationStep(p.Storage, p.Grad.Storage, trained[i].Storage, pull.Storage, denom.Storage,
                    p.Numel, o.Lr);
            }
        }
        double loss = total / weight;
        return new DynamicEvaluationResult(new EvaluationResult(loss, Math.Exp(loss), tokens), windowLosses);
    }

    /// <summary>The fixed per-weight factors of the fused update: pull = λ·d and denom = RMS + ε.</summary>
    internal static (Tensor Pull, Tensor Denom) UpdateFactors(Tensor decay, Tensor rms, DynamicEvaluationOptions o)
    {
        using var _ = Autograd.NoGrad();
        return (decay * o.Lambda, rms + o.Epsilon);
    }

    /// <summary>
    /// The update of one parameter written with tensor ops, W + (λ·d·(W₀ − W) − η·∇/(RMS + ε)): the definition that the
    /// fused <see cref="IOptimizerKernels.DynamicEvaluationStep"/> is tested against (same operations, same order, same bits).
    /// </summary>
    internal static Tensor UpdateComposed(Tensor weight, Tensor grad, Tensor trained, Tensor decay, Tensor rms, DynamicEvaluationOptions o)
    {
        using var _ = Autograd.NoGrad();
        return weight + (decay * o.Lambda * (trained - weight) - grad * o.Lr / (rms + o.Epsilon));
    }

    // One window: forward from the carried state, mean NLL, backward; returns the next state (detached).
    private static LstmState[] Step(WordLM model, List<Tensor> parameters, Batches batches, int start, int bptt, LstmState[]? state,
        out (double Loss, int Words) scored)
    {
        var (inputs, targets, steps) = batches.Window(start, bptt);
        foreach (var p in parameters) p.ZeroGrad();
        var (hidden, next, _, _) = model.Forward(inputs, steps, batches.BatchSize, state);
        var loss = model.Nll(hidden, targets, Reduction.Mean);
        scored = (loss.Item(), targets.Length);
        loss.Backward();
        return [.. next.Select(s => s.Detach())];
    }

    private static void AddInPlace(Tensor target, Tensor delta)
    {
        var strides = Shapes.Strides(target.ShapeRef);
        target.Backend.Binary(BinaryOp.Add, target.Storage, strides, delta.Storage, strides, target.Storage, target.ShapeRef);
    }

    private static void Copy(Tensor source, Tensor target)
    {
        int n = target.Numel;
        target.Backend.CopyBlocks(source.Storage, 0, n, target.Storage, 0, n, n, 1);
    }
}
