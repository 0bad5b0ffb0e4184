namespace TinyGrad.Tests.Parity;

using System.Globalization;
using System.Text;
using System.Text.Json;
using TinyGrad;

/// <summary>A tensor as stored in a fixture: a shape and its elements in row-major order.</summary>
public sealed class FixtureTensor
{
    /// <summary>The shape ([] for a scalar).</summary>
    public int[] Shape { get; set; } = [];

    /// <summary>The elements, row-major.</summary>
    public float[] Data { get; set; } = [];

    /// <summary>A new TinyGrad tensor holding a copy of the data (rank 0 for shape []: the overload with a device takes the shape literally).</summary>
    public Tensor ToTensor() => Tensor.FromArray(Data, Shape, null);
}

/// <summary>One op case of ops.json (see tests/fixtures/make_fixtures.py).</summary>
public sealed class OpCase
{
    public string Name { get; set; } = "";
    public string Op { get; set; } = "";
    public Dictionary<string, JsonElement> Args { get; set; } = [];
    public FixtureTensor[] Inputs { get; set; } = [];
    public FixtureTensor[] Outputs { get; set; } = [];
    public FixtureTensor[] Upstream { get; set; } = [];
    public FixtureTensor[] Grads { get; set; } = [];

    /// <summary>A looser gradient tolerance for this case only, with the generator's reason for it.</summary>
    public double? GradRtol { get; set; }
    public string? GradRtolWhy { get; set; }

    public JsonElement Arg(string key) =>
        Args.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"case '{Name}' (op '{Op}') has no argument '{key}'");

    public int Int(string key) => Arg(key).GetInt32();
    public float Float(string key) => Arg(key).GetSingle();
    public bool Bool(string key) => Arg(key).GetBoolean();
    public string Str(string key) => Arg(key).GetString()!;
    public int[] Ints(string key) => [.. Arg(key).EnumerateArray().Select(e => e.GetInt32())];
}

public sealed class OpsFile
{
    public string TorchVersion { get; set; } = "";
    public OpCase[] Cases { get; set; } = [];
}

/// <summary>One optimizer trajectory of optim.json.</summary>
public sealed class OptimCase
{
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "";
    public Dictionary<string, JsonElement> Hyper { get; set; } = [];
    public FixtureTensor[] Initial { get; set; } = [];

    /// <summary>grads[step][parameter].</summary>
    public FixtureTensor[][] Grads { get; set; } = [];
    public OptimStep[] Steps { get; set; } = [];
}

public sealed class OptimStep
{
    public FixtureTensor[] Params { get; set; } = [];

    /// <summary>ASGD's running average per parameter (null for other optimizers).</summary>
    public FixtureTensor[]? Ax { get; set; }
}

public sealed class ClipCase
{
    public string Name { get; set; } = "";
    public float[] MaxNorm { get; set; } = [];
    public FixtureTensor[] Grads { get; set; } = [];
    public float[] TotalNorm { get; set; } = [];
    public FixtureTensor[] Clipped { get; set; } = [];
}

public sealed class OptimFile
{
    public string TorchVersion { get; set; } = "";
    public OptimCase[] Cases { get; set; } = [];
    public ClipCase[] Clip { get; set; } = [];
}

/// <summary>Loads the PyTorch fixtures (copied next to the test assembly) and compares tensors against them.</summary>
public static class Fixtures
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    private static readonly Lazy<OpsFile> LazyOps = new(() => Load<OpsFile>("ops.json"));
    private static readonly Lazy<OptimFile> LazyOptim = new(() => Load<OptimFile>("optim.json"));

    public static OpsFile Ops => LazyOps.Value;
    public static OptimFile Optim => LazyOptim.Value;

    public static OpCase Op(string name) => Ops.Cases.Single(c => c.Name == name);
    public static OptimCase OptimCase(string name) => Optim.Cases.Single(c => c.Name == name);
    public static ClipCase ClipCase(string name) => Optim.Clip.Single(c => c.Name == name);

    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    public static T Load<T>(string name)
    {
        string path = PathOf(name);
        if (!File.Exists(path))
            throw new FileNotFoundException($"fixture {name} not found at {path}; regenerate with `/usr/bin/python3 tests/fixtures/make_fixtures.py` and rebuild", path);
        return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options)
            ?? throw new InvalidDataException($"fixture {name} is empty");
    }

    /// <summary>
    /// Asserts |actual − expected| ≤ atol + rtol·|expected| element by element (and equal shapes). The failure
    /// message names the case, the tensor, the first failing index (flat and per axis), both values, and how
    /// many elements failed.
    /// </summary>
    public static void AssertClose(string caseName, string tensorName, FixtureTensor expected, Tensor actual, double rtol, double atol)
    {
        if (!expected.Shape.AsSpan().SequenceEqual(actual.Shape))
            Assert.Fail($"case '{caseName}', {tensorName}: shape {Shapes.Format(actual.Shape)}, expected {Shapes.Format(expected.Shape)}");
        AssertClose(caseName, tensorName, expected.Shape, expected.Data, actual.ToArray(), rtol, atol);
    }

    public static void AssertClose(string caseName, string tensorName, int[] shape, float[] expected, float[] actual, double rtol, double atol)
    {
        Assert.True(expected.Length == actual.Length,
            $"case '{caseName}', {tensorName}: {actual.Length} elements, expected {expected.Length}");
        int failures = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool ok = Math.Abs(a - e) <= atol + rtol * Math.Abs(e); // false for NaN
            if (!ok && failures++ == 0) first = i;
        }
        if (failures == 0) return;
        double ex = expected[first], ac = actual[first];
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"case '{caseName}', {tensorName}, index {first} {MultiIndex(first, shape)}: ");
        sb.Append(CultureInfo.InvariantCulture, $"expected {ex:G9}, actual {ac:G9} (|diff| {Math.Abs(ac - ex):G3} > {atol:G2} + {rtol:G2}·|expected|)");
        if (failures > 1) sb.Append(CultureInfo.InvariantCulture, $"; {failures} of {expected.Length} elements out of tolerance");
        Assert.Fail(sb.ToString());
    }

    private static string MultiIndex(int flat, int[] shape)
    {
        if (shape.Length == 0) return "[]";
        var index = new int[shape.Length];
        for (int k = shape.Length - 1; k >= 0; k--)
        {
            int d = Math.Max(1, shape[k]);
            index[k] = flat % d;
            flat /= d;
        }
        return "[" + string.Join(", ", index) + "]";
    }
}
