#!/usr/bin/env bash
# End-to-end checks of the `remora` command line: help, info, `up` on the
# shipped local configs (shared memory and tcp), config errors that name
# file, line and key, a node whose peer never comes up, and the JSON of
# `bench fabric`. All traffic stays on 127.0.0.1; every command is bounded
# by `timeout`.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_remora
cd "$REPO_ROOT" || fail "cannot cd to $REPO_ROOT"

WORK="$(mktemp -d -t remora-cli.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
T=(timeout -k 5)   # prefix: every remora run has a hard limit

# --- help and info -----------------------------------------------------------
expect_rc 0 "remora --help" -- "${T[@]}" 10 "$REMORA_BIN" --help
for sub in node up info bench; do expect_output "^ +$sub " "--help lists '$sub'"; done
expect_rc nonzero "remora without a subcommand fails" -- "${T[@]}" 10 "$REMORA_BIN"
expect_rc nonzero "unknown subcommand fails" -- "${T[@]}" 10 "$REMORA_BIN" frobnicate
expect_rc 0 "remora info" -- "${T[@]}" 30 "$REMORA_BIN" info
expect_output "^UCX [0-9]+\.[0-9]+" "info shows the UCX version"
expect_output "^ +(self|tcp|posix|sysv|cma) " "info lists at least one UCX transport"
expect_rc 0 "remora info --config configs/local-3.toml" -- \
  "${T[@]}" 30 "$REMORA_BIN" info --config configs/local-3.toml
expect_output "local-3" "info shows the config's cluster id"

# --- up on the shipped configs ----------------------------------------------
# check_up CONFIG NODES TLS: `up --workload check --json` must report every
# node once with ok:true over the config's transport.
check_up() {
  expect_rc 0 "up --workload check on $1" -- \
    "${T[@]}" 120 "$REMORA_BIN" up --config "$1" --workload check --json
  json_check "up JSON on $1" "$2" "$3" <<'PY'
import json, sys
want_nodes, tls = int(sys.argv[1]), sys.argv[2]
res = [json.loads(l) for l in sys.stdin if l.startswith("{")]
nodes = sorted(r["node"] for r in res)
assert nodes == list(range(want_nodes)), f"nodes reported: {nodes}"
for r in res:
    assert r["ok"] is True and r["workload"] == "check", r
    assert f"tls={tls}" in r["transport"], r["transport"]
    assert r["atomics"] > 0 and r["read_bytes"] > 0 and r["ring_records"] > 0, r
PY
  t_log "ok: every node of $1 reported ok:true with real traffic"
  expect_output "OK: $2 of $2 nodes" "up summary for $1"
}
check_up configs/local-3.toml 3 "shm,self"
check_up configs/local-3-tcp.toml 3 tcp

# --- config errors -------------------------------------------------------------
# bad_config NAME LINE KEY CONTENT: every command that reads a config must
# refuse it, exit non-zero, and name file:line and the key.
bad_config() {
  local f="$WORK/$1.toml" cmd
  printf '%s\n' "$4" >"$f"
  for cmd in "info --config $f" "up --config $f --workload check" \
             "node --config $f --id 0 --workload check" \
             "bench fabric --config $f --op read --iters 10"; do
    # shellcheck disable=SC2086  # word splitting of $cmd is intended
    expect_rc nonzero "$1: remora ${cmd%% *} refuses it" -- "${T[@]}" 30 "$REMORA_BIN" $cmd
    expect_output "$f:$2:.*$3" "$1: remora ${cmd%% *} names file, line $2 and key $3"
  done
}
CLUSTER_HEAD='[cluster]
id = "bad"'
NODE0='[[node]]
id = 0
host = "127.0.0.1"
port = 7440'
bad_config wrong-type 3 "cluster\.threads" "$CLUSTER_HEAD
threads = \"two\"
$NODE0"
bad_config typo-key 4 "cluster\.thread.*did you mean" "$CLUSTER_HEAD
transport = \"ucx\"
thread = 4
$NODE0"
bad_config out-of-range 10 "node\.port: 99999 out of range" "$CLUSTER_HEAD

[[node]]
id = 0
host = \"127.0.0.1\"
port = 7440
[[node]]
id = 1
port = 99999
host = \"127.0.0.1\""
expect_rc nonzero "a missing config file is refused" -- \
  "${T[@]}" 30 "$REMORA_BIN" up --config "$WORK/no-such-file.toml"
expect_output "no-such-file\.toml" "the error names the missing file"

# --- a node whose peer never comes up ------------------------------------------
cat >"$WORK/lonely.toml" <<'CONF'
[cluster]
id = "lonely"
connect_timeout_ms = 1500

[[node]]
id = 0
host = "127.0.0.1"
port = 7443

[[node]]
id = 1
host = "127.0.0.1"
port = 7444
CONF
start=$SECONDS
expect_rc nonzero "node with a missing peer fails" -- \
  "${T[@]}" 30 "$REMORA_BIN" node --config "$WORK/lonely.toml" --id 0 --workload check
T_CHECKS=$((T_CHECKS + 1))
(( SECONDS - start < 20 )) || fail "missing peer: took $((SECONDS - start)) s for a 1.5 s timeout"
t_log "ok: gave up after $((SECONDS - start)) s"
expect_output '^\{.*"ok":false' "missing peer: the JSON result line says ok:false"
expect_output 'Timeout.*1500 ms.*1\(127\.0\.0\.1:7444\)' \
  "missing peer: the message says timeout, the limit and which peer"

# --- bench fabric ----------------------------------------------------------
# check_bench CONFIG ITERS: one JSON line per op with the documented keys and
# numbers that make sense (positive, ordered percentiles, requested count).
check_bench() {
  expect_rc 0 "bench fabric on $1" -- "${T[@]}" 120 "$REMORA_BIN" bench fabric \
    --config "$1" --op read,write,cas,faa --size 64 --iters "$2" --warmup 100 --json
  json_check "bench JSON on $1" "$2" <<'PY'
import json, sys
iters = int(sys.argv[1])
keys = {"bench", "impl", "transport", "tls", "op", "size", "iters", "p50_us", "p99_us",
        "p999_us", "mean_us", "mops"}
res = [json.loads(l) for l in sys.stdin if l.startswith("{")]
assert [r.get("op") for r in res] == ["read", "write", "cas", "faa"], res
for r in res:
    missing = keys - r.keys()
    assert not missing, f"{r.get('op')}: missing keys {missing}"
    assert r["bench"] == "fabric" and r["impl"] == "remora", r
    assert r["size"] == (8 if r["op"] in ("cas", "faa") else 64), r
    assert r["iters"] == iters, r
    assert 0 < r["p50_us"] <= r["p99_us"] <= r["p999_us"] < 1e6, r
    assert 0 < r["mean_us"] < 1e6 and r["mops"] > 0, r
    # mops is throughput of one op in flight: at most about 1 / mean latency.
    assert r["mops"] <= 1.5 / r["mean_us"], r
PY
  t_log "ok: bench fabric JSON on $1 has every key and sane numbers"
}
check_bench configs/local-2.toml 5000
check_bench configs/local-2-tcp.toml 500
expect_rc nonzero "bench fabric with an unknown op fails" -- \
  "${T[@]}" 30 "$REMORA_BIN" bench fabric --config configs/local-2.toml --op swap --iters 10
pass
