#!/usr/bin/env bash
# Checks of the Redis SmallBank comparator (bench/redis_bank and
# bench/redis_bank.sh): short runs pass the money check and print complete
# JSON, --max-txns bounds the work exactly, and the failures are clear:
# a non-loopback host is refused, no server / a server that dies mid-run /
# accounts never loaded end in a message and a non-zero exit. Every server
# is private, on 127.0.0.1; every run is bounded by timeout.
#
# Without redis-server or the redis_bank binary (built only when
# libhiredis-dev is installed) this fails under CI=true and skips otherwise.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BIN="$REMORA_BUILD/bench/redis_bank"
SERVER="${REDIS_SERVER:-redis-server}"
missing() {
  [[ "${CI:-}" == true ]] && fail "$1 (ci/install-deps.sh installs redis-server and libhiredis-dev)"
  skip "$1"
}
command -v "$SERVER" >/dev/null || missing "no $SERVER"
[[ -x "$BIN" ]] || missing "no $BIN (built only with libhiredis-dev)"
cd "$REPO_ROOT" || fail "cannot cd to $REPO_ROOT"

WORK="$(mktemp -d -t remora-redis-test.XXXXXX)"
PID=""
cleanup() {
  [[ -n "$PID" ]] && { kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
  rm -rf "$WORK"
}
trap cleanup EXIT
T=(timeout -k 5)

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ping PORT: true if a server on 127.0.0.1:PORT answers PING with PONG.
ping() {
  local reply=""
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 1 reply <&3
  exec 3<&- 3>&-
  [[ "$reply" == "+PONG"* ]]
}

# start_redis: a private server on a free port; sets PID and PORT.
start_redis() {
  PORT="$(free_port)"
  "$SERVER" --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no --daemonize no --dir "$WORK" \
    --logfile "$WORK/redis.log" &
  PID=$!
  for _ in $(seq 100); do
    ping "$PORT" && return 0
    sleep 0.1
  done
  fail "redis-server did not start on port $PORT: $(tail -n 3 "$WORK/redis.log")"
}

# --- the bench script: load once, one run per client count -------------------
expect_rc 0 "redis_bank.sh with 1 and 2 clients, 1 s each" -- "${T[@]}" 120 bench/redis_bank.sh \
  --clients "1 2" --duration 1 --accounts 500 --nodes 2 --hot 50 --out "$WORK/r.jsonl"
T_OUT="$(cat "$WORK/r.jsonl")"
json_check "redis_bank.sh JSON lines" <<'PY'
import json, sys
runs = [json.loads(l) for l in sys.stdin if l.strip()]
assert [r["clients"] for r in runs] == [1, 2], runs
for r in runs:
    assert r["system"] == "redis" and r["accounts"] == 1000 and r["ok"], r
    assert r["committed"] > 0 and r["tx_per_s"] > 0, r
    assert sum(r["by_type"].values()) == r["committed"], r["by_type"]
    assert r["aborts"]["application"] == r["insufficient_funds"], r["aborts"]
    assert r["attempts"] == r["committed"] + r["insufficient_funds"] + r["aborts"]["watch"], r
    assert 0 <= r["abort_rate"] < 1
    for k in ("p50_us", "p99_us", "p999_us"):
        assert r["latency"][k] > 0, k
    for name, n in r["by_type"].items():
        assert r["types"][name]["count"] == n, name
    assert r["send_payment"]["count"] == r["by_type"]["send_payment"]
    assert r["latency_p50_us"] == r["latency"]["p50_us"] > 0
    inv = r["invariant"]
    assert inv["ok"] and inv["expected"] == inv["initial"] + inv["net"] == inv["actual"], inv
assert runs[0]["invariant"]["initial"] == 1000 * 2 * 10000
assert runs[1]["invariant"]["initial"] == runs[0]["invariant"]["actual"]
PY
t_log "ok: two runs, money checked"

# --- refusals and dead servers, no server needed ------------------------------
expect_rc nonzero "a non-loopback --host is refused" -- "${T[@]}" 10 "$BIN" --host 192.0.2.1 --port 6379
expect_output "192.0.2.1 is not a loopback address" "the message names the host"
expect_rc nonzero "a host name is refused" -- "${T[@]}" 10 "$BIN" --host example.com
expect_output "not a loopback address" "the message says why"
DEAD="$(free_port)"
expect_rc nonzero "no server on the port" -- "${T[@]}" 20 "$BIN" --port "$DEAD" --duration 1
expect_output "cannot connect to Redis at 127.0.0.1:$DEAD" "the message names the address"

# --- one private server for the rest ------------------------------------------
start_redis
expect_rc nonzero "a run on accounts never loaded" -- "${T[@]}" 30 "$BIN" --port "$PORT" --accounts 100 \
  --nodes 1 --duration 1 --check
expect_output "checking:0 is missing in Redis: load the accounts first" "the message says to load"
expect_rc 0 "--max-txns 150 with 3 clients" -- "${T[@]}" 60 "$BIN" --port "$PORT" --accounts 100 --nodes 1 \
  --hot 10 --clients 3 --max-txns 150 --duration 30 --load --check
json_check "--max-txns bounds the work" <<'PY'
import json, sys
r = [json.loads(l) for l in sys.stdin if l.startswith("{")][0]
assert r["committed"] + r["insufficient_funds"] + r["gave_up"] == 3 * 150, r
assert r["invariant"]["ok"] and r["invariant"]["initial"] == 100 * 2 * 10000, r["invariant"]
PY
t_log "ok: exactly 3 x 150 transactions, money checked"

# The server dies during a run: a clear error, not a hang or a crash.
"${T[@]}" 60 "$BIN" --port "$PORT" --accounts 100 --nodes 1 --clients 2 --duration 20 >"$WORK/dies.out" 2>&1 &
RUN=$!
# Kill once the run's clients are connected (the control connection, the two
# clients and our probe), so the failure is a broken connection, not a refusal.
for _ in $(seq 100); do
  [[ "$(redis-cli -p "$PORT" info clients 2>/dev/null | tr -d '\r' | sed -n 's/^connected_clients://p')" -ge 4 ]] \
    2>/dev/null && break
  sleep 0.1
done
sleep 0.5
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=""
rc=0; wait "$RUN" || rc=$?
T_OUT="$(cat "$WORK/dies.out")"
T_CHECKS=$((T_CHECKS + 1))
no_sanitizer_report "server killed mid-run"
[[ $rc -ge 1 && $rc -lt 124 ]] || { cat "$WORK/dies.out"; fail "server killed mid-run: exit $rc, expected 1..123"; }
t_log "ok: server killed mid-run ends the run (exit $rc)"
expect_output "Redis connection to 127.0.0.1:$PORT failed" "the message names the broken connection"
pass
