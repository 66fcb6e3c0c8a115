#!/usr/bin/env bash
# From a fresh checkout to a running local cluster: installs the packages
# (ci/install-deps.sh), builds `remora` and the bank app in build/, then
# runs SmallBank (apps/bank) on the three nodes of configs/local-3.toml for
# 10 seconds: transactions on every node, the money invariant checked at the
# end and every replica compared with its primary. Exits with the bank's
# status.
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

say "2/3 building $dir/remora and $dir/apps/bank (first build: a few minutes)"
# Meson's configuration report goes to the log only; compile steps are shown.
log="$(mktemp -t remora-quickstart-build.XXXXXX.log)"
if ! REMORA_TARGETS="remora apps/bank" bash ci/build.sh "$dir" -Dtests=true 2>&1 | tee "$log" |
    grep --line-buffered -E '^\[build |^\[[0-9]+/[0-9]+\] |FAILED|\berror:'; then
  say "build failed; last lines of $log:"
  tail -n 40 "$log"
  exit 1
fi
rm -f "$log"

say "3/3 SmallBank on 3 local nodes (configs/local-3.toml) for 10 s"
status=0
"$dir/apps/bank" --config configs/local-3.toml --duration 10 --coroutines 8 || status=$?
if [[ $status -eq 0 ]]; then
  say "done: all nodes ok. Next: $dir/apps/bank --help, docs/transactions.md, $dir/remora --help"
else
  say "bank failed (exit $status); its output is above"
fi
exit "$status"
