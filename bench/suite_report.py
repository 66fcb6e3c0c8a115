#!/usr/bin/env python3
"""Summary of a bench/run.sh results directory (docs/benchmarks.md).

Usage: suite_report.py RESULTS_DIR [--publish DIR] [--no-plots]
Reads RESULTS_DIR/suite.jsonl, prints the summary table on stdout (app x
transport x coroutines: tx/s, p50, p99, abort rate; bank vs Redis at equal
client concurrency; remora vs raw UCX per fabric operation; DHT lookup vs
one raw read), writes RESULTS_DIR/summary.md and summary.json, and draws the
PNGs (bench/suite_plots.py). A step that is missing, skipped or failed shows
as "not measured" (with the reason). --publish copies summary.md and the
PNGs to DIR (e.g. docs/benchmarks) for the docs. Exit 0 unless the
directory has no suite.jsonl.
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import suite_tables  # noqa: E402


def load(path):
    """suite.jsonl as a list of dicts; unparsable lines are reported, skipped."""
    recs = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                recs.append(json.loads(line))
            except json.JSONDecodeError as e:
                print(f"suite_report: {path}:{n}: not JSON ({e}); skipped", file=sys.stderr)
    return recs


def header(meta, end):
    if not meta:
        return ["(no meta line: the suite's options are unknown)"]
    ucx = " ".join(meta.get("ucx") or []).replace("# ", "").strip() or "UCX ?"
    lines = [f"Run {meta.get('utc', '?')} on {meta.get('host', '?')} ({meta.get('cpus', '?')} CPUs, "
             f"kernel {meta.get('kernel', '?')}, {ucx}), git {meta.get('git', '?')}; "
             f"load average at start {' '.join(meta.get('loadavg', []))}.",
             f"{meta.get('nodes')} nodes x {meta.get('threads')} engine thread(s) on this machine; "
             f"{meta.get('duration_s')} s per run; coroutines per thread \"{meta.get('coroutines')}\"; "
             f"bank accounts {meta.get('accounts')} per node (hot set {meta.get('hot')}); "
             f"tatp subscribers {meta.get('subscribers') or 'app default'}; kv records "
             f"{meta.get('records') or 'app default'}" + ("; SMOKE run (tiny data)" if meta.get("smoke") else "") + "."]
    if end:
        lines.append(f"Suite time {end.get('elapsed_s')} s (estimate {meta.get('estimate_s')} s), "
                     f"{end.get('failed')} failed step(s); load average at the end {' '.join(end.get('loadavg', []))}.")
    return lines


PLOTS = [("latency_cdf_bank.png", "bank latency CDF"), ("latency_cdf_tatp.png", "TATP latency CDF"),
         ("latency_cdf_kv.png", "KV latency CDF"), ("throughput.png", "throughput vs coroutines"),
         ("bank_vs_redis.png", "SmallBank: remora vs Redis"), ("fabric.png", "remora vs raw UCX per operation")]


def write_markdown(path, head, sections, problems, plots):
    with open(path, "w") as f:
        f.write("# Benchmark suite summary\n\n" + "\n".join(head) + "\n")
        for title, table, note in sections:
            f.write(f"\n## {title}\n\n{table.markdown()}\n")
            if note:
                f.write(f"\n{note}\n")
        f.write("\n## Problems\n\n" + ("\n".join(f"- {p}" for p in problems) if problems else "none") + "\n")
        if plots:
            f.write("\n## Plots\n\n" + "\n".join(f"![{t}]({p})" for p, t in plots) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results_dir")
    ap.add_argument("--publish", help="copy summary.md and the PNGs here")
    ap.add_argument("--no-plots", action="store_true")
    a = ap.parse_args()
    suite_path = os.path.join(a.results_dir, "suite.jsonl")
    if not os.path.exists(suite_path):
        print(f"suite_report: no {suite_path} (run bench/run.sh first)", file=sys.stderr)
        sys.exit(2)
    recs = load(suite_path)
    metas = [r for r in recs if r.get("step") == "meta"]
    meta = next((m for m in reversed(metas) if m.get("phase") == "start"), {})
    end = next((m for m in reversed(metas) if m.get("phase") == "end"), {})
    data = suite_tables.Data(recs, meta)
    sections = suite_tables.sections(data)
    head = header(meta, end)
    print("\n".join(head))
    for title, table, note in sections:
        print(f"\n{title}\n{table.text()}")
        if note:
            print(note)
    problems = data.problems()
    print("\nProblems:\n" + ("\n".join(f"  - {p}" for p in problems) if problems else "  none"))

    plots = []
    if not a.no_plots:
        try:
            import suite_plots
            plots = [(p, t) for p, t in PLOTS if suite_plots.draw(p, data, os.path.join(a.results_dir, p))]
        except ImportError as e:
            print(f"suite_report: no plots ({e}; apt-get install python3-matplotlib)", file=sys.stderr)
    write_markdown(os.path.join(a.results_dir, "summary.md"), head, sections, problems, plots)
    with open(os.path.join(a.results_dir, "summary.json"), "w") as f:
        json.dump({"meta": meta, "end": end, **{t.key: t.as_json() for _, t, _ in sections},
                   "problems": problems, "plots": [p for p, _ in plots]}, f, indent=1)
    print(f"\nwrote {a.results_dir}/summary.md, summary.json and {len(plots)} PNG(s)")
    if a.publish:
        os.makedirs(a.publish, exist_ok=True)
        for name in ["summary.md"] + [p for p, _ in plots]:
            shutil.copy(os.path.join(a.results_dir, name), a.publish)
        print(f"copied summary.md and the plots to {a.publish}")


if __name__ == "__main__":
    main()
