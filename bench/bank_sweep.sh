#!/usr/bin/env bash
# SmallBank figures for the closing notes and the README: the bank app on
# each config at each coroutine count, with the two baselines the bank
# measures in the same run (64 B one-sided READ and 64 B message round
# trip, node to node). Prints a table (medians over the nodes' values are
# not taken: the cluster line's merged histogram gives p50/p99; the
# baselines and transfer latency are node 0's) and appends every JSON line
# to bench/results/<UTC date>/bank.jsonl. Targets are reported, not asserted.
#
# Usage: bench/bank_sweep.sh [--configs "configs/local-3.toml configs/local-3-tcp.toml"]
#          [--coroutines "1 8"] [--duration S] [--accounts N] [--hot N]
# Env: REMORA_BUILD (default build) locates apps/bank.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
configs="configs/local-3.toml configs/local-3-tcp.toml" coros="1 8" duration=10 accounts=100000 hot=4000
while [[ $# -gt 0 ]]; do
  case "$1" in
    --configs) configs="$2"; shift 2 ;;
    --coroutines) coros="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --hot) hot="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bank="${REMORA_BUILD:-build}/apps/bank"
[[ -x "$bank" ]] || { echo "no $bank: build first (ci/build.sh)" >&2; exit 2; }
out="bench/results/$(date -u +%F)"; mkdir -p "$out"
rc=0
printf '%-26s %5s %10s %7s %9s %9s %9s %9s %9s %7s\n' config coros "tx/s" "abort%" "p50 us" "p99 us" \
  "xfer p50" "read p50" "msg p50" "xfer/msg"
for cfg in $configs; do
  for c in $coros; do
    echo "[bank_sweep] $cfg, $c coroutines per thread, ${duration}s (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    lines="$(timeout $((duration * 3 + 240)) "$bank" --config "$cfg" --coroutines "$c" --duration "$duration" \
      --accounts "$accounts" --hot "$hot" 2>/dev/null)" || { echo "[bank_sweep] run failed" >&2; rc=1; continue; }
    printf '%s\n' "$lines" | sed "s|^{|{\"config\":\"$cfg\",|" >>"$out/bank.jsonl"
    printf '%s\n' "$lines" | python3 bench/bank_sweep_row.py "$cfg" "$c" || rc=1
  done
done
exit $rc
