#!/usr/bin/env bash
# The Brown result set (issue 16): the four heads, and softmax/sigsoftmax as the bottleneck tightens (d = nhidlast =
# emsize, tied). Each configuration is one `train` run (resumable: rerunning the script continues an interrupted run
# from its state with --resume), then `rank` over 2,000 test contexts, then `eval --dynamic`; its summary lands in
# docs/results/brown/<name>.json. Finished configurations are skipped, so the script can be rerun across sessions.
#
# Usage: scripts/brown.sh [sweep|heads|all|mixtures|seeds|mixture-seeds|recheck]
#   (in the background: nohup scripts/brown.sh all > brown.log 2>&1 &)
# `all` is the result set (sweep + heads, seed 1); `seeds` adds softmax and sigsoftmax at d = 16 and 32 with seeds 2
# and 3, to show how far one seed moves a row; `mixtures` adds MoS and MoSS (K = 4) at d = 16, where the bottleneck
# binds most, to the sweep; `mixture-seeds` repeats those two with seed 2. `recheck` reruns the dynamic evaluation of
# every finished configuration whose checkpoint is still in $RUNS, fails unless the perplexity is the committed one
# to the last digit, and records the time it took now (for a faster build of the same arithmetic) when it ran on the
# row's CPU.
# Env: BROWN_DATA (default ../shared/data/brown), RUNS (checkpoints, default ../runs/brown), WORDLM (a published
# WordLM, default: `dotnet run` of examples/WordLM), EPOCHS (default 6).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${BROWN_DATA:-../shared/data/brown}
runs=${RUNS:-../runs/brown}
epochs=${EPOCHS:-6}
out=docs/results/brown
mkdir -p "$runs" "$out"
if [ -n "${WORDLM:-}" ]; then wordlm=(dotnet "$WORDLM"); else wordlm=(dotnet run -c Release --project examples/WordLM --); fi
[ -d "$data" ] || { echo "brown.sh: $data is missing (the Brown corpus, ../shared/data/brown)"; exit 1; }

# The CPU a row's minutes are measured on ("Intel(R) Xeon(R) Processor, family 6 model 207"): minutes differ between
# machine kinds, perplexities do not (path for path), so a row records it and recheck re-times only on the same CPU.
cpu=$(python3 - <<'PY'
v = {}
for line in open("/proc/cpuinfo"):
    key, _, value = line.partition(":")
    v.setdefault(key.strip(), value.strip())
print(f"{v.get('model name', 'unknown')}, family {v.get('cpu family', '?')} model {v.get('model', '?')}")
PY
)

# name head d seed [extra train options...]
run() {
  local name=$1 head=$2 d=$3 seed=$4; shift 4
  local model="$runs/$name.safetensors" summary="$out/$name.json"
  if [ -f "$summary" ]; then echo "== $name: done ($summary)"; return; fi
  echo "== $name: train ($(date -u +%H:%M:%S))"
  local resume=() before=0
  if [ -f "$model.state" ]; then
    resume=(--resume "$model.state")
    # The training seconds the interrupted run already spent up to its last checkpoint (the trainer keeps them in the
    # state's "sums"), so a resumed row reports the whole training time, not only this session's part.
    before=$(python3 -c 'import json, struct, sys
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
print(int(json.loads(json.loads(f.read(n))["__metadata__"]["sums"])[2]))' "$model.state")
  fi
  local t0=$((SECONDS - before))
  "${wordlm[@]}" train --data "$data" --head "$head" --emsize "$d" --nhidlast "$d" --nhid 128 --nlayers 2 \
    --epochs "$epochs" --batch-size 32 --bptt 35 --log-interval 500 --seed "$seed" --save "$model" \
    --metrics-json "$runs/$name.train.json" "${resume[@]}" "$@"
  local train_s=$((SECONDS - t0)); t0=$SECONDS
  echo "== $name: rank"
  "${wordlm[@]}" rank --checkpoint "$model" --data "$data" --contexts 2000 --metrics-json "$runs/$name.rank.json"
  local rank_s=$((SECONDS - t0)); t0=$SECONDS
  echo "== $name: dynamic evaluation"
  "${wordlm[@]}" eval --checkpoint "$model" --data "$data" --dynamic --dynamic-max-batches 1000 --metrics-json "$runs/$name.dynamic.json"
  local dyn_s=$((SECONDS - t0))
  python3 - "$runs/$name" "$summary" "$cpu" "$train_s" "$rank_s" "$dyn_s" <<'PY'
import json, sys
base, summary, cpu, train_s, rank_s, dyn_s = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
train = json.load(open(base + ".train.json"))
rank = json.load(open(base + ".rank.json"))
dyn = json.load(open(base + ".dynamic.json"))
row = {"head": train["head"], "d": train["config"]["nhidlast"], "parameters": train["parameters"],
       "valid_ppl": train["valid_ppl"], "test_ppl": train["test_ppl"], "test_ppl_dynamic": dyn["ppl"],
       "rank": rank["rank"], "rank_bound": rank["bound"], "rank_contexts": rank["contexts"],
       "valid_ppl_by_epoch": train["valid_ppl_by_epoch"],
       "wall_seconds": {"train": train_s, "rank": rank_s, "dynamic_eval": dyn_s},
       "dynamic": {k: dyn[k] for k in ("dynamic_lr", "dynamic_lambda", "dynamic_bptt")},
       "config": train["config"], "cpu": cpu}
json.dump(row, open(summary, "w"), indent=1)
print(f"{row['head']} d={row['d']}: test ppl {row['test_ppl']:.2f}, dynamic {row['test_ppl_dynamic']:.2f}, rank {row['rank']} (bound {row['rank_bound']})")
PY
}

# name: rerun `eval --dynamic` on the checkpoint and compare with the summary.
recheck() {
  local name=$1 model="$runs/$1.safetensors" summary="$out/$1.json"
  if [ ! -f "$model" ]; then echo "== $name: no checkpoint in $runs, skipped"; return; fi
  echo "== $name: dynamic evaluation again ($(date -u +%H:%M:%S))"
  local t0=$SECONDS
  "${wordlm[@]}" eval --checkpoint "$model" --data "$data" --dynamic --dynamic-max-batches 1000 --metrics-json "$runs/$name.recheck.json"
  python3 - "$summary" "$runs/$name.recheck.json" "$((SECONDS - t0))" "$cpu" <<'PY'
import json, sys
summary, again, seconds, cpu = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3]), sys.argv[4]
row = json.load(open(summary))
if again["ppl"] != row["test_ppl_dynamic"]:
    sys.exit(f"{summary}: dynamic ppl {again['ppl']!r} now, {row['test_ppl_dynamic']!r} committed")
print(f"{summary}: dynamic ppl {again['ppl']:.2f} unchanged; {row['wall_seconds']['dynamic_eval']} s then, {seconds} s now")
# Minutes are replaced only on the row's own CPU; a row without one (made before rows named it, on the AMD Zen 4
# machines, whose exact name was not kept) keeps its minutes.
if row.get("cpu") == cpu:
    row["wall_seconds"]["dynamic_eval"] = seconds
    json.dump(row, open(summary, "w"), indent=1)
else:
    print(f"  (timed on {cpu}, the row on {row.get('cpu', 'a Zen 4 machine')}: its minutes are kept)")
PY
}

what=${1:-all}
if [ "$what" = recheck ]; then
  for summary in "$out"/*.json; do recheck "$(basename "$summary" .json)"; done
  exit 0
fi
if [ "$what" = sweep ] || [ "$what" = all ]; then
  for d in 16 32 64 128; do
    for head in softmax sigsoftmax; do run "sweep-d$d-$head" "$head" "$d" 1; done
  done
fi
if [ "$what" = heads ] || [ "$what" = all ]; then
  # softmax and sigsoftmax at d = 32 are the sweep's rows; the mixtures add K = 4 experts at the same d.
  for head in mos moss; do run "heads-d32-$head" "$head" 32 1 --experts 4; done
fi
if [ "$what" = mixtures ]; then
  for head in mos moss; do run "sweep-d16-$head" "$head" 16 1 --experts 4; done
fi
if [ "$what" = mixture-seeds ]; then
  # MoS against MoSS at d = 16 with a second seed: is the paper's MoSS <= MoS more than one seed's luck there?
  for head in mos moss; do run "seed2-d16-$head" "$head" 16 2 --experts 4; done
fi
if [ "$what" = seeds ]; then
  for seed in 2 3; do
    for d in 16 32; do
      for head in softmax sigsoftmax; do run "seed$seed-d$d-$head" "$head" "$d" "$seed"; done
    done
  done
fi
