"""The tables of bench/suite_report.py, built from suite.jsonl's records.

Data indexes the records by step; sections() returns (title, Table, note)
triples; a Table renders as fixed-width text or Markdown and as JSON rows.
Anything missing is "not measured", never an error.
"""

NOT_MEASURED = "not measured"


def us(v):
    """A latency in microseconds, with precision that suits its size."""
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:,.0f}"


def rate(v):
    return "-" if v is None else f"{v:,.0f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def fx(v):
    return "-" if v is None else f"{v:.2f}"


def status(rec):
    """ok, FAILED: why, skipped: why, or not measured."""
    if rec is None:
        return NOT_MEASURED
    if rec.get("skipped"):
        return f"{NOT_MEASURED} (skipped, see Problems)"
    if rec.get("ok") is False:
        return f"FAILED: {rec.get('error', '?')}"
    return "ok"


def measured(rec):
    return rec is not None and rec.get("ok") is True


class Table:
    def __init__(self, key, headers, rows, json_rows):
        self.key, self.headers, self.rows, self.json_rows = key, headers, rows, json_rows

    def text(self):
        if not self.rows:
            return f"  ({NOT_MEASURED})"
        cells = [self.headers] + self.rows
        w = [max(len(str(r[i])) for r in cells) for i in range(len(self.headers))]
        last = len(w) - 1
        fmt = lambda r: "  ".join(str(c).rjust(w[i]) if 0 < i < last or i == last and self.headers[i] != "status"
                                  else str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip()
        return "\n".join([fmt(self.headers), "-" * (sum(w) + 2 * len(w) - 2)] + [fmt(r) for r in self.rows])

    def markdown(self):
        if not self.rows:
            return f"({NOT_MEASURED})"
        lines = ["| " + " | ".join(self.headers) + " |", "|" + "---|" * len(self.headers)]
        return "\n".join(lines + ["| " + " | ".join(str(c) for c in r) + " |" for r in self.rows])

    def as_json(self):
        return self.json_rows


class Data:
    """The suite's records by step; the last record of a key wins."""

    def __init__(self, recs, meta):
        self.meta, self.recs = meta, recs
        self.coros = [int(c) for c in str(meta.get("coroutines", "")).split()]
        self.apps = {}
        self.redis, self.fabric, self.dht, self.skips = {}, {}, {}, {}
        for r in recs:
            step = r.get("step")
            if step in ("bank", "tatp", "kv") and "coroutines" in r:
                self.apps[(step, r.get("transport"), int(r["coroutines"]), r.get("workload") or "")] = r
            elif step == "redis" and "coroutines" in r:
                self.redis[int(r["coroutines"])] = r
            elif step == "fabric" and "op" in r:
                self.fabric[(r.get("transport"), r["op"])] = r
            elif step == "dht" and r.get("transport"):
                self.dht[r["transport"]] = r
            if step not in ("meta", None) and (r.get("skipped") or r.get("ok") is False) and "op" not in r:
                self.skips[(step, r.get("transport"), r.get("coroutines"))] = r

    def app_keys(self):
        """Every measured or planned (app, transport, coroutines, workload)."""
        keys = set(self.apps)
        tcp = str(self.meta.get("tcp_coroutines", "all"))
        tcp_coros = self.coros if tcp == "all" else [c for c in self.coros if str(c) in tcp.split()]
        for app in str(self.meta.get("apps", "")).split():
            for t in str(self.meta.get("transports", "")).split():
                cs = self.coros if app == "bank" or t == "shm" else tcp_coros or self.coros[:1]
                for c in cs:
                    keys.add((app, t, c, "A" if app == "kv" else ""))
        order = {"bank": 0, "tatp": 1, "kv": 2}
        return sorted(keys, key=lambda k: (order.get(k[0], 9), k[1] or "", k[3], k[2]))

    def app(self, app, transport, coros, workload=""):
        rec = self.apps.get((app, transport, coros, workload))
        if rec is None:  # a skip record of the whole step (missing binary)
            rec = self.skips.get((app, transport, coros)) or self.skips.get((app, transport, None))
        return rec

    def problems(self):
        out = []
        for r in self.recs:
            if r.get("step") == "meta":
                continue
            where = " ".join(str(r[k]) for k in ("step", "transport", "coroutines", "workload", "clients", "op")
                             if r.get(k) not in (None, ""))
            if r.get("skipped"):
                out.append(f"{where}: skipped: {r.get('reason', '?')}")
            elif r.get("ok") is False:
                out.append(f"{where}: FAILED: {r.get('error', '?')}")
        return out


def app_table(d):
    rows, js = [], []
    for app, t, c, w in d.app_keys():
        r = d.app(app, t, c, w)
        m = measured(r) or (r is not None and "tx_per_s" in r)
        name = f"{app} {w}".strip()
        rows.append([name, t, c, rate(r.get("tx_per_s")) if m else "-", us(r.get("latency_p50_us")) if m else "-",
                     us(r.get("latency_p99_us")) if m else "-",
                     f"{100 * r.get('abort_rate', 0):.1f}%" if m else "-", status(r)])
        js.append({"app": app, "workload": w or None, "transport": t, "coroutines": c, "status": status(r),
                   **({k: r.get(k) for k in ("tx_per_s", "latency_p50_us", "latency_p99_us", "latency_p999_us",
                                             "abort_rate", "committed", "attempts")} if m else {})})
    return Table("apps", ["app", "transport", "coroutines", "tx/s", "p50 us", "p99 us", "abort", "status"], rows, js)


def redis_table(d):
    rows, js = [], []
    for c in sorted(set(d.coros) | set(d.redis)):
        red = d.redis.get(c)
        shm, tcp = d.app("bank", "shm", c), d.app("bank", "tcp", c)
        rt = red.get("tx_per_s") if measured(red) else None
        st = shm.get("tx_per_s") if measured(shm) else None
        tt = tcp.get("tx_per_s") if measured(tcp) else None
        clients = red.get("clients") if red else (d.meta.get("nodes", 0) * d.meta.get("threads", 0) * c or None)
        rp50 = (red.get("latency") or {}).get("p50_us") if measured(red) else None
        sp50 = shm.get("latency_p50_us") if measured(shm) else None
        if red is None and shm is None and tcp is None:
            continue
        red_cell = rate(rt) if measured(red) else "FAILED" if red and red.get("ok") is False else NOT_MEASURED
        rows.append([c, clients or "-", rate(st), rate(tt), red_cell,
                     fx(ratio(st, rt)), fx(ratio(tt, rt)), us(sp50), us(rp50)])
        js.append({"coroutines": c, "clients": clients, "bank_shm_tx_per_s": st, "bank_tcp_tx_per_s": tt,
                   "redis_tx_per_s": rt, "ratio_shm": ratio(st, rt), "ratio_tcp": ratio(tt, rt),
                   "bank_shm_p50_us": sp50, "redis_p50_us": rp50, "redis_status": status(red)})
    return Table("bank_vs_redis", ["coroutines", "clients", "bank shm tx/s", "bank tcp tx/s", "Redis tx/s",
                                   "shm/Redis", "tcp/Redis", "bank shm p50 us", "Redis p50 us"], rows, js)


def fabric_table(d):
    rows, js = [], []
    order = {"read": 0, "write": 1, "cas": 2, "faa": 3}
    for (t, op), r in sorted(d.fabric.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
        rows.append([t, op, r.get("size", "-"), us(r.get("raw_p50_us")), us(r.get("remora_p50_us")),
                     fx(r.get("ratio_p50")), us(r.get("raw_p99_us")), us(r.get("remora_p99_us"))])
        js.append({k: r.get(k) for k in ("transport", "op", "size", "raw_p50_us", "remora_p50_us", "ratio_p50",
                                         "raw_p99_us", "remora_p99_us")})
    return Table("fabric", ["transport", "op", "bytes", "raw UCX p50 us", "remora p50 us", "remora/raw",
                            "raw p99 us", "remora p99 us"], rows, js)


def dht_table(d):
    rows, js = [], []
    for t in sorted(set(d.dht) | {k[1] for k in d.skips if k[0] == "dht"}):
        r = d.dht.get(t) or d.skips.get(("dht", t, None))
        m = measured(r)
        lk, raw = (r.get("lookup_p50_us"), r.get("raw_read_p50_us")) if m else (None, None)
        q = r.get("ratio", ratio(lk, raw)) if m else None
        rows.append([t, us(lk), us(raw), fx(q), status(r)])
        js.append({"transport": t, "lookup_p50_us": lk, "raw_read_p50_us": raw, "ratio": q, "status": status(r)})
    return Table("dht", ["transport", "lookup p50 us", "raw read p50 us", "lookup/raw", "status"], rows, js)


def sections(d):
    return [
        ("Apps on the embedded 3-node cluster", app_table(d),
         "tx/s: committed transactions per second, all nodes; p50/p99: per committed transaction, retries "
         "included, from the nodes' merged histograms; abort: conflict aborts / attempts."),
        ("SmallBank: remora vs Redis (WATCH/MULTI/EXEC) at equal client concurrency", redis_table(d),
         "clients = nodes x threads x coroutines of the remora run; same accounts and hot set."),
        ("Fabric: remora vs raw UCX per operation (one in flight, 2 nodes)", fabric_table(d), ""),
        ("Hash-table lookup vs one raw one-sided read", dht_table(d), "target: lookup/raw <= 1.5"),
    ]
