#!/usr/bin/env bash
# Doorbells against naps (issue #11), on this machine in one run: SmallBank
# on 3 nodes over shm and tcp at each coroutine count, with wake-ups (the
# default) and with --no-wakeups (the old naps) back to back so both see the
# same machine state; the 2-node shm bank at the same total coroutines; Redis
# SmallBank at equal concurrency (clients = 3 x coroutines); TATP and YCSB-B
# on 3 nodes shm at 1 and 8 coroutines, both modes; and the CPU use of an
# idle 3-node cluster (`remora up --workload serve`). Then
# bench/wakeups_report.py prints the table and draws the plot.
#
# Usage: bench/wakeups.sh [--smoke] [--duration S] [--coroutines "1 4 8 16"]
#          [--transports "shm tcp"] [--repeat R] [--out DIR]
#          [--app-coroutines "1 8"] [--idle-seconds S] [--port-base P]
#          [--no-redis] [--no-apps] [--no-idle] [--dry-run]
#   --duration S   seconds of load per run (default 5; Redis: whole seconds)
#   --repeat R     every run R times (default 1); the table shows medians
#   --out DIR      default bench/results/<UTC date>/wakeups; an earlier
#                  run's files there move to DIR/old-<time>/
#   --app-coroutines  TATP and kv (YCSB-B) coroutine counts (default "1 8")
#   --idle-seconds S  CPU measured over S s after 3 s of settling (default 10)
#   --port-base P  the clusters listen on ports P.. (copies of the configs in
#                  DIR/configs) instead of the shipped configs' fixed ports
#   --smoke        0.5 s runs, coroutines "1 4" on shm only, tiny data
#                  (1000 accounts, hot 300, 1000 subscribers and records),
#                  TATP/kv at 1 coroutine, idle cluster 1 s + 2 s
# Env: REMORA_BUILD (default build), REMORA_PYTHON (a python3 with
#   matplotlib; default the first of python3, /usr/bin/python3 that has it).
# Output: progress on stderr, the table on stdout (and DIR/summary.md), every
#   JSON line in DIR/wakeups.jsonl, DIR/summary.json, DIR/wakeups.png, each
#   run's stdout/stderr in DIR/logs/. Exit 0 if every run passed, 1 if one
#   failed, 2 on bad input.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2
REPO="$PWD"

smoke=0 duration=5 coros="1 4 8 16" transports="shm tcp" repeat=1 out="" app_coros="1 8" idle_s=10 settle_s=3
port_base="" do_redis=1 do_apps=1 do_idle=1 dry=0 accounts=100000 hot=4000 subscribers="" records=""
usage() { sed -n '2,31p' "$0"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --smoke) smoke=1 duration=0.5 coros="1 4" transports="shm" app_coros="1" idle_s=2 settle_s=1
             accounts=1000 hot=300 subscribers=1000 records=1000; shift ;;
    --duration) duration="$2"; shift 2 ;;
    --coroutines) coros="$2"; shift 2 ;;
    --transports) transports="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --app-coroutines) app_coros="$2"; shift 2 ;;
    --idle-seconds) idle_s="$2"; shift 2 ;;
    --port-base) port_base="$2"; shift 2 ;;
    --no-redis) do_redis=0; shift ;;
    --no-apps) do_apps=0; shift ;;
    --no-idle) do_idle=0; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "wakeups.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

bad() { echo "wakeups.sh: $*" >&2; exit 2; }
[[ "$duration" =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad "--duration takes seconds, e.g. 5 or 0.5"
[[ "$idle_s" =~ ^[0-9]+$ && $idle_s -ge 1 ]] || bad "--idle-seconds takes whole seconds >= 1"
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || bad "--repeat takes a count >= 1"
for c in $coros $app_coros; do [[ "$c" =~ ^[1-9][0-9]*$ ]] || bad "coroutine counts are >= 1, got '$c'"; done
for t in $transports; do [[ "$t" == shm || "$t" == tcp ]] || bad "--transports takes shm and/or tcp, got '$t'"; done
[[ -n "$coros" && -n "$transports" ]] || bad "nothing to run"
[[ -z "$port_base" || ( "$port_base" =~ ^[0-9]+$ && $port_base -ge 1024 && $port_base -le 65000 ) ]] ||
  bad "--port-base takes a port in 1024..65000"

BUILD="${REMORA_BUILD:-build}"
[[ "$BUILD" == /* ]] || BUILD="$REPO/$BUILD"
out="${out:-bench/results/$(date -u +%Y-%m-%d)/wakeups}"
[[ "$out" == /* ]] || out="$REPO/$out"
export UCX_WARN_UNUSED_ENV_VARS=n
declare -A CONFIG=([shm]=configs/local-3.toml [tcp]=configs/local-3-tcp.toml [shm2]=configs/local-2.toml)
MODES=(wakeups no-wakeups)

log() { printf '[wakeups] %s\n' "$*" >&2; }

# --- what runs -------------------------------------------------------------
# PLAN[]: "kind transport nodes coroutines mode workload repeat" per run, in
# order; per repeat and coroutine count the two modes run back to back (the
# first mode alternates), then the 2-node shm run, then TATP/kv and Redis.
plan() {
  local r c t i=0 m w first second
  PLAN=()
  for ((r = 1; r <= repeat; r++)); do
    for c in $coros; do
      for t in $transports; do
        if (( (r + i) % 2 )); then first=wakeups second=no-wakeups; else first=no-wakeups second=wakeups; fi
        PLAN+=("bank $t 3 $c $first - $r" "bank $t 3 $c $second - $r")
        i=$((i + 1))
      done
      # 2 nodes at the 3-node run's total of coroutines, if it divides.
      [[ " $transports " == *" shm "* ]] && (( (3 * c) % 2 == 0 )) && PLAN+=("bank shm2 2 $((3 * c / 2)) wakeups - $r")
    done
    if [[ $do_apps -eq 1 ]]; then
      for c in $app_coros; do
        for w in tatp:- kv:B; do
          for m in "${MODES[@]}"; do PLAN+=("${w%%:*} shm 3 $c $m ${w#*:} $r"); done
        done
      done
    fi
    [[ $do_redis -eq 1 ]] && PLAN+=("redis loopback 3 - - - $r")
    if [[ $do_idle -eq 1 ]]; then
      for m in "${IDLE_MODES[@]}"; do PLAN+=("idle shm 3 - $m - $r"); done
    fi
  done
}

# estimate: seconds, from the suite's measured overheads (docs/benchmarks.md).
estimate() {
  local e kind t n c m w r d
  d="$(awk -v d="$duration" 'BEGIN { printf "%d", d < 1 ? 1 : d + 0.999 }')"
  EST_S=0
  for e in "${PLAN[@]}"; do
    read -r kind t n c m w r <<<"$e"
    case $kind in
      bank) EST_S=$((EST_S + d + $([[ $t == tcp ]] && echo 9 || echo 8) / (smoke + 1))) ;;
      tatp) EST_S=$((EST_S + d + 22 / (smoke + 1))) ;;
      kv) EST_S=$((EST_S + d + 9 / (smoke + 1))) ;;
      redis) EST_S=$((EST_S + 5 + $(wc -w <<<"$coros") * (d + 2))) ;;
      idle) EST_S=$((EST_S + settle_s + idle_s + 3)) ;;
    esac
  done
}

# --- helpers ---------------------------------------------------------------
pick_python() {
  local p
  PY=""
  for p in ${REMORA_PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import matplotlib' 2>/dev/null; then
      PY="$(command -v "$p")"; break
    fi
  done
  [[ -n "$PY" ]] || { PY="$(command -v python3)" || bad "no python3"
    log "WARNING: no python3 with matplotlib (apt-get install python3-matplotlib): no plot"; }
}

use_port_base() {
  local base="$1" key i=0
  mkdir -p "$out/configs" || bad "cannot create $out/configs"
  for key in shm tcp shm2; do
    awk -v p=$((base + 10 * i)) '/^port *= *[0-9]+/ { print "port = " p++; next } { print }' \
      "$REPO/${CONFIG[$key]}" >"$out/configs/${CONFIG[$key]##*/}" || bad "cannot write $out/configs"
    CONFIG[$key]="$out/configs/${CONFIG[$key]##*/}"
    i=$((i + 1))
  done
}

prepare_out() {
  local old f
  mkdir -p "$out" || bad "cannot create $out"
  if [[ -e "$out/wakeups.jsonl" ]]; then
    old="$out/old-$(date -u +%H%M%S)"
    mkdir -p "$old"
    for f in wakeups.jsonl summary.md summary.json wakeups.png logs; do
      [[ -e "$out/$f" ]] && mv "$out/$f" "$old/"
    done
    log "an earlier run's files moved to $old"
  fi
  mkdir -p "$out/logs"
}

meta() {
  "$PY" - "$1" "$out/wakeups.jsonl" <<PY
import json, os, platform, subprocess, sys, time
def cmd(*c):
    try: return subprocess.run(c, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception: return ""
m = {"bench": "wakeups", "kind": "meta", "phase": sys.argv[1], "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
     "loadavg": open("/proc/loadavg").read().split()[:3]}
if sys.argv[1] == "start":
    m.update(host=platform.node(), cpus=os.cpu_count(), kernel=platform.release(),
             ucx=cmd("ucx_info", "-v").splitlines()[0:2], git=cmd("git", "-C", "$REPO", "rev-parse", "--short", "HEAD"),
             smoke=bool($smoke), duration_s=float("$duration"), coroutines="$coros", transports="$transports",
             repeat=$repeat, app_coroutines="$app_coros", accounts=$accounts, hot=$hot,
             idle_modes="${IDLE_MODES[*]}", runs=${#PLAN[@]}, estimate_s=$EST_S)
else:
    m.update(elapsed_s=$((SECONDS - ${START:-0})), failed=${FAILED:-0})
open(sys.argv[2], "a").write(json.dumps(m) + "\n")
PY
}

# The `timeout` processes this script starts, each the leader of its own
# process group (timeout makes one), which holds everything it ran: on exit,
# SIGINT to them (timeout passes it on), SIGKILL to their groups after 5 s.
BG_PIDS=()
cleanup() {
  local p
  [[ -n "${NAP_PID:-}" ]] && kill "$NAP_PID" 2>/dev/null
  for p in "${BG_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${BG_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$p" 2>/dev/null
  done
  BG_PIDS=()
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# bounded TIMEOUT BASE CMD...: CMD under timeout (its own process group, so
# a timeout stops the nodes it launched too), in the background so that a
# signal to this script stops it at once; sets RC and WALL.
bounded() {
  local tmo="$1" base="$2" t0 pid
  shift 2
  t0="$(date +%s.%N)"
  timeout -k 10 "$tmo" "$@" </dev/null >"$base.out" 2>"$base.err" &
  pid=$!
  BG_PIDS=("$pid")
  wait "$pid"
  RC=$?
  BG_PIDS=()
  WALL="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
}

progress() { printf '[wakeups %d/%d] %s\n' "$STEP" "${#PLAN[@]}" "$*" >&2; }

secs() { awk -v d="$duration" "BEGIN { printf \"%d\", $1 }"; }

# run_app KIND TRANSPORT NODES COROUTINES MODE WORKLOAD REPEAT
run_app() {
  local kind="$1" t="$2" n="$3" c="$4" m="$5" w="$6" r="$7" bin args tmo base rc
  bin="$BUILD/apps/$kind"
  args=(--config "${CONFIG[$t]}" --coroutines "$c" --duration "$duration")
  [[ $m == no-wakeups ]] && args+=(--no-wakeups)
  case $kind in
    bank) args+=(--accounts "$accounts" --hot "$hot") ;;
    tatp) [[ -n "$subscribers" ]] && args+=(--subscribers "$subscribers") ;;
    kv) args+=(--workload "$w"); [[ -n "$records" ]] && args+=(--records "$records") ;;
  esac
  tmo="$(secs "d * 3 + $([[ $kind == bank ]] && echo 120 || echo 180)")"
  base="$out/logs/$(printf %02d "$STEP")-$kind-$t-n$n-c$c-$m${w/#-/}-r$r"
  if [[ -x "$bin" ]]; then
    bounded "$tmo" "$base" "$bin" "${args[@]}"
  else
    echo "no $bin (build: ninja -C $BUILD apps/$kind)" >"$base.err"; : >"$base.out"; RC=127 WALL=0
  fi
  record "$PY" "$REPO/bench/wakeups_report.py" record --jsonl "$out/wakeups.jsonl" --kind "$kind" \
    --transport "${t%2}" --nodes "$n" --coroutines "$c" --mode "$m" --repeat "$r" --workload "${w/#-/}" \
    --rc "$RC" --timeout "$tmo" --wall "$WALL" --stdout "$base.out" --stderr "$base.err" \
    --cmd "${bin#"$REPO"/} ${args[*]}"
}

# run_redis REPEAT: bench/redis_bank.sh at clients = 3 x each coroutine count.
run_redis() {
  local r="$1" clients="" c d tmo base
  for c in $coros; do clients+="${clients:+ }$((3 * c))"; done
  d="$(secs 'd < 1 ? 1 : int(d + 0.999)')"
  tmo=$(($(wc -w <<<"$clients") * (d * 2 + 60) + 300))
  base="$out/logs/$(printf %02d "$STEP")-redis-r$r"
  : >"$base.jsonl"
  REMORA_BUILD="$BUILD" bounded "$tmo" "$base" bash "$REPO/bench/redis_bank.sh" --clients "$clients" \
    --duration "$d" --accounts "$accounts" --nodes 3 --hot "$hot" --out "$base.jsonl"
  record "$PY" "$REPO/bench/wakeups_report.py" record --jsonl "$out/wakeups.jsonl" --kind redis \
    --transport loopback --nodes 3 --mode redis --repeat "$r" --clients "$clients" --rc "$RC" \
    --timeout "$tmo" --wall "$WALL" --stdout "$base.jsonl" --stderr "$base.err" \
    --cmd "bench/redis_bank.sh --clients \"$clients\" --duration $d --accounts $accounts --hot $hot"
}

# nap S: sleep that a signal to this script interrupts (traps run at once).
NAP_PID=""
nap() { sleep "$1" & NAP_PID=$!; wait "$NAP_PID"; NAP_PID=""; }

# ticks PID: utime + stime of PID in clock ticks (fields 14 and 15 of
# /proc/PID/stat, counted after the ")" that ends the command name).
ticks() {
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  s="${s##*) }"
  read -r -a f <<<"$s"
  echo $((f[11] + f[12]))
}

# run_idle MODE REPEAT: an idle 3-node cluster; CPU of each node process
# over idle_s seconds after settle_s seconds of settling.
run_idle() {
  local m="$1" r="$2" base up kids=() k id t0=() t1=() l0 l1 err="" args=() i specs=() tmo
  base="$out/logs/$(printf %02d "$STEP")-idle-$m-r$r"
  args=(up --config "${CONFIG[shm]}" --workload serve)
  [[ $m == no-wakeups ]] && args+=(--no-wakeups)
  tmo=$((settle_s + idle_s + 60))
  WALL=""
  local start=$SECONDS
  timeout -k 10 "$tmo" "$BUILD/remora" "${args[@]}" </dev/null >"$base.out" 2>"$base.err" &
  up=$!
  BG_PIDS=("$up")
  # timeout's child is remora up; its children are the nodes.
  for _ in $(seq 100); do
    k="$(pgrep -P "$up" | head -n1)"
    [[ -n "$k" ]] && mapfile -t kids < <(pgrep -P "$k")
    [[ ${#kids[@]} -ge 3 ]] && break
    kill -0 "$up" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ${#kids[@]} -lt 3 ]]; then
    err="remora up did not start 3 node processes"
  else
    nap "$settle_s"
    l0="$(ticks "$k")"
    for i in "${!kids[@]}"; do t0[i]="$(ticks "${kids[$i]}")" || err="node process ${kids[$i]} is gone"; done
    nap "$idle_s"
    l1="$(ticks "$k")"
    for i in "${!kids[@]}"; do t1[i]="$(ticks "${kids[$i]}")" || err="node process ${kids[$i]} exited while idle"; done
    for i in "${!kids[@]}"; do
      id="$(tr '\0' ' ' <"/proc/${kids[$i]}/cmdline" 2>/dev/null | sed -nE 's/.*--id ([0-9]+).*/\1/p')"
      specs+=(--node "${id:-$i}:${kids[$i]}:${t0[$i]:-0}:${t1[$i]:-0}")
    done
  fi
  # Stop: SIGINT to remora up (it stops its nodes), SIGKILL to the whole
  # process group (timeout's) after 10 s.
  kill -INT "${k:-$up}" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$up" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$up" 2>/dev/null; then
    err="${err:-remora up did not stop within 10 s of SIGINT}"
    kill -KILL -- "-$up" 2>/dev/null
  fi
  wait "$up" 2>/dev/null
  BG_PIDS=()
  WALL=$((SECONDS - start))
  record "$PY" "$REPO/bench/wakeups_report.py" idle --jsonl "$out/wakeups.jsonl" --mode "$m" --repeat "$r" \
    --seconds "$idle_s" --hz "$(getconf CLK_TCK)" "${specs[@]}" ${l1:+--launcher "$l0:$l1"} --error "$err"
}

# record CMD...: the helper's verdict goes to the progress log.
record() {
  local msg rc
  msg="$("$@")"
  rc=$?
  progress "  -> ${msg:-wakeups_report.py failed (exit $rc)} (${WALL:-?} s)"
  return $rc
}

describe() {
  local kind t n c m w r
  read -r kind t n c m w r <<<"$1"
  case $kind in
    redis) echo "redis SmallBank at $(for c in $coros; do printf '%s ' $((3 * c)); done)clients (repeat $r)" ;;
    idle) echo "idle 3-node cluster, $m: CPU over ${idle_s} s (repeat $r)" ;;
    *) echo "$kind$([[ $w != - ]] && echo " $w") ${t%2} $n nodes $c coroutines/node, $m (repeat $r)" ;;
  esac
}

# --- main ------------------------------------------------------------------
pick_python
[[ -n "$port_base" ]] && use_port_base "$port_base"
IDLE_MODES=(wakeups)
if [[ -x "$BUILD/remora" ]] && "$BUILD/remora" up --help 2>&1 | grep -q -- '--no-wakeups'; then
  IDLE_MODES=(wakeups no-wakeups)
fi
plan
estimate
log "plan: ${#PLAN[@]} runs, ${duration} s each, coroutines \"$coros\", transports \"$transports\", repeat $repeat"
for ((i = 0; i < ${#PLAN[@]}; i++)); do log "  $((i + 1)). $(describe "${PLAN[$i]}")"; done
[[ ${#IDLE_MODES[@]} -eq 1 && $do_idle -eq 1 ]] &&
  log "  (no $BUILD/remora, or its 'up' has no --no-wakeups: idle CPU in the default mode only)"
log "estimate: about ${EST_S} s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
[[ $dry -eq 1 ]] && exit 0
[[ -x "$BUILD/apps/bank" ]] || bad "no $BUILD/apps/bank: build first (see docs/benchmarks.md)"

prepare_out
START=$SECONDS FAILED=0
meta start
for ((i = 0; i < ${#PLAN[@]}; i++)); do
  STEP=$((i + 1))
  read -r kind t n c m w r <<<"${PLAN[$i]}"
  progress "$(describe "${PLAN[$i]}") ..."
  case $kind in
    redis) run_redis "$r" ;;
    idle) run_idle "$m" "$r" ;;
    *) run_app "$kind" "$t" "$n" "$c" "$m" "$w" "$r" ;;
  esac || FAILED=$((FAILED + 1))
done
meta end
log "all ${#PLAN[@]} runs done in $((SECONDS - START)) s (estimate ${EST_S} s); $FAILED failed"
"$PY" "$REPO/bench/wakeups_report.py" report "$out" || { log "wakeups_report.py report failed"; FAILED=$((FAILED + 1)); }
log "results: $out (wakeups.jsonl, summary.md, summary.json, wakeups.png, logs/)"
[[ $FAILED -eq 0 ]] || { log "$FAILED run(s) failed: see the \"ok\": false lines of $out/wakeups.jsonl"; exit 1; }
exit 0
