#!/usr/bin/env bash
# Compares `remora bench fabric` with the raw-UCP baseline (raw_ucp_lat) for
# every (transport, op) pair, runs interleaved raw/remora pairs R times and
# reports the medians, so that the ratio remora/raw is the cost of Remora's
# fabric layer. Speed targets are reported, not tested: the exit status is
# non-zero only if a run fails.
#
# Usage: bench/compare_fabric.sh [--size B] [--repeat R] [--iters-shm N]
#          [--iters-tcp N] [--tls "shm tcp"] [--ops "read write cas faa"]
#          [--config FILE]
# Env: REMORA_BUILD (default build) locates remora and bench/raw_ucp_lat.
# All JSON lines are appended to bench/results/<date>/fabric.jsonl.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

size=64 repeat=3 iters_shm=200000 iters_tcp=20000
tls_list="shm tcp" ops="read write cas faa" config=configs/local-2.toml
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --iters-shm) iters_shm="$2"; shift 2 ;;
    --iters-tcp) iters_tcp="$2"; shift 2 ;;
    --tls) tls_list="$2"; shift 2 ;;
    --ops) ops="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

build="${REMORA_BUILD:-build}"
raw="$build/bench/raw_ucp_lat"
remora="$build/remora"
for f in "$raw" "$remora" "$config"; do
  [[ -e "$f" ]] || { echo "compare_fabric: missing $f (build first: ci/build.sh $build)" >&2; exit 1; }
done

outdir="bench/results/$(date +%Y-%m-%d)"
mkdir -p "$outdir"
jsonl="$outdir/fabric.jsonl"
work="$(mktemp -d -t remora-compare.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export UCX_WARN_UNUSED_ENV_VARS=n

# Copies CONFIG with [ucx] tls set to $1 (replaced, inserted, or added).
make_config() {
  python3 - "$config" "$1" "$work/config-$1.toml" <<'PY'
import re, sys
src, tls, dst = sys.argv[1:4]
lines = open(src).read().splitlines()
out, section, done = [], None, False
for line in lines:
    m = re.match(r"\s*\[\[?\s*([^\]\[]+?)\s*\]\]?\s*(#.*)?$", line)
    if m:
        if section == "ucx" and not done:
            out.append(f'tls = "{tls}"'); done = True
        section = m.group(1)
    elif section == "ucx" and re.match(r"\s*tls\s*=", line):
        line = f'tls = "{tls}"'; done = True
    out.append(line)
if section == "ucx" and not done:
    out.append(f'tls = "{tls}"'); done = True
if not done:
    out += ["", "[ucx]", f'tls = "{tls}"']
open(dst, "w").write("\n".join(out) + "\n")
PY
}

failures=0
# run_one IMPL TLS OP ITERS: appends "TLS OP IMPL <json>" to $work/all.
run_one() {
  local impl="$1" tls="$2" op="$3" iters="$4" out="$work/out" rc
  local warmup=$(( iters / 10 ))
  if [[ "$impl" == raw_ucp ]]; then
    UCX_TLS="$tls" timeout 300 "$raw" --op "$op" --size "$size" --iters "$iters" \
      --warmup "$warmup" --json >"$out" 2>&1
  else
    UCX_TLS="$tls" timeout 300 "$remora" bench fabric --config "$work/config-$tls.toml" \
      --op "$op" --size "$size" --iters "$iters" --warmup "$warmup" --json >"$out" 2>&1
  fi
  rc=$?
  local line
  line="$(grep -E '^\{.*"bench"' "$out" | tail -n 1)"
  if [[ $rc -ne 0 || -z "$line" ]]; then
    echo "FAILED: $impl $op tls=$tls (rc $rc); output:" >&2
    tail -n 20 "$out" >&2
    failures=$((failures + 1))
    return
  fi
  echo "$line" >>"$jsonl"
  echo "$tls $op $impl $line" >>"$work/all"
  printf '  %-7s %-5s %-4s p50 %s us\n' "$impl" "$op" "$tls" \
    "$(sed -E 's/.*"p50_us":([0-9.eE+-]+).*/\1/' <<<"$line")"
}

: >"$work/all"
for tls in $tls_list; do
  make_config "$tls" || { echo "cannot write config for tls=$tls" >&2; exit 1; }
  iters=$iters_shm; [[ "$tls" == tcp ]] && iters=$iters_tcp
  for op in $ops; do
    echo "== $op tls=$tls size=$size iters=$iters x$repeat"
    for ((r = 0; r < repeat; r++)); do
      run_one raw_ucp "$tls" "$op" "$iters"
      run_one remora "$tls" "$op" "$iters"
    done
  done
done

python3 - "$work/all" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    tls, op, impl, js = line.split(" ", 3)
    runs.setdefault((op, tls), {}).setdefault(impl, []).append(json.loads(js))
def med(rs, key):
    return statistics.median(r[key] for r in rs) if rs else None
def f(v):
    return "-" if v is None else f"{v:.3f}"
print()
print(f"{'op':<6}{'tls':<5}{'raw p50':>10}{'raw p99':>10}{'remora p50':>12}"
      f"{'remora p99':>12}{'ratio p50':>11}")
for (op, tls), impls in runs.items():
    raw, rem = impls.get("raw_ucp", []), impls.get("remora", [])
    rp50, mp50 = med(raw, "p50_us"), med(rem, "p50_us")
    ratio = f"{mp50 / rp50:.2f}" if rp50 and mp50 is not None else "-"
    print(f"{op:<6}{tls:<5}{f(rp50):>10}{f(med(raw, 'p99_us')):>10}{f(mp50):>12}"
          f"{f(med(rem, 'p99_us')):>12}{ratio:>11}")
print("(microseconds; medians over repeats; ratio = remora/raw)")
PY
echo "JSON lines appended to $jsonl"
if [[ $failures -gt 0 ]]; then
  echo "$failures run(s) failed" >&2
  exit 1
fi
