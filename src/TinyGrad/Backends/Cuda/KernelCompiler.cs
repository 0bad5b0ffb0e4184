using System.Runtime.InteropServices;
using System.Text;
using TinyGrad.Backends.Cuda.Native;

namespace TinyGrad.Backends.Cuda;

/// <summary>
/// Compiles kernel sources with NVRTC. Needs only libnvrtc (no GPU, no driver), which is what lets the test suite
/// compile every kernel on a machine without a GPU when NVRTC is installed.
/// </summary>
internal static unsafe class KernelCompiler
{
    /// <summary>NVRTC's version as "major.minor" (part of the cache key: a new compiler makes new binaries).</summary>
    public static string Version()
    {
        Nvrtc.Check(Nvrtc.nvrtcVersion(out int major, out int minor), "nvrtcVersion");
        return $"{major}.{minor}";
    }

    /// <summary>The real architectures NVRTC can compile for (e.g. 50 … 90), or empty when it is too old to say.</summary>
    public static IReadOnlyList<int> SupportedArchitectures()
    {
        try
        {
            Nvrtc.Check(Nvrtc.nvrtcGetNumSupportedArchs(out int count), "nvrtcGetNumSupportedArchs");
            var archs = new int[count];
            fixed (int* p = archs) Nvrtc.Check(Nvrtc.nvrtcGetSupportedArchs(p), "nvrtcGetSupportedArchs");
            return archs;
        }
        catch (EntryPointNotFoundException)
        {
            return []; // NVRTC before 11.2
        }
    }

    /// <summary>The options every kernel is compiled with, for a target (pure FP32 math: no --use_fast_math).</summary>
    public static IReadOnlyList<string> Options(CompileTarget target) => [target.Option, "--std=c++14"];

    /// <summary>Compiles one source to a cubin or PTX; on a compile error throws with NVRTC's log.</summary>
    public static byte[] Compile(string source, string name, IReadOnlyList<string> options, bool cubin)
    {
        var sourceBytes = Utf8(source);
        var nameBytes = Utf8(name);
        var optionBytes = options.Select(Utf8).ToArray();
        var handles = optionBytes.Select(o => GCHandle.Alloc(o, GCHandleType.Pinned)).ToArray();
        IntPtr program = IntPtr.Zero;
        try
        {
            fixed (byte* src = sourceBytes, nm = nameBytes)
            {
                Nvrtc.Check(Nvrtc.nvrtcCreateProgram(out program, src, nm, 0, null, null), "nvrtcCreateProgram");
            }
            var pointers = stackalloc byte*[optionBytes.Length];
            for (int i = 0; i < optionBytes.Length; i++) pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
            int status = Nvrtc.nvrtcCompileProgram(program, optionBytes.Length, pointers);
            if (status != 0)
                throw new CudaException($"nvrtc: compiling {name} with {string.Join(' ', options)} failed:\n{Log(program)}", status);
            nuint size;
            byte[] image;
            if (cubin)
            {
                Nvrtc.Check(Nvrtc.nvrtcGetCUBINSize(program, out size), "nvrtcGetCUBINSize");
                image = new byte[(int)size];
                fixed (byte* p = image) Nvrtc.Check(Nvrtc.nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN");
            }
            else
            {
                Nvrtc.Check(Nvrtc.nvrtcGetPTXSize(program, out size), "nvrtcGetPTXSize"); // includes the terminating NUL
                image = new byte[(int)size];
                fixed (byte* p = image) Nvrtc.Check(Nvrtc.nvrtcGetPTX(program, p), "nvrtcGetPTX");
            }
            return image;
        }
        finally
        {
            foreach (var h in handles) h.Free();
            if (program != IntPtr.Zero) Nvrtc.nvrtcDestroyProgram(ref program);
        }
    }

    private static string Log(IntPtr program)
    {
        if (Nvrtc.nvrtcGetProgramLogSize(program, out nuint size) != 0 || size == 0) return "(no log)";
        var log = new byte[(int)size];
        fixed (byte* p = log) Nvrtc.nvrtcGetProgramLog(program, p);
        return Encoding.UTF8.GetString(log).TrimEnd('\0');
    }

    private static byte[] Utf8(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1]; // NUL-terminated
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
