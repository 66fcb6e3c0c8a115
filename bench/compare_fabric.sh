#!/usr/bin/env bash
# Compares `remora bench fabric` with the raw-UCP baseline (bench/raw_ucp_lat)
# for every (config, op, in-flight count). Each repeat runs raw then remora
# back to back,
# so both see the same machine load; the table shows medians over the
# repeats and the ratio remora/raw, the cost of Remora's fabric layer. Speed
# targets are reported, never asserted: the exit status is non-zero only if a
# run fails. Both sides time batches of --batch operations per clock-read
# pair (per-op = batch time / batch, percentiles over batches): a 30-60 ns
# shared-memory operation is then resolved far below the 10 ns clock tick.
# --inflight "1 16" also runs each op with 16 issued at once per burst.
#
# Usage: bench/compare_fabric.sh [--repeat R] [--size B] [--ops "read write cas faa"]
#          [--batch N (1000)] [--inflight "1 16"]
#          [--configs "configs/local-2.toml configs/local-2-tcp.toml"]
#          [--iters-shm N] [--iters-tcp N] [--run-timeout S] [--out FILE]
#   Each config must have at least 2 nodes; its [ucx] tls is given to the raw
#   baseline as UCX_TLS, so both sides use the same transports. Configs whose
#   tls contains "tcp" use --iters-tcp, the others --iters-shm.
# Env: REMORA_BUILD (default build) locates remora and bench/raw_ucp_lat.
# Output: progress on stderr, the table on stdout, every run's JSON line plus
# one summary line per (config, op) appended to
# bench/results/<UTC date>/fabric.jsonl (or --out FILE, relative to the
# repository root).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

repeat=3 size=64 batch=1000 inflights="1" iters_shm=200000 iters_tcp=20000 run_timeout=300
ops="read write cas faa" configs="configs/local-2.toml configs/local-2-tcp.toml"
jsonl="bench/results/$(date -u +%Y-%m-%d)/fabric.jsonl"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeat) repeat="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --inflight) inflights="$2"; shift 2 ;;
    --ops) ops="$2"; shift 2 ;;
    --configs) configs="$2"; shift 2 ;;
    --iters-shm) iters_shm="$2"; shift 2 ;;
    --iters-tcp) iters_tcp="$2"; shift 2 ;;
    --run-timeout) run_timeout="$2"; shift 2 ;;
    --out) jsonl="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "compare_fabric: unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "compare_fabric: --repeat must be >= 1" >&2; exit 2; }

build="${REMORA_BUILD:-build}"
raw="$build/bench/raw_ucp_lat"
remora="$build/remora"
for f in "$raw" "$remora" $configs; do
  [[ -e "$f" ]] || { echo "compare_fabric: missing $f (build first: ci/build.sh $build)" >&2; exit 1; }
done

mkdir -p "$(dirname "$jsonl")"
work="$(mktemp -d -t remora-compare.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export UCX_WARN_UNUSED_ENV_VARS=n
progress() { printf '[compare] %s\n' "$*" >&2; }

# The [ucx] tls of a config ("" if absent: UCX's own choice).
config_tls() {
  python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb")).get("ucx", {}).get("tls", ""))' "$1"
}

failures=0
# run_one IMPL CONFIG TLS OP ITERS REPEAT INFLIGHT: one bounded run; its JSON
# line, tagged with config, repeat and time, goes to $work/all.
run_one() {
  local impl="$1" config="$2" tls="$3" op="$4" iters="$5" r="$6" k="$7" out="$work/out" rc
  local warmup=$((iters / 10)) cmd b=$batch
  ((b > iters)) && b=$iters  # whole batches: never more operations than asked
  if [[ "$impl" == raw_ucp ]]; then
    cmd=("$raw" --op "$op" --size "$size" --iters "$iters" --warmup "$warmup" --json
         --batch "$b" --inflight "$k"
         --max-seconds "$((run_timeout / 2))")
  else
    cmd=("$remora" --log-level warn bench fabric --config "$config" --op "$op" --size "$size"
         --iters "$iters" --warmup "$warmup" --json --batch "$b" --inflight "$k")
  fi
  env ${tls:+UCX_TLS="$tls"} timeout -k 10 "$run_timeout" "${cmd[@]}" </dev/null >"$out" 2>&1
  rc=$?
  local line
  line="$(grep -E '^\{.*"bench":"fabric"' "$out" | tail -n 1)"
  if [[ $rc -ne 0 || -z "$line" ]]; then
    [[ $rc -eq 124 ]] && progress "TIMEOUT after $run_timeout s"
    progress "FAILED: $impl $op on $config (exit $rc); its output:"
    tail -n 20 "$out" >&2
    failures=$((failures + 1))
    return
  fi
  python3 - "$line" "$config" "$r" >>"$work/all" <<'PY'
import json, sys, time
d = json.loads(sys.argv[1])
d.update(config=sys.argv[2], repeat=int(sys.argv[3]),
         utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
print(json.dumps(d))
PY
  progress "  $impl $op x$k: p50 $(sed -E 's/.*"p50_us":([0-9.eE+-]+).*/\1/' <<<"$line") us"
}

: >"$work/all"
for config in $configs; do
  tls="$(config_tls "$config")" || { progress "cannot read [ucx] tls of $config"; exit 1; }
  iters=$iters_shm
  [[ "$tls" == *tcp* ]] && iters=$iters_tcp
  for op in $ops; do
    for k in $inflights; do
      progress "$op on $config (tls=${tls:-default}), $size B, $iters iters, $k in flight, batches of $batch, $repeat repeats"
      for ((r = 1; r <= repeat; r++)); do
        run_one raw_ucp "$config" "$tls" "$op" "$iters" "$r" "$k"
        run_one remora "$config" "$tls" "$op" "$iters" "$r" "$k"
      done
    done
  done
done

cat "$work/all" >>"$jsonl"
python3 bench/compare_fabric_table.py "$work/all" "$jsonl"
progress "JSON lines appended to $jsonl"
if [[ $failures -gt 0 ]]; then
  progress "$failures run(s) failed"
  exit 1
fi
