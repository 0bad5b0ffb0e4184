using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace WordLM;

/// <summary>
/// Numbers on the command line are read one way everywhere: the invariant culture, a point for decimals, and no
/// thousands separators. The default conversion allows them, so <c>--lr 0,001</c> (a decimal comma) silently
/// became 1; here it is an error naming the option.
/// </summary>
public static class InvariantNumbers
{
    /// <summary>Gives every int, long, ulong, float and double option of <paramref name="command"/> the strict parser.</summary>
    public static void ApplyTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in command.Options) Apply(option);
    }

    /// <summary>Gives <paramref name="option"/> the strict parser when it takes a number; other options are left alone.</summary>
    public static void Apply(Option option)
    {
        switch (option)
        {
            case Option<int> o: o.CustomParser = r => Parse(r, o.Name, s => (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v), v)); break;
            case Option<long> o: o.CustomParser = r => Parse(r, o.Name, s => (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v), v)); break;
            case Option<ulong> o: o.CustomParser = r => Parse(r, o.Name, s => (ulong.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v), v)); break;
            case Option<float> o: o.CustomParser = r => Parse(r, o.Name, s => (float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v), v)); break;
            case Option<double> o: o.CustomParser = r => Parse(r, o.Name, s => (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v), v)); break;
            case Option<float?> o: o.CustomParser = r => r.Tokens.Count == 0 ? null : Parse(r, o.Name, s => (float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v), v)); break;
        }
    }

    private static T Parse<T>(ArgumentResult result, string name, Func<string, (bool Ok, T Value)> parse) where T : struct
    {
        if (result.Tokens.Count == 0) return default; // not given: the default value factory answers instead
        string text = result.Tokens[^1].Value;
        var (ok, value) = parse(text);
        if (!ok)
        {
            string kind = typeof(T) == typeof(float) || typeof(T) == typeof(double)
                ? "a number (with a point for decimals and no thousands separators, e.g. 0.001)"
                : typeof(T) == typeof(ulong) ? "a whole number ≥ 0 (no thousands separators)" : "a whole number (no thousands separators)";
            result.AddError($"{name} {text}: expected {kind}");
        }
        return value;
    }
}
