using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyGrad.Backends.Cpu;

/// <summary>The micro-kernels of one instruction set, with their tile sizes.</summary>
internal unsafe struct GemmKernelTable
{
    /// <summary>Rows per register tile (the packed-A stride).</summary>
    public int MR;
    /// <summary>Columns per register tile (two vectors; the packed-B sliver width).</summary>
    public int NR;
    /// <summary>Whether packing may use SIMD transposes (false for the portable path, which also tests scalar packing).</summary>
    public bool SimdPacking;
    /// <summary>Whether <see cref="GemmDotKernel"/> goes with this kernel set (small M with Bᵀ).</summary>
    public bool HasDotKernel;
    /// <summary>
    /// Kernels indexed by <c>(rows - 1) * 6 + variant + (prefetchB ? 3 : 0)</c>; variant 0 is NR wide,
    /// 1 is NR/2, 2 is NR/4 (may be null).
    /// </summary>
    public delegate*<int, float*, float*, nint, float*, nint, float, float, void>[] Kernels;

    /// <summary>
    /// The narrowest kernel that covers <paramref name="cols"/> (≤ NR) columns of a <paramref name="rows"/>-row
    /// tile; <paramref name="width"/> receives the number of columns it writes. <paramref name="prefetchB"/>
    /// selects the variant that prefetches B rows ahead (for B read in place).
    /// </summary>
    public readonly delegate*<int, float*, float*, nint, float*, nint, float, float, void> Get(int rows, int cols, bool prefetchB, out int width)
    {
        int i = (rows - 1) * 6 + (prefetchB ? 3 : 0);
        if (cols <= NR / 4 && Kernels[i + 2] != null) { width = NR / 4; return Kernels[i + 2]; }
        if (cols <= NR / 2) { width = NR / 2; return Kernels[i + 1]; }
        width = NR;
        return Kernels[i];
    }

    // (Spreading function-pointer arrays in a collection expression would need a List of pointers, which
    // the runtime cannot instantiate; hence this helper.)
    private static delegate*<int, float*, float*, nint, float*, nint, float, float, void>[] Concat(
        delegate*<int, float*, float*, nint, float*, nint, float, float, void>[][] rows)
    {
        var all = new delegate*<int, float*, float*, nint, float*, nint, float, float, void>[rows.Length * rows[0].Length];
        for (int r = 0; r < rows.Length; r++)
        {
            for (int i = 0; i < rows[r].Length; i++) all[r * rows[0].Length + i] = rows[r][i];
        }
        return all;
    }

    // Per row count: [full, half, quarter] without B prefetch, then the same with it (see PrefetchRowsAhead).
    private static delegate*<int, float*, float*, nint, float*, nint, float, float, void>[] Avx512Row<TR>()
        where TR : struct, IConstant =>
    [
        &GemmMicroKernel.Avx512<TR, N2, N0>, &GemmMicroKernel.Avx512<TR, N1, N0>, &GemmMicroKernel.Avx512Narrow<TR, N0>,
        &GemmMicroKernel.Avx512<TR, N2, N1>, &GemmMicroKernel.Avx512<TR, N1, N1>, &GemmMicroKernel.Avx512Narrow<TR, N1>,
    ];

    private static delegate*<int, float*, float*, nint, float*, nint, float, float, void>[] Avx2Row<TR>()
        where TR : struct, IConstant =>
    [
        &GemmMicroKernel.Avx2<TR, N2, N0>, &GemmMicroKernel.Avx2<TR, N1, N0>, null,
        &GemmMicroKernel.Avx2<TR, N2, N1>, &GemmMicroKernel.Avx2<TR, N1, N1>, null,
    ];

    private static delegate*<int, float*, float*, nint, float*, nint, float, float, void>[] PortableRow<TR>()
        where TR : struct, IConstant =>
    [
        &GemmMicroKernel.Portable<TR, N2>, &GemmMicroKernel.Portable<TR, N1>, null,
        &GemmMicroKernel.Portable<TR, N2>, &GemmMicroKernel.Portable<TR, N1>, null,
    ];

    internal static readonly GemmKernelTable Avx512Table = new()
    {
        MR = 12,
        NR = 32,
        SimdPacking = true,
        HasDotKernel = GemmDotKernel.IsSupported,
        Kernels = Concat(
        [
            Avx512Row<N1>(), Avx512Row<N2>(), Avx512Row<N3>(), Avx512Row<N4>(), Avx512Row<N5>(), Avx512Row<N6>(),
            Avx512Row<N7>(), Avx512Row<N8>(), Avx512Row<N9>(), Avx512Row<N10>(), Avx512Row<N11>(), Avx512Row<N12>(),
        ]),
    };

    internal static readonly GemmKernelTable Avx2Table = new()
    {
        MR = 6,
        NR = 16,
        SimdPacking = true,
        Kernels = Concat([Avx2Row<N1>(), Avx2Row<N2>(), Avx2Row<N3>(), Avx2Row<N4>(), Avx2Row<N5>(), Avx2Row<N6>()]),
    };

    internal static readonly GemmKernelTable PortableTable = new()
    {
        MR = 4,
        NR = 2 * Vector<float>.Count,
        SimdPacking = false,
        Kernels = Concat([PortableRow<N1>(), PortableRow<N2>(), PortableRow<N3>(), PortableRow<N4>()]),
    };

    /// <summary>Whether <paramref name="kind"/> can run on this CPU.</summary>
    internal static bool IsSupported(GemmKernelKind kind) => kind switch
    {
        GemmKernelKind.Avx512 => Vector512.IsHardwareAccelerated && Avx512F.IsSupported,
        GemmKernelKind.Avx2 => Vector256.IsHardwareAccelerated && Avx.IsSupported && Fma.IsSupported,
        _ => true,
    };

    /// <summary>The table for <paramref name="kind"/>; <see cref="GemmKernelKind.Auto"/> picks the best supported one.</summary>
    internal static GemmKernelTable For(GemmKernelKind kind)
    {
        if (kind == GemmKernelKind.Auto)
        {
            kind = IsSupported(GemmKernelKind.Avx512) ? GemmKernelKind.Avx512
                : IsSupported(GemmKernelKind.Avx2) ? GemmKernelKind.Avx2 : GemmKernelKind.Portable;
        }
        if (!IsSupported(kind)) throw new PlatformNotSupportedException($"GEMM kernel {kind} is not supported on this CPU.");
        return kind switch
        {
            GemmKernelKind.Avx512 => Avx512Table,
            GemmKernelKind.Avx2 => Avx2Table,
            _ => PortableTable,
        };
    }
}
