"""Many small slot uploads into the FER gateway: 10-slot batches over many keep-alive connections.

    python benchmarks/fer_small.py [--requests 40000] [--concurrency 16] [--no-journal] [--no-reference]

Target: ≥ 4 000 requests/s. The issue measured its reference stack (Starlette + orjson + fastjsonschema) at
≈ 20 000 requests/s on 10-slot bodies, so the target is 1/5 of it; the same requests are sent to that stack
afterwards and the gateway's rate is printed as a fraction of its rate.
"""

from __future__ import annotations

import argparse
import sys

import _fer_common as fer

BATCH = 10
REFERENCE = fer.Reference(issue_figure=20_000, target=4_000, unit="requests/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40_000, help="requests to send (default 40000)")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--no-journal", action="store_true", help="start the gateway with --no-journal")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference stack run")
    args = parser.parse_args(argv)
    print(fer.calibration("start"), flush=True)
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
    ok = not found
    if not args.no_reference:
        print(fer.calibration("before the reference"), flush=True)
        with fer.reference() as stand:
            reference = fer.measure(stand, requests, args.concurrency)
        ok &= fer.compare(REFERENCE, len(requests) / load.seconds, reference, len(requests), ids)
    print(fer.calibration("end"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
