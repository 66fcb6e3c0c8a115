#!/usr/bin/env bash
# Configures (or reconfigures) and builds one Meson build directory.
#
# Usage: ci/build.sh [BUILD_DIR] [extra meson args...]
#   BUILD_DIR defaults to "build" (relative to the repo root). An existing
#   tree is reconfigured with the given args (other options stay as they are).
# Env:
#   CI=true             -Dwerror=true (warnings are errors); otherwise
#                       -Dwerror=false, so a tree never keeps a stale setting
#   REMORA_JOBS=N       ninja parallelism (default: number of cores)
#   REMORA_TARGETS="t…" build only these ninja targets (default: everything)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="${1:-build}"
shift || true
extra=("$@")
if [[ "${CI:-}" == true ]]; then
  extra+=(-Dwerror=true)
else
  extra+=(-Dwerror=false)
fi
read -r -a targets <<<"${REMORA_TARGETS:-}"
jobs="${REMORA_JOBS:-$(nproc 2>/dev/null || echo 2)}"

log() { printf '[build %s] %s\n' "$dir" "$*"; }

setup() {
  if [[ -f "$dir/build.ninja" || -d "$dir/meson-private" ]]; then
    log "meson setup --reconfigure ${extra[*]:-}"
    meson setup --reconfigure "$dir" "${extra[@]}" && return 0
    # A reconfigure can fail after a meson upgrade or a broken tree; a fresh
    # setup is cheap compared to debugging a stale cache.
    log "reconfigure failed; wiping $dir and setting up again"
    rm -rf "$dir"
  fi
  log "meson setup ${extra[*]:-}"
  meson setup "$dir" "${extra[@]}"
}

start=$SECONDS
setup
log "ninja -j$jobs ${targets[*]:-}"
ninja -C "$dir" -j "$jobs" "${targets[@]}"
log "ok in $((SECONDS - start)) s"
