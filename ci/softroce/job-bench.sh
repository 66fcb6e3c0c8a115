#!/bin/sh
# Runs inside the Soft-RoCE VM (see init.sh): `remora bench fabric` over
# verbs and perftest's latency tools in the same boot, alternating, 64 B
# READ/WRITE and 8 B CAS, loopback through rxe0. Prints a SAMPLE line per
# run and one line per op with the medians over the repeats
#   BENCH op=read size=64 repeats=R remora_p50_us=X perftest_p50_us=Y ratio=Z
# (perftest's t_typical is its median), then SOFTROCE-RESULT.
cd /job || exit 1
ITERS=@ITERS@
REPEAT=@REPEAT@
GID=$SOFTROCE_GID_INDEX
failed=0
ok=0

# perftest_once TOOL SIZE PORT EXTRA...: server in the background, client
# to our IP; prints t_typical.
perftest_once() {
  tool=$1 size=$2 port=$3
  shift 3
  $tool -d rxe0 -x "$GID" -F -s "$size" -n "$ITERS" -p "$port" "$@" >/tmp/srv.log 2>&1 &
  srv=$!
  sleep 0.5
  timeout 120 $tool -d rxe0 -x "$GID" -F -s "$size" -n "$ITERS" -p "$port" "$@" "$SOFTROCE_IP" >/tmp/cli.log 2>&1
  wait $srv
  grep -A1 t_typical /tmp/cli.log | sed "s/^/  $tool: /" >&2
  # The result row follows the header that names t_typical: column 5.
  awk '/t_typical/ {getline; print $5; exit}' /tmp/cli.log
}

# Under TCG perftest's clock calibration sometimes fails and every figure
# reads "inf": try up to three times for a number.
perftest() {
  for attempt in 1 2 3; do
    v=$(perftest_once "$@")
    case "$v" in
      [0-9]*) echo "$v"; return ;;
    esac
    echo "  perftest $1 gave '$v' (attempt $attempt)" >&2
  done
}

# remora_once OP: p50 of one `remora bench fabric` run (its own 2-node cluster).
remora_once() {
  timeout 300 ./remora --log-level warn bench fabric --config softroce-2.toml --op "$1" \
    --size 64 --iters "$ITERS" --warmup 500 --json >/tmp/remora.log 2>&1
  cat /tmp/remora.log >&2
  grep "\"op\":\"$1\"" /tmp/remora.log | sed -n 's/.*"p50_us":\([0-9.]*\).*/\1/p' | tail -n 1
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'; }

# The host is noisy: alternate remora and perftest per op, REPEAT times,
# and compare medians.
for op in read write cas; do eval "R_$op=''; P_$op=''"; done
for rep in $(seq 1 "$REPEAT"); do
  for spec in "read ib_read_lat 64 18515" "write ib_write_lat 64 18516" "cas ib_atomic_lat 8 18517"; do
    set -- $spec
    op=$1 tool=$2 size=$3 port=$4
    r=$(remora_once "$op")
    if [ "$op" = cas ]; then p=$(perftest "$tool" "$size" "$port" -A CMP_AND_SWAP); else p=$(perftest "$tool" "$size" "$port"); fi
    echo "SAMPLE rep=$rep op=$op remora_p50_us=${r:-none} perftest_p50_us=${p:-none}"
    if [ -z "$p" ] || [ -z "$r" ]; then failed=$((failed + 1)); continue; fi
    eval "R_$op=\"\$R_$op $r\"; P_$op=\"\$P_$op $p\""
  done
done
for spec in "read 64" "write 64" "cas 8"; do
  set -- $spec
  op=$1 size=$2
  r=$(eval "echo \$R_$op" | median)
  p=$(eval "echo \$P_$op" | median)
  if [ -z "$p" ] || [ -z "$r" ]; then echo "BENCH op=$op missing results"; failed=$((failed + 1)); continue; fi
  ratio=$(awk -v a="$r" -v b="$p" 'BEGIN { printf "%.2f", a / b }')
  echo "BENCH op=$op size=$size repeats=$REPEAT remora_p50_us=$r perftest_p50_us=$p ratio=$ratio"
  ok=$((ok + 1))
done
echo "SOFTROCE-RESULT passed=$ok failed=$failed skipped=0"
