#!/usr/bin/env bash
# Boots a QEMU (TCG) VM with Soft-RoCE (rxe0) and runs a job inside it:
#   tests  (default) the verbs gtest suite plus `remora info`; prints
#          "SOFTROCE-RESULT passed=N failed=M skipped=K" and exits non-zero
#          on any failure, a missing result or a timeout
#   bench  `remora bench fabric` over verbs next to perftest (bench.sh)
# Usage: ci/softroce/run.sh [--build DIR] [--job tests|bench] [--timeout S]
# Env: REMORA_SOFTROCE_CACHE (kernel + base initramfs, default .cache/softroce),
#      REMORA_SOFTROCE_TIMEOUT (seconds for the whole VM, default 420),
#      REMORA_SOFTROCE_FILTER (gtest filter for the tests job),
#      REMORA_SOFTROCE_BENCH_ITERS (measured operations per op, bench job),
#      REMORA_SOFTROCE_BENCH_REPEAT (alternating runs per op, bench job).
# How it is built: ci/softroce/kernel.sh, ci/softroce/init.sh, docs/ci.md.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/ci/softroce"
source "$HERE/lib.sh"
CACHE="${REMORA_SOFTROCE_CACHE:-$REPO/.cache/softroce}"
BUILD="$REPO/build"
JOB=tests
TIMEOUT="${REMORA_SOFTROCE_TIMEOUT:-420}"

log() { printf '[softroce] %s\n' "$*" >&2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD="$(cd "$2" && pwd)"; shift 2 ;;
    --job) JOB="$2"; shift 2 ;;
    --timeout) TIMEOUT="$2"; shift 2 ;;
    *) log "unknown argument $1"; exit 2 ;;
  esac
done

command -v qemu-system-x86_64 >/dev/null ||
  { log "qemu-system-x86_64 not found (install qemu-system-x86: ci/install-deps.sh)"; exit 3; }


# The project's binaries and the job script, as a cpio appended to the base.
make_job_cpio() {
  local root="$1" out="$2"
  local test_bin="$BUILD/test/verbs_fabric_test" cli="$BUILD/remora"
  [[ -x "$test_bin" && -x "$cli" ]] ||
    { log "missing $test_bin or $cli: build with -Dtests=true first"; exit 4; }
  mkdir -p "$root/job"
  # The binaries go to /job (the VM mounts a tmpfs on /tmp, where a build
  # tree may live); their libraries keep their paths.
  copy_with_libs "$root" "$test_bin" "$cli"
  cp -L "$test_bin" "$root/job/verbs_fabric_test"
  cp -L "$cli" "$root/job/remora"
  rm -f "$root$test_bin" "$root$cli"
  sed -e "s|@FILTER@|${REMORA_SOFTROCE_FILTER:-*}|" -e "s|@ITERS@|${REMORA_SOFTROCE_BENCH_ITERS:-5000}|" \
    -e "s|@REPEAT@|${REMORA_SOFTROCE_BENCH_REPEAT:-3}|" \
    "$HERE/job-$JOB.sh" >"$root/job/run.sh"
  cp "$REPO/configs/softroce-2.toml" "$root/job/softroce-2.toml"
  # The bank app and the history checker: transactions over verbs.
  local app
  for app in "$BUILD/apps/bank" "$BUILD/tools/histcheck"; do
    [[ -x "$app" ]] || { log "missing $app: build everything first"; exit 4; }
    copy_with_libs "$root" "$app"
    cp -L "$app" "$root/job/$(basename "$app")"
    rm -f "$root$app"
  done
  chmod +x "$root/job/run.sh"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
}

main() {
  [[ -f "$HERE/job-$JOB.sh" ]] || { log "unknown job $JOB"; exit 2; }
  bash "$HERE/kernel.sh"
  local tmp; tmp="$(mktemp -d -t remora-softroce.XXXXXX)"
  trap 'rm -rf "$tmp"' EXIT
  make_job_cpio "$tmp/root" "$tmp/job.cpio.gz"
  cat "$CACHE/base.cpio.gz" "$tmp/job.cpio.gz" >"$tmp/initrd"
  local console="$tmp/console.log" start=$SECONDS rc=0
  log "booting VM (job $JOB, timeout ${TIMEOUT}s)"
  timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -machine q35 -accel tcg -cpu max -m 1536 -smp 2 \
    -nographic -no-reboot -kernel "$CACHE/vmlinux" -initrd "$tmp/initrd" \
    -append 'console=ttyS0 quiet panic=-1' -nic none </dev/null >"$console" 2>&1 || rc=$?
  tr -d '\r' <"$console" >"$tmp/console.txt"
  grep -v '^\[ *[0-9.]*\]' "$tmp/console.txt" | grep -v '^$' || true
  log "VM finished in $((SECONDS - start)) s (qemu exit $rc)"
  [[ $rc -eq 124 || $rc -eq 137 ]] && { log "TIMEOUT after ${TIMEOUT}s"; exit 1; }
  grep -q '^SOFTROCE-ERROR' "$tmp/console.txt" && { log "VM set-up failed"; exit 1; }
  local result
  result="$(grep -a '^SOFTROCE-RESULT' "$tmp/console.txt" | tail -n 1 || true)"
  [[ -n "$result" ]] || { log "no SOFTROCE-RESULT line on the console"; exit 1; }
  [[ "$result" =~ failed=0( |$) ]] || exit 1
  exit 0
}

main "$@"
