#!/usr/bin/env python3
"""Records and reports the runs of bench/wakeups.sh (issue #11: doorbells
against naps, on the same machine in one run).

Usage:
  wakeups_report.py record --jsonl F --kind bank|tatp|kv|redis --transport T
      --nodes N --coroutines C --mode wakeups|no-wakeups --repeat R
      [--workload W] [--clients "3 12"] --rc RC --wall S --stdout F
      --stderr F --cmd "..."
    Appends every JSON line of --stdout to --jsonl, annotated; a failed run
    becomes one line with "ok": false, "error" and the tail of stderr.
    Prints a one-line verdict; exit 0 if the run passed.
  wakeups_report.py idle --jsonl F --mode M --seconds S --hz HZ
      --node ID:PID:T0:T1 ... [--launcher T0:T1] [--error TEXT]
    One line per node of an idle cluster: CPU % of one core over S seconds
    from utime+stime ticks (T0 before, T1 after).
  wakeups_report.py report DIR
    The table (stdout, and DIR/summary.md), DIR/summary.json and
    DIR/wakeups.png from DIR/wakeups.jsonl; medians over repeats.
"""
import argparse
import json
import os
import statistics
import sys
import time

import suite_record  # bench/, next to this script

RUN_KEYS = ("kind", "transport", "nodes", "coroutines", "mode", "workload")


# The suite's readers: JSON lines of a file (non-JSON lines skipped) and a
# file's last lines, for error reports.
json_lines = suite_record.parse_lines
tail = suite_record.tail


def append(path, objs):
    with open(path, "a") as f:
        for o in objs:
            f.write(json.dumps(o) + "\n")


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---------------------------------------------------------------- record

def cmd_record(a):
    base = {"bench": "wakeups", "kind": a.kind, "transport": a.transport, "nodes": a.nodes,
            "mode": a.mode, "repeat": a.repeat, "workload": a.workload or None, "utc": now()}
    lines = json_lines(a.stdout)
    err = f"timed out after {a.timeout} s" if a.rc in (124, 137) else (f"exit {a.rc}" if a.rc else "")
    out, ok = [], True
    if a.kind == "redis":
        clients = [int(c) for c in a.clients.split()]
        seen = {}
        for j in lines:
            c = int(j.get("clients", 0))
            seen[c] = j
            good = bool(j.get("invariant", {}).get("ok", False)) and a.rc == 0
            out.append({**j, **base, "coroutines": c // a.nodes, "clients": c, "cluster": True, "ok": good,
                        "wall_s": a.wall})
            ok &= good
        for c in clients:
            if c not in seen:
                ok = False
                out.append({**base, "coroutines": c // a.nodes, "clients": c, "cluster": True, "ok": False,
                            "error": err or "no JSON line", "stderr_tail": tail(a.stderr), "cmd": a.cmd})
        msg = ", ".join(f"{c} clients {seen[c]['tx_per_s']:,.0f} tx/s" for c in clients if c in seen)
    else:
        cluster = None
        for j in lines:
            row = {**j, **base, "coroutines": a.coroutines}
            if "transport" in j:
                row["backend"] = j["transport"]
                row["transport"] = a.transport
            if j.get("cluster"):
                row["ok"] = bool(j.get("ok", False)) and a.rc == 0
                row.update(wall_s=a.wall, cmd=a.cmd)
                if not row["ok"]:
                    row["error"] = err or "the app reported ok=false"
                    row["stderr_tail"] = tail(a.stderr)
                cluster = row
            out.append(row)
        if cluster is None:
            out.append({**base, "coroutines": a.coroutines, "cluster": True, "ok": False,
                        "error": err or "no cluster line", "stderr_tail": tail(a.stderr), "wall_s": a.wall,
                        "cmd": a.cmd})
            ok, msg = False, ""
        else:
            node_wake(cluster, [j for j in out if "node" in j and not j.get("cluster")])
            ok = cluster["ok"]
            w = cluster.get("wakeups", {})
            msg = (f"{cluster['tx_per_s']:,.0f} tx/s, p50 {cluster.get('latency_p50_us', 0):.1f} us, "
                   f"p99 {cluster.get('latency_p99_us', 0):.1f} us, sleeps {w.get('sleeps', 0):,}, "
                   f"doorbells {w.get('doorbells_rung', 0):,}")
    append(a.jsonl, out)
    print(("ok: " + msg) if ok else f"FAILED ({err or 'not ok'}){': ' + msg if msg else ''}")
    return 0 if ok else 1


def node_wake(cluster, nodes):
    """The cluster line gets the nodes' wake-up counters summed."""
    ws = [n["wakeups"] for n in nodes if isinstance(n.get("wakeups"), dict)]
    if ws:
        cluster["wakeups"] = {"sleeps": sum(w.get("sleeps", 0) for w in ws),
                              "doorbells_rung": sum(w.get("doorbells_rung", 0) for w in ws),
                              "event_driven": all(w.get("event_driven", False) for w in ws)}


def cmd_idle(a):
    out, ok = [], not a.error
    for spec in a.node:
        nid, pid, t0, t1 = spec.split(":")
        cpu = (int(t1) - int(t0)) / a.hz / a.seconds * 100
        out.append({"bench": "wakeups", "kind": "idle", "transport": "shm", "nodes": len(a.node), "mode": a.mode,
                    "repeat": a.repeat, "node": int(nid), "pid": int(pid), "seconds": a.seconds,
                    "cpu_s": (int(t1) - int(t0)) / a.hz, "cpu_pct": round(cpu, 3), "utc": now()})
    row = {"bench": "wakeups", "kind": "idle", "transport": "shm", "nodes": len(a.node), "mode": a.mode,
           "repeat": a.repeat, "cluster": True, "ok": ok and len(a.node) > 0, "seconds": a.seconds, "utc": now()}
    if out:
        row["cpu_pct_per_node"] = [o["cpu_pct"] for o in out]
        row["cpu_pct_max"] = max(row["cpu_pct_per_node"])
        row["cpu_pct_mean"] = round(statistics.mean(row["cpu_pct_per_node"]), 3)
    if a.launcher:
        t0, t1 = a.launcher.split(":")
        row["launcher_cpu_pct"] = round((int(t1) - int(t0)) / a.hz / a.seconds * 100, 3)
    if a.error or not out:
        row["error"] = a.error or "no node processes"
        row["ok"] = False
    append(a.jsonl, out + [row])
    if row["ok"]:
        print("ok: " + ", ".join(f"node {o['node']} {o['cpu_pct']:.2f}%" for o in out) +
              (f"; remora up {row['launcher_cpu_pct']:.2f}%" if "launcher_cpu_pct" in row else "") +
              " of one core")
    else:
        print(f"FAILED: {row['error']}")
    return 0 if row["ok"] else 1


# ---------------------------------------------------------------- report

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def sp(j, k):
    s = j.get("send_payment") or j.get("types", {}).get("send_payment") or {}
    return s.get(k)


METRICS = {
    "tx_per_s": lambda j: j.get("tx_per_s"),
    "p50_us": lambda j: j.get("latency_p50_us"),
    "p99_us": lambda j: j.get("latency_p99_us"),
    "transfer_p50_us": lambda j: sp(j, "p50_us"),
    "transfer_p99_us": lambda j: sp(j, "p99_us"),
    "abort_rate": lambda j: j.get("abort_rate"),
    "sleeps": lambda j: j.get("wakeups", {}).get("sleeps"),
    "doorbells": lambda j: j.get("wakeups", {}).get("doorbells_rung"),
    "cpu_pct_max": lambda j: j.get("cpu_pct_max"),
    "cpu_pct_mean": lambda j: j.get("cpu_pct_mean"),
    "launcher_cpu_pct": lambda j: j.get("launcher_cpu_pct"),
}


def aggregate(lines):
    """One row per run key: medians over the repeats that passed."""
    groups = {}
    for j in lines:
        if not j.get("cluster") or j.get("bench") != "wakeups":
            continue
        key = tuple(j.get(k) for k in RUN_KEYS)
        groups.setdefault(key, []).append(j)
    rows = []
    for key, js in groups.items():
        good = [j for j in js if j.get("ok")]
        row = dict(zip(RUN_KEYS, key))
        row.update(runs=len(js), passed=len(good))
        for m, f in METRICS.items():
            v = med([f(j) for j in good])
            if v is not None:
                row[m] = v
        if any(j.get("wakeups", {}).get("event_driven") is not None for j in good):
            row["event_driven"] = all(j.get("wakeups", {}).get("event_driven") for j in good)
        if key[0] == "idle" and good:
            per = [j.get("cpu_pct_per_node", []) for j in good]
            row["cpu_pct_per_node"] = [med(list(v)) for v in zip(*per)]
        rows.append(row)
    return rows


def find(rows, **kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def fmt(v, spec=",.0f", none="—"):
    return none if v is None else format(v, spec)


def ratio(a, b):
    return a / b if a is not None and b else None


def bank_rows(rows):
    """SmallBank rows of the summary: one per transport, coroutines and mode,
    with the Redis row at equal concurrency and the 2-node row at equal
    total coroutines."""
    out = []
    bank = sorted((r for r in rows if r["kind"] == "bank" and r["nodes"] != 2),
                  key=lambda r: (r["transport"], r["coroutines"], r["mode"] != "wakeups"))
    for r in bank:
        total = r["nodes"] * r["coroutines"]
        redis = find(rows, kind="redis", coroutines=r["coroutines"])
        two = next((x for x in rows if x["kind"] == "bank" and x["nodes"] == 2 and x["transport"] == r["transport"]
                    and x["mode"] == r["mode"] and 2 * x["coroutines"] == total), None)
        other = find(rows, kind="bank", nodes=r["nodes"], transport=r["transport"], coroutines=r["coroutines"],
                     mode="no-wakeups" if r["mode"] == "wakeups" else "wakeups")
        o = {k: r.get(k) for k in ("transport", "nodes", "coroutines", "mode", "runs", "passed", "tx_per_s",
                                   "transfer_p50_us", "transfer_p99_us", "p50_us", "p99_us", "abort_rate",
                                   "sleeps", "doorbells", "event_driven")}
        o["total_coroutines"] = total
        o["redis_clients"] = total if redis else None
        o["redis_tx_per_s"] = redis.get("tx_per_s") if redis else None
        o["x_redis"] = ratio(r.get("tx_per_s"), o["redis_tx_per_s"])
        o["two_node_tx_per_s"] = two.get("tx_per_s") if two else None
        o["of_two_node"] = ratio(r.get("tx_per_s"), o["two_node_tx_per_s"])
        if r["mode"] == "wakeups" and other:
            o["x_no_wakeups"] = ratio(r.get("tx_per_s"), other.get("tx_per_s"))
        out.append(o)
    return out


def md_table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def us(v):
    return fmt(v, ".1f")


def x(v):
    return "—" if v is None else f"×{v:.2f}"


def tables(rows, bank, lines):
    parts = []
    parts.append("## SmallBank (bank app), tx/s and latency per committed transaction\n")
    parts.append(md_table(
        ["transport", "nodes", "cor/node", "mode", "tx/s", "transfer p50 µs", "transfer p99 µs", "p50 µs",
         "p99 µs", "abort", "Redis tx/s (clients)", "/Redis", "/no-wakeups", "2-node tx/s (cor/node)",
         "/2-node", "sleeps", "doorbells"],
        [[b["transport"], b["nodes"], b["coroutines"], b["mode"] + ("" if b["passed"] == b["runs"] else
                                                                      f" ({b['runs'] - b['passed']} failed)"),
          fmt(b["tx_per_s"]), us(b["transfer_p50_us"]), us(b["transfer_p99_us"]), us(b["p50_us"]),
          us(b["p99_us"]), fmt(b["abort_rate"], ".1%"),
          f"{fmt(b['redis_tx_per_s'])} ({b['redis_clients']})" if b["redis_tx_per_s"] is not None else "—",
          x(b["x_redis"]), x(b.get("x_no_wakeups")),
          f"{fmt(b['two_node_tx_per_s'])} ({b['total_coroutines'] // 2})"
          if b["two_node_tx_per_s"] is not None else "—",
          x(b["of_two_node"]), fmt(b["sleeps"]), fmt(b["doorbells"])] for b in bank]))
    two = sorted((r for r in rows if r["kind"] == "bank" and r["nodes"] == 2), key=lambda r: r["coroutines"])
    if two:
        parts.append("\n2-node bank (shm, equal total coroutines):\n")
        parts.append(md_table(["cor/node", "total", "mode", "tx/s", "transfer p50 µs", "transfer p99 µs", "p50 µs",
                               "p99 µs"],
                              [[r["coroutines"], 2 * r["coroutines"], r["mode"], fmt(r.get("tx_per_s")),
                                us(r.get("transfer_p50_us")), us(r.get("transfer_p99_us")), us(r.get("p50_us")),
                                us(r.get("p99_us"))] for r in two]))
    redis = sorted((r for r in rows if r["kind"] == "redis"), key=lambda r: r["coroutines"])
    if redis:
        parts.append("\nRedis SmallBank (WATCH/MULTI/EXEC, loopback), clients = 3 × coroutines:\n")
        parts.append(md_table(["clients", "tx/s", "transfer p50 µs", "transfer p99 µs", "p50 µs", "p99 µs"],
                              [[3 * r["coroutines"], fmt(r.get("tx_per_s")), us(r.get("transfer_p50_us")),
                                us(r.get("transfer_p99_us")), us(r.get("p50_us")), us(r.get("p99_us"))]
                               for r in redis]))
    apps = sorted((r for r in rows if r["kind"] in ("tatp", "kv")),
                  key=lambda r: (r["kind"], r["coroutines"], r["mode"] != "wakeups"))
    if apps:
        parts.append("\n## TATP and YCSB-B (kv), 3 nodes shm\n")
        rows_ = []
        for r in apps:
            other = find(rows, kind=r["kind"], transport=r["transport"], nodes=r["nodes"],
                         coroutines=r["coroutines"], workload=r["workload"], mode="no-wakeups")
            rows_.append([r["kind"] + (f" {r['workload']}" if r["workload"] else ""), r["coroutines"], r["mode"],
                          fmt(r.get("tx_per_s")), us(r.get("p50_us")), us(r.get("p99_us")),
                          fmt(r.get("abort_rate"), ".1%"),
                          x(ratio(r.get("tx_per_s"), other.get("tx_per_s"))) if other and r["mode"] == "wakeups"
                          else "—", fmt(r.get("sleeps")), fmt(r.get("doorbells"))])
        parts.append(md_table(["app", "cor/node", "mode", "ops/s", "p50 µs", "p99 µs", "abort", "/no-wakeups",
                               "sleeps", "doorbells"], rows_))
    idle = sorted((r for r in rows if r["kind"] == "idle"), key=lambda r: r["mode"] != "wakeups")
    if idle:
        parts.append("\n## Idle 3-node cluster (`remora up --workload serve`, shm), CPU % of one core\n")
        parts.append(md_table(["mode", "per node", "max", "remora up (launcher)"],
                              [[r["mode"], " / ".join(f"{v:.2f}%" for v in r.get("cpu_pct_per_node", [])) or "—",
                                fmt(r.get("cpu_pct_max"), ".2f") + "%", fmt(r.get("launcher_cpu_pct"), ".2f") + "%"]
                               for r in idle]))
    failed = [j for j in lines if j.get("cluster") and not j.get("ok")]
    if failed:
        parts.append("\n## Failed runs\n")
        for j in failed:
            parts.append(f"- {j['kind']} {j.get('transport')} {j.get('nodes')} nodes c={j.get('coroutines')} "
                         f"{j.get('mode')} repeat {j.get('repeat')}: {j.get('error')}")
    return "\n".join(parts) + "\n"


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("wakeups_report.py: no matplotlib: no plot", file=sys.stderr)
        return False
    fig, ax = plt.subplots(figsize=(8, 5))
    series = [("shm", 3, "wakeups", "shm 3 nodes, wake-ups", "-", "o"),
              ("shm", 3, "no-wakeups", "shm 3 nodes, no wake-ups (naps)", ":", "o"),
              ("tcp", 3, "wakeups", "tcp 3 nodes, wake-ups", "-", "s"),
              ("tcp", 3, "no-wakeups", "tcp 3 nodes, no wake-ups (naps)", ":", "s")]
    drawn = False
    for t, n, m, label, ls, mk in series:
        pts = sorted((r["coroutines"], r["tx_per_s"]) for r in rows if r["kind"] == "bank" and r["transport"] == t
                     and r["nodes"] == n and r["mode"] == m and r.get("tx_per_s") is not None)
        if pts:
            ax.plot(*zip(*pts), ls, marker=mk, label=label)
            drawn = True
    pts = sorted((r["coroutines"] * 2 / 3, r["tx_per_s"]) for r in rows if r["kind"] == "bank" and r["nodes"] == 2
                 and r["mode"] == "wakeups" and r.get("tx_per_s") is not None)
    if pts:
        ax.plot(*zip(*pts), "--", marker="^", color="grey", label="shm 2 nodes, wake-ups (x: total / 3)")
    pts = sorted((r["coroutines"], r["tx_per_s"]) for r in rows if r["kind"] == "redis" and r.get("tx_per_s"))
    if pts:
        ax.plot(*zip(*pts), "-", marker="d", color="black", label="Redis (clients = 3 × x)")
        drawn = True
    if not drawn:
        ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
    ax.set_xscale("log", base=2)
    xs = sorted({r["coroutines"] for r in rows if r["kind"] in ("bank", "redis") and r["nodes"] == 3})
    if xs:
        ax.set_xticks(xs)
        ax.set_xticklabels([str(v) for v in xs])
        ax.minorticks_off()
    ax.set_yscale("log")
    ax.set_xlabel("coroutines per node")
    ax.set_ylabel("committed tx/s (SmallBank)")
    ax.set_title("SmallBank: doorbells vs naps, 3 nodes on one machine")
    ax.grid(True, which="both", alpha=0.3)
    if drawn:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def cmd_report(a):
    lines = json_lines(os.path.join(a.dir, "wakeups.jsonl"))
    meta = [j for j in lines if j.get("kind") == "meta"]
    rows = aggregate(lines)
    bank = bank_rows(rows)
    text = tables(rows, bank, lines)
    print(text)
    with open(os.path.join(a.dir, "summary.md"), "w") as f:
        f.write("# Wake-ups vs naps\n\n" + text)
    failed = [j for j in lines if j.get("cluster") and not j.get("ok")]
    summary = {"meta": meta, "bank": bank, "runs": rows, "failed": failed}
    with open(os.path.join(a.dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    plot(rows, os.path.join(a.dir, "wakeups.png"))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="action", required=True)
    r = sub.add_parser("record")
    r.add_argument("--jsonl", required=True)
    r.add_argument("--kind", required=True, choices=["bank", "tatp", "kv", "redis"])
    r.add_argument("--transport", required=True)
    r.add_argument("--nodes", type=int, required=True)
    r.add_argument("--coroutines", type=int, default=0)
    r.add_argument("--mode", required=True)
    r.add_argument("--repeat", type=int, default=1)
    r.add_argument("--workload", default="")
    r.add_argument("--clients", default="")
    r.add_argument("--rc", type=int, required=True)
    r.add_argument("--timeout", default="?")
    r.add_argument("--wall", type=float, default=0)
    r.add_argument("--stdout", required=True)
    r.add_argument("--stderr", default="")
    r.add_argument("--cmd", default="")
    i = sub.add_parser("idle")
    i.add_argument("--jsonl", required=True)
    i.add_argument("--mode", required=True)
    i.add_argument("--repeat", type=int, default=1)
    i.add_argument("--seconds", type=float, required=True)
    i.add_argument("--hz", type=float, required=True)
    i.add_argument("--node", action="append", default=[])
    i.add_argument("--launcher", default="")
    i.add_argument("--error", default="")
    rp = sub.add_parser("report")
    rp.add_argument("dir")
    a = p.parse_args()
    return {"record": cmd_record, "idle": cmd_idle, "report": cmd_report}[a.action](a)


if __name__ == "__main__":
    sys.exit(main())
