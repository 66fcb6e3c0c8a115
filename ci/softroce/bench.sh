#!/usr/bin/env bash
# Verbs latency next to perftest in one Soft-RoCE VM boot: `remora bench
# fabric` (configs/softroce-2.toml) and ib_read_lat / ib_write_lat /
# ib_atomic_lat -A CMP_AND_SWAP, each with -F (TCG has no stable CPU
# frequency), loopback through rxe0. Prints the BENCH lines (p50 in us and
# the ratio remora/perftest) and appends them as JSON lines to
# bench/results/<UTC date>/verbs.jsonl.
# Usage: ci/softroce/bench.sh [--build DIR] [--iters N] [--repeat R]
#   (defaults: build, 5000 operations per run, 3 alternating runs per op)
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$REPO/build" iters=5000 repeat=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --iters) iters="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$iters" =~ ^[1-9][0-9]*$ && "$iters" -le 1000000 ]] || { echo "bench.sh: --iters 1..1000000" >&2; exit 2; }
[[ "$repeat" =~ ^[1-9][0-9]*$ && "$repeat" -le 20 ]] || { echo "bench.sh: --repeat 1..20" >&2; exit 2; }
out="$(mktemp -t remora-verbs-bench.XXXXXX)"
trap 'rm -f "$out"' EXIT
REMORA_SOFTROCE_BENCH_ITERS="$iters" REMORA_SOFTROCE_BENCH_REPEAT="$repeat" bash "$REPO/ci/softroce/run.sh" --build "$build" --job bench --timeout $((120 + repeat * 120)) | tee "$out"
rc=${PIPESTATUS[0]}
dir="$REPO/bench/results/$(date -u +%Y-%m-%d)"
mkdir -p "$dir"
grep '^BENCH op=.*ratio=' "$out" | while read -r _ fields; do
  json="{\"bench\":\"verbs_vs_perftest\",\"machine\":\"qemu-tcg-2vcpu rxe0\",\"time\":\"$(date -u +%FT%TZ)\""
  for kv in $fields; do
    k="${kv%%=*}" v="${kv#*=}"
    [[ "$v" =~ ^[0-9.]+$ ]] && json+=",\"$k\":$v" || json+=",\"$k\":\"$v\""
  done
  echo "$json}" >>"$dir/verbs.jsonl"
done
exit "$rc"
