#!/usr/bin/env bash
# The benchmark suite end to end in seconds (bench/run.sh --smoke, tiny
# data, no performance assertions) into a temporary directory: exit 0, the
# progress log, every line of suite.jsonl parses, every app, the Redis
# comparator and the fabric comparison ran with "ok": true, summary.md and
# summary.json exist, every plot is a non-empty PNG. A missing tatp, kv or
# Redis binary is reported and tolerated locally, but run.sh fails under
# CI=true; a missing DHT lookup benchmark is always a noted skip. Also: suite_report.py on a directory with no measurements
# prints "not measured" and still draws every plot, and run.sh refuses bad
# options. All traffic stays on 127.0.0.1; every run is bounded by timeout.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT" || fail "cannot cd to $REPO_ROOT"
[[ -x "$REMORA_BUILD/apps/bank" ]] || fail "no bank binary at $REMORA_BUILD/apps/bank (build it: ci/build.sh)"

WORK="$(mktemp -d -t remora-bench-smoke.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
PY=python3
for p in ${REMORA_PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import matplotlib' 2>/dev/null; then PY="$p"; break; fi
done
PLOTS="latency_cdf_bank.png latency_cdf_tatp.png latency_cdf_kv.png throughput.png bank_vs_redis.png fabric.png"

# check_pngs DIR: every plot of suite_report.py is a non-empty PNG file.
check_pngs() {
  local f
  for f in $PLOTS; do
    [[ -s "$1/$f" ]] || fail "no plot $1/$f"
    [[ "$(head -c 8 "$1/$f" | od -An -tx1 | tr -d ' \n')" == 89504e470d0a1a0a ]] || fail "$1/$f is not a PNG"
  done
  T_CHECKS=$((T_CHECKS + 1))
  t_log "ok: every plot in $1 is a PNG"
}

# --- the smoke suite ----------------------------------------------------------
R="$WORK/results"
expect_rc 0 "bench/run.sh --smoke" -- timeout -k 10 270 bash bench/run.sh --smoke --no-build --no-wakeups-bench --port-base 17400 --out "$R"
expect_output '^\[suite\] estimate: about [0-9]+ s' "the estimate is printed first"
expect_output '^\[suite 3/[0-9]+\] bank shm 1 coroutines' "progress names step, app, transport, coroutines"
t_log "suite log (progress lines):"
grep -E '^\[suite' <<<"$T_OUT" | sed 's/^/    /'
json_check "suite.jsonl: every line parses, every step ran ok" "$R/suite.jsonl" "${CI:-}" <<'PY'
import json, sys
path, ci = sys.argv[1], sys.argv[2] == "true"
recs = [json.loads(l) for l in open(path) if l.strip()]
phases = [r.get("phase") for r in recs if r["step"] == "meta"]
assert phases == ["start", "end"], phases
failed = [r for r in recs if r.get("ok") is False]
assert not failed, failed
def need(step, what, pred=lambda r: True, optional=False):
    runs = [r for r in recs if r["step"] == step and r.get("ok") is True and pred(r)]
    skips = [r for r in recs if r["step"] == step and r.get("skipped")]
    if runs:
        return runs
    assert skips and (optional or not ci), f"{what}: no ok run" + ("" if skips else " and no skip record")
    print(f"[bench_smoke_test] NOTE: {what} skipped: {skips[0]['reason']}")
    return []
for app in ("bank", "tatp", "kv"):
    for r in need(app, app):
        assert r["cluster"] and r["nodes"] == 3 and r["committed"] > 0 and r["tx_per_s"] > 0, r
        assert r["transport"] in ("shm", "tcp") and r["coroutines"] in (1, 4), r
        assert r["latency"]["hist"] and r["latency_p50_us"] > 0, r["latency"]
assert any(r["transport"] == "tcp" for r in recs if r["step"] == "bank" and r.get("ok")), "no bank tcp run"
for r in need("redis", "redis"):
    assert r["clients"] == 3 and r["coroutines"] == 1 and r["tx_per_s"] > 0 and r["invariant"]["ok"], r
ops = {r["op"] for r in need("fabric", "fabric", lambda r: r.get("ratio_p50") is not None)}
assert ops in (set(), {"read", "write", "cas", "faa"}), ops
need("dht", "dht lookup", optional=True)  # no dht_lookup binary yet: always a skip
PY
if ! grep -q "Apps on the embedded 3-node cluster" "$R/summary.md" 2>/dev/null; then
  fail "no summary.md with the app table in $R"
fi
T_CHECKS=$((T_CHECKS + 1))
json_check "summary.json parses and has every table" "$R/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert {"meta", "apps", "bank_vs_redis", "fabric", "dht", "problems", "plots"} <= set(s), sorted(s)
assert any(r["app"] == "bank" and r["status"] == "ok" for r in s["apps"]), s["apps"]
PY
check_pngs "$R"
for f in bank.jsonl logs; do [[ -e "$R/$f" ]] || fail "no $R/$f"; done

# --- the report on a directory without measurements ---------------------------
E="$WORK/empty"
mkdir -p "$E"
printf '{"step":"meta","phase":"start","apps":"bank tatp kv","transports":"shm tcp","coroutines":"1 8"}\n' \
  >"$E/suite.jsonl"
expect_rc 0 "suite_report.py with nothing measured" -- "$PY" bench/suite_report.py "$E"
expect_output 'bank +shm +8 .*not measured' "missing runs are reported as not measured"
check_pngs "$E"
expect_rc nonzero "suite_report.py without suite.jsonl fails" -- "$PY" bench/suite_report.py "$WORK/nope"

# --- bad options -----------------------------------------------------------------
expect_rc 2 "run.sh refuses 0 coroutines" -- bash bench/run.sh --coroutines "0" --dry-run
expect_rc 2 "run.sh refuses an unknown transport" -- bash bench/run.sh --transports "rdma" --dry-run
expect_output "shm and/or tcp" "the message names the valid transports"
expect_rc 2 "run.sh refuses an unknown option" -- bash bench/run.sh --bogus
pass
