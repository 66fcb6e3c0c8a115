#!/usr/bin/env bash
# The Redis side of the SmallBank comparison: starts a private redis-server
# on 127.0.0.1 (a free port, no persistence, a temporary --dir), loads the
# accounts once, then runs bench/redis_bank once per client count with the
# money check, and appends each run's JSON line to --out. The server is
# always stopped; every step is bounded by a timeout. Exit non-zero if the
# server does not start or any run fails (the other runs still happen).
#
# Usage: bench/redis_bank.sh [--clients "1 4 16"] [--duration S] [--accounts N]
#          [--nodes N] [--hot N] [--hot-fraction F] [--max-txns N] [--seed N]
#          [--out FILE]
# Defaults: the bank's (100000 accounts per node, 3 nodes, hot 4000 / 0.9),
# 5 s per run, --out bench/results/<UTC date>/redis.jsonl.
# Env: REMORA_BUILD (default build) locates bench/redis_bank; REDIS_SERVER
# (default redis-server) is the server binary.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
clients="1 4 16" duration=5 accounts=100000 nodes=3 hot=4000 hot_fraction=0.9 max_txns=0 seed=1
out="bench/results/$(date -u +%F)/redis.jsonl"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --clients) clients="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --nodes) nodes="$2"; shift 2 ;;
    --hot) hot="$2"; shift 2 ;;
    --hot-fraction) hot_fraction="$2"; shift 2 ;;
    --max-txns) max_txns="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "redis_bank.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ "$duration" =~ ^[0-9]+$ ]] || { echo "redis_bank.sh: --duration takes whole seconds" >&2; exit 2; }
build="${REMORA_BUILD:-build}"
bin="$build/bench/redis_bank"
server="${REDIS_SERVER:-redis-server}"
[[ -x "$bin" ]] || { echo "redis_bank.sh: no $bin (needs libhiredis-dev; build: ci/build.sh)" >&2; exit 2; }
command -v "$server" >/dev/null || { echo "redis_bank.sh: no $server (apt-get install redis-server)" >&2; exit 2; }
log() { echo "[redis_bank.sh] $*" >&2; }

dir="$(mktemp -d -t remora-redis.XXXXXX)"
pid=""
stop_server() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=""
  fi
  rm -rf "$dir"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

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

# start_server: on a free port (retried: another process may take it
# between the check and the bind); sets $pid and $port.
start_server() {
  for _ in 1 2 3; do
    port="$(free_port)" || return 1
    "$server" --bind 127.0.0.1 --port "$port" --save "" --appendonly no --daemonize no --dir "$dir" \
      --protected-mode yes --logfile "$dir/redis.log" &
    pid=$!
    for _ in $(seq 100); do
      ping "$port" && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    log "$server on port $port did not answer; its log:"; tail -n 5 "$dir/redis.log" >&2 2>/dev/null
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=""
  done
  return 1
}

start_server || { log "could not start $server"; exit 1; }
log "$("$server" --version | cut -d' ' -f1-3) on 127.0.0.1:$port (dir $dir)"
common=(--port "$port" --accounts "$accounts" --nodes "$nodes" --hot "$hot" --hot-fraction "$hot_fraction"
  --seed "$seed")
timeout -k 5 600 "$bin" "${common[@]}" --load-only || { log "loading the accounts failed"; exit 1; }
mkdir -p "$(dirname "$out")"
rc=0
for c in $clients; do
  log "$c clients, ${duration} s (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  line="$(timeout -k 5 $((duration * 2 + 120)) "$bin" "${common[@]}" --clients "$c" --duration "$duration" \
    --max-txns "$max_txns" --check)"
  run_rc=$?
  if [[ $run_rc -ne 0 || "$line" != "{"* ]]; then
    log "run with $c clients failed (exit $run_rc)"; rc=1; continue
  fi
  printf '%s\n' "$line" >>"$out"
done
log "results appended to $out"
exit $rc
