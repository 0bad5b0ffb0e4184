namespace TinyGrad.Tests.IO;

using TinyGrad;
using TinyGrad.Fuzzing;
using TinyGrad.IO;

// The suite's share of the safetensors fuzzing: every mutation family of tests/Fuzzing/SafeTensorsFuzz.cs (shared
// with `dotnet run -c Release --project bench/TinyGrad.Bench -- fuzz`, which runs 100,000+ cases), seeded. Each
// case either fails with SafeTensorsException naming the file, or is still a valid file whose tensors are the
// bytes its header points at and survive a save and reload; no load allocates more than the file's size
// (plus twice the header, for its strings, and a small constant).
public sealed class SafeTensorsFuzzTests : IDisposable
{
    private const int CasesPerFamily = 200;

    private readonly string _dir = Directory.CreateTempSubdirectory("tinygrad-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Seeded_mutations_of_every_family_are_rejected_cleanly_or_round_trip()
    {
        string path = Path.Combine(_dir, "case.safetensors"), scratch = Path.Combine(_dir, "roundtrip.safetensors");
        var original = SafeTensorsFuzz.WriteSample(path);
        Assert.Equal(FuzzOutcome.Accepted, SafeTensorsFuzz.Check(path, original, scratch)); // also the warm-up
        int families = SafeTensorsFuzz.Families.Length;
        var rejected = new int[families];
        var accepted = new int[families];
        for (int c = 0; c < CasesPerFamily * families; c++)
        {
            int family = c % families;
            var bytes = SafeTensorsFuzz.Mutate(original, family, new Generator(11_000 + (ulong)c));
            File.WriteAllBytes(path, bytes);
            FuzzOutcome outcome;
            try
            {
                outcome = SafeTensorsFuzz.Check(path, bytes, scratch);
            }
            catch (FuzzFailure e)
            {
                Assert.Fail($"case {c} ({SafeTensorsFuzz.Families[family]}): {e.Message}");
                throw;
            }
            if (outcome == FuzzOutcome.Rejected) rejected[family]++;
            else accepted[family]++;
        }

        string Counts(int f) => $"{SafeTensorsFuzz.Families[f]}: {rejected[f]} rejected, {accepted[f]} accepted";
        for (int f = 0; f < families; f++)
        {
            Assert.Equal(CasesPerFamily, rejected[f] + accepted[f]);
            switch (SafeTensorsFuzz.Families[f])
            {
                case "truncation" or "huge-shape" or "duplicate-name" or "header-length-lie":
                    // Every one of these breaks the file (a near-miss length lie of 0 is the same file: excluded by the bound below).
                    Assert.True(rejected[f] >= CasesPerFamily * 9 / 10, Counts(f));
                    break;
                case "data-damage":
                    Assert.True(accepted[f] == CasesPerFamily, Counts(f)); // the data section has no checksum: any bytes are valid floats
                    break;
                default:
                    Assert.True(rejected[f] > 0, Counts(f));
                    break;
            }
        }
    }

    [Fact]
    public void Loading_a_large_file_allocates_about_its_size_once()
    {
        // 4 MB of tensors: a reader that read the whole file and then copied it would allocate twice that.
        string path = Path.Combine(_dir, "large.safetensors");
        SafeTensors.Save(path, [new("a", Tensor.Zeros(512, 1024)), new("b", Tensor.Zeros(512, 1024))]);
        SafeTensors.Load(path); // warm up
        long length = new FileInfo(path).Length;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var (tensors, _) = SafeTensors.Load(path);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2, tensors.Count);
        Assert.InRange(allocated, length - 1024, length + SafeTensorsFuzz.AllocationSlack);
    }
}
