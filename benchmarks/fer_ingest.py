"""Bulk slot ingest into the FER gateway: large batches over a few keep-alive connections.

    python benchmarks/fer_ingest.py [--slots 200000] [--batch 1000] [--concurrency 4] [--gzip] [--no-journal]
                                    [--rounds 10 | --sequential | --no-reference]

Targets: ≥ 100 000 slots/s; batch p99 < 100 ms at 4 concurrent uploaders. The issue measured its reference stack
(Starlette + orjson + fastjsonschema) at ≈ 600 000 slots/s on 1 000-slot bodies, so the target is 1/6 of it. By
default the gateway and that stack run at once and get the same requests in interleaved rounds (one server at a
time); the gateway's rate is printed as a fraction of the reference's. `--sequential`: the whole load to the
gateway, then to the reference; `--no-reference`: the gateway only.
"""

from __future__ import annotations

import argparse
import sys

import _fer_common as fer

REFERENCE = fer.Reference(issue_figure=600_000, target=100_000, unit="slots/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=200_000, help="slots to upload (default 200000)")
    parser.add_argument("--batch", type=int, default=1000, help="slots per request (default 1000)")
    parser.add_argument("--concurrency", type=int, default=4, help="keep-alive connections (default 4)")
    parser.add_argument("--gzip", action="store_true", help="send bodies with Content-Encoding: gzip")
    parser.add_argument("--no-journal", action="store_true", help="start the gateway with --no-journal")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument("--sequential", action="store_true", help="gateway first, then the reference")
    parser.add_argument("--no-reference", action="store_true", help="the gateway only, no reference stack")
    args = parser.parse_args(argv)
    if args.sequential or args.no_reference:
        return sequential(args)
    with fer.gateway(journal=not args.no_journal) as gw, fer.reference() as ref:
        requests, ids = fer.slot_requests(gw, args.slots, args.batch, args.gzip)
        start = fer.calibration("start")
        result = fer.interleave(gw, ref, requests, args.concurrency, args.rounds)
        end = fer.calibration("end")
        rss = gw.peak_rss_mib(), ref.peak_rss_mib()
    print(start)
    describe(args, len(requests))
    print(f"rounds           {len(result.round_ratios)} interleaved, {result.chunk} batches per server per round, "
          f"one server at a time")  # fmt: skip
    print(f"reference        {fer.REFERENCE_STACK}")
    rates = [("slots/s", args.slots, "target ≥ 100,000 (gateway)")]
    latency = ("batch", 1, "target < 100 at 4 concurrent uploaders (gateway)")
    ok = fer.report_interleaved(result, REFERENCE, rates, latency, rss, ids)
    print(end)
    return 0 if ok else 1


def describe(args: argparse.Namespace, batches: int) -> None:
    print(f"slots            {args.slots} ({batches} batches of ≤{args.batch}, concurrency {args.concurrency}, "
          f"gzip {'on' if args.gzip else 'off'}, journal {'off' if args.no_journal else 'on'})")  # fmt: skip


def sequential(args: argparse.Namespace) -> int:
    """The whole load to the gateway, then (unless --no-reference) the same requests to the reference stack."""
    print(fer.calibration("start"), flush=True)
    with fer.gateway(journal=not args.no_journal) as stand:
        requests, ids = fer.slot_requests(stand, args.slots, args.batch, args.gzip)
        load = fer.measure(stand, requests, args.concurrency)
        rss = stand.peak_rss_mib()
    found = fer.failures(load, ids)
    describe(args, len(requests))
    fer.report_failures(found)
    print(f"seconds          {load.seconds:.2f}")
    print(f"slots/s          {args.slots / load.seconds:,.0f}    target ≥ 100,000")
    print(f"batch p50 ms     {fer.percentile_ms(load.latencies, 0.50):.1f}")
    p99 = fer.percentile_ms(load.latencies, 0.99)
    print(f"batch p99 ms     {p99:.1f}    target < 100 at 4 concurrent uploaders")
    print(f"batch max ms     {max(load.latencies) * 1000:.1f}")
    fer.report(load, rss)
    ok = not found
    if not args.no_reference:
        print(fer.calibration("before the reference"), flush=True)
        with fer.reference() as stand:
            reference = fer.measure(stand, requests, args.concurrency)
        ok &= fer.compare(REFERENCE, args.slots / load.seconds, reference, args.slots, ids)
    print(fer.calibration("end"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
