#!/usr/bin/env python3
"""Counts the gtest cases of one `meson test` run for ci/test.sh.

Usage: count_gtest.py JSON_DIR TESTLOG LABEL
  JSON_DIR  where the suites wrote GTEST_OUTPUT=json:JSON_DIR/ (one
            <binary>.json per suite)
  TESTLOG   meson's meson-logs/testlog.json of the same run
  LABEL     prefix for the messages on stderr

Prints one line "passed failed skipped" on stdout.

Rules:
- Every test case in the JSON files counts once: failed if it has failures,
  skipped if GTEST_SKIP()ed, passed otherwise. Disabled or filtered-out
  cases (status NOTRUN) do not count.
- A suite that meson reports as failed (non-zero exit, timeout, crash,
  sanitizer report at exit) without any failed case in its JSON adds one
  failure of its own, so a crash or a leak report is never a pass.
- A meson test with no JSON file (not a gtest binary, or it died before
  writing one) that did not fail counts once as passed (or skipped).
- An unreadable or missing meson log is one failure.
"""
import json
import os
import sys

BAD = {"FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"}


def count_json(json_dir, label):
    """Returns (passed, failed, skipped, {binary: failed cases})."""
    passed = failed = skipped = 0
    per_binary = {}
    names = sorted(os.listdir(json_dir)) if os.path.isdir(json_dir) else []
    for fn in names:
        if not fn.endswith(".json"):
            continue
        binary = fn[: -len(".json")]
        try:
            with open(os.path.join(json_dir, fn)) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print(f"[{label}] {fn}: unreadable gtest JSON ({e})", file=sys.stderr)
            continue
        nfail = 0
        for suite in doc.get("testsuites", []):
            for case in suite.get("testsuite", []):
                if case.get("status") == "NOTRUN":
                    continue
                if case.get("failures"):
                    failed += 1
                    nfail += 1
                    print(f"[{label}] FAILED {binary}: {suite.get('name')}.{case.get('name')}",
                          file=sys.stderr)
                elif case.get("result") == "SKIPPED":
                    skipped += 1
                else:
                    passed += 1
        per_binary[binary] = nfail
    return passed, failed, skipped, per_binary


def read_testlog(path, label):
    """Returns the list of meson test results, or None if the log is unusable."""
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"[{label}] no usable meson test log {path} ({e})", file=sys.stderr)
        return None


def binary_of(result):
    cmd = result.get("command") or []
    if cmd:
        return os.path.basename(cmd[0])
    return result.get("name", "?").split(":")[-1].strip()


def main():
    json_dir, testlog, label = sys.argv[1:4]
    passed, failed, skipped, per_binary = count_json(json_dir, label)
    results = read_testlog(testlog, label)
    if results is None:
        failed += 1
        results = []
    for r in results:
        binary, res = binary_of(r), r.get("result", "ERROR")
        if res in BAD and per_binary.get(binary, 0) == 0:
            failed += 1
            print(f"[{label}] FAILED {binary}: meson result {res} (exit {r.get('returncode')}) "
                  "without a failed test case: crash, timeout or sanitizer report",
                  file=sys.stderr)
        elif binary not in per_binary and res not in BAD:
            if res == "SKIP":
                skipped += 1
            else:
                passed += 1
    print(passed, failed, skipped)


if __name__ == "__main__":
    main()
