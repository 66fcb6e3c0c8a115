#!/bin/sh
# Runs inside the Soft-RoCE VM (see init.sh): the device inventory, then the
# verbs gtest suite, counted per case from gtest's per-test lines, and two
# checks of the binary: `remora info` lists rxe0 with its MTU and GIDs, and
# `remora up --workload check` passes on configs/softroce-2.toml; and the
# bank app (transactions, money invariant, replicas) over verbs, whose
# history must pass histcheck.
cd /job || exit 1
extra_pass=0
extra_fail=0
check() {  # check NAME COMMAND...: one counted case
  if "$@"; then echo "[softroce] PASS $1"; extra_pass=$((extra_pass + 1));
  else echo "[softroce] FAIL $1"; extra_fail=$((extra_fail + 1)); fi
}
info_lists_rxe0() {
  ./remora info >/tmp/info.log 2>&1 || return 1
  sed -n '/RDMA/,$p' /tmp/info.log
  grep -q 'RDMA device rxe0' /tmp/info.log && grep -q 'port 1: active, Ethernet, active MTU 4096' /tmp/info.log &&
    grep -q "gid $SOFTROCE_GID_INDEX: 0000:0000:0000:0000:0000:ffff:0a0b:0c01" /tmp/info.log
}
up_check_workload() {
  timeout 120 ./remora --log-level warn up --config softroce-2.toml --workload check --timeout 90 >/tmp/up.log 2>&1
  rc=$?
  tail -n 8 /tmp/up.log
  [ $rc -eq 0 ]
}
bank_over_verbs() {  # SmallBank on 2 nodes over rxe0, contended, then histcheck
  rm -rf /tmp/hist
  timeout 200 ./bank --config softroce-2.toml --accounts 100 --hot 4 --coroutines 2 --max-txns 15 \
    --duration 120 --history /tmp/hist >/tmp/bank.log 2>&1
  rc=$?
  grep '^\[bank\]' /tmp/bank.log | tail -n 6
  [ $rc -eq 0 ] || { tail -n 20 /tmp/bank.log; return 1; }
  timeout 60 ./histcheck /tmp/hist
}
echo "--- remora info"
check info_lists_rxe0
echo "--- remora up --workload check"
check up_check_workload
echo "--- bank over verbs + histcheck"
check bank_over_verbs
echo "--- verbs_fabric_test"
REMORA_VERBS_DEVICE=rxe0 timeout 180 ./verbs_fabric_test --gtest_filter='@FILTER@' >/tmp/gtest.log 2>&1
rc=$?
cat /tmp/gtest.log
passed=$(grep -c '^\[       OK \] .* ms)$' /tmp/gtest.log)
failed=$(grep -c '^\[  FAILED  \] .* ms)$' /tmp/gtest.log)
skipped=$(grep -c '^\[  SKIPPED \] .* ms)$' /tmp/gtest.log)
# A crash or timeout leaves no summary: count it as one failure.
if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ $passed -eq 0 ] && [ $failed -eq 0 ]; then failed=1; fi
echo "SOFTROCE-RESULT passed=$((passed + extra_pass)) failed=$((failed + extra_fail)) skipped=$skipped"
