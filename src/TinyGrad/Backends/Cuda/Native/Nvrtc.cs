using System.Runtime.InteropServices;

namespace TinyGrad.Backends.Cuda.Native;

// NVRTC, the runtime compiler (libnvrtc.so.13/.12, which loads libnvrtc-builtins of the same release). It needs
// no GPU and no driver: source in, PTX or cubin out.
internal static unsafe class Nvrtc
{
    public const string Library = "tinygrad-nvrtc";

    [DllImport(Library)] public static extern int nvrtcVersion(out int major, out int minor);
    [DllImport(Library)] public static extern int nvrtcGetNumSupportedArchs(out int count);
    [DllImport(Library)] public static extern int nvrtcGetSupportedArchs(int* archs);
    [DllImport(Library)]
    public static extern int nvrtcCreateProgram(out IntPtr program, byte* source, byte* name, int headerCount, byte** headers, byte** includeNames);
    [DllImport(Library)] public static extern int nvrtcCompileProgram(IntPtr program, int optionCount, byte** options);
    [DllImport(Library)] public static extern int nvrtcGetProgramLogSize(IntPtr program, out nuint size);
    [DllImport(Library)] public static extern int nvrtcGetProgramLog(IntPtr program, byte* log);
    [DllImport(Library)] public static extern int nvrtcGetPTXSize(IntPtr program, out nuint size);
    [DllImport(Library)] public static extern int nvrtcGetPTX(IntPtr program, byte* ptx);
    [DllImport(Library)] public static extern int nvrtcGetCUBINSize(IntPtr program, out nuint size);
    [DllImport(Library)] public static extern int nvrtcGetCUBIN(IntPtr program, byte* cubin);
    [DllImport(Library)] public static extern int nvrtcDestroyProgram(ref IntPtr program);
    [DllImport(Library)] public static extern IntPtr nvrtcGetErrorString(int result);

    /// <summary>Throws unless <paramref name="status"/> is NVRTC_SUCCESS (0).</summary>
    public static void Check(int status, string call)
    {
        if (status == 0) return;
        string text = Marshal.PtrToStringAnsi(nvrtcGetErrorString(status)) ?? "unknown";
        throw new CudaException($"nvrtc: {call} failed with {text} ({status})", status);
    }
}
