#!/usr/bin/env bash
# The benchmark suite (issue #5): on this machine, in one run, the raw fabric
# (remora vs raw UCX per operation), the DHT lookup against one raw read, the
# bank, TATP and KV apps at each coroutine count on the embedded 3-node
# cluster over UCX shared memory and tcp, and SmallBank on Redis
# (WATCH/MULTI/EXEC) at equal client concurrency. Then bench/suite_report.py
# prints the summary table and draws the plots. What every number means:
# docs/benchmarks.md.
#
# Usage: bench/run.sh [--smoke] [--duration S] [--coroutines "1 2 4 8 16"]
#          [--transports "shm tcp"] [--apps "bank tatp kv"] [--out DIR]
#          [--no-redis] [--no-fabric] [--no-dht] [--no-build] [--dry-run]
#          [--no-wakeups-bench]   (skip bench/wakeups.sh, run last by default)
#          [--port-base P] [--tcp-coroutines "1 8"|all]
#   --smoke      seconds, not minutes: tiny data, 0.5 s runs, coroutines
#                "1 4" on shm plus one tcp run, one Redis run, tiny fabric.
#   --out DIR    results directory (default bench/results/<UTC date>); files
#                of an earlier suite run there move to DIR/old-<time>/.
#   --dry-run    print the plan and the time estimate, run nothing.
#   --port-base P  the clusters listen on ports P.. instead of the shipped
#                configs' fixed ports (74xx), e.g. next to a test run.
#   --tcp-coroutines  TATP and KV on tcp run only at these counts (their
#                load takes 30-80 s over tcp) and KV's extra workloads run
#                on shm only; "all": every count, extra workloads on tcp too.
# Data sizes (default: the apps' defaults): --accounts N --hot N
#   --subscribers N --records N --kv-extra "B C F" (workloads run at 8
#   coroutines, or the largest count below 8).
# Env: REMORA_BUILD (default build), REMORA_PYTHON (a python3 with
#   matplotlib; default: the first of python3, /usr/bin/python3 that has it),
#   CI=true (a missing app, Redis or fabric binary is a failure, not a skip).
# Exit: 0 if every step passed (skips allowed), 1 if any failed, 2 bad input.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
REPO="$PWD"

smoke=0 duration=5 coros="1 2 4 8 16" transports="shm tcp" apps="bank tatp kv" out=""
do_redis=1 do_fabric=1 do_dht=1 do_build=1 do_wakeups=1 dry=0 port_base="" tcp_coros="1 8"
accounts=100000 hot=4000 subscribers="" records="" kv_extra="B C F" extra_tcp=""
usage() { sed -n '2,31p' "$0"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1; duration=0.5; coros="1 4"; transports="shm"; extra_tcp="bank"
             accounts=1000; hot=300; subscribers=1000; records=1000; kv_extra=""; shift ;;
    --duration) duration="$2"; shift 2 ;;
    --coroutines) coros="$2"; shift 2 ;;
    --transports) transports="$2"; extra_tcp=""; shift 2 ;;
    --apps) apps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-redis) do_redis=0; shift ;;
    --no-fabric) do_fabric=0; shift ;;
    --no-dht) do_dht=0; shift ;;
    --no-wakeups-bench) do_wakeups=0; shift ;;
    --no-build) do_build=0; shift ;;
    --dry-run) dry=1; shift ;;
    --port-base) port_base="$2"; shift 2 ;;
    --tcp-coroutines) tcp_coros="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --hot) hot="$2"; shift 2 ;;
    --subscribers) subscribers="$2"; shift 2 ;;
    --records) records="$2"; shift 2 ;;
    --kv-extra) kv_extra="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

bad() { echo "run.sh: $*" >&2; exit 2; }
[[ "$duration" =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad "--duration takes seconds, e.g. 5 or 0.5"
for c in $coros; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || bad "--coroutines takes counts >= 1, got '$c'"; done
for t in $transports; do [[ "$t" == shm || "$t" == tcp ]] || bad "--transports takes shm and/or tcp, got '$t'"; done
for a in $apps; do [[ "$a" =~ ^(bank|tatp|kv)$ ]] || bad "--apps takes bank, tatp and/or kv, got '$a'"; done
[[ "$tcp_coros" == all ]] || for c in $tcp_coros; do
  [[ "$c" =~ ^[1-9][0-9]*$ ]] || bad "--tcp-coroutines takes counts >= 1 or all, got '$c'"; done
for w in $kv_extra; do [[ "$w" =~ ^[ABCF]$ ]] || bad "--kv-extra takes workloads A B C F, got '$w'"; done
[[ -n "$coros" && -n "$transports$extra_tcp" ]] || bad "nothing to run"
[[ -z "$port_base" || ( "$port_base" =~ ^[0-9]+$ && $port_base -ge 1024 && $port_base -le 65000 ) ]] ||
  bad "--port-base takes a port in 1024..65000"

BUILD="${REMORA_BUILD:-build}"
[[ "$BUILD" == /* ]] || BUILD="$REPO/$BUILD"
out="${out:-bench/results/$(date -u +%Y-%m-%d)}"
[[ "$out" == /* ]] || out="$REPO/$out"
export UCX_WARN_UNUSED_ENV_VARS=n
source "$REPO/bench/suite_lib.sh"

pick_python
plan_steps
print_plan
[[ $dry -eq 1 ]] && exit 0
prepare_out
[[ -n "$port_base" ]] && use_port_base "$port_base"
SUITE_START=$SECONDS
FAILED=0
[[ $do_build -eq 1 ]] && build_targets
for ((i = 0; i < ${#PLAN[@]}; i++)); do
  run_step "$((i + 1))" "${PLAN[$i]}" || FAILED=$((FAILED + 1))
done
suite_meta end
log "all ${#PLAN[@]} steps done in $((SECONDS - SUITE_START)) s (estimate was ${EST_S} s); $FAILED failed"

"$PY" "$REPO/bench/suite_report.py" "$out" || { log "suite_report.py failed"; FAILED=$((FAILED + 1)); }
# Wake-ups against naps (issue #11): its own driver, the same duration.
if [[ $do_wakeups -eq 1 ]]; then
  wk=(--duration "$duration" --out "$out/wakeups")
  [[ $smoke -eq 1 ]] && wk=(--smoke --out "$out/wakeups")
  [[ -n "$port_base" ]] && wk+=(--port-base "$((port_base + 50))")
  REMORA_BUILD="$BUILD" "$REPO/bench/wakeups.sh" "${wk[@]}" || { log "bench/wakeups.sh failed"; FAILED=$((FAILED + 1)); }
fi
log "results: $out (suite.jsonl, summary.md, summary.json, *.png, logs/)"
[[ $FAILED -eq 0 ]] || { log "$FAILED step(s) failed: see the \"ok\": false lines of $out/suite.jsonl"; exit 1; }
exit 0
