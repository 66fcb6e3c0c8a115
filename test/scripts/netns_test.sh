#!/usr/bin/env bash
# Two Remora nodes in two network namespaces joined by a veth pair, talking
# UCX over TCP (forced: namespaces share /dev/shm, so UCX would otherwise
# pick shared memory). Both run `--workload check` and must succeed.
#
# Needs root and the right to create namespaces and veth pairs; skips (77)
# with the reason otherwise.
# Addresses are TEST-NET-1 (192.0.2.0/24) and exist only inside the two
# namespaces this script creates and removes.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ "$(id -u)" -eq 0 ]] || skip "needs root to create network namespaces"
command -v ip >/dev/null 2>&1 || skip "iproute2 (ip) is not installed"
require_remora

NS_A="remora-t$$-a"
NS_B="remora-t$$-b"
VETH_A="rmv$$a"   # interface names are limited to 15 characters
VETH_B="rmv$$b"
ADDR_A=192.0.2.1
ADDR_B=192.0.2.2
PORT=7500
WORK="$(mktemp -d -t remora-netns.XXXXXX)"
PIDS=()

cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for ns in "$NS_A" "$NS_B"; do
    # Anything still running inside our namespaces was started by us.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  ip netns del "$NS_A" 2>/dev/null   # removing a namespace removes its veth end
  ip netns del "$NS_B" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup_net() {
  ip netns add "$NS_A" && ip netns add "$NS_B" || return 1
  ip -n "$NS_A" link add "$VETH_A" type veth peer name "$VETH_B" netns "$NS_B" || return 1
  ip -n "$NS_A" addr add "$ADDR_A/24" dev "$VETH_A" || return 1
  ip -n "$NS_B" addr add "$ADDR_B/24" dev "$VETH_B" || return 1
  local ns
  for ns in "$NS_A" "$NS_B"; do
    ip -n "$ns" link set lo up || return 1
  done
  ip -n "$NS_A" link set "$VETH_A" up && ip -n "$NS_B" link set "$VETH_B" up || return 1
  # UCX lists only interfaces that are already running when a node starts: a
  # veth end just set up can lack its carrier for a moment, and a node would
  # then advertise nothing but `lo`.
  wait_running "$NS_A" "$VETH_A" && wait_running "$NS_B" "$VETH_B"
}

# wait_running NS DEV: up to 5 s for DEV to report LOWER_UP (carrier).
wait_running() {
  local i
  for ((i = 0; i < 50; i++)); do
    ip -n "$1" link show dev "$2" 2>/dev/null | grep -q 'LOWER_UP' && return 0
    sleep 0.1
  done
  t_log "$2 in $1 has no carrier after 5 s"
  return 1
}

write_config() {
  cat >"$WORK/netns.toml" <<CONF
# Written by test/scripts/netns_test.sh: one node per network namespace.
[cluster]
id = "netns"
transport = "ucx"
connect_timeout_ms = 20000

[ucx]
tls = "tcp"

[[node]]
id = 0
host = "$ADDR_A"
port = $PORT

[[node]]
id = 1
host = "$ADDR_B"
port = $PORT
CONF
}

# start_node NS ID: runs one node in the background, output in $WORK/node-ID.log.
start_node() {
  ip netns exec "$1" env UCX_TLS=tcp UCX_WARN_UNUSED_ENV_VARS=n \
    timeout -k 5 "${REMORA_NETNS_TIMEOUT:-120}" \
    "$REMORA_BIN" node --config "$WORK/netns.toml" --id "$2" --workload check \
    </dev/null >"$WORK/node-$2.log" 2>&1 &
  PIDS+=($!)
}

if ! setup_net 2>"$WORK/setup.err"; then
  skip "cannot create network namespaces or a veth pair here (no CAP_SYS_ADMIN/CAP_NET_ADMIN," \
    "or no veth support?): $(tr '\n' ' ' <"$WORK/setup.err")"
fi
t_log "namespaces $NS_A ($ADDR_A) and $NS_B ($ADDR_B) joined by $VETH_A/$VETH_B"
write_config
start_node "$NS_A" 0
start_node "$NS_B" 1

failed=0
for id in 0 1; do
  rc=0
  wait "${PIDS[$id]}" || rc=$?
  T_CHECKS=$((T_CHECKS + 1))
  T_OUT="$(cat "$WORK/node-$id.log")"
  no_sanitizer_report "node $id"
  # The result line must say ok, over tcp (not shared memory), with its peer.
  if [[ $rc -ne 0 ]] || ! grep '^{' "$WORK/node-$id.log" | grep '"ok":true' |
      grep '"transport":"ucx(tls=tcp)"' | grep -q '"peers":1,'; then
    [[ $rc -eq 124 ]] && t_log "node $id timed out"
    t_log "node $id failed (exit $rc); its output:"
    tail -n 60 "$WORK/node-$id.log"
    failed=1
  else
    t_log "ok: node $id: $(grep '"ok":true' "$WORK/node-$id.log" | tail -n 1)"
  fi
done
[[ $failed -eq 0 ]] || fail "check workload across namespaces"
pass
