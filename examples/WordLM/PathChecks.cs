using System.Runtime.InteropServices;
using System.Text;
using TinyGrad.Training;

namespace WordLM;

/// <summary>
/// Checks the files a command reads and writes before it does any work, so that a bad output path costs a second,
/// not a trained model, and no input or earlier output is ever overwritten. Inputs must be readable files; outputs
/// must be regular files or absent, in an existing writable folder, with a name the file system takes; and no file
/// may be named twice (an output that is also an input, or two outputs that are one file). Every failure is an
/// <see cref="ArgumentException"/> whose message is one line "OPTION PATH: why" (the program prints it after
/// "wordlm: " with exit code 2).
/// </summary>
public sealed partial class PathChecks
{
    // Linux's NAME_MAX and PATH_MAX. An atomic save writes NAME.tmp-PID beside NAME first, so a name must leave
    // room for that suffix (".tmp-" and up to 10 digits), or the save would fail after the training.
    private const int MaxNameBytes = 255, MaxPathBytes = 4095, TempSuffixBytes = 15;

    private readonly List<Entry> _inputs = [];
    private readonly List<Entry> _outputs = [];

    // A file named on the command line: the option that named it and the value given (for messages), the file
    // itself (the value, or a file derived from it such as VALUE.state), what a derived file is, and an input it may
    // be written over (the training state a resumed run continues).
    private sealed record Entry(string Option, string Shown, string Path, string? Role, string? MayReplace);

    /// <summary>A file the command reads (ignored when <paramref name="path"/> is null).</summary>
    public PathChecks Input(string option, string? path)
    {
        if (path is not null) _inputs.Add(new Entry(option, path, path, null, null));
        return this;
    }

    /// <summary>A file the command writes (ignored when <paramref name="path"/> is null).</summary>
    public PathChecks Output(string option, string? path)
    {
        if (path is not null) _outputs.Add(new Entry(option, path, path, null, null));
        return this;
    }

    /// <summary>
    /// A file the command writes beside an option's value: <paramref name="path"/> derived from
    /// <paramref name="shown"/> (the value as given), <paramref name="role"/> saying what it is ("its training
    /// state"), and <paramref name="mayReplace"/> an input it may overwrite (the <c>--resume</c> state it continues).
    /// </summary>
    public PathChecks Derived(string option, string shown, string path, string role, string? mayReplace = null)
    {
        _outputs.Add(new Entry(option, shown, path, role, mayReplace));
        return this;
    }

    /// <summary>
    /// The files of a training command: the corpus files (or those found by <c>--data</c>) and <c>--resume</c> in;
    /// each model file of <paramref name="saves"/> and the training state beside it, <c>--plot</c> and
    /// <c>--metrics-json</c> out.
    /// </summary>
    /// <param name="o">The options.</param>
    /// <param name="saves">The model files the run writes (compare: one per head), each as (the --save value, the file).</param>
    public static PathChecks ForTraining(TrainOptions o, IEnumerable<(string Shown, string Path)> saves)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(saves);
        var checks = new PathChecks();
        foreach (var (option, path) in DataSource.InputFiles(o)) checks.Input(option, path);
        checks.Input("--resume", o.Training.Resume);
        checks.Input("--init", o.Training.Init); // read before the first save, but kept: fine-tune into a new file
        foreach (var (shown, path) in saves)
        {
            if (shown == path) checks.Output("--save", path);
            else checks.Derived("--save", shown, path, $"the model file {path}");
            string state = TrainingState.PathFor(path);
            checks.Derived("--save", shown, state, $"its training state {state}", mayReplace: o.Training.Resume);
        }
        return checks.Output("--plot", o.Plot).Output("--metrics-json", o.MetricsJson);
    }

    /// <summary>Runs every check; nothing is written except a probe file, created and deleted in each output folder.</summary>
    /// <exception cref="ArgumentException">A file fails a check; the message names the option and the file.</exception>
    public void Verify()
    {
        foreach (var input in _inputs) CheckInput(input);
        foreach (var output in _outputs) CheckOutput(output);
        for (int i = 0; i < _outputs.Count; i++)
        {
            var output = _outputs[i];
            foreach (var input in _inputs)
            {
                if (SameFile(output.Path, input.Path) && !(output.MayReplace is string keep && SameFile(keep, input.Path)))
                    throw Fail(output, $"is also the {input.Option} input {input.Path}; writing would destroy it");
            }
            for (int j = 0; j < i; j++)
            {
                if (SameFile(output.Path, _outputs[j].Path))
                    throw Fail(output, $"is also the {_outputs[j].Option} output {_outputs[j].Shown}{Described(_outputs[j])}; one would overwrite the other");
            }
        }
    }

    // The reason of a failed open, without repeating the path the message already names.
    private static string Why(Exception x) => x is UnauthorizedAccessException ? "permission denied" : Program.OneLine(x.Message);

    private static string Described(Entry e) => e.Role is null ? "" : $" ({e.Role})";

    private static ArgumentException Fail(Entry e, string why) =>
        new($"{e.Option} {e.Shown}{Described(e)}: {why}");

    private static void CheckInput(Entry e)
    {
        string full = FullPath(e);
        if (Directory.Exists(full)) throw Fail(e, "is a directory, not a file");
        if (!File.Exists(full)) throw Fail(e, "file not found");
        try
        {
            using var _ = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (Exception x) when (x is UnauthorizedAccessException or IOException)
        {
            throw Fail(e, $"cannot be read ({Why(x)})");
        }
    }

    private static void CheckOutput(Entry e)
    {
        string full = FullPath(e);
        string name = Path.GetFileName(full);
        // compare's --save DIR would write DIR.softmax beside the folder: surely not what a folder was given for.
        if (name.Length == 0 || Directory.Exists(full) || Directory.Exists(e.Shown)) throw Fail(e, "is a directory; give a file name");
        int nameBytes = Encoding.UTF8.GetByteCount(name);
        if (nameBytes + TempSuffixBytes > MaxNameBytes)
            throw Fail(e, $"the file name is {nameBytes} bytes long; names may have at most {MaxNameBytes - TempSuffixBytes} (the file system's {MaxNameBytes} less room for a temporary file)");
        if (Encoding.UTF8.GetByteCount(full) + TempSuffixBytes > MaxPathBytes)
            throw Fail(e, $"the path is longer than the {MaxPathBytes - TempSuffixBytes} bytes this program allows");
        if (File.Exists(full))
        {
            // A device or a pipe is not ours to replace: an atomic save would rename a regular file over it.
            if (KindOf(full) is string kind) throw Fail(e, $"is {kind}, not a regular file");
            try
            {
                using var _ = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite); // opens without truncating
            }
            catch (Exception x) when (x is UnauthorizedAccessException or IOException)
            {
                throw Fail(e, $"cannot be written ({Why(x)})");
            }
        }
        string folder = Path.GetDirectoryName(full) ?? full;
        if (!Directory.Exists(folder)) throw Fail(e, $"the folder {folder} does not exist");
        // Permissions alone do not tell (root ignores them, a read-only mount does not show in them): try it.
        string probe = Path.Combine(folder, $".wordlm-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using var _ = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception x) when (x is UnauthorizedAccessException or IOException)
        {
            throw Fail(e, $"the folder {folder} is not writable ({Why(x)})");
        }
    }

    private static string FullPath(Entry e)
    {
        try
        {
            return Path.GetFullPath(e.Path);
        }
        catch (Exception x) when (x is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw Fail(e, $"not a valid path ({Program.OneLine(x.Message)})");
        }
    }

    /// <summary>
    /// Whether two paths name one file: the same full path, the same target through symbolic links, or (on Linux,
    /// where both exist) the same inode, which also catches hard links.
    /// </summary>
    public static bool SameFile(string a, string b)
    {
        string fa = Resolved(a), fb = Resolved(b);
        if (string.Equals(fa, fb, StringComparison.Ordinal)) return true;
        return Identity(fa) is { } ia && Identity(fb) is { } ib && ia == ib;
    }

    private static string Resolved(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return File.Exists(full) && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target ? target.FullName : full;
        }
        catch (IOException)
        {
            return full; // a link loop: the file check reports it when the file is used
        }
    }

    // statx(2) has one layout on every Linux architecture (stat(2) does not): stx_mode is the u16 at byte 28,
    // stx_ino the u64 at 32, stx_dev_major/minor the u32s at 136 and 140.
    private const int AtFdCwd = -100, StatxBasicStats = 0x7ff, StatxSize = 256;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    // The stat of a path (symbolic links followed), or null where statx is unavailable or fails.
    private static unsafe byte[]? Stat(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var buffer = new byte[StatxSize];
        try
        {
            fixed (byte* p = buffer)
                return Statx(AtFdCwd, path, 0, StatxBasicStats, p) == 0 ? buffer : null;
        }
        catch (Exception x) when (x is EntryPointNotFoundException or DllNotFoundException)
        {
            return null; // an old C library: fall back to the path comparison and skip the file-type check
        }
    }

    private static (ulong Device, ulong Inode)? Identity(string path)
    {
        if (!File.Exists(path) || Stat(path) is not byte[] s) return null;
        ulong device = ((ulong)BitConverter.ToUInt32(s, 136) << 32) | BitConverter.ToUInt32(s, 140);
        return (device, BitConverter.ToUInt64(s, 32));
    }

    // What an existing non-directory is when it is not a regular file ("a character device", ...); null otherwise.
    private static string? KindOf(string path)
    {
        if (Stat(path) is not byte[] s) return null;
        return (BitConverter.ToUInt16(s, 28) & 0xF000) switch
        {
            0x8000 => null,
            0x2000 => "a character device",
            0x6000 => "a block device",
            0x1000 => "a named pipe",
            0xC000 => "a socket",
            _ => "a special file",
        };
    }
}
