# Shared helpers for test/scripts/*_test.sh; source it, don't run it.
# Exit codes follow the automake convention ci/test.sh relies on:
# 0 pass, 77 skipped, anything else failed.
#
# Env:
#   REMORA_BUILD  build directory holding the remora binary (default build)
#   REMORA_BIN    the binary itself (default $REMORA_BUILD/remora); tests of
#                 the scripts may point it at a stand-in

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REMORA_BUILD="${REMORA_BUILD:-build}"
case "$REMORA_BUILD" in /*) ;; *) REMORA_BUILD="$REPO_ROOT/$REMORA_BUILD" ;; esac
REMORA_BIN="${REMORA_BIN:-$REMORA_BUILD/remora}"
export UCX_WARN_UNUSED_ENV_VARS=n

T_NAME="$(basename "$0" .sh)"
T_CHECKS=0

t_log() { printf '[%s] %s\n' "$T_NAME" "$*"; }
skip() { t_log "SKIP: $*"; exit 77; }
fail() { t_log "FAIL: $*"; exit 1; }
pass() { t_log "PASS ($T_CHECKS checks)"; exit 0; }

# Fails the whole script unless the remora binary exists.
require_remora() {
  [[ -x "$REMORA_BIN" ]] || fail "no remora binary at $REMORA_BIN (build it: ci/build.sh)"
}

# expect_rc WANT DESCRIPTION -- CMD...: runs CMD, output in $T_OUT. WANT is
# an exit code or "nonzero": a clean failure, 1..123; a timeout (124, 137)
# or a death by signal (>128) never counts as the expected failure.
expect_rc() {
  local want="$1" what="$2"; shift 3
  local rc=0
  T_OUT="$("$@" </dev/null 2>&1)" || rc=$?
  T_CHECKS=$((T_CHECKS + 1))
  no_sanitizer_report "$what"
  if [[ "$want" == nonzero ]]; then
    if [[ $rc -eq 0 || $rc -ge 124 ]]; then
      printf '%s\n' "$T_OUT" | tail -n 40
      fail "$what: expected a clean failure (exit 1..123), got exit $rc"
    fi
  elif [[ $rc -ne $want ]]; then
    printf '%s\n' "$T_OUT" | tail -n 40
    fail "$what: exit $rc, expected $want"
  fi
  t_log "ok: $what"
}

# expect_output REGEX DESCRIPTION: checks $T_OUT from the last expect_rc.
expect_output() {
  T_CHECKS=$((T_CHECKS + 1))
  if ! grep -Eq -- "$1" <<<"$T_OUT"; then
    printf '%s\n' "$T_OUT" | tail -n 40
    fail "$2: output does not match /$1/"
  fi
  t_log "ok: $2"
}

# json_check DESCRIPTION [ARGS...] <<'PY' ... PY
# Runs the Python program given on stdin with ARGS as sys.argv[1:] and $T_OUT
# (the last expect_rc's output) as its stdin; an exception fails the script.
json_check() {
  local what="$1" prog
  shift
  prog="$(cat)"
  T_CHECKS=$((T_CHECKS + 1))
  if ! python3 -c "$prog" "$@" <<<"$T_OUT"; then
    printf '%s\n' "$T_OUT" | tail -n 30
    fail "$what"
  fi
}

# Fails if $T_OUT holds an ASan/UBSan/LSan report: under build-asan/ a
# command that is expected to fail must still fail cleanly.
no_sanitizer_report() {
  if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error: |SUMMARY: UndefinedBehaviorSanitizer' \
      <<<"$T_OUT"; then
    printf '%s\n' "$T_OUT" | grep -E -A 30 'Sanitizer|runtime error' | head -n 60
    fail "$1: sanitizer report"
  fi
}
