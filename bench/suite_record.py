#!/usr/bin/env python3
"""Records one step of bench/run.sh in its results directory.

Usage: suite_record.py KIND --out-dir DIR --step STEP [options]
  KIND app     one app run (bank, tatp, kv): every JSON line of --stdout goes
               to DIR/STEP.jsonl, the "cluster" line to DIR/suite.jsonl.
  KIND redis   bench/redis_bank.sh's lines (--stdout): one per client count.
  KIND dht     build/bench/dht_lookup's output (--stdout): its last JSON line.
  KIND fabric  compare_fabric.sh's "fabric_compare" lines (--stdout is its
               fabric.jsonl; only lines of this run's --transport are taken).
  KIND skip    a step that did not run (--reason); with --fail it counts as
               a failure (e.g. a missing binary under CI=true).
Every line written to suite.jsonl carries step, transport, coroutines (where
they apply), run (the progress index) and ok; a failed run becomes one line
with "ok": false and "error". Prints a one-line result for the progress log;
exit status 0 if the step is ok (or skipped without --fail), else 1.
"""
import argparse
import json
import os
import sys
import time


def parse_lines(path):
    """JSON objects from the lines of `path` that start with '{'."""
    out = []
    if not path or not os.path.exists(path):
        return out
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def tail(path, n=12):
    if not path or not os.path.exists(path):
        return ""
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-n:]).strip()


def error_text(a, what):
    if a.rc == 124 or a.rc == 137:
        return f"timed out after {a.timeout} s" + (f"; {what}" if what else "")
    return f"exit {a.rc}" + (f"; {what}" if what else "")


class Recorder:
    def __init__(self, a):
        self.a = a
        self.suite = os.path.join(a.out_dir, "suite.jsonl")

    def tags(self, **extra):
        a = self.a
        t = {"step": a.step, "run": a.run, "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if a.transport:
            t["transport"] = a.transport
        if a.coroutines is not None:
            t["coroutines"] = a.coroutines
        if a.workload:
            t["workload"] = a.workload
        if a.seconds is not None:
            t["wall_s"] = a.seconds
        t.update(extra)
        return t

    def annotate(self, obj, **extra):
        """obj with the suite's tags; an app's own "transport" (the fabric
        backend) moves to "backend" so "transport" is shm or tcp."""
        obj = dict(obj)
        if "transport" in obj and self.a.transport:
            obj["backend"] = obj.pop("transport")
        obj.update(self.tags(**extra))
        return obj

    def append(self, path, objs):
        with open(path, "a") as f:
            for o in objs:
                f.write(json.dumps(o, separators=(",", ":")) + "\n")

    def failure(self, error, **extra):
        rec = self.tags(ok=False, error=error, **extra)
        err_tail = tail(self.a.stderr)
        if err_tail:
            rec["stderr_tail"] = err_tail
        if self.a.cmd:
            rec["cmd"] = self.a.cmd
        self.append(self.suite, [rec])
        return rec


def record_app(r, a):
    lines = parse_lines(a.stdout)
    step_file = os.path.join(a.out_dir, f"{a.step}.jsonl")
    r.append(step_file, [r.annotate(o) for o in lines])
    cluster = [o for o in lines if o.get("cluster")]
    if not cluster:
        rec = r.failure(error_text(a, "no cluster line on stdout"))
        return False, "FAILED: " + rec["error"]
    c = r.annotate(cluster[-1])
    c["ok"] = bool(c.get("ok")) and a.rc == 0
    if not c["ok"]:
        c["error"] = error_text(a, "the app's checks failed" if a.rc != 124 else "")
    r.append(r.suite, [c])
    msg = (f"{c.get('tx_per_s', 0):,.0f} tx/s, p50 {c.get('latency_p50_us', 0):.1f} us, "
           f"p99 {c.get('latency_p99_us', 0):.1f} us, abort rate {100 * c.get('abort_rate', 0):.1f}%")
    return c["ok"], (msg if c["ok"] else "FAILED: " + c["error"] + "; " + msg)


def record_redis(r, a):
    """One line per client count; a count without a line is a failure."""
    lines = [o for o in parse_lines(a.stdout) if o.get("system") == "redis"]
    by_clients = {int(o.get("clients", -1)): o for o in lines}
    ok, parts = True, []
    for pair in a.clients.split():
        clients, coros = (int(x) for x in pair.split(":"))
        a.coroutines = coros
        o = by_clients.get(clients)
        if o is None:
            r.failure(error_text(a, f"no result for {clients} clients"), clients=clients)
            ok = False
            parts.append(f"{clients} clients FAILED")
            continue
        rec = r.annotate(o)
        inv = o.get("invariant")
        inv_ok = inv.get("ok", True) if isinstance(inv, dict) else True
        rec["ok"] = bool(o.get("ok", True)) and inv_ok
        ok &= rec["ok"]
        r.append(r.suite, [rec])
        parts.append(f"{clients} clients {o.get('tx_per_s', 0):,.0f} tx/s")
    a.coroutines = None
    r.append(os.path.join(a.out_dir, "redis.jsonl"), [r.annotate(o) for o in lines])
    return ok, "; ".join(parts)


def record_dht(r, a):
    lines = [o for o in parse_lines(a.stdout) if "lookup_p50_us" in o]
    if not lines:
        rec = r.failure(error_text(a, "no line with lookup_p50_us on stdout"))
        return False, "FAILED: " + rec["error"]
    rec = r.annotate(lines[-1])
    rec["ok"] = bool(lines[-1].get("ok", True)) and a.rc == 0
    if not rec["ok"]:
        rec["error"] = error_text(a, "")
    r.append(os.path.join(a.out_dir, "dht.jsonl"), [rec])
    r.append(r.suite, [rec])
    return rec["ok"], (f"lookup p50 {rec['lookup_p50_us']:.2f} us, raw read p50 "
                       f"{rec.get('raw_read_p50_us', 0):.2f} us")


def record_fabric(r, a):
    lines = [o for o in parse_lines(a.stdout) if o.get("bench") == "fabric_compare"
             and o.get("config") == a.config]
    done = [o for o in lines if o.get("ratio_p50") is not None]
    recs = [r.annotate(o, ok=o.get("ratio_p50") is not None) for o in lines]
    r.append(r.suite, recs)
    if a.rc != 0 or len(done) < len(a.ops.split()):
        r.failure(error_text(a, f"{len(done)} of {len(a.ops.split())} operations measured"))
        return False, f"FAILED: {len(done)} of {len(a.ops.split())} operations measured"
    return True, ", ".join(f"{o['op']} x{o['ratio_p50']:.2f}" for o in done) + " (remora/raw p50)"


def record_skip(r, a):
    rec = r.tags(ok=False if a.fail else None, skipped=not a.fail, reason=a.reason)
    if a.fail:
        rec["error"] = a.reason
    r.append(r.suite, [rec])
    return not a.fail, ("FAILED: " if a.fail else "skipped: ") + a.reason


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["app", "redis", "dht", "fabric", "skip"])
    p.add_argument("--out-dir", required=True)
    p.add_argument("--step", required=True)
    p.add_argument("--run", type=int, default=0, help="progress index of the step")
    p.add_argument("--transport", default="")
    p.add_argument("--coroutines", type=int)
    p.add_argument("--workload", default="")
    p.add_argument("--rc", type=int, default=0)
    p.add_argument("--timeout", type=int, default=0)
    p.add_argument("--seconds", type=float, help="wall-clock seconds of the run")
    p.add_argument("--stdout", help="the run's stdout")
    p.add_argument("--stderr", help="the run's stderr")
    p.add_argument("--cmd", default="")
    p.add_argument("--clients", default="", help='redis: "CLIENTS:COROUTINES ..."')
    p.add_argument("--config", default="", help="fabric: the config of this run")
    p.add_argument("--ops", default="read write cas faa", help="fabric: the operations asked for")
    p.add_argument("--reason", default="")
    p.add_argument("--fail", action="store_true")
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    r = Recorder(a)
    ok, msg = {"app": record_app, "redis": record_redis, "dht": record_dht, "fabric": record_fabric,
               "skip": record_skip}[a.kind](r, a)
    print(msg)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
