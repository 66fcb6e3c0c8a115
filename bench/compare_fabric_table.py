#!/usr/bin/env python3
"""Table and summary lines for bench/compare_fabric.sh.

Usage: compare_fabric_table.py RUNS_JSONL OUT_JSONL
  RUNS_JSONL  one JSON line per run (raw_ucp or remora; fields of
              `remora bench fabric --json` plus config and repeat)
Prints the table (medians over repeats) on stdout and appends one
{"bench":"fabric_compare",...} line per (config, op, inflight) to OUT_JSONL.
Figures are per operation; with "batch" > 1 they are batch time / batch
(percentiles over batches).
"""
import json
import statistics
import sys


def median(runs, key):
    return statistics.median(r[key] for r in runs) if runs else None


def fmt(v, spec=".3f"):
    return "-" if v is None else format(v, spec)


def main():
    runs_path, out_path = sys.argv[1:3]
    groups = {}  # (config, op) -> impl -> [run]
    with open(runs_path) as f:
        for line in f:
            r = json.loads(line)
            key = (r["config"], r["op"], r.get("inflight", 1))
            groups.setdefault(key, {}).setdefault(r["impl"], []).append(r)
    head = (f"{'config':<26}{'tls':<10}{'op':<6}{'size':>5}{'k':>4}{'n':>3}{'raw p50':>10}"
            f"{'remora p50':>12}{'ratio':>7}{'raw p99':>10}{'remora p99':>12}")
    print(head)
    print("-" * len(head))
    with open(out_path, "a") as out:
        for (config, op, k), impls in groups.items():
            raw, rem = impls.get("raw_ucp", []), impls.get("remora", [])
            any_run = (raw or rem)[0]
            rp50, mp50 = median(raw, "p50_us"), median(rem, "p50_us")
            ratio = mp50 / rp50 if rp50 and mp50 is not None else None
            print(f"{config:<26}{any_run['tls'] or 'default':<10}{op:<6}{any_run['size']:>5}{k:>4}"
                  f"{min(len(raw), len(rem)):>3}{fmt(rp50, '.4f'):>10}{fmt(mp50, '.4f'):>12}{fmt(ratio, '.3f'):>7}"
                  f"{fmt(median(raw, 'p99_us'), '.4f'):>10}{fmt(median(rem, 'p99_us'), '.4f'):>12}")
            out.write(json.dumps({
                "bench": "fabric_compare", "config": config, "tls": any_run["tls"], "op": op,
                "size": any_run["size"], "inflight": k, "batch": any_run.get("batch", 1), "repeats_raw": len(raw), "repeats_remora": len(rem),
                "raw_p50_us": rp50, "remora_p50_us": mp50, "ratio_p50": ratio,
                "raw_p99_us": median(raw, "p99_us"), "remora_p99_us": median(rem, "p99_us"),
                "utc": any_run.get("utc")}) + "\n")
    print("(microseconds per operation; medians over repeats; ratio = remora p50 / raw p50; "
          "k = operations in flight; with batches, percentiles are over batches, per op)")


if __name__ == "__main__":
    main()
