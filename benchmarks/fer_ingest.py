"""Bulk slot ingest into the FER gateway: large batches over a few keep-alive connections.

    python benchmarks/fer_ingest.py [--slots 200000] [--batch 1000] [--concurrency 4] [--gzip] [--no-journal]

Targets: ≥ 100 000 slots/s; batch p99 < 100 ms at 4 concurrent uploaders.
"""

from __future__ import annotations

import argparse
import sys

import _fer_common as fer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=200_000, help="slots to upload (default 200000)")
    parser.add_argument("--batch", type=int, default=1000, help="slots per request (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="keep-alive connections (default 4)")
    parser.add_argument("--gzip", action="store_true", help="send bodies with Content-Encoding: gzip")
    parser.add_argument("--no-journal", action="store_true", help="start the gateway with --no-journal")
    args = parser.parse_args(argv)
    with fer.gateway(journal=not args.no_journal) as stand:
        requests, ids = fer.slot_requests(stand, args.slots, args.batch, args.gzip)
        load = fer.measure(stand, requests, args.concurrency)
        rss = stand.peak_rss_mib()
    found = fer.failures(load, ids)
    journal = "off" if args.no_journal else "on"
    print(f"slots            {args.slots} ({len(requests)} batches of ≤{args.batch}, concurrency "
          f"{args.concurrency}, gzip {'on' if args.gzip else 'off'}, journal {journal})")  # fmt: skip
    fer.report_failures(found)
    print(f"seconds          {load.seconds:.2f}")
    print(f"slots/s          {args.slots / load.seconds:,.0f}    target ≥ 100,000")
    print(f"batch p50 ms     {fer.percentile_ms(load.latencies, 0.50):.1f}")
    p99 = fer.percentile_ms(load.latencies, 0.99)
    print(f"batch p99 ms     {p99:.1f}    target < 100 at 4 concurrent uploaders")
    print(f"batch max ms     {max(load.latencies) * 1000:.1f}")
    fer.report(load, rss)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
