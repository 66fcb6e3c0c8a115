# shellcheck shell=bash
# Steps of bench/run.sh; sourced by it, not run. Uses run.sh's option
# variables (duration, coros, transports, apps, ...), REPO, BUILD and out.

# Seconds each run costs beyond its --duration (process start-up,
# connecting, loading the data, the checks at the end), measured on the
# 2-core development VM (load average 6-7 from other builds, 2026-11-29)
# with the apps' default data sizes; a smoke run's are smaller. TATP and
# KV load their hash tables partly by transactions, which over tcp takes
# 30-80 s: hence fewer tcp runs for them (--tcp-coroutines). The fabric
# figures are whole compare_fabric.sh steps (8 process runs); dht is a
# guess (no dht_lookup yet).
declare -A OVERHEAD_S=([bank_shm]=8 [bank_tcp]=9 [tatp_shm]=22 [tatp_tcp]=33 [kv_shm]=9 [kv_tcp]=65
  [fabric_shm]=10 [fabric_tcp]=50 [dht]=8 [redis]=2 [redis_load]=5)
SHM_CONFIG=configs/local-3.toml TCP_CONFIG=configs/local-3-tcp.toml
FABRIC_SHM_CONFIG=configs/local-2.toml FABRIC_TCP_CONFIG=configs/local-2-tcp.toml

# use_port_base P: copies of the four configs under $out/configs whose
# [[node]] ports are P, P+1, ... (shm 3 nodes), P+10.. (tcp), P+20.. and
# P+30.. (the 2-node fabric configs), so the suite can run next to a
# cluster that uses the shipped configs' fixed ports.
use_port_base() {
  local base="$1" var cfg i=0
  mkdir -p "$out/configs" || bad "cannot create $out/configs"
  for var in SHM_CONFIG TCP_CONFIG FABRIC_SHM_CONFIG FABRIC_TCP_CONFIG; do
    cfg="${!var}"
    awk -v p=$((base + 10 * i)) '/^port *= *[0-9]+/ { print "port = " p++; next } { print }' "$REPO/$cfg" \
      >"$out/configs/${cfg##*/}" || bad "cannot write $out/configs/${cfg##*/}"
    printf -v "$var" '%s' "$out/configs/${cfg##*/}"
    i=$((i + 1))
  done
}

log() { printf '[suite] %s\n' "$*" >&2; }

# pick_python: sets PY to a python3 that can import matplotlib (the report's
# plots need it), else to python3 with a warning, and makes it the python3
# of the scripts run.sh calls (one interpreter; a pyenv shim costs ~1 s per
# start).
pick_python() {
  local p
  PY=""
  for p in ${REMORA_PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import matplotlib' 2>/dev/null; then
      PY="$(command -v "$p")"; break
    fi
  done
  if [[ -z "$PY" ]]; then
    PY="$(command -v python3)" || bad "no python3"
    log "WARNING: no python3 with matplotlib (apt-get install python3-matplotlib): no plots"
  fi
  PY_DIR="$(mktemp -d -t remora-suite-py.XXXXXX)" || bad "mktemp failed"
  trap 'rm -rf "$PY_DIR"' EXIT
  ln -s "$PY" "$PY_DIR/python3"
  export PATH="$PY_DIR:$PATH"
}

# config_value CONFIG EXPR: a value of the TOML config (EXPR over `c`).
config_value() {
  "$PY" -c 'import sys, tomllib; c = tomllib.load(open(sys.argv[1], "rb")); print(eval(sys.argv[2]))' "$1" "$2"
}

# The coroutine count for kv's extra workloads: 8, or the largest below it.
kv_extra_coros() {
  local best="" c
  for c in $coros; do
    if [[ $c -le 8 && ( -z "$best" || $c -gt $best ) ]]; then best=$c; fi
  done
  echo "${best:-${coros%% *}}"
}

# app_coros APP TRANSPORT: the coroutine counts of APP's runs: every count,
# but for tatp and kv on tcp only those of --tcp-coroutines that are in
# --coroutines (or the first count).
app_coros() {
  local c picked=()
  if [[ $1 == bank || $2 == shm || $tcp_coros == all ]]; then echo "$coros"; return; fi
  for c in $coros; do [[ " $tcp_coros " == *" $c "* ]] && picked+=("$c"); done
  echo "${picked[*]:-${coros%% *}}"
}

# plan_steps: PLAN[] gets one "kind app transport coroutines workload" entry
# per step, EST_S the estimated seconds.
plan_steps() {
  PLAN=()
  local t c w first="${coros%% *}"
  NODES="$(config_value "$SHM_CONFIG" 'len(c["node"])')" || bad "cannot read $SHM_CONFIG"
  THREADS="$(config_value "$SHM_CONFIG" 'c["cluster"].get("threads", 1)')" || bad "cannot read $SHM_CONFIG"
  if [[ $do_fabric -eq 1 ]]; then
    for t in $transports; do PLAN+=("fabric - $t - -"); done
  fi
  if [[ $do_dht -eq 1 ]]; then for t in $transports; do PLAN+=("dht - $t - -"); done; fi
  for a in $apps; do
    for t in $transports; do
      for c in $(app_coros "$a" "$t"); do PLAN+=("app $a $t $c $([[ $a == kv ]] && echo A || echo -)"); done
      if [[ $a == kv && ( $t == shm || $tcp_coros == all ) ]]; then
        for w in $kv_extra; do PLAN+=("app kv $t $(kv_extra_coros) $w"); done
      fi
    done
    [[ " $extra_tcp " == *" $a "* ]] && PLAN+=("app $a tcp $first $([[ $a == kv ]] && echo A || echo -)")
    [[ $a == bank && $do_redis -eq 1 ]] && PLAN+=("redis - loopback - -")
  done
  if [[ $do_redis -eq 1 && " $apps " != *" bank "* ]]; then PLAN+=("redis - loopback - -"); fi
  estimate
}

# estimate: EST_S from OVERHEAD_S and the plan.
estimate() {
  local e kind app t c w n_coros d
  n_coros=$(wc -w <<<"$(redis_clients)")
  d="$(printf '%.0f' "$duration")"; [[ $d -lt 1 ]] && d=1
  EST_S=0
  for e in "${PLAN[@]}"; do
    read -r kind app t c w <<<"$e"
    case $kind in
      fabric) EST_S=$((EST_S + ${OVERHEAD_S[fabric_$t]} / (smoke + 1))) ;;
      dht) EST_S=$((EST_S + d + ${OVERHEAD_S[dht]})) ;;
      app) EST_S=$((EST_S + d + ${OVERHEAD_S[${app}_$t]} / (smoke + 1))) ;;
      redis) EST_S=$((EST_S + ${OVERHEAD_S[redis_load]} + n_coros * (d + ${OVERHEAD_S[redis]}))) ;;
    esac
  done
}

print_plan() {
  local i
  log "plan: ${#PLAN[@]} steps, ${duration} s per run, coroutines \"$coros\", transports \"$transports${extra_tcp:+ (+ one tcp run)}\", apps \"$apps\""
  for ((i = 0; i < ${#PLAN[@]}; i++)); do log "  $((i + 1)). $(describe "${PLAN[$i]}")"; done
  log "estimate: about ${EST_S} s ($(( (EST_S + 59) / 60 )) min) on a 2-core machine; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
}

# describe ENTRY: the step's name for the progress log.
describe() {
  local kind app t c w
  read -r kind app t c w <<<"$1"
  case $kind in
    fabric) echo "fabric $t: raw UCX vs remora, read write cas faa" ;;
    dht) echo "dht lookup $t vs one raw read" ;;
    app) echo "$app $t $c coroutines$([[ $w != - ]] && echo ", workload $w")" ;;
    redis) echo "redis SmallBank at $(redis_clients | sed -E 's/:[0-9]+//g') clients" ;;
  esac
}

# redis_clients: "CLIENTS:COROUTINES ..." at equal concurrency (clients =
# nodes x threads x coroutines of the remora run); a smoke run does one.
redis_clients() {
  local c list="$coros" pairs=()
  [[ $smoke -eq 1 ]] && list="${coros%% *}"
  for c in $list; do pairs+=("$((NODES * THREADS * c)):$c"); done
  echo "${pairs[*]}"
}

# build_targets: builds the binaries the plan needs that this tree knows,
# keeping going past a target that fails (its steps then find no binary);
# a failed build is recorded as a failed "build" step.
build_targets() {
  local t want=(remora bench/raw_ucp_lat bench/redis_bank bench/dht_lookup) have=() blog="$out/logs/build.log"
  for a in $apps; do want+=("apps/$a"); done
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    log "no build tree at $BUILD (run ci/quickstart.sh first, or set REMORA_BUILD)"; return
  fi
  for t in "${want[@]}"; do ninja -C "$BUILD" -t query "$t" >/dev/null 2>&1 && have+=("$t"); done
  log "building ${have[*]} in $BUILD (nothing to do if up to date)"
  if ! nice -n 5 ninja -C "$BUILD" -k 0 -j "${REMORA_JOBS:-2}" "${have[@]}" >"$blog" 2>&1; then
    grep -E '^FAILED' "$blog" >&2
    log "build failed (log: $blog); the steps of the targets that failed will find no binary"
    STEP_I=0 WALL="" record skip --step build --reason "ninja failed: $(grep -E '^FAILED' "$blog" | tr '\n' ' ')" \
      --fail || FAILED=$((FAILED + 1))
  fi
}

# prepare_out: the results directory; an earlier suite run's files there
# move to old-<time>/ (nothing is deleted).
prepare_out() {
  local old f
  mkdir -p "$out" || bad "cannot create $out"
  if [[ -e "$out/suite.jsonl" ]]; then
    old="$out/old-$(date -u +%H%M%S)"
    mkdir -p "$old"
    for f in suite.jsonl bank.jsonl tatp.jsonl kv.jsonl redis.jsonl dht.jsonl fabric.jsonl summary.md \
        summary.json logs "$out"/*.png; do
      [[ -e "$out/${f##*/}" ]] && mv "$out/${f##*/}" "$old/"
    done
    log "an earlier suite run's files moved to $old"
  fi
  mkdir -p "$out/logs"
  suite_meta start
}

# suite_meta start|end: the machine and the options (start) or the total
# time (end) as a "meta" line of suite.jsonl.
suite_meta() {
  "$PY" - "$1" "$out/suite.jsonl" <<PY
import json, os, platform, subprocess, sys, time
def cmd(*c):
    try: return subprocess.run(c, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception: return ""
m = {"step": "meta", "phase": sys.argv[1], "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
     "loadavg": open("/proc/loadavg").read().split()[:3]}
if sys.argv[1] == "start":
    m.update(host=platform.node(), cpus=os.cpu_count(), kernel=platform.release(),
             ucx=cmd("ucx_info", "-v").splitlines()[0:2], git=cmd("git", "-C", "$REPO", "rev-parse", "--short", "HEAD"),
             smoke=bool($smoke), duration_s=float("$duration"), coroutines="$coros", transports="$transports",
             extra_tcp="$extra_tcp", tcp_coroutines="$tcp_coros", apps="$apps", nodes=int("$NODES"), threads=int("$THREADS"),
             accounts=int("$accounts"), hot=int("$hot"), subscribers="$subscribers", records="$records",
             kv_extra="$kv_extra", steps=${#PLAN[@]}, estimate_s=$EST_S)
else:
    m.update(elapsed_s=$((SECONDS - ${SUITE_START:-0})), failed=${FAILED:-0})
open(sys.argv[2], "a").write(json.dumps(m) + "\n")
PY
}

source "$REPO/bench/suite_steps.sh"
