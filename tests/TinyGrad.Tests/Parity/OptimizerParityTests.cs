namespace TinyGrad.Tests.Parity;

using TinyGrad;
using TinyGrad.Backends;
using TinyGrad.Optim;
using TinyGrad.Tests.Backends;

// Optimizer trajectories against float32 PyTorch (fixtures/optim.json, made by tests/fixtures/make_fixtures.py):
// two parameters, five steps, each with a stored gradient assigned to Grad before Step(); the parameters
// (and ASGD's running average) are compared after every step. Also clip_grad_norm_.
public abstract class OptimizerParityTests(Device device) : OnDevice(device)
{
    // Values: 1e-5 relative, as for the ops. Both sides run the same float32 update, but the order of a few
    // roundings differs (PyTorch folds bias corrections in double; TinyGrad's ASGD merges decay and weight
    // decay into one scale), which stays at a few ulps over five steps. 1e-6 absolute for elements near zero.
    private const double Rtol = 1e-5, Atol = 1e-6;

    public static TheoryData<string> CaseNames => new(Fixtures.Optim.Cases.Select(c => c.Name));

    public static TheoryData<string> ClipNames => new(Fixtures.Optim.Clip.Select(c => c.Name));

    // A hyperparameter from the fixture, or PyTorch's default where the fixture leaves it out.
    private static float H(OptimCase c, string key, float torchDefault) =>
        c.Hyper.TryGetValue(key, out var v) ? v.GetSingle() : torchDefault;

    private static Optimizer Make(OptimCase c, Tensor[] ps)
    {
        // A case with no hyperparameters ("default") uses TinyGrad's own defaults, so it also checks that they
        // are PyTorch's.
        bool defaults = c.Hyper.Count == 0;
        return c.Kind switch
        {
            "sgd" => new Sgd(ps, H(c, "lr", float.NaN), H(c, "momentum", 0f), H(c, "dampening", 0f), H(c, "weight_decay", 0f),
                c.Hyper.TryGetValue("nesterov", out var n) && n.GetBoolean()),
            "adam" when defaults => new Adam(ps),
            "adam" => new Adam(ps, H(c, "lr", 1e-3f), H(c, "beta1", 0.9f), H(c, "beta2", 0.999f), H(c, "eps", 1e-8f), H(c, "weight_decay", 0f)),
            "adamw" when defaults => new AdamW(ps),
            "adamw" => new AdamW(ps, H(c, "lr", 1e-3f), H(c, "beta1", 0.9f), H(c, "beta2", 0.999f), H(c, "eps", 1e-8f), H(c, "weight_decay", 1e-2f)),
            "asgd" when defaults => new Asgd(ps),
            "asgd" => new Asgd(ps, H(c, "lr", 1e-2f), H(c, "lambd", 1e-4f), H(c, "alpha", 0.75f), H(c, "t0", 1e6f), H(c, "weight_decay", 0f)),
            _ => throw new ArgumentException($"case '{c.Name}': unknown optimizer kind '{c.Kind}'"),
        };
    }

    [SkippableTheory]
    [MemberData(nameof(CaseNames))]
    public void Trajectory_matches_pytorch(string name)
    {
        var c = Fixtures.OptimCase(name);
        var ps = c.Initial.Select(t => t.ToTensor().RequireGrad()).ToArray();
        var opt = Make(c, ps);
        Assert.Equal(c.Grads.Length, c.Steps.Length);
        for (int step = 0; step < c.Steps.Length; step++)
        {
            for (int i = 0; i < ps.Length; i++) ps[i].Grad = c.Grads[step][i].ToTensor();
            opt.Step();
            var expected = c.Steps[step];
            for (int i = 0; i < ps.Length; i++)
                Fixtures.AssertClose(name, $"parameter {i} after step {step + 1}", expected.Params[i], ps[i], Rtol, Atol);
            if (expected.Ax is { } ax)
            {
                var asgd = Assert.IsType<Asgd>(opt);
                for (int i = 0; i < ps.Length; i++)
                {
                    var avg = asgd.Average(i);
                    Assert.True(avg is not null, $"case '{name}': no running average for parameter {i} after step {step + 1}");
                    Fixtures.AssertClose(name, $"ASGD average (ax) of parameter {i} after step {step + 1}", ax[i], avg!, Rtol, Atol);
                }
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(ClipNames))]
    public void ClipGradNorm_matches_pytorch(string name)
    {
        var c = Fixtures.ClipCase(name);
        var ps = c.Grads.Select(g => Tensor.Zeros(g.Shape).RequireGrad()).ToArray();
        for (int i = 0; i < ps.Length; i++) ps[i].Grad = c.Grads[i].ToTensor();
        float norm = ClipGrad.ClipGradNorm(ps, c.MaxNorm[0]);
        Fixtures.AssertClose(name, "returned total norm", [], c.TotalNorm, [norm], Rtol, Atol);
        for (int i = 0; i < ps.Length; i++)
            Fixtures.AssertClose(name, $"clipped gradient {i}", c.Clipped[i], ps[i].Grad!, Rtol, Atol);
    }

    [SkippableFact]
    public void Fixture_covers_every_optimizer_and_both_clip_regimes()
    {
        var kinds = Fixtures.Optim.Cases.Select(c => c.Kind).ToHashSet();
        Assert.Superset(new HashSet<string> { "sgd", "adam", "adamw", "asgd" }, kinds);
        Assert.Contains(Fixtures.Optim.Clip, c => c.MaxNorm[0] < c.TotalNorm[0]);
        Assert.Contains(Fixtures.Optim.Clip, c => c.MaxNorm[0] > c.TotalNorm[0]);
    }
}

/// <summary>The suite on the CPU.</summary>
public sealed class OptimizerParityTestsCpu() : OptimizerParityTests(Device.Cpu);

/// <summary>The same suite on a CUDA GPU (skipped without one).</summary>
public sealed class OptimizerParityTestsCuda() : OptimizerParityTests(Device.Cuda);
