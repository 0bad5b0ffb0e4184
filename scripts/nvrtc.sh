#!/usr/bin/env bash
# Fetches NVRTC from Debian's non-free section (libnvrtc11.2, which is NVRTC 11.8, and its builtins) into a private
# folder, without touching the system's apt sources, and prints the folder that holds the libraries, for
# TINYGRAD_CUDA_PATH. No GPU is needed: with it the test suite compiles every CUDA kernel file to PTX and to a cubin
# for sm_90 (NvrtcCompileTests), so a kernel that does not compile fails here, not on a lent GPU.
# Best effort: when apt-get, dpkg or the mirror is unavailable it prints nothing and exits 1.
# Usage: scripts/nvrtc.sh [folder]   (default ~/.cache/tinygrad/nvrtc; a second call reuses what the first fetched)
set -euo pipefail
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/tinygrad/nvrtc}
lib="$dir/root/usr/lib/x86_64-linux-gnu"
if [ -e "$lib/libnvrtc.so.11.2" ]; then echo "$lib"; exit 0; fi
command -v apt-get >/dev/null && command -v dpkg >/dev/null || exit 1
[ "$(uname -m)" = x86_64 ] || exit 1
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
echo "deb http://deb.debian.org/debian bookworm main non-free" > "$dir/sources.list"
apt=(-o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$dir/lists"
     -o Dir::Cache="$dir/cache" -o Debug::NoLocking=1)
timeout 120 apt-get "${apt[@]}" update >/dev/null 2>&1 || exit 1
(cd "$dir" && timeout 120 apt-get "${apt[@]}" download libnvrtc11.2 libnvrtc-builtins11.8 >/dev/null 2>&1) || exit 1
for deb in "$dir"/*.deb; do dpkg -x "$deb" "$dir/root"; done
[ -e "$lib/libnvrtc.so.11.2" ] || exit 1
echo "$lib"
