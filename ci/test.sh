#!/usr/bin/env bash
# The CI entry point: installs dependencies, builds a normal and an
# ASan/UBSan tree, runs every gtest suite of both and every
# test/scripts/*_test.sh, and ends with exactly one summary line:
#   N passed, N failed, N skipped
# Exit status is non-zero if anything failed (a failed build counts as one
# failure and skips the tests that need it).
#
# Env:
#   REMORA_SKIP_INSTALL=1   don't run ci/install-deps.sh
#   REMORA_SKIP_ASAN=1      skip the build-asan/ tree (quick developer runs)
#   REMORA_SKIP_SCRIPTS=1   skip test/scripts/*_test.sh
#   REMORA_SCRIPT_TIMEOUT=S per-script timeout in seconds (default 300)
#   REMORA_TEST_OUT=DIR     where gtest JSON and script logs go (default: mktemp)
#   CI=true                 builds with -Dwerror=true (see ci/build.sh)
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()

log() { printf '\n=== %s\n' "$*"; }

# Adds "P F S" (as printed by count_gtest) to the totals.
add_counts() {
  local p f s
  read -r p f s <<<"$1"
  PASSED=$((PASSED + p)); FAILED=$((FAILED + f)); SKIPPED=$((SKIPPED + s))
}

# count_gtest JSON_DIR TESTLOG LABEL
# Prints "passed failed skipped" over every test case in the gtest JSON files
# of JSON_DIR. A suite that meson reports as failed (crash, timeout, leak
# report at exit, sanitizer abort) but whose JSON shows no failed case adds
# one failure of its own, so a crash is never counted as a pass. Failing
# names go to stderr.
count_gtest() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, os, sys

json_dir, testlog, label = sys.argv[1:4]
passed = failed = skipped = 0
suite_failed = {}  # gtest binary name -> number of failed cases

for fn in sorted(os.listdir(json_dir)) if os.path.isdir(json_dir) else []:
    if not fn.endswith(".json"):
        continue
    name = fn[:-len(".json")]
    try:
        with open(os.path.join(json_dir, fn)) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"[{label}] {fn}: unreadable gtest JSON ({e})", file=sys.stderr)
        continue
    nfail = 0
    for suite in doc.get("testsuites", []):
        for case in suite.get("testsuite", []):
            if case.get("status") == "NOTRUN":   # disabled or filtered out
                continue
            full = f"{suite.get('name')}.{case.get('name')}"
            if case.get("failures"):
                failed += 1
                nfail += 1
                print(f"[{label}] FAILED {name}: {full}", file=sys.stderr)
            elif case.get("result") == "SKIPPED":
                skipped += 1
            else:
                passed += 1
    suite_failed[name] = nfail

results = []
try:
    with open(testlog) as f:
        for line in f:
            line = line.strip()
            if line:
                results.append(json.loads(line))
except (OSError, ValueError) as e:
    print(f"[{label}] no usable meson test log ({e})", file=sys.stderr)
    failed += 1

BAD = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"}
for r in results:
    name = r.get("name", "?").split(":")[-1].strip()
    res = r.get("result", "ERROR")
    if res in BAD and suite_failed.get(name, 0) == 0:
        failed += 1
        print(f"[{label}] FAILED {name}: suite exited with {res} "
              f"(rc {r.get('returncode')}) without a failed test case "
              "(crash, timeout or sanitizer report)", file=sys.stderr)
    elif name not in suite_failed:
        # Not a gtest binary (or it died before writing JSON): count it whole.
        if res == "SKIP":
            skipped += 1
        elif res in ("OK", "EXPECTEDFAIL"):
            passed += 1
print(passed, failed, skipped)
PY
}

# build_tree DIR [meson args...]; returns non-zero on failure.
build_tree() {
  local dir="$1"
  log "build $dir"
  if bash "$REPO/ci/build.sh" "$@"; then
    return 0
  fi
  FAILED=$((FAILED + 1))
  FAILURES+=("build of $dir")
  return 1
}

# run_gtests DIR LABEL: runs all meson tests of DIR and adds their counts.
run_gtests() {
  local dir="$1" label="$2" multiplier="${3:-1}"
  local json_dir="$OUT/$label"
  rm -rf "$json_dir"; mkdir -p "$json_dir"
  rm -f "$REPO/$dir/meson-logs/testlog.json"
  log "gtest suites of $dir"
  GTEST_OUTPUT="json:$json_dir/" meson test -C "$REPO/$dir" --no-rebuild \
    --print-errorlogs --num-processes 1 --timeout-multiplier "$multiplier"
  local rc=$? counts
  counts="$(count_gtest "$json_dir" "$REPO/$dir/meson-logs/testlog.json" "$label")" || counts="0 1 0"
  echo "[$label] meson test rc=$rc; cases passed/failed/skipped: $counts"
  add_counts "$counts"
  [[ "$counts" =~ ^[0-9]+\ 0\  ]] || FAILURES+=("gtest suites of $dir")
}

# run_scripts: every test/scripts/*_test.sh; exit 0 pass, 77 skip, else fail.
run_scripts() {
  local timeout_s="${REMORA_SCRIPT_TIMEOUT:-300}" script name rc
  mkdir -p "$OUT/scripts"
  for script in "$REPO"/test/scripts/*_test.sh; do
    [[ -e "$script" ]] || continue
    name="$(basename "$script" .sh)"
    log "script $name"
    ( cd "$REPO" && REMORA_BUILD="${REMORA_BUILD:-build}" \
        timeout -k 10 "$timeout_s" bash "$script" ) </dev/null >"$OUT/scripts/$name.log" 2>&1
    rc=$?
    case $rc in
      0)  PASSED=$((PASSED + 1)); echo "PASS $name" ;;
      77) SKIPPED=$((SKIPPED + 1)); echo "SKIP $name: $(tail -n 1 "$OUT/scripts/$name.log")" ;;
      *)  FAILED=$((FAILED + 1)); FAILURES+=("script $name")
          [[ $rc -eq 124 ]] && echo "TIMEOUT $name after ${timeout_s}s"
          echo "FAIL $name (rc $rc); last lines of its log:"
          tail -n 100 "$OUT/scripts/$name.log" ;;
    esac
  done
}

finish() {
  if [[ ${#FAILURES[@]} -gt 0 ]]; then
    log "failures: ${FAILURES[*]}"
  fi
  echo "logs and gtest JSON: $OUT"
  echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  [[ $FAILED -eq 0 ]]
  exit
}

main() {
  cd "$REPO" || exit 1
  OUT="${REMORA_TEST_OUT:-$(mktemp -d -t remora-test.XXXXXX)}"
  mkdir -p "$OUT"
  local start=$SECONDS

  log "dependencies"
  if ! bash ci/install-deps.sh; then
    FAILED=$((FAILED + 1)); FAILURES+=("dependency install")
    finish
  fi

  export UCX_WARN_UNUSED_ENV_VARS=n
  if build_tree build; then
    run_gtests build build 1
    [[ "${REMORA_SKIP_SCRIPTS:-0}" == 1 ]] || run_scripts
  fi

  if [[ "${REMORA_SKIP_ASAN:-0}" != 1 ]]; then
    if build_tree build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug; then
      # UCX's malloc hooks and memory events fight the ASan allocator.
      local supp=""
      [[ -f ci/lsan.supp ]] && supp="suppressions=$REPO/ci/lsan.supp:print_suppressions=0"
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      LSAN_OPTIONS="$supp" \
      UCX_MEM_MALLOC_HOOKS=no UCX_MEM_EVENTS=no \
        run_gtests build-asan build-asan 3
    fi
  else
    echo "REMORA_SKIP_ASAN=1: skipping build-asan/"
  fi
  echo "total time $((SECONDS - start)) s"
  finish
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
