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
        // The temporary file sits beside the target (same file system, so the rename is atomic) and is named
        // after this process, so concurrent writers never share one. A writer killed mid-save leaves its
        // temporary file behind; the next save of the same target deletes those of processes no longer running.
        string temp = TempPrefix(path) + Environment.ProcessId;
        RemoveStaleTemporaries(path);
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
                stream.Flush(flushToDisk: true); // the data is on disk before the rename makes it visible
            }
            File.Move(temp, path, overwrite: true); // rename(2): readers see the old file or the new one, never a mix
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The name of a temporary file for <paramref name="path"/> up to the writer's process id.</summary>
    internal static string TempPrefix(string path) => path + ".tmp-";

    /// <summary>Deletes temporary files of <paramref name="path"/> left by writers that were killed mid-save.</summary>
    private static void RemoveStaleTemporaries(string path)
    {
        string full = Path.GetFullPath(path);
        string? directory = Path.GetDirectoryName(full);
        if (directory is null || !Directory.Exists(directory)) return;
        string prefix = Path.GetFileName(TempPrefix(full));
        foreach (var file in Directory.EnumerateFiles(directory, prefix + "*"))
        {
            if (!int.TryParse(Path.GetFileName(file).AsSpan(prefix.Length), System.Globalization.NumberStyles.None, null, out int pid)) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Another writer may be cleaning up the same file; it is gone either way or will be next time.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false; // no such process
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Reads every tensor (in file order) and the string metadata, validating the whole header first. Only the
    /// header is read before validation; each tensor's bytes are then read straight into its own storage, so a
    /// load allocates about the file's size (header, tensors) plus a small constant, never more.
    /// </summary>
    public static (List<KeyValuePair<string, Tensor>> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new SafeTensorsException(path, "file not found");
        SafeTensorsException Bad(string problem) => new(path, problem);
        // bufferSize 0: no FileStream buffer; reads go straight into the header and tensor arrays.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        try
        {
            return Read(stream, Bad);
        }
        catch (EndOfStreamException)
        {
            throw Bad("the file became shorter while it was being read");
        }
    }

    private static (List<KeyValuePair<string, Tensor>> Tensors, Dictionary<string, string> Metadata) Read(FileStream stream, Func<string, SafeTensorsException> bad)
    {
        long fileLength = stream.Length;
        if (fileLength < 8) throw bad($"only {fileLength} bytes; a safetensors file starts with an 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes) throw bad($"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength > (ulong)(fileLength - 8)) throw bad($"header length {headerLength} runs past the end of the file ({fileLength} bytes)");
        var header = new byte[(int)headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        if (!System.Text.Unicode.Utf8.IsValid(header)) throw bad("header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw bad($"header is not valid JSON ({e.Message})");
        }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw bad("header is not a JSON object");

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, int[] Shape, long Begin, long End)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            ReadEntries(doc.RootElement, dataLength, bad, metadata, entries, names);
        }
        catch (InvalidOperationException e)
        {
            // Valid JSON can still hold a string .NET cannot decode: an escaped lone surrogate ("\ud800").
            throw bad($"header holds a string that is not valid text ({e.Message})");
        }

        // Spans must tile the data section exactly: sorted by start, each begins where the last ended.
        var order = Enumerable.Range(0, entries.Count).OrderBy(i => entries[i].Begin).ThenBy(i => entries[i].End).ToArray();
        long cursor = 0;
        foreach (int i in order)
        {
            var e = entries[i];
            if (e.Begin != cursor)
                throw bad(e.Begin < cursor ? $"tensor '{e.Name}' overlaps the previous tensor (starts at {e.Begin}, previous ends at {cursor})"
                                           : $"bytes {cursor}..{e.Begin} before tensor '{e.Name}' belong to no tensor");
            cursor = e.End;
        }
        if (cursor != dataLength) throw bad($"the tensors cover {cursor} bytes but the data section holds {dataLength}");

        // Valid: read each tensor's bytes, in file order (one sequential pass), straight into its storage.
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors: big-endian hosts are not supported");
        var tensors = new Tensor[entries.Count];
        foreach (int i in order)
        {
            var e = entries[i];
            var values = new float[(e.End - e.Begin) / sizeof(float)];
            stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            tensors[i] = new Tensor(new Backends.Cpu.CpuStorage(values), e.Shape);
        }
        return ([.. entries.Select((e, i) => new KeyValuePair<string, Tensor>(e.Name, tensors[i]))], metadata);
    }

    private static void ReadEntries(JsonElement root, long dataLength, Func<string, SafeTensorsException> bad, Dictionary<string, string> metadata,
        List<(string Name, int[] Shape, long Begin, long End)> entries, HashSet<string> names)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name == MetadataKey)
            {
                if (property.Value.ValueKind != JsonValueKind.Object) throw bad("__metadata__ is not an object");
                foreach (var m in property.Value.EnumerateObject())
                {
                    if (m.Value.ValueKind != JsonValueKind.String) throw bad($"metadata '{m.Name}' is not a string");
                    metadata[m.Name] = m.Value.GetString()!;
                }
                continue;
            }
            var entry = ParseEntry(property, dataLength, bad);
            if (!names.Add(entry.Name)) throw bad($"tensor '{entry.Name}' appears twice in the header");
            entries.Add(entry);
        }
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
