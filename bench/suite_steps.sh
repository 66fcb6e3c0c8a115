# shellcheck shell=bash
# One step of bench/run.sh each; sourced through bench/suite_lib.sh. Every
# run is bounded by `timeout`; its stdout and stderr go to
# $out/logs/NN-<name>.{out,err} and bench/suite_record.py turns them into
# lines of $out/suite.jsonl (a failed run becomes an "ok": false line).

progress() { printf '[suite %d/%d] %s\n' "$STEP_I" "${#PLAN[@]}" "$*" >&2; }

# secs EXPR: an awk expression over d (the --duration) as whole seconds.
secs() { awk -v d="$duration" "BEGIN { printf \"%d\", $1 }"; }

# bounded TIMEOUT LOGBASE CMD...: runs CMD under timeout; sets RC and WALL.
bounded() {
  local tmo="$1" base="$2" t0
  shift 2
  t0="$(date +%s.%N)"
  timeout -k 10 "$tmo" "$@" </dev/null >"$base.out" 2>"$base.err"
  RC=$?
  WALL="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
}

# record KIND ARGS...: bench/suite_record.py; its one-line verdict goes to
# the progress log; returns its status.
record() {
  local kind="$1" msg rc
  shift
  msg="$("$PY" "$REPO/bench/suite_record.py" "$kind" --out-dir "$out" --run "$STEP_I" "$@")"
  rc=$?
  progress "  -> ${msg:-suite_record.py failed (exit $rc)}${WALL:+ (${WALL} s)}"
  return $rc
}

# missing [--optional] STEP TRANSPORT REASON [suite_record.py args]: a step
# that cannot run is a skip, or a failure under CI=true unless --optional.
missing() {
  local fail=(--fail)
  [[ "${CI:-}" == true ]] || fail=()
  [[ "$1" == --optional ]] && { fail=(); shift; }
  local step="$1" t="$2" reason="$3"
  shift 3
  WALL=""
  record skip --step "$step" --transport "$t" --reason "$reason" "$@" "${fail[@]}"
}

config_for() { if [[ $1 == shm ]]; then echo "$SHM_CONFIG"; else echo "$TCP_CONFIG"; fi; }

run_step() {
  local kind app t c w
  STEP_I="$1"
  read -r kind app t c w <<<"$2"
  progress "$(describe "$2") ..."
  case $kind in
    fabric) step_fabric "$t" ;;
    dht) step_dht "$t" ;;
    app) step_app "$app" "$t" "$c" "${w/#-/}" ;;
    redis) step_redis ;;
  esac
}

# step_app APP TRANSPORT COROUTINES [WORKLOAD]: one run of an app on every
# node of the embedded 3-node cluster.
step_app() {
  local app="$1" t="$2" c="$3" w="$4" bin="$BUILD/apps/$1" tmo base args
  [[ -x "$bin" ]] || {
    missing "$app" "$t" "no $bin (build: ninja -C $BUILD apps/$app)" --coroutines "$c" --workload "$w"; return; }
  args=(--config "$(config_for "$t")" --coroutines "$c" --duration "$duration")
  case $app in
    bank) args+=(--accounts "$accounts" --hot "$hot") ;;
    tatp) [[ -n "$subscribers" ]] && args+=(--subscribers "$subscribers") ;;
    kv) args+=(--workload "$w"); [[ -n "$records" ]] && args+=(--records "$records") ;;
  esac
  tmo="$(secs 'd * 3 + 120')"
  base="$out/logs/$(printf %02d "$STEP_I")-$app-$t-$c$w"
  bounded "$tmo" "$base" "$bin" "${args[@]}"
  record app --step "$app" --transport "$t" --coroutines "$c" --workload "$w" --rc "$RC" --timeout "$tmo" \
    --seconds "$WALL" --stdout "$base.out" --stderr "$base.err" --cmd "${bin#"$REPO"/} ${args[*]}"
}

# step_fabric TRANSPORT: bench/compare_fabric.sh on the 2-node config, one
# repeat; its JSON lines go to $out/fabric.jsonl.
step_fabric() {
  local t="$1" cfg="$FABRIC_SHM_CONFIG" tmo base f
  [[ $t == tcp ]] && cfg="$FABRIC_TCP_CONFIG"
  for f in "$BUILD/remora" "$BUILD/bench/raw_ucp_lat"; do
    [[ -x "$f" ]] || { missing fabric "$t" "no $f (build: ninja -C $BUILD ${f#"$BUILD"/})"; return; }
  done
  local iters=(--iters-shm 100000 --iters-tcp 10000)
  [[ $smoke -eq 1 ]] && iters=(--iters-shm 2000 --iters-tcp 200 --batch 100)
  tmo=600 base="$out/logs/$(printf %02d "$STEP_I")-fabric-$t"
  REMORA_BUILD="$BUILD" bounded "$tmo" "$base" bash "$REPO/bench/compare_fabric.sh" --repeat 1 \
    --configs "$cfg" "${iters[@]}" --run-timeout 60 --out "$out/fabric.jsonl"
  record fabric --step fabric --transport "$t" --config "$cfg" --rc "$RC" --timeout "$tmo" --seconds "$WALL" \
    --stdout "$out/fabric.jsonl" --stderr "$base.err" --cmd "bench/compare_fabric.sh --configs $cfg"
}

# step_dht TRANSPORT: hash-table lookups against one raw one-sided read.
step_dht() {
  local t="$1" bin="$BUILD/bench/dht_lookup" tmo base cfg="$FABRIC_SHM_CONFIG"
  [[ $t == tcp ]] && cfg="$FABRIC_TCP_CONFIG"  # two nodes: node 0 looks up keys homed on node 1
  [[ -x "$bin" ]] || {
    missing --optional dht "$t" "no $bin: the DHT lookup benchmark is not in this tree (branch dht)"; return; }
  tmo="$(secs 'd * 3 + 120')" base="$out/logs/$(printf %02d "$STEP_I")-dht-$t"
  bounded "$tmo" "$base" "$bin" --config "$cfg" --duration "$duration"
  record dht --step dht --transport "$t" --rc "$RC" --timeout "$tmo" --seconds "$WALL" \
    --stdout "$base.out" --stderr "$base.err" --cmd "${bin#"$REPO"/} --config $cfg"
}

# step_redis: bench/redis_bank.sh (a private redis-server on loopback) at
# the bank's client concurrency for every coroutine count, same accounts.
step_redis() {
  local bin="$BUILD/bench/redis_bank" server="${REDIS_SERVER:-redis-server}" pairs clients n d tmo base
  [[ -f "$REPO/bench/redis_bank.sh" ]] || { missing redis loopback "no bench/redis_bank.sh (branch redis)"; return; }
  [[ -x "$bin" ]] || { missing redis loopback "no $bin (needs libhiredis-dev; ninja -C $BUILD bench/redis_bank)"; return; }
  command -v "$server" >/dev/null || { missing redis loopback "no $server (apt-get install redis-server)"; return; }
  pairs="$(redis_clients)"
  clients="$(sed -E 's/:[0-9]+//g' <<<"$pairs")"
  n=$(wc -w <<<"$pairs")
  d="$(secs 'd < 1 ? 1 : int(d + 0.999)')"  # redis_bank.sh takes whole seconds
  tmo=$((n * (d * 2 + 60) + 300)) base="$out/logs/$(printf %02d "$STEP_I")-redis"
  REMORA_BUILD="$BUILD" bounded "$tmo" "$base" bash "$REPO/bench/redis_bank.sh" --clients "$clients" \
    --duration "$d" --accounts "$accounts" --nodes "$NODES" --hot "$hot" --out "$base.jsonl"
  record redis --step redis --transport loopback --rc "$RC" --timeout "$tmo" --seconds "$WALL" --stdout "$base.jsonl" \
    --stderr "$base.err" --clients "$pairs" --cmd "bench/redis_bank.sh --clients \"$clients\" --duration $d"
}
