using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace TinyGrad.IO;

/// <summary>A safetensors file that cannot be read: the message names the file and the problem.</summary>
public sealed class SafeTensorsException(string path, string problem) : Exception($"{path}: {problem}")
{
    /// <summary>The file.</summary>
    public string Path { get; } = path;
}

/// <summary>
/// The safetensors format (8-byte little-endian header length, a JSON header, raw little-endian data), float32
/// only, as the reference checkpoints use it. Reading treats the file as hostile: every length, offset, dtype
/// and shape is checked before anything is allocated, so a bad file costs at most its own size and fails with
/// one <see cref="SafeTensorsException"/>. Writing is atomic: a temporary file, flushed, then renamed.
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header accepted (safetensors' own limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Writes tensors (in the given order) and string metadata to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var header = new Dictionary<string, object>();
        var blobs = new List<float[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors)
        {
            if (name == MetadataKey) throw new ArgumentException($"safetensors: '{MetadataKey}' is not a tensor name");
            var data = tensor.ToArray();
            long bytes = (long)data.Length * sizeof(float);
            header[name] = new { dtype = "F32", shape = tensor.Shape, data_offsets = new[] { offset, offset + bytes } };
            blobs.Add(data);
            offset += bytes;
        }
        if (metadata is not null) header[MetadataKey] = metadata;
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8; // align the data section to 8 bytes, padding with spaces
        string temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
                stream.Write(length);
                stream.Write(json);
                for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
                foreach (var blob in blobs)
                {
                    if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors: big-endian hosts are not supported");
                    stream.Write(MemoryMarshal.AsBytes(blob.AsSpan()));
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Reads every tensor (in file order) and the string metadata, validating the whole file first.</summary>
    public static (List<KeyValuePair<string, Tensor>> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new SafeTensorsException(path, "file not found");
        byte[] bytes = File.ReadAllBytes(path);
        SafeTensorsException Bad(string problem) => new(path, problem);

        if (bytes.Length < 8) throw Bad($"only {bytes.Length} bytes; a safetensors file starts with an 8-byte header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes) throw Bad($"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength > (ulong)(bytes.Length - 8)) throw Bad($"header length {headerLength} runs past the end of the file ({bytes.Length} bytes)");
        int dataStart = 8 + (int)headerLength;
        long dataLength = bytes.Length - dataStart;

        if (!System.Text.Unicode.Utf8.IsValid(bytes.AsSpan(8, (int)headerLength))) throw Bad("header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw Bad($"header is not valid JSON ({e.Message})");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Bad("header is not a JSON object");

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (property.Name == MetadataKey)
            {
                if (property.Value.ValueKind != JsonValueKind.Object) throw Bad("__metadata__ is not an object");
                foreach (var m in property.Value.EnumerateObject())
                {
                    if (m.Value.ValueKind != JsonValueKind.String) throw Bad($"metadata '{m.Name}' is not a string");
                    metadata[m.Name] = m.Value.GetString()!;
                }
                continue;
            }
            var entry = ParseEntry(property, dataLength, Bad);
            if (entries.Any(e => e.Name == entry.Name)) throw Bad($"tensor '{entry.Name}' appears twice in the header");
            entries.Add(entry);
        }

        // Spans must tile the data section exactly: sorted by start, each begins where the last ended.
        long cursor = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != cursor)
                throw Bad(e.Begin < cursor ? $"tensor '{e.Name}' overlaps the previous tensor (starts at {e.Begin}, previous ends at {cursor})"
                                           : $"bytes {cursor}..{e.Begin} before tensor '{e.Name}' belong to no tensor");
            cursor = e.End;
        }
        if (cursor != dataLength) throw Bad($"the tensors cover {cursor} bytes but the data section holds {dataLength}");

        var tensors = new List<KeyValuePair<string, Tensor>>(entries.Count);
        foreach (var e in entries)
        {
            var values = new float[(e.End - e.Begin) / sizeof(float)];
            MemoryMarshal.Cast<byte, float>(bytes.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin))).CopyTo(values);
            tensors.Add(new(e.Name, Tensor.FromArray(values, e.Shape, null)));
        }
        return (tensors, metadata);
    }

    private static (string Name, int[] Shape, long Begin, long End) ParseEntry(JsonProperty property, long dataLength, Func<string, SafeTensorsException> bad)
    {
        string name = property.Name;
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object) throw bad($"tensor '{name}': entry is not an object");
        if (!v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String)
            throw bad($"tensor '{name}': missing dtype");
        if (dtype.GetString() != "F32")
            throw bad($"tensor '{name}': dtype {dtype.GetString()} is not supported (only F32)");
        if (!v.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
            throw bad($"tensor '{name}': missing shape");
        if (shapeJson.GetArrayLength() > Shapes.MaxRank)
            throw bad($"tensor '{name}': rank {shapeJson.GetArrayLength()} exceeds {Shapes.MaxRank}");
        var shape = new int[shapeJson.GetArrayLength()];
        long numel = 1;
        int k = 0;
        foreach (var d in shapeJson.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out int size) || size < 0)
                throw bad($"tensor '{name}': shape entry {d} is not a non-negative 32-bit integer");
            shape[k++] = size;
            numel *= size;
            if (numel * sizeof(float) > dataLength) throw bad($"tensor '{name}': shape {Shapes.Format(shape.AsSpan(0, k))}… needs more bytes than the file's {dataLength}-byte data section");
        }
        if (!v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw bad($"tensor '{name}': data_offsets must be [begin, end]");
        var pair = offsets.EnumerateArray().ToArray();
        if (!pair[0].TryGetInt64(out long begin) || !pair[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw bad($"tensor '{name}': data_offsets {offsets} are not 0 ≤ begin ≤ end");
        if (end > dataLength) throw bad($"tensor '{name}': data_offsets [{begin}, {end}] run past the {dataLength}-byte data section");
        if (end - begin != numel * sizeof(float))
            throw bad($"tensor '{name}': shape {Shapes.Format(shape)} needs {numel * sizeof(float)} bytes but data_offsets span {end - begin}");
        return (name, shape, begin, end);
    }
}
