"""ШЭП medical-exemption searches: the emulator against a spyne 2.14 service answering a fixed SendMessageResponse.

    python benchmarks/shep_search.py [--requests 4000] [--concurrency 8] [--rounds 10]

The emulator runs as `medstand up shep` does (request validation against the XSD on, journal on) with its
certificates cached (warmed before the clock starts); every request is the seed's Приложение 3 envelope (search by
number 01085: found, two PDFs in the answer, ≈140 KB). The peer (`_shep_spyne_peer.py`) parses the same envelope
with spyne and answers the emulator's own answer, fixed. Both run at once and get the same requests in interleaved
rounds, one server at a time (see `_fer_common.interleave`); the ratio is the emulator's rate ÷ the peer's.
Target: ≥ 1.0×.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import _fer_common as common

SEED_REQUEST = Path(__file__).parents[1] / "tests" / "golden" / "shep" / "seed_request.xml"
PATH = "/bip-sync-wss-gost/"


def http_request(port: int, body: bytes) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {common.HOST}:{port}\r\nContent-Type: text/xml; charset=utf-8\r\n"
        f'SOAPAction: ""\r\nContent-Length: {len(body)}\r\n\r\n'
    )
    return head.encode() + body


@contextlib.contextmanager
def emulator(data_dir: str) -> Iterator[common.Stand]:
    port = common.free_port()
    command = [
        sys.executable,
        "-m",
        "emulators.cli",
        "up",
        "shep",
        "--shep-port",
        str(port),
        "--data-dir",
        data_dir,
        "--quiet",
    ]
    with common.serve_process(command, port, Path(data_dir) / "shep.log") as pid:
        yield common.Stand(port, pid, token="")


@contextlib.contextmanager
def peer(answer: Path) -> Iterator[common.Stand]:
    port = common.free_port()
    command = [
        sys.executable,
        str(Path(__file__).with_name("_shep_spyne_peer.py")),
        "--port",
        str(port),
        "--answer",
        str(answer),
    ]
    with common.serve_process(command, port, answer.with_suffix(".log")) as pid:
        yield common.Stand(port, pid, token="")


def answer_of(stand: common.Stand, body: bytes) -> bytes:
    request = urllib.request.Request(f"{stand.url}{PATH}", data=body, headers={"Content-Type": "text/xml"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return bytes(answer.read())


def bad_answers(load: common.Load, marker: bytes) -> int:
    return sum(1 for status, body in load.answers if status != 200 or marker not in body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000, help="requests to send to each server (default 4000)")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections (default 8)")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    args = parser.parse_args(argv)
    body = SEED_REQUEST.read_bytes()
    with tempfile.TemporaryDirectory(prefix="shep-bench-") as data_dir, emulator(data_dir) as shep:
        fixed = Path(data_dir) / "answer.xml"
        fixed.write_bytes(answer_of(shep, body))  # also renders and caches the two certificates
        size = fixed.stat().st_size
        with peer(fixed) as spyne:
            common.run(common.run_load(shep.port, [http_request(shep.port, body)] * 50, args.concurrency))  # warm
            common.run(common.run_load(spyne.port, [http_request(spyne.port, body)] * 50, args.concurrency))
            requests = [http_request(shep.port, body)] * args.requests  # the Host header is not checked by either
            start = common.calibration("start")
            result = common.interleave(shep, spyne, requests, args.concurrency, args.rounds)
            end = common.calibration("end")
            rss = shep.peak_rss_mib(), spyne.peak_rss_mib()
    print(start)
    print(
        f"load             {args.requests} × the seed's SendMessage (number 01085, found, 2 PDFs, "
        f"{size:,} B answer), {args.concurrency} connections, "
        f"{len(result.round_ratios)} interleaved rounds of {result.chunk}"
    )
    print(f"{'':17}{'emulator':>14}{'spyne peer':>14}")
    rates = (args.requests / result.gateway.seconds, args.requests / result.reference.seconds)
    common.row("searches/s", f"{rates[0]:,.0f}", f"{rates[1]:,.0f}", "target ≥ 1.0× the peer")
    for label, fraction in (("p50 ms", 0.5), ("p99 ms", 0.99)):
        values = (
            common.percentile_ms(result.gateway.latencies, fraction),
            common.percentile_ms(result.reference.latencies, fraction),
        )
        common.row(label, f"{values[0]:.1f}", f"{values[1]:.1f}")
    bad = bad_answers(result.gateway, b"<number>01085</number>"), bad_answers(result.reference, b"01085")
    common.row("failures", str(bad[0]), str(bad[1]))
    common.row("peak RSS MiB", f"{rss[0]:.0f}", f"{rss[1]:.0f}")
    ratio = result.ratio
    print(
        f"ratio            {ratio:.2f}× (median of rounds {result.median_ratio:.2f}×, "
        f"range {min(result.round_ratios):.2f}–{max(result.round_ratios):.2f})"
    )
    print(f"CPU emulator     {result.gateway.cpu}")
    print(f"CPU peer         {result.reference.cpu}")
    print(end)
    return 0 if ratio >= 1.0 and not any(bad) else 1


if __name__ == "__main__":
    sys.exit(main())
