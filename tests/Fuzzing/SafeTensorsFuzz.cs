// Shared by the test suite (tests/TinyGrad.Tests/IO/SafeTensorsFuzzTests.cs, a few thousand cases) and the bench
// program's long mode (bench/TinyGrad.Bench/FuzzQuick.cs, 100,000+ cases): both compile this one file (linked
// with <Compile Include="..." Link="..."/>), so the families they run are the same code.

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TinyGrad.IO;

namespace TinyGrad.Fuzzing;

/// <summary>How one mutated file fared.</summary>
internal enum FuzzOutcome
{
    /// <summary>Load threw <see cref="SafeTensorsException"/>.</summary>
    Rejected,

    /// <summary>Load succeeded; the tensors matched the file's bytes and survived a save and reload.</summary>
    Accepted,
}

/// <summary>A case that broke a promise of the reader: the message says which and how to replay it.</summary>
internal sealed class FuzzFailure(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Seeded mutations of a valid safetensors file, in families. Byte-level families (truncation, bit flips,
/// header-length lies, header byte edits) damage the file as a disk or a network might; structural families
/// rewrite the JSON header (and fix up its length prefix, so the damage reaches the deeper checks): swapped and
/// overlapping offsets, huge or odd shapes, dtype strings, duplicate names, metadata of the wrong kind, JSON
/// garbage, and data-only damage (still a valid file: must load and round-trip).
/// </summary>
internal static class SafeTensorsFuzz
{
    /// <summary>The families, by index.</summary>
    public static readonly string[] Families =
    [
        "truncation", "bit-flips", "header-length-lie", "header-byte-edit", "offset-swap", "overlapping-offsets",
        "huge-shape", "shape-edit", "dtype-string", "duplicate-name", "metadata-kind", "json-garbage", "data-damage",
    ];

    /// <summary>Bytes a load may allocate beyond the file's length and twice its header (its strings as UTF-16).</summary>
    public const long AllocationSlack = 64 * 1024;

    /// <summary>
    /// Writes the file the mutations start from: tensors of rank 0 to 4 (one empty), in an order that differs
    /// from their data order, and string metadata including a JSON list (as a WordLM checkpoint's vocab).
    /// </summary>
    public static byte[] WriteSample(string path)
    {
        var g = new Generator(2024);
        Tensor Rand(params int[] shape) => Tensor.Uniform(shape, -2f, 2f, g);
        SafeTensors.Save(path,
        [
            new("encoder.weight", Rand(7, 4)),
            new("rnns.0.weight_ih_l0", Rand(16, 4)),
            new("rnns.0.bias_ih_l0", Rand(16)),
            new("decoder.bias", Rand(7)),
            new("scale", Tensor.Scalar(2.5f)),
            new("empty", Tensor.Zeros(0, 3)),
            new("cube", Rand(2, 1, 2, 3)),
        ], new Dictionary<string, string>
        {
            ["format"] = "tinygrad.wordlm",
            ["version"] = "1",
            ["vocab"] = "[\"<eos>\", \"the\", \"caf\\u00e9\", \"a\", \"b\", \"c\", \"d\"]",
        });
        return File.ReadAllBytes(path);
    }

    /// <summary>A mutation of <paramref name="original"/> from <paramref name="family"/>, drawn from <paramref name="rng"/>.</summary>
    public static byte[] Mutate(byte[] original, int family, Generator rng)
    {
        var bytes = (byte[])original.Clone();
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        switch (Families[family])
        {
            case "truncation":
                return bytes[..rng.NextInt(bytes.Length)];
            case "bit-flips":
                for (int f = 0, n = 1 + rng.NextInt(4); f < n; f++) bytes[rng.NextInt(bytes.Length)] ^= (byte)(1 << rng.NextInt(8));
                return bytes;
            case "header-length-lie":
                ulong lie = rng.NextInt(2) == 0
                    ? (ulong)Math.Max(0, headerLength + (rng.NextInt(2) == 0 ? -1 : 1) * (1 + rng.NextInt(16)))  // near misses
                    : rng.NextUInt64() >> rng.NextInt(64);                      // anything
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, lie);
                return bytes;
            case "header-byte-edit":
                for (int f = 0, n = 1 + rng.NextInt(3); f < n; f++)
                    bytes[8 + rng.NextInt(headerLength)] = (byte)"0123456789[]{},\":-.eE \\nt"[rng.NextInt(25)];
                return bytes;
            case "data-damage":
                if (bytes.Length > 8 + headerLength)
                    for (int f = 0, n = 1 + rng.NextInt(8); f < n; f++) bytes[8 + headerLength + rng.NextInt(bytes.Length - 8 - headerLength)] = (byte)rng.NextInt(256);
                return bytes;
            case "json-garbage":
                return WithHeader(original, JsonGarbage(Header(original), rng));
            case "duplicate-name":
                return WithHeader(original, DuplicateName(Header(original), rng));
            default:
                var root = JsonNode.Parse(Header(original))!.AsObject();
                StructuralEdit(Families[family], root, rng);
                return WithHeader(original, root.ToJsonString());
        }
    }

    /// <summary>
    /// Loads <paramref name="path"/> (holding <paramref name="bytes"/>) and checks the reader's promises: only
    /// <see cref="SafeTensorsException"/> escapes; a load allocates at most the file's length plus twice its header
    /// plus <see cref="AllocationSlack"/>; an accepted file's tensors are exactly the bytes its header points at and
    /// survive a save to <paramref name="scratch"/> and a reload bit for bit. Anything else is a <see cref="FuzzFailure"/>.
    /// </summary>
    public static FuzzOutcome Check(string path, byte[] bytes, string scratch)
    {
        List<KeyValuePair<string, Tensor>> tensors;
        Dictionary<string, string> metadata;
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            (tensors, metadata) = SafeTensors.Load(path);
        }
        catch (SafeTensorsException e)
        {
            CheckAllocation(before, bytes);
            if (!e.Message.Contains(path, StringComparison.Ordinal)) throw new FuzzFailure($"the message does not name the file: {e.Message}");
            return FuzzOutcome.Rejected;
        }
        catch (Exception e)
        {
            throw new FuzzFailure($"{e.GetType().Name} escaped instead of SafeTensorsException: {e.Message}", e);
        }
        CheckAllocation(before, bytes);

        // Accepted: each tensor is the bytes its header entry points at (read independently here).
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        foreach (var (name, tensor) in tensors)
        {
            var entry = doc.RootElement.GetProperty(name);
            long begin = entry.GetProperty("data_offsets")[0].GetInt64(), end = entry.GetProperty("data_offsets")[1].GetInt64();
            var expectedShape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            if (!tensor.Shape.SequenceEqual(expectedShape))
                throw new FuzzFailure($"tensor '{name}' loaded with shape {Shapes.Format(tensor.Shape)}, the header says {Shapes.Format(expectedShape)}");
            var data = MemoryMarshal.AsBytes(tensor.ToArray().AsSpan());
            if (!data.SequenceEqual(bytes.AsSpan((int)(8 + headerLength + begin), (int)(end - begin))))
                throw new FuzzFailure($"tensor '{name}' does not hold the bytes at data_offsets [{begin}, {end}]");
        }

        // ...and a save and reload gives the same tensors (bit for bit, NaN payloads included) and metadata.
        SafeTensors.Save(scratch, tensors, metadata);
        var (again, againMetadata) = SafeTensors.Load(scratch);
        if (!again.Select(t => t.Key).SequenceEqual(tensors.Select(t => t.Key)))
            throw new FuzzFailure("the reloaded tensors are not the loaded ones in the same order");
        for (int i = 0; i < again.Count; i++)
        {
            if (!again[i].Value.Shape.SequenceEqual(tensors[i].Value.Shape) ||
                !MemoryMarshal.AsBytes(again[i].Value.ToArray().AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(tensors[i].Value.ToArray().AsSpan())))
                throw new FuzzFailure($"tensor '{again[i].Key}' changed in a save and reload");
        }
        if (againMetadata.Count != metadata.Count || againMetadata.Any(m => metadata.GetValueOrDefault(m.Key) != m.Value))
            throw new FuzzFailure("the metadata changed in a save and reload");
        return FuzzOutcome.Accepted;
    }

    private static void CheckAllocation(long before, byte[] bytes)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long header = bytes.Length >= 8 ? (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(bytes), (ulong)bytes.Length) : 0;
        long limit = bytes.Length + 2 * header + AllocationSlack;
        if (allocated > limit)
            throw new FuzzFailure($"the load allocated {allocated} bytes for a {bytes.Length}-byte file with a {header}-byte header (limit {limit})");
    }

    private static string Header(byte[] file) => Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));

    /// <summary>The file with its header replaced (length prefix fixed up, data section unchanged).</summary>
    private static byte[] WithHeader(byte[] original, string header) => WithHeader(original, Encoding.UTF8.GetBytes(header));

    private static byte[] WithHeader(byte[] original, byte[] header)
    {
        int oldLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var data = original.AsSpan(8 + oldLength);
        var result = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Length);
        header.CopyTo(result, 8);
        data.CopyTo(result.AsSpan(8 + header.Length));
        return result;
    }

    private static List<string> TensorNames(JsonObject root) => [.. root.Select(p => p.Key).Where(k => k != "__metadata__")];

    private static JsonObject Pick(JsonObject root, Generator rng, out string name)
    {
        var names = TensorNames(root);
        name = names[rng.NextInt(names.Count)];
        return root[name]!.AsObject();
    }

    private static long[] Offsets(JsonObject entry) => [.. entry["data_offsets"]!.AsArray().Select(n => n!.GetValue<long>())];

    private static void StructuralEdit(string family, JsonObject root, Generator rng)
    {
        switch (family)
        {
            case "offset-swap":
                {
                    // Two tensors trade data_offsets: equal-sized spans make a valid file (with the data swapped).
                    var a = Pick(root, rng, out _);
                    var b = Pick(root, rng, out _);
                    (a["data_offsets"], b["data_offsets"]) = (b["data_offsets"]!.DeepClone(), a["data_offsets"]!.DeepClone());
                    break;
                }
            case "overlapping-offsets":
                {
                    var entry = Pick(root, rng, out _);
                    var o = Offsets(entry);
                    long shift = (rng.NextInt(2) == 0 ? -1 : 1) * (4 * (1 + rng.NextInt(8)));
                    entry["data_offsets"] = rng.NextInt(3) switch
                    {
                        0 => new JsonArray(o[0] + shift, o[1] + shift),   // slide: overlaps a neighbour or leaves a gap
                        1 => new JsonArray(o[0], o[1] + shift),           // stretch or shrink the end
                        _ => new JsonArray(o[1], o[0]),                   // reversed
                    };
                    break;
                }
            case "huge-shape":
                {
                    var entry = Pick(root, rng, out _);
                    int[][] shapes =
                    [
                        [int.MaxValue, int.MaxValue], [65536, 65536, 65536, 65536], [1 << 30, 4], [0, int.MaxValue, int.MaxValue, int.MaxValue],
                    [int.MaxValue], [46341, 46341], [3, 3, 3, 3, 3], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
                ];
                    entry["shape"] = new JsonArray(shapes[rng.NextInt(shapes.Length)].Select(d => (JsonNode?)JsonValue.Create(d)).ToArray());
                    break;
                }
            case "shape-edit":
                {
                    var entry = Pick(root, rng, out _);
                    JsonNode?[] odd = [-1, 0, 1, 2, 1.5, "2", null, true, 1e30, long.MaxValue, (ulong)ulong.MaxValue, new JsonArray(), new JsonObject()];
                    var shape = entry["shape"] as JsonArray;
                    if (shape is null || shape.Count == 0 || rng.NextInt(4) == 0)
                        entry["shape"] = rng.NextInt(2) == 0 ? odd[rng.NextInt(odd.Length)]?.DeepClone() : new JsonArray();
                    else
                        shape[rng.NextInt(shape.Count)] = odd[rng.NextInt(odd.Length)]?.DeepClone();
                    break;
                }
            case "dtype-string":
                {
                    var entry = Pick(root, rng, out _);
                    JsonNode?[] dtypes = ["F16", "BF16", "F64", "I32", "U8", "BOOL", "f32", "F32 ", " F32", "", "F3", "F32\u0000", 32, null, new JsonArray("F32")];
                    if (rng.NextInt(8) == 0) entry.Remove("dtype");
                    else entry["dtype"] = dtypes[rng.NextInt(dtypes.Length)]?.DeepClone();
                    break;
                }
            case "metadata-kind":
                {
                    JsonNode?[] values = [1, null, true, new JsonArray("a"), new JsonObject { ["k"] = 1 }, "", "x"];
                    if (rng.NextInt(2) == 0 && root["__metadata__"] is JsonObject meta && meta.Count > 0)
                    {
                        string key = meta.Select(p => p.Key).ElementAt(rng.NextInt(meta.Count));
                        meta[key] = values[rng.NextInt(values.Length)]?.DeepClone();
                    }
                    else
                    {
                        // The metadata itself of the wrong kind, or an entry that is not a tensor description.
                        if (rng.NextInt(2) == 0) root["__metadata__"] = values[rng.NextInt(values.Length)]?.DeepClone();
                        else root[TensorNames(root)[rng.NextInt(TensorNames(root).Count)]] = values[rng.NextInt(values.Length)]?.DeepClone();
                    }
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(family), family, "not a structural family");
        }
    }

    private static string DuplicateName(string header, Generator rng)
    {
        // JSON objects may repeat a key; JsonNode cannot hold that, so rename one key in the text.
        var names = TensorNames(JsonNode.Parse(header)!.AsObject());
        int i = rng.NextInt(names.Count), j = (i + 1 + rng.NextInt(names.Count - 1)) % names.Count; // j ≠ i
        string a = names[i], b = rng.NextInt(4) == 0 ? "__metadata__" : names[j]; // or a tensor named like the metadata
        int at = header.IndexOf($"\"{a}\":", StringComparison.Ordinal);
        return header[..at] + $"\"{b}\":" + header[(at + a.Length + 3)..];
    }

    private static byte[] JsonGarbage(string header, Generator rng)
    {
        string[] pieces =
        [
            "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "\\ud800", "null", "NaN", "Infinity", "-", "1e999", "/*c*/", "//",
            "\u00e9", "\ufeff", "\u0000", "\t", new string('[', 70), new string('{', 3) + "\"a\":", "\"" + new string('x', 300) + "\"",
        ];
        var text = new StringBuilder(header);
        switch (rng.NextInt(4))
        {
            case 0: // insert
                for (int i = 0, n = 1 + rng.NextInt(3); i < n; i++) text.Insert(rng.NextInt(text.Length + 1), pieces[rng.NextInt(pieces.Length)]);
                break;
            case 1: // delete a run
                int from = rng.NextInt(text.Length);
                text.Remove(from, Math.Min(text.Length - from, 1 + rng.NextInt(12)));
                break;
            case 2: // a different document altogether
                string[] documents = ["", " ", "null", "[]", "{}", "\"F32\"", "{\"a\":1}", "{\"a\":{}}", "{\"a\":{\"dtype\":\"F32\"}}", "{\"__metadata__\":{}}", "{\"__metadata__\":{}}{}"];
                return Encoding.UTF8.GetBytes(documents[rng.NextInt(documents.Length)]);
            default: // invalid UTF-8 bytes inside the header
                var bytes = Encoding.UTF8.GetBytes(header);
                byte[] bad = [0xC3, 0x28, 0xFF, 0xFE, 0x80, 0xED, 0xA0, 0x80];
                for (int i = 0, n = 1 + rng.NextInt(3); i < n; i++) bytes[rng.NextInt(bytes.Length)] = bad[rng.NextInt(bad.Length)];
                return bytes;
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
