#!/usr/bin/env bash
# Installs the Debian packages needed to build, test and benchmark Remora.
#
# Env:
#   REMORA_SKIP_INSTALL=1   do nothing (packages managed by hand)
#   REMORA_FORCE_INSTALL=1  run apt-get even if every package is present
# Output is quiet: apt's log goes to a file whose tail is shown on failure.
set -euo pipefail

PACKAGES=(
  build-essential g++ meson ninja-build pkg-config
  libucx-dev ucx-utils libboost-context-dev libcli11-dev
  libgtest-dev libgmock-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libbenchmark-dev libibverbs-dev librdmacm-dev rdma-core
  nlohmann-json3-dev iproute2 python3 python3-matplotlib procps
  redis-server libhiredis-dev  # the Redis comparator (bench/redis_bank.sh)
  # Soft-RoCE VM suite (ci/softroce): QEMU, a static busybox, rdma tools.
  qemu-system-x86 busybox-static perftest ibverbs-utils ibverbs-providers
  kmod cpio xz-utils
)

log() { printf '[install-deps] %s\n' "$*"; }

if [[ "${REMORA_SKIP_INSTALL:-0}" == 1 ]]; then
  log "REMORA_SKIP_INSTALL=1: skipping package installation"
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  # "install ok installed" is the only state that means the package is usable.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 && "${REMORA_FORCE_INSTALL:-0}" != 1 ]]; then
  log "all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
log "installing: ${missing[*]:-${PACKAGES[*]}}"

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    log "not root and sudo is not available."
    log "Run as root, or install these packages yourself and set REMORA_SKIP_INSTALL=1:"
    log "  ${missing[*]}"
    exit 1
  fi
fi

logfile="$(mktemp -t remora-install-deps.XXXXXX.log)"
run_quiet() {
  if ! "$@" >>"$logfile" 2>&1; then
    log "FAILED: $*"
    log "last lines of $logfile:"
    tail -n 30 "$logfile" >&2
    exit 1
  fi
}

export DEBIAN_FRONTEND=noninteractive
run_quiet "${SUDO[@]}" apt-get update
run_quiet "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${PACKAGES[@]}"
rm -f "$logfile"
log "done"
