#!/usr/bin/env bash
# Builds a folder that checks the CUDA backend on a GPU machine that has no .NET: the GPU tests (a self-contained
# runner, tests/TinyGrad.GpuCheck) and the benchmarks (bench/TinyGrad.Bench), both published self-contained for
# linux-x64. Run it here, copy the folder over, then on the GPU machine (libcublas and libnvrtc under Python's
# site-packages nvidia/*/lib are found automatically; TINYGRAD_CUDA_PATH=/dir overrides):
#
#   ./gpu-check/tests/TinyGrad.GpuCheck              # every *Cuda test class, CPU-vs-GPU parity, NVRTC; exit 0 = pass
#   ./gpu-check/tests/TinyGrad.GpuCheck CudaParity   # only tests whose name contains the argument
#   ./gpu-check/bench/TinyGrad.Bench lm --device cuda [--head mos] [--emsize 650 --nhid 650]   # training tokens/s
#   python3 gpu-check/torch_lm.py --device cuda [same options]      # the PyTorch CUDA peer, same model and step
#
# Usage: scripts/gpu-check.sh [output folder, default ./gpu-check]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu-check}"
rm -rf "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet publish tests/TinyGrad.GpuCheck -c Release -o "$out/tests" -p:GpuCheckPublish=true
dotnet publish bench/TinyGrad.Bench -c Release -r linux-x64 --self-contained -o "$out/bench" -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true
cp bench/torch_lm.py bench/torch_lstm.py "$out/" 
du -sh "$out"/* | sed 's/^/published: /'
echo "run on the GPU machine: $out/tests/TinyGrad.GpuCheck"
