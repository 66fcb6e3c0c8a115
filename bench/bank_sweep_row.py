#!/usr/bin/env python3
"""One row of bench/bank_sweep.sh's table from one bank run's JSON lines (stdin)."""
import json
import sys


def main() -> None:
    cfg, coros = sys.argv[1], sys.argv[2]
    lines = [json.loads(l) for l in sys.stdin if l.startswith("{")]
    cluster = [l for l in lines if l.get("cluster")][0]
    node0 = [l for l in lines if l.get("node") == 0][0]
    xfer = node0["send_payment"]["p50_us"]
    msg = node0["message_rtt_64b"]["p50_us"]
    read = node0["fabric_read_64b"]["p50_us"]
    ratio = xfer / msg if msg else 0.0
    print("%-26s %5s %10.0f %7.1f %9.1f %9.1f %9.1f %9.2f %9.2f %7.1f" % (
        cfg, coros, cluster["tx_per_s"], 100 * cluster["abort_rate"], cluster["latency_p50_us"],
        cluster["latency_p99_us"], xfer, read, msg, ratio))


if __name__ == "__main__":
    main()
