#!/usr/bin/env bash
# End-to-end checks of the TATP and key-value apps (apps/tatp, apps/kv) on
# the shipped 3-node configs, shared memory and tcp: every run passes its own
# checks (TATP: CALL_FORWARDING rows == initial + inserts - deletes; KV:
# every record present and intact, write counts == committed updates;
# replicas equal to primaries), the cluster JSON is complete, TATP's
# recorded history passes the strict-serializability checker, a table too
# small for its data grows by overflow buckets, and bad input is refused
# with a clear message. All traffic stays on 127.0.0.1; every run bounded.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TATP="$REMORA_BUILD/apps/tatp"
KV="$REMORA_BUILD/apps/kv"
HISTCHECK="$REMORA_BUILD/tools/histcheck"
for b in "$TATP" "$KV" "$HISTCHECK"; do [[ -x "$b" ]] || fail "no binary at $b (build it: ci/build.sh)"; done
cd "$REPO_ROOT" || fail "cannot cd to $REPO_ROOT"
WORK="$(mktemp -d -t remora-apps.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
T=(timeout -k 5)

# check_cluster APP [TYPES...]: the last run's JSON lines are complete and ok;
# every named operation type ran.
check_cluster() {
  json_check "$1 cluster JSON" "$@" <<'PY'
import json, sys
app, types = sys.argv[1], sys.argv[2:]
lines = [json.loads(l) for l in sys.stdin if l.startswith("{")]
nodes = [l for l in lines if "node" in l]
cluster = [l for l in lines if l.get("cluster")]
assert sorted(n["node"] for n in nodes) == [0, 1, 2], [n.get("node") for n in nodes]
assert len(cluster) == 1 and cluster[0]["ok"] and cluster[0]["app"] == app, cluster
c = cluster[0]
assert c["invariant"]["ok"], c["invariant"]
for n in nodes:
    assert n["replicas"] == "equal", n["replicas"]
    assert n["committed"] > 0 and n["tx_per_s"] > 0
for k in ("p50_us", "p99_us", "p999_us"):
    assert c["latency"][k] > 0, k
assert c["latency"]["count"] == c["committed"], (c["latency"]["count"], c["committed"])
for t in types:
    assert c["types"][t]["count"] > 0, (t, c["types"][t])
PY
}

TATP_TYPES=(get_subscriber_data get_new_destination get_access_data update_location)
run_tatp() {
  local hist="$WORK/tatp-$2"
  expect_rc 0 "tatp on $1 (3000 subscribers/node, 8 coroutines)" -- "${T[@]}" 240 "$TATP" --config "$1" \
    --subscribers 3000 --coroutines 8 --duration 2 --history "$hist"
  expect_output "call_forwarding_rows=[0-9]+.* -> ok" "tatp on $1 checks the call_forwarding rows"
  check_cluster tatp "${TATP_TYPES[@]}"
  expect_rc 0 "histcheck on the tatp $2 histories" -- "${T[@]}" 120 "$HISTCHECK" "$hist"
  expect_output '"ok":true' "histcheck reports ok for tatp $2"
}
run_tatp configs/local-3.toml shm
run_tatp configs/local-3-tcp.toml tcp

# KV: every workload once (A and F over shm, B and C over tcp).
run_kv() {
  expect_rc 0 "kv workload $2 on $1" -- "${T[@]}" 240 "$KV" --config "$1" --workload "$2" \
    --records 2000 --record-size 256 --coroutines 8 --duration 1.5 "${@:4}"
  expect_output "record_writes=[0-9]+.* -> ok" "kv $2 checks every record"
  check_cluster kv $3
}
run_kv configs/local-3.toml A "read update"
run_kv configs/local-3.toml F "read rmw"
run_kv configs/local-3-tcp.toml B "read update" --distribution uniform
run_kv configs/local-3-tcp.toml C "read"

# A table far too small: slots fill, overflow buckets take the rest.
expect_rc 0 "kv with 1-slot buckets at 95% load (overflow chains)" -- "${T[@]}" 240 "$KV" \
  --config configs/local-3.toml --workload A --records 1500 --record-size 64 --slots 1 --load-factor 0.95 \
  --coroutines 4 --duration 1
json_check "the overflow records were preloaded by transactions" <<'PY'
import json, sys
nodes = [json.loads(l) for l in sys.stdin if l.startswith("{") and '"node"' in l]
assert sum(n["preloaded_by_transactions"] for n in nodes) > 0, [n["preloaded_by_transactions"] for n in nodes]
assert max(n["reads_per_lookup"] for n in nodes) > 1.0
PY

# --- bad input ----------------------------------------------------------------
expect_rc nonzero "kv refuses workload D" -- "${T[@]}" 10 "$KV" --config configs/local-3.toml --workload D
expect_output "workload" "the message names the flag"
expect_rc nonzero "kv refuses 8-byte records" -- "${T[@]}" 10 "$KV" --config configs/local-3.toml --record-size 8
expect_rc nonzero "tatp refuses 0 subscribers" -- "${T[@]}" 10 "$TATP" --config configs/local-3.toml --subscribers 0
expect_rc nonzero "tatp without --config fails" -- "${T[@]}" 10 "$TATP"
expect_rc nonzero "kv refuses a data set larger than a region can be" -- "${T[@]}" 30 "$KV" \
  --config configs/local-3.toml --records 3000000 --record-size 4096
expect_output "2 GiB" "the message says why"
pass
