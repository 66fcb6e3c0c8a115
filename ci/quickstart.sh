#!/usr/bin/env bash
# From a fresh checkout to a running local cluster: installs the packages
# (ci/install-deps.sh), builds the `remora` binary in build/, then starts
# the three nodes of configs/local-3.toml running the fabric workload for
# 5 seconds. Exits with the status of `remora up`.
#
# build/ is configured exactly as ci/test.sh configures it (same options),
# only fewer targets are built, so the two never fight over the tree.
# Env: REMORA_BUILD_DIR=D (default build), REMORA_SKIP_INSTALL=1,
#      REMORA_JOBS=N, CI=true (see ci/build.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir="${REMORA_BUILD_DIR:-build}"

say() { printf '\n[quickstart] %s\n' "$*"; }

say "1/3 checking and installing packages (ci/install-deps.sh)"
bash ci/install-deps.sh

say "2/3 building $dir/remora (first build: a few minutes)"
# Meson's configuration report goes to the log only; compile steps are shown.
log="$(mktemp -t remora-quickstart-build.XXXXXX.log)"
if ! REMORA_TARGETS=remora bash ci/build.sh "$dir" -Dtests=true 2>&1 | tee "$log" |
    grep --line-buffered -E '^\[build |^\[[0-9]+/[0-9]+\] |FAILED|\berror:'; then
  say "build failed; last lines of $log:"
  tail -n 40 "$log"
  exit 1
fi
rm -f "$log"

say "3/3 starting 3 local nodes (configs/local-3.toml), fabric workload for 5 s"
status=0
"$dir/remora" up --config configs/local-3.toml --workload fabric --duration 5 || status=$?
if [[ $status -eq 0 ]]; then
  say "done: all nodes ok. Next: $dir/remora --help, docs/ci.md, bench/compare_fabric.sh"
else
  say "remora up failed (exit $status); its output is above"
fi
exit "$status"
