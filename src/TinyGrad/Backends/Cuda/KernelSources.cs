using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// The CUDA C sources of the kernels, embedded in the assembly from <c>Backends/Cuda/Kernels/*.cu</c>. Each .cu
/// file is one compilation unit: the shared prelude (<c>common.cuh</c>, after <c>#define</c>s generated from the
/// C# op enums so the two can never disagree) followed by the file. Kernels are declared <c>extern "C"</c> so
/// that their names are not mangled and <c>cuModuleGetFunction</c> finds them by the plain name.
/// </summary>
public static partial class KernelSources
{
    private const string ResourcePrefix = "cuda/";
    private static readonly Lazy<IReadOnlyDictionary<string, string>> s_files = new(LoadFiles);

    /// <summary>The kernel files (e.g. <c>elementwise.cu</c>), sorted.</summary>
    public static IReadOnlyList<string> Files => [.. s_files.Value.Keys.Where(f => f.EndsWith(".cu", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    /// <summary>The text of one embedded file as it is in the repository.</summary>
    public static string Raw(string file) =>
        s_files.Value.TryGetValue(file, out var text) ? text : throw new ArgumentException($"cuda kernels: no embedded file '{file}'", nameof(file));

    /// <summary>
    /// What precedes every file: <c>#define UNARY_EXP 2</c> and so on for <see cref="UnaryOp"/>, <see cref="BinaryOp"/>,
    /// <see cref="ReduceOp"/> and <see cref="Normalizer"/>, then <c>common.cuh</c>.
    /// </summary>
    public static string Prelude()
    {
        var text = new StringBuilder("// Generated from the C# enums by KernelSources.Prelude.\n");
        void Defines<T>(string prefix) where T : struct, Enum
        {
            foreach (var value in Enum.GetValues<T>())
                text.Append("#define ").Append(prefix).Append(value.ToString().ToUpperInvariant()).Append(' ')
                    .Append(Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        Defines<UnaryOp>("UNARY_");
        Defines<BinaryOp>("BINARY_");
        Defines<ReduceOp>("REDUCE_");
        Defines<Normalizer>("NORM_");
        text.Append(Raw("common.cuh")).Append('\n');
        return text.ToString();
    }

    /// <summary>The full compilation unit of <paramref name="file"/>: the prelude, then the file.</summary>
    public static string Compose(string file) => Prelude() + "#line 1 \"" + file + "\"\n" + Raw(file);

    /// <summary>The names of the <c>extern "C" __global__</c> functions defined in <paramref name="source"/> (comments ignored).</summary>
    public static IReadOnlyList<string> KernelNames(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var code = Comments().Replace(source, " ");
        return [.. GlobalFunction().Matches(code).Select(m => m.Groups[1].Value)];
    }

    /// <summary>Every kernel name → the file that defines it. Throws when two files define the same name.</summary>
    public static IReadOnlyDictionary<string, string> KernelFiles()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            foreach (var name in KernelNames(Raw(file)))
            {
                if (!map.TryAdd(name, file))
                    throw new InvalidOperationException($"cuda kernels: '{name}' is defined in both {map[name]} and {file}");
            }
        }
        return map;
    }

    private static IReadOnlyDictionary<string, string> LoadFiles()
    {
        var assembly = typeof(KernelSources).Assembly;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            files[resource[ResourcePrefix.Length..]] = reader.ReadToEnd().ReplaceLineEndings("\n");
        }
        return files;
    }

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"extern\s+""C""\s+__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?void\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(")]
    private static partial Regex GlobalFunction();
}
