#!/usr/bin/env bash
# Builds, on a machine with .NET, the folder that checks the CUDA backend on a GPU machine without .NET, and prints
# the one command to run there with what a pass looks like. Everything is self-contained for linux-x64.
#
# The device tool carries at most 64 MiB per call (working tree included, ~2 MB), so the tests and the benchmarks
# are two folders, carried in two calls:
#
#   scripts/gpu-check.sh              -> gpu-check/  the GPU test runner (tests/TinyGrad.GpuCheck), trimmed
#   scripts/gpu-check.sh --untrimmed  -> gpu-check/  the same runner untrimmed (if trimming is ever suspected)
#   scripts/gpu-check.sh --bench      -> gpu-bench/  bench/TinyGrad.Bench and the PyTorch peers (torch_lm.py ...)
#
# Sizes measured with `du -sh` (2026-12-06, .NET SDK 10.0.401):
#   before this layout: tests 54M + bench 53M in one folder = 107M (over the limit)
#   gpu-check/ trimmed    20M   (partial trimming: only the framework is trimmed; the test assemblies stay whole)
#   gpu-check/ untrimmed  43M   (without SkiaSharp's natives, which no GPU test uses: 11.5 MB less than before)
#   gpu-bench/ untrimmed  44M   (without BenchmarkDotNet's disassembler natives; trimmed it would be 30M with them,
#                               and `lm --device cpu` ran, but the benchmarks stay untrimmed: BenchmarkDotNet reflects)
# The trimmed runner is checked here before it is offered: it runs the CPU twins of the GPU test classes (the same
# test bodies on the CPU, --cpu-twins) and must pass them all, then counts the GPU tests (--without-gpu, they skip).
# All publishes use invariant globalization: GPU images often lack libicu, and no test depends on a culture.
#
# On the GPU machine, libcublas and libnvrtc are found in TINYGRAD_CUDA_PATH, the loader's path, Python's
# site-packages (nvidia/*/lib, including CUDA 13's nvidia/cu13/lib; prefixes from VIRTUAL_ENV, CONDA_PREFIX and every
# PATH entry ending in /bin) or /usr/local/cuda; a version the driver cannot run gives way to the next one found.
#
# Usage: scripts/gpu-check.sh [--bench | --untrimmed] [output folder]
set -euo pipefail
cd "$(dirname "$0")/.."
mode=tests trim=true
case "${1:-}" in
  --bench) mode=bench; shift ;;
  --untrimmed) trim=false; shift ;;
esac
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "$mode" = bench ]; then
  out="${1:-gpu-bench}"
  rm -rf "$out"
  dotnet publish bench/TinyGrad.Bench -c Release -r linux-x64 --self-contained -o "$out" \
    -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:InvariantGlobalization=true \
    -p:DebugType=none -p:GenerateDocumentationFile=false
  # BenchmarkDotNet's disassembler and Windows ETW natives (8.6 MB): no verb run on the GPU machine uses them.
  rm -rf "$out/libcapstone.so" "$out/amd64"
  cp bench/torch_lm.py bench/torch_lstm.py bench/openblas_env.py "$out/"
  du -sh "$out" | sed 's/^/published: /'
  cat <<EOF
carry: $out   (one call; the tests folder is carried separately)
run on the GPU machine, from the repository root:
  $out/TinyGrad.Bench lm --device cuda [--head sigsoftmax|mos] [--emsize 650 --nhid 650]
  python3 $out/torch_lm.py --device cuda [same options]      # the PyTorch CUDA peer, same model and step
EOF
  exit 0
fi

out="${1:-gpu-check}"
rm -rf "$out"
dotnet publish tests/TinyGrad.GpuCheck -c Release -o "$out" -p:GpuCheckPublish=true -p:GpuCheckTrim=$trim
du -sh "$out" | sed 's/^/published: /'

# Check the published runner here: the CPU twins must all pass, and the GPU tests are counted (they skip here).
twins=$("$out/TinyGrad.GpuCheck" --cpu-twins | tail -1)
echo "here, CPU twins: $twins"
case "$twins" in *" 0 failed, 0 skipped") ;; *) echo "the published runner fails its CPU twins; not fit to carry" >&2; exit 1 ;; esac
counts=$("$out/TinyGrad.GpuCheck" --without-gpu | tail -1)
total=$(echo "$counts" | awk '{print $1 + $3 + $5}')
# On a GPU every test runs except the one that checks the no-GPU message.
cat <<EOF
here, GPU tests without a GPU: $counts
carry: $out   (one call)
run on the GPU machine, from the repository root (one command; exit 0 = pass, 1 = a test failed, 2 = no GPU):
  timeout 480 $out/TinyGrad.GpuCheck; echo "exit \$?"
a pass looks like:
  cuda: NVIDIA H100 80GB HBM3, sm_90, driver 12.x, kernels for sm_90, TF32 off, libraries: Driver=..., Blas=..., Nvrtc=...
  $((total - 1)) passed, 0 failed, 1 skipped
  exit 0
(a FAIL line per failing test comes before the count; look at the first one first: a kernel fault poisons the process.
 Without a usable GPU the only line is "cuda: CUDA is not available: ..." and the exit code is 2.)
EOF
