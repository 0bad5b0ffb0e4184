"""The environment Debian's torch needs for a fair CPU benchmark; used by torch_lm.py and torch_lstm.py.

Two traps, both about the OpenBLAS that Debian's torch links (../shared/FIELD-NOTES.md, docs/benchmarks.md):
- Threads: the default pthread build keeps its own thread pool, which torch.set_num_threads does not control; at
  2 threads the two pools fight. With libopenblas0-openmp installed, its folder goes first on LD_LIBRARY_PATH.
- Kernels: OpenBLAS picks its kernels from the CPU model at load time (DYNAMIC_ARCH), and Debian 12's 0.3.21 does
  not know CPUs newer than itself: on an Intel Xeon of family 6, model 207 (Emerald Rapids) it falls back to its
  Prescott kernels (SSE3), and PyTorch trains 3 to 4 times slower than it should. When OpenBLAS reports Prescott on
  a CPU with AVX-512 (or AVX2 and FMA), OPENBLAS_CORETYPE names the kernels it should use instead: SkylakeX
  (Haswell). A CPU that OpenBLAS does know (the AMD Zen 4 machines: "Zen") is left alone.
Both must be in place before the library loads, so the script re-executes itself once with them.
"""
import ctypes
import os
import sys

OPENMP_BLAS = "/usr/lib/x86_64-linux-gnu/openblas-openmp"


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _core_name(library_dirs):
    """The kernel set OpenBLAS chooses on this CPU by itself, or None when it cannot be asked."""
    for d in library_dirs + [""]:
        try:
            lib = ctypes.CDLL(os.path.join(d, "libopenblas.so.0") if d else "libopenblas.so.0")
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return lib.openblas_get_corename().decode()
        except (OSError, AttributeError):
            continue
    return None


def core_type_override(library_dirs):
    """The OPENBLAS_CORETYPE this CPU needs, or None when OpenBLAS's own choice is right."""
    if _core_name(library_dirs) != "Prescott":
        return None
    flags = _cpu_flags()
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def reexec_for_openblas(threads):
    """Re-runs this script once with the OpenMP OpenBLAS first on the library path, its thread count set, and the
    kernel set named where OpenBLAS would fall back to Prescott; returns when nothing needs to change."""
    env = dict(os.environ)
    paths = [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    changed = False
    if os.path.isdir(OPENMP_BLAS) and OPENMP_BLAS not in paths:
        paths = [OPENMP_BLAS] + paths
        env["LD_LIBRARY_PATH"] = ":".join(paths)
        env["OMP_NUM_THREADS"] = str(threads)
        env["OPENBLAS_NUM_THREADS"] = str(threads)
        changed = True
    if "OPENBLAS_CORETYPE" not in env:
        core = core_type_override(paths)
        if core is not None:
            print(f"{os.path.basename(sys.argv[0])}: OpenBLAS does not know this CPU and would run its Prescott (SSE3) "
                  f"kernels; running with OPENBLAS_CORETYPE={core}", file=sys.stderr)
            env["OPENBLAS_CORETYPE"] = core
            changed = True
    if changed:
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
