#!/bin/sh
# Runs inside the Soft-RoCE VM (see init.sh): the device inventory, then the
# verbs gtest suite, counted per case from gtest's per-test lines.
cd /job || exit 1
echo "--- remora info"
./remora info 2>&1 | sed -n '/[Rr][Dd][Mm][Aa]/,$p'
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
echo "SOFTROCE-RESULT passed=$passed failed=$failed skipped=$skipped"
