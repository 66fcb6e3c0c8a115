#!/usr/bin/env bash
# The CI entry point (.ci/run): installs dependencies, builds a normal tree
# (build/) and an ASan+UBSan tree (build-asan/), runs every gtest suite of
# both and every test/scripts/*_test.sh against both, and ends with exactly
# one summary line:
#   N passed, N failed, N skipped
# Exit status is non-zero if anything failed. A failed build counts as one
# failure and skips what needs it. How cases are counted: docs/ci.md.
#
# Env:
#   CI=true                 warnings are errors (-Dwerror=true, ci/build.sh)
#   REMORA_SKIP_INSTALL=1   don't run ci/install-deps.sh
#   REMORA_SKIP_ASAN=1      skip the sanitizer tree (quick developer runs)
#   REMORA_SKIP_SCRIPTS=1   skip test/scripts/*_test.sh
#   REMORA_SKIP_SOFTROCE=1  skip the Soft-RoCE VM suite (ci/softroce/run.sh,
#                           counted as one skip). Without it, a machine
#                           lacking qemu-system-x86_64 FAILS that step.
#   REMORA_BUILD_DIR=D      normal tree (default build)
#   REMORA_ASAN_DIR=D       sanitizer tree (default build-asan)
#   REMORA_SCRIPT_TIMEOUT=S per-script limit in seconds (default 300)
#   REMORA_TEST_OUT=DIR     gtest JSON and script logs (default: a new temp dir)
#   REMORA_JOBS=N           build parallelism (default: number of cores)
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()

log() { printf '\n=== %s\n' "$*"; }

# Adds "P F S" to the totals.
add_counts() {
  local p f s
  read -r p f s <<<"$1"
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); SKIPPED=$((SKIPPED + s))
}

# build_tree DIR [meson args...]; a failure counts once.
build_tree() {
  log "build $1"
  bash "$REPO/ci/build.sh" "$@" && return 0
  FAILED=$((FAILED + 1))
  FAILURES+=("build of $1")
  return 1
}

# run_gtests DIR TIMEOUT_MULTIPLIER: all meson tests of DIR (absolute),
# counted per case.
run_gtests() {
  local dir="$1" multiplier="$2" label
  label="$(basename "$dir")"
  local json_dir="$OUT/$label/gtest"
  rm -rf "$json_dir"; mkdir -p "$json_dir"
  rm -f "$dir/meson-logs/testlog.json"
  log "gtest suites of $dir"
  GTEST_OUTPUT="json:$json_dir/" meson test -C "$dir" --no-rebuild \
    --print-errorlogs --num-processes 1 --timeout-multiplier "$multiplier"
  local rc=$? counts
  counts="$(python3 "$REPO/ci/count_gtest.py" "$json_dir" \
    "$dir/meson-logs/testlog.json" "$label")" || counts="0 1 0"
  echo "[$label] meson test exit $rc; cases passed/failed/skipped: $counts"
  add_counts "$counts"
  [[ "$counts" =~ ^[0-9]+\ 0\  ]] || FAILURES+=("gtest suites of $dir")
}

# run_scripts DIR: every test/scripts/*_test.sh against DIR's remora;
# exit 0 passes, 77 skips, anything else (124: timeout) fails.
run_scripts() {
  local dir="$1" timeout_s="${REMORA_SCRIPT_TIMEOUT:-300}" script name rc logf label
  label="$(basename "$dir")"
  mkdir -p "$OUT/$label/scripts"
  for script in "$REPO"/test/scripts/*_test.sh; do
    [[ -e "$script" ]] || continue
    name="$(basename "$script" .sh)"
    logf="$OUT/$label/scripts/$name.log"
    log "script $name ($dir)"
    ( cd "$REPO" && REMORA_BUILD="$dir" timeout -k 10 "$timeout_s" bash "$script" ) \
      </dev/null >"$logf" 2>&1
    rc=$?
    case $rc in
      0)  PASSED=$((PASSED + 1)); echo "PASS $name: $(tail -n 1 "$logf")" ;;
      77) SKIPPED=$((SKIPPED + 1)); echo "SKIP $name: $(tail -n 1 "$logf")" ;;
      *)  FAILED=$((FAILED + 1)); FAILURES+=("script $name ($dir)")
          [[ $rc -eq 124 ]] && echo "TIMEOUT $name after ${timeout_s} s"
          echo "FAIL $name (exit $rc); last lines of $logf:"
          tail -n 60 "$logf" ;;
    esac
  done
}

# run_softroce DIR: the verbs suite inside a QEMU/TCG VM with Soft-RoCE
# (ci/softroce/run.sh), using DIR's binaries; its per-case counts (line
# "SOFTROCE-RESULT passed=N failed=M skipped=K") join the totals.
run_softroce() {
  local dir="$1" logf="$OUT/softroce.log" rc line p f s
  log "Soft-RoCE VM suite ($dir)"
  if [[ "${REMORA_SKIP_SOFTROCE:-0}" == 1 ]]; then
    echo "REMORA_SKIP_SOFTROCE=1: skipping the Soft-RoCE VM suite"
    SKIPPED=$((SKIPPED + 1)); return
  fi
  if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "FAIL: qemu-system-x86_64 not found; the verbs suite runs in a QEMU VM."
    echo "      Install qemu-system-x86 (ci/install-deps.sh) or set REMORA_SKIP_SOFTROCE=1."
    FAILED=$((FAILED + 1)); FAILURES+=("Soft-RoCE VM suite (no qemu)"); return
  fi
  bash "$REPO/ci/softroce/run.sh" --build "$dir" >"$logf" 2>&1
  rc=$?
  line="$(grep -a '^SOFTROCE-RESULT' "$logf" | tail -n 1)"
  if [[ "$line" =~ passed=([0-9]+)\ failed=([0-9]+)\ skipped=([0-9]+) ]]; then
    p="${BASH_REMATCH[1]}"; f="${BASH_REMATCH[2]}"; s="${BASH_REMATCH[3]}"
  else
    p=0; f=0; s=0
  fi
  [[ $rc -ne 0 && $f -eq 0 ]] && f=1  # boot failure, timeout, crash
  echo "[softroce] exit $rc; cases passed/failed/skipped: $p $f $s; $(grep -a 'VM finished' "$logf")"
  add_counts "$p $f $s"
  if [[ $f -ne 0 ]]; then
    FAILURES+=("Soft-RoCE VM suite"); echo "last lines of $logf:"; tail -n 60 "$logf"
  fi
}

# The sanitizer tree's environment: see docs/ci.md and ci/lsan.supp.
asan_env() {
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_odr_violation=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$REPO/ci/lsan.supp:print_suppressions=1"
  # UCX's malloc hooks and memory events patch the allocator ASan owns, and
  # UCX's own SIGSEGV handler would hide ASan's report.
  export UCX_MEM_MALLOC_HOOKS=no UCX_MEM_EVENTS=no UCX_HANDLE_ERRORS=none
}

finish() {
  [[ ${#FAILURES[@]} -eq 0 ]] || log "failures: ${FAILURES[*]}"
  echo "logs and gtest JSON: $OUT; total time $((SECONDS - START)) s"
  echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  [[ $FAILED -eq 0 ]] && exit 0
  exit 1
}

main() {
  START=$SECONDS
  cd "$REPO" || exit 1
  OUT="${REMORA_TEST_OUT:-$(mktemp -d -t remora-test.XXXXXX)}"
  mkdir -p "$OUT"
  local normal="${REMORA_BUILD_DIR:-build}" asan="${REMORA_ASAN_DIR:-build-asan}"
  [[ "$normal" == /* ]] || normal="$REPO/$normal"
  [[ "$asan" == /* ]] || asan="$REPO/$asan"

  log "dependencies"
  if ! bash ci/install-deps.sh; then
    FAILED=$((FAILED + 1)); FAILURES+=("dependency install")
    finish
  fi
  export UCX_WARN_UNUSED_ENV_VARS=n

  if build_tree "$normal" -Dtests=true; then
    run_gtests "$normal" 1
    [[ "${REMORA_SKIP_SCRIPTS:-0}" == 1 ]] || run_scripts "$normal"
    run_softroce "$normal"
  fi

  if [[ "${REMORA_SKIP_ASAN:-0}" == 1 ]]; then
    echo "REMORA_SKIP_ASAN=1: skipping the sanitizer tree"
    finish
  fi
  # debugoptimized (the project default): -O0 makes the time-bounded stress
  # tests several times slower under ASan without finding more.
  if build_tree "$asan" -Dtests=true -Db_sanitize=address,undefined -Db_lundef=false; then
    asan_env   # the sanitizer tree comes last: no need to restore the env
    run_gtests "$asan" 3
    [[ "${REMORA_SKIP_SCRIPTS:-0}" == 1 ]] || run_scripts "$asan"
  fi
  finish
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
