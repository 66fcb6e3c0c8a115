"""The PNGs of bench/suite_report.py (matplotlib, Agg backend).

draw(name, data, path) writes one plot; a plot whose data is missing is still
written, saying "not measured", so links to it never break. Latency CDFs come
from the apps' merged histograms: bucket b holds latencies in
[2^(b/8), 2^((b+1)/8)) ns, drawn at its upper bound.
"""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from suite_tables import measured, ratio  # noqa: E402

TRANSPORT_STYLE = {"shm": "-", "tcp": "--"}


def cdf_points(hist):
    """(upper bounds in us, cumulative fractions) of a [[b, n], ...] histogram."""
    pairs = sorted((int(b), int(n)) for b, n in hist if int(n) > 0)
    total = sum(n for _, n in pairs)
    xs, ys, acc = [], [], 0
    for b, n in pairs:
        acc += n
        xs.append(2 ** ((b + 1) / 8) / 1000.0)
        ys.append(acc / total)
    return xs, ys


def not_measured(ax, what):
    ax.text(0.5, 0.5, f"{what}: not measured", ha="center", va="center", transform=ax.transAxes, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])


def save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def latency_cdf(data, app, path):
    fig, ax = plt.subplots(figsize=(8, 5))
    runs = sorted((k, r) for k, r in data.apps.items() if k[0] == app and measured(r)
                  and (r.get("latency") or {}).get("hist"))
    cmap = plt.get_cmap("viridis")
    coros = sorted({k[2] for k, _ in runs}) or [1]
    extra = {"B": "tab:red", "C": "tab:orange", "F": "tab:purple"}  # kv's other workloads
    for (_, t, c, w), r in runs:
        xs, ys = cdf_points(r["latency"]["hist"])
        shade = extra.get(w) or cmap(coros.index(c) / max(1, len(coros) - 1) * 0.85)
        label = f"{t}, {c} coroutines" + (f", workload {w}" if w and w != "A" else "")
        ax.step(xs, ys, where="post", linestyle=TRANSPORT_STYLE.get(t, ":"), color=shade, label=label,
                linewidth=1.6 if not w or w == "A" else 1.0)
    if not runs:
        not_measured(ax, f"{app} latency")
        return save(fig, path)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("latency per committed transaction, retries included (us, log scale)")
    ax.set_ylabel("fraction of transactions")
    ax.set_title(f"{app}: latency CDF on the 3-node cluster (solid shm, dashed tcp)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    return save(fig, path)


def throughput(data, path):
    apps = [a for a in ("bank", "tatp", "kv") if a in str(data.meta.get("apps", "bank tatp kv")).split()]
    fig, axes = plt.subplots(1, max(1, len(apps)), figsize=(4.2 * max(1, len(apps)), 4), squeeze=False)
    for ax, app in zip(axes[0], apps):
        xs = set()
        for t in ("shm", "tcp"):
            pts = sorted((k[2], r["tx_per_s"]) for k, r in data.apps.items()
                         if k[0] == app and k[1] == t and k[3] in ("", "A") and measured(r))
            if pts:
                xs |= {p[0] for p in pts}
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", linestyle=TRANSPORT_STYLE[t],
                        label=t)
        if not xs:
            not_measured(ax, app)
            continue
        ax.set_xscale("log", base=2)
        ax.minorticks_off()
        ax.set_xticks(sorted(xs))
        ax.set_xticklabels([str(x) for x in sorted(xs)])
        ax.set_xlabel("coroutines per thread")
        ax.set_ylabel("committed tx/s (all nodes)")
        ax.set_title(app + (" (workload A)" if app == "kv" else ""))
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend()
    return save(fig, path)


def bars(ax, groups, series, ylabel, log=False):
    """Grouped bars: groups = x labels, series = [(label, [value or None])]."""
    width = 0.8 / max(1, len(series))
    for i, (label, values) in enumerate(series):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [v or 0 for v in values], width, label=label)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(0, 1.3 * max([v or 0 for _, vs in series for v in vs] + [1e-9]))
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)


def bank_vs_redis(data, path):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    cs = sorted(c for c in data.redis if measured(data.redis[c]))
    if not cs:
        not_measured(ax, "Redis comparison")
        return save(fig, path)
    val = lambda r: r.get("tx_per_s") if measured(r) else None
    series = [(f"remora bank, {t}", [val(data.app("bank", t, c)) for c in cs]) for t in ("shm", "tcp")]
    series.append(("Redis WATCH/MULTI/EXEC", [val(data.redis[c]) for c in cs]))
    bars(ax, [f"{data.redis[c].get('clients')} clients\n({c} coroutines)" for c in cs], series,
         "committed tx/s (log scale)", log=True)
    top = max(v or 0 for _, vs in series for v in vs)
    ax.set_ylim(top=top * 4)
    ax.legend(fontsize=8, ncol=3, loc="upper center")
    for g, c in enumerate(cs):
        shm = val(data.app("bank", "shm", c))
        q = ratio(shm, val(data.redis[c]))
        if q:
            ax.annotate(f"x{q:.1f}", (g - 0.8 / 3, shm * 1.15), ha="center", va="bottom", fontsize=8)
    ax.set_title("SmallBank at equal client concurrency (x = remora shm / Redis)")
    return save(fig, path)


def fabric(data, path):
    ts = [t for t in ("shm", "tcp") if any(k[0] == t for k in data.fabric)]
    fig, axes = plt.subplots(1, max(1, len(ts)), figsize=(5 * max(1, len(ts)), 4), squeeze=False)
    if not ts:
        not_measured(axes[0][0], "fabric comparison")
        return save(fig, path)
    for ax, t in zip(axes[0], ts):
        ops = [op for op in ("read", "write", "cas", "faa") if (t, op) in data.fabric]
        recs = [data.fabric[(t, op)] for op in ops]
        bars(ax, ops, [("raw UCX", [r.get("raw_p50_us") for r in recs]),
                       ("remora", [r.get("remora_p50_us") for r in recs])], "p50 latency (us)")
        ax.set_title(f"{t}: one operation in flight, node 0 -> 1")
    return save(fig, path)


def draw(name, data, path):
    if name.startswith("latency_cdf_"):
        return latency_cdf(data, name[len("latency_cdf_"):-len(".png")], path)
    return {"throughput.png": throughput, "bank_vs_redis.png": bank_vs_redis, "fabric.png": fabric}[name](data, path)
