"""Many small slot uploads into the FER gateway: 10-slot batches over many keep-alive connections.

    python benchmarks/fer_small.py [--requests 40000] [--concurrency 16] [--no-journal]
                                   [--rounds 10 | --sequential | --no-reference]

Target: ≥ 4 000 requests/s. The issue measured its reference stack (Starlette + orjson + fastjsonschema) at
≈ 20 000 requests/s on 10-slot bodies, so the target is 1/5 of it. By default the gateway and that stack run at once
and get the same requests in interleaved rounds (one server at a time); the gateway's rate is printed as a fraction
of the reference's. `--sequential`: the whole load to the gateway, then to the reference; `--no-reference`: the
gateway only.
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
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument("--sequential", action="store_true", help="gateway first, then the reference")
    parser.add_argument("--no-reference", action="store_true", help="the gateway only, no reference stack")
    args = parser.parse_args(argv)
    if args.sequential or args.no_reference:
        return sequential(args)
    with fer.gateway(journal=not args.no_journal) as gw, fer.reference() as ref:
        requests, ids = fer.slot_requests(gw, args.requests * BATCH, BATCH)
        start = fer.calibration("start")
        result = fer.interleave(gw, ref, requests, args.concurrency, args.rounds)
        end = fer.calibration("end")
        rss = gw.peak_rss_mib(), ref.peak_rss_mib()
    print(start)
    describe(args, len(requests))
    print(f"rounds           {len(result.round_ratios)} interleaved, {result.chunk} requests per server per round, "
          f"one server at a time")  # fmt: skip
    print(f"reference        {fer.REFERENCE_STACK}")
    rates = [("requests/s", len(requests), "target ≥ 4,000 (gateway)"), ("slots/s", len(requests) * BATCH, "")]
    ok = fer.report_interleaved(result, REFERENCE, rates, ("latency", 2, ""), rss, ids)
    print(end)
    return 0 if ok else 1


def describe(args: argparse.Namespace, requests: int) -> None:
    print(f"requests         {requests} ({BATCH} slots each, concurrency {args.concurrency}, "
          f"journal {'off' if args.no_journal else 'on'})")  # fmt: skip


def sequential(args: argparse.Namespace) -> int:
    """The whole load to the gateway, then (unless --no-reference) the same requests to the reference stack."""
    print(fer.calibration("start"), flush=True)
    with fer.gateway(journal=not args.no_journal) as stand:
        requests, ids = fer.slot_requests(stand, args.requests * BATCH, BATCH)
        load = fer.measure(stand, requests, args.concurrency)
        rss = stand.peak_rss_mib()
    found = fer.failures(load, ids)
    describe(args, len(requests))
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
