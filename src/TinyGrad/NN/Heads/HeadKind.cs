namespace TinyGrad.NN.Heads;

/// <summary>
/// The four output heads of the paper the project reproduces (Kanai et al., 2018), in its order. Code passes this
/// enum around; the reference's lower-case names ("softmax", "sigsoftmax", "mos", "moss") appear only where text
/// crosses a boundary: the command line, a checkpoint's or metrics file's JSON, and messages (<see cref="HeadKinds"/>).
/// </summary>
public enum HeadKind
{
    /// <summary>One softmax over one decoder (<see cref="SoftmaxHead"/>).</summary>
    Softmax,

    /// <summary>One sigsoftmax over one decoder (<see cref="SigsoftmaxHead"/>).</summary>
    Sigsoftmax,

    /// <summary>A mixture of softmaxes (<see cref="MosHead"/>).</summary>
    Mos,

    /// <summary>A mixture of sigsoftmaxes (<see cref="MossHead"/>).</summary>
    Moss,
}

/// <summary>The names and properties of <see cref="HeadKind"/>: the one place that maps the enum to the reference's text.</summary>
public static class HeadKinds
{
    // Indexed by the enum's value; the reference (wordlm_reference.py) writes these into checkpoint configs.
    private static readonly string[] Names = ["softmax", "sigsoftmax", "mos", "moss"];

    /// <summary>Every head, in the paper's order.</summary>
    public static IReadOnlyList<HeadKind> All { get; } = [HeadKind.Softmax, HeadKind.Sigsoftmax, HeadKind.Mos, HeadKind.Moss];

    /// <summary>The valid names in the paper's order, for messages: "softmax, sigsoftmax, mos or moss".</summary>
    public static string ValidNames { get; } = string.Join(", ", Names[..^1]) + " or " + Names[^1];

    /// <summary>The reference's name of <paramref name="kind"/>: "softmax", "sigsoftmax", "mos" or "moss".</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not one of the four heads.</exception>
    public static string Name(HeadKind kind) => Names[Index(kind)];

    /// <summary>The head the reference's <paramref name="name"/> denotes (exact, lower-case, as checkpoints store it).</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not one of the four names; the message lists them.</exception>
    public static HeadKind Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryParse(name, out var kind) ? kind : throw new ArgumentException($"unknown head '{name}' (expected {ValidNames})", nameof(name));
    }

    /// <summary>
    /// <see cref="Parse"/> without the exception, for boundaries that word their own message (a JSON key, a
    /// command-line option): false, and <paramref name="kind"/> = default, unless <paramref name="name"/> is one of the four names.
    /// </summary>
    public static bool TryParse(string? name, out HeadKind kind)
    {
        // Exact and case-sensitive, as the reference compares them: "Softmax" is not a head there either.
        int i = name is null ? -1 : Array.IndexOf(Names, name);
        kind = i >= 0 ? (HeadKind)i : default;
        return i >= 0;
    }

    /// <summary>True for the mixtures (mos, moss), which have <c>prior</c> and <c>latent</c> layers and K experts.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not one of the four heads.</exception>
    public static bool IsMixture(HeadKind kind) => Index(kind) >= (int)HeadKind.Mos;

    /// <summary>The normaliser of <paramref name="kind"/> (per expert, for the mixtures): MoS and MoSS differ only here.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not one of the four heads.</exception>
    public static Normalizer NormalizerOf(HeadKind kind) =>
        Index(kind) is (int)HeadKind.Softmax or (int)HeadKind.Mos ? Normalizer.Softmax : Normalizer.Sigsoftmax;

    // An enum can hold any int (a cast, default of a bad deserialisation); refuse those instead of guessing.
    private static int Index(HeadKind kind) =>
        (uint)kind < (uint)Names.Length ? (int)kind : throw new ArgumentOutOfRangeException(nameof(kind), kind, $"not a head kind (expected {ValidNames})");
}
