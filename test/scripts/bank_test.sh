#!/usr/bin/env bash
# End-to-end checks of the bank app (SmallBank on the transaction layer) on
# the shipped 3-node configs, shared memory and tcp: the run passes its own
# checks (money invariant, replicas equal to primaries), the cluster JSON is
# complete, and the recorded histories pass the strict-serializability
# checker (tools/histcheck). Also: bad input is refused with a clear
# message. All traffic stays on 127.0.0.1; every run is bounded by timeout.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BANK="$REMORA_BUILD/apps/bank"
HISTCHECK="$REMORA_BUILD/tools/histcheck"
[[ -x "$BANK" ]] || fail "no bank binary at $BANK (build it: ci/build.sh)"
[[ -x "$HISTCHECK" ]] || fail "no histcheck binary at $HISTCHECK"
cd "$REPO_ROOT" || fail "cannot cd to $REPO_ROOT"

WORK="$(mktemp -d -t remora-bank.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
T=(timeout -k 5)

# run_bank CONFIG NAME: a short contended run with histories, then checks.
run_bank() {
  local hist="$WORK/$2"
  expect_rc 0 "bank on $1 (hot set of 8, 8 coroutines)" -- "${T[@]}" 240 "$BANK" --config "$1" \
    --accounts 2000 --hot 8 --coroutines 8 --duration 2 --history "$hist"
  expect_output "money: expected [0-9-]+ actual [0-9-]+ -> ok" "bank on $1 checks the money"
  json_check "bank cluster JSON on $1" <<'PY'
import json, sys
lines = [json.loads(l) for l in sys.stdin if l.startswith("{")]
nodes = [l for l in lines if "node" in l]
cluster = [l for l in lines if l.get("cluster")]
assert sorted(n["node"] for n in nodes) == [0, 1, 2], [n.get("node") for n in nodes]
assert len(cluster) == 1 and cluster[0]["ok"], cluster
for n in nodes:
    assert n["replicas"] == "equal", n["replicas"]
    assert n["committed"] > 0 and n["tx_per_s"] > 0
    for k in ("p50_us", "p99_us", "p999_us"):
        assert n["latency"][k] > 0, k
    assert set(n["aborts"]) >= {"lock_refused", "validation", "read_locked", "application"}
assert cluster[0]["invariant"]["ok"]
PY
  expect_rc 0 "histcheck on the $2 histories" -- "${T[@]}" 120 "$HISTCHECK" "$hist"
  expect_output '"ok":true' "histcheck reports ok for $2"
  [[ $(ls "$hist"/node-*.jsonl | wc -l) -eq 3 ]] || fail "expected 3 history files in $hist"
  T_CHECKS=$((T_CHECKS + 1))
}

run_bank configs/local-3.toml shm
run_bank configs/local-3-tcp.toml tcp

# --- bad input ----------------------------------------------------------------
expect_rc nonzero "bank without --config fails" -- "${T[@]}" 10 "$BANK"
expect_rc nonzero "bank with a missing config fails" -- "${T[@]}" 10 "$BANK" --config "$WORK/nope.toml"
expect_rc nonzero "bank --id of a node not in the config fails" -- \
  "${T[@]}" 10 "$BANK" --config configs/local-3.toml --id 9
expect_output "node 9 is not in" "the message names the node"
printf '[cluster]\nid = "x"\nbackups = 3\n[[node]]\nid = 0\nhost = "127.0.0.1"\nport = 7499\n' >"$WORK/bad.toml"
expect_rc nonzero "bank refuses a config with too many backups" -- "${T[@]}" 10 "$BANK" --config "$WORK/bad.toml"
expect_output "bad.toml:3: cluster.backups" "the message names file, line and key"
pass
