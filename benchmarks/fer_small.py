"""Many small slot uploads into the FER gateway: 10-slot batches over many keep-alive connections.

    python benchmarks/fer_small.py [--requests 40000] [--concurrency 16] [--no-journal]

Target: ≥ 4 000 requests/s.
"""

from __future__ import annotations

import argparse
import sys

import _fer_common as fer

BATCH = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40_000, help="requests to send (default 40000)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--no-journal", action="store_true", help="start the gateway with --no-journal")
    args = parser.parse_args(argv)
    with fer.gateway(journal=not args.no_journal) as stand:
        requests, ids = fer.slot_requests(stand, args.requests * BATCH, BATCH)
        load = fer.measure(stand, requests, args.concurrency)
        rss = stand.peak_rss_mib()
    found = fer.failures(load, ids)
    journal = "off" if args.no_journal else "on"
    print(f"requests         {len(requests)} ({BATCH} slots each, concurrency {args.concurrency}, "
          f"journal {journal})")  # fmt: skip
    fer.report_failures(found)
    print(f"seconds          {load.seconds:.2f}")
    print(f"requests/s       {len(requests) / load.seconds:,.0f}    target ≥ 4,000")
    print(f"slots/s          {len(requests) * BATCH / load.seconds:,.0f}")
    print(f"latency p50 ms   {fer.percentile_ms(load.latencies, 0.50):.2f}")
    print(f"latency p99 ms   {fer.percentile_ms(load.latencies, 0.99):.2f}")
    print(f"latency max ms   {max(load.latencies) * 1000:.2f}")
    fer.report(load, rss)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
