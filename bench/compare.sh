#!/usr/bin/env bash
# Training throughput, TinyGrad against PyTorch on the CPU, side by side in one run.
#
#   bench/compare.sh [--rounds N] [--threads "1 2"] [--quick]
#
# For each config (the issue's table: small softmax, small sigsoftmax, small MoS K=15, medium softmax) and
# each thread count, runs `bench -- lm` and bench/torch_lm.py alternately, N rounds each (3 by default), and
# prints a Markdown table of the median tokens/s of each, their ratio (TinyGrad / PyTorch, above 1 means
# TinyGrad is faster) and the peak resident memory of each process. Alternating matters: this machine kind is
# shared and noisy (FIELD-NOTES), so the two sides must see the same conditions.
#
# Needs Debian's python3-torch (/usr/bin/python3); for fair 2-thread PyTorch runs also libopenblas0-openmp
# (torch_lm.py puts it on the library path itself). --quick runs fewer steps, for a smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
threads_list="1 2"
quick=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads_list="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "compare.sh: unknown option '$1' (use --rounds N, --threads \"1 2\", --quick)" >&2; exit 2 ;;
  esac
done

python=/usr/bin/python3
if ! "$python" -c "import torch" 2>/dev/null; then
  echo "compare.sh: $python cannot import torch; install Debian's python3-torch (apt-get install python3-torch)" >&2
  exit 2
fi

if [[ ! -d /usr/lib/x86_64-linux-gnu/openblas-openmp ]]; then
  echo "compare.sh: warning: libopenblas0-openmp is not installed, so PyTorch keeps the pthread OpenBLAS, whose threads" \
       "torch.set_num_threads does not control (FIELD-NOTES); its figures are not comparable. apt-get install libopenblas0-openmp" >&2
fi

dotnet build -c Release bench/TinyGrad.Bench -v quiet -nologo >/dev/null
bench=(dotnet bench/TinyGrad.Bench/bin/Release/net10.0/TinyGrad.Bench.dll lm)

# name | model options | timed steps | warm-up steps
configs=(
  "small softmax|--head softmax --emsize 200 --nhid 200|20|3"
  "small sigsoftmax|--head sigsoftmax --emsize 200 --nhid 200|20|3"
  "small MoS K=15|--head mos --experts 15 --emsize 200 --nhid 200|5|2"
  "medium softmax|--head softmax --emsize 650 --nhid 650|10|2"
)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "| config | threads | TinyGrad tokens/s | PyTorch tokens/s | ratio | TinyGrad peak MB | PyTorch peak MB |"
echo "|---|---|---|---|---|---|---|"
for t in $threads_list; do
  for entry in "${configs[@]}"; do
    IFS='|' read -r name opts steps warmup <<<"$entry"
    if [[ $quick == 1 ]]; then steps=2; warmup=1; fi
    ours_tps=(); ours_mb=(); torch_tps=(); torch_mb=()
    for ((r = 0; r < rounds; r++)); do
      # shellcheck disable=SC2086
      line=$("${bench[@]}" $opts --vocab 10000 --batch-size 20 --bptt 35 --threads "$t" --steps "$steps" --warmup "$warmup")
      ours_tps+=("$(field tokens_per_second <<<"$line")"); ours_mb+=("$(field peak_mb <<<"$line")")
      # shellcheck disable=SC2086
      line=$("$python" bench/torch_lm.py $opts --vocab 10000 --batch-size 20 --bptt 35 --threads "$t" --steps "$steps" --warmup "$warmup")
      torch_tps+=("$(field tokens_per_second <<<"$line")"); torch_mb+=("$(field peak_mb <<<"$line")")
    done
    a=$(printf '%s\n' "${ours_tps[@]}" | median); b=$(printf '%s\n' "${torch_tps[@]}" | median)
    am=$(printf '%s\n' "${ours_mb[@]}" | median); bm=$(printf '%s\n' "${torch_mb[@]}" | median)
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
    printf '| %s | %s | %.0f | %.0f | %s | %.0f | %.0f |\n' "$name" "$t" "$a" "$b" "$ratio" "$am" "$bm"
  done
done
