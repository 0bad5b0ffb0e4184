namespace TinyGrad.Tests.IO;

using System.Text;
using TinyGrad;
using TinyGrad.IO;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    private string SaveSample(string name = "m.safetensors")
    {
        string path = PathOf(name);
        SafeTensors.Save(path,
        [
            new("encoder.weight", Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 3, 2)),
            new("decoder.bias", Tensor.FromArray([-1f, 0.5f, 7f], 3)),
            new("scale", Tensor.Scalar(2.5f)),
        ], new Dictionary<string, string> { ["format"] = "tinygrad.wordlm", ["version"] = "1" });
        return path;
    }

    [Fact]
    public void Round_trips_tensors_in_order_and_metadata()
    {
        var (tensors, metadata) = SafeTensors.Load(SaveSample());
        Assert.Equal(["encoder.weight", "decoder.bias", "scale"], tensors.Select(t => t.Key));
        Assert.Equal(new[] { 3, 2 }, tensors[0].Value.Shape);
        Assert.Equal([-1f, 0.5f, 7f], tensors[1].Value.ToArray());
        Assert.Empty(tensors[2].Value.Shape);
        Assert.Equal("tinygrad.wordlm", metadata["format"]);
    }

    [Fact]
    public void Header_is_padded_to_eight_bytes_and_no_temporary_file_is_left()
    {
        var path = SaveSample();
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(0UL, BitConverter.ToUInt64(bytes) % 8);
        Assert.Single(Directory.GetFiles(_dir));
    }

    private static byte[] WithHeader(string json, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(json);
        return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[dataBytes]];
    }

    public static TheoryData<string, byte[], string> Hostile() => new()
    {
        { "bad utf8", [.. BitConverter.GetBytes(4UL), (byte)'{', 0xC3, 0x28, (byte)'}'], "UTF-8" },
        { "short", [1, 2, 3], "8-byte header length" },
        { "header past end", [.. BitConverter.GetBytes(500UL), .. new byte[10]], "runs past the end" },
        { "huge header", [.. BitConverter.GetBytes(1UL << 40), .. new byte[10]], "limit" },
        { "bad json", WithHeader("{\"a\": [", 0), "not valid JSON" },
        { "not object", WithHeader("[1,2]", 0), "not a JSON object" },
        { "dtype", WithHeader("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4), "F16 is not supported" },
        { "shape mismatch", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 16), "needs 12 bytes" },
        { "huge shape", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[100000,100000],\"data_offsets\":[0,8]}}", 8), "needs more bytes" },
        { "offset past data", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 8), "run past" },
        { "overlap", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "overlaps" },
        { "gap", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "belong to no tensor" },
        { "trailing data", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8), "data section holds 8" },
        { "negative offsets", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4), "0 ≤ begin ≤ end" },
        { "metadata not string", WithHeader("{\"__metadata__\":{\"v\":1}}", 0), "not a string" },
        // Found by the fuzz verb: valid JSON whose string escapes a lone surrogate used to escape as InvalidOperationException.
        { "lone surrogate in metadata", WithHeader("{\"__metadata__\":{\"a\":\"\\ud800\"}}", 0), "not valid text" },
        { "lone surrogate in a name", WithHeader("{\"\\udc00x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "not valid text" },
        { "duplicate", WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "twice" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_files_fail_with_one_exception_naming_file_and_problem(string name, byte[] bytes, string problem)
    {
        string path = PathOf(name.Replace(' ', '_') + ".safetensors");
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<SafeTensorsException>(() => SafeTensors.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains(problem, error.Message);
    }
}
