"""Bookings through the FER gateway into the sample MIS: bookings/s and the latency the gateway adds.

    python benchmarks/fer_booking.py [--bookings 500] [--concurrency 50] [--seed 7] [--mis-ms 100] [--stagger-ms N]

Starts the gateway (`medstand up fer --quiet`, fresh data dir) and the sample MIS (`medstand sample-mis`) on free
ports; the MIS uploads its showcase and registers its webhook. Every AVAILABLE slot of the showcase is booked at
most once with `POST /__admin/fer/epgu/book`, `--concurrency` at a time, with a patient whose age fits the slot;
the clients' starts are spread over one MIS period (`--stagger-ms`, 0 = all at once, in lockstep waves).

Per booking: (a) the admin call's latency as this client sees it; (b) `latency_ms`, the gateway's own measure of
its call into the MIS (standing in for the MIS's time: its `server-timing` header is not forwarded; (b) also holds
the waits on both event loops, so it overstates the MIS's own time); (a) − (b), the gateway's overhead. Target:
overhead p99 < 5 ms at 50 concurrent bookings. Exit code 1 unless every booking comes out `success`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _fer_common as fer
import orjson

OVERHEAD_P99_TARGET_MS = 5.0


@dataclass
class Booking:
    """One admin book call: what the client measured and what the gateway answered."""

    seconds: float  # (a) end to end, as this client saw it
    status: int  # HTTP status of the admin call; 0 = transport error
    answer: dict[str, Any]

    @property
    def mis_seconds(self) -> float:
        """(b) the gateway's measured latency of its call into the MIS (0 when it made none)."""
        return float(self.answer.get("latency_ms") or 0.0) / 1000

    @property
    def outcome(self) -> str:
        if self.status != 200:
            return f"HTTP {self.status}"
        code = self.answer.get("status_code")
        return str(self.answer.get("outcome")) + ("" if code in (None, 0) else f" ({code})")


def get_json(url: str, token: str | None = None) -> Any:
    """One blocking JSON GET for setup (not for load)."""
    headers = {"Authorization": f"bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as answer:
        return orjson.loads(answer.read())


def showcase_ready(state: dict[str, Any]) -> bool:
    """The sample MIS has registered its webhook (after uploading its showcase) and slots are stored."""
    return bool(state.get("webhooks")) and state.get("showcase", {}).get("slot", 0) > 0


def wait_ready(
    url: str,
    children: list[tuple[subprocess.Popen[bytes], Path]],
    ready: Callable[[dict[str, Any]], bool],
    timeout: float = 60,
) -> dict[str, Any]:
    """Poll the gateway's /__admin/state until `ready(state)`; return the state. Fails if a child exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child, log_path in children:
            if child.poll() is not None:
                raise RuntimeError(f"{child.args} exited with {child.returncode}:\n{log_path.read_text()[-3000:]}")
        with contextlib.suppress(OSError):
            state = get_json(f"{url}/__admin/state")
            if isinstance(state, dict) and ready(state):
                return state
        time.sleep(0.2)
    logs = "\n".join(log_path.read_text()[-2000:] for _, log_path in children)
    raise RuntimeError(f"not ready after {timeout} s:\n{logs}")


def birthdates(today: dt.date) -> dict[str, str]:
    """A birthdate that fits each tag_age on any visit day of the next few weeks: 30 years, 10 years, 1 month."""
    baby = today - dt.timedelta(days=30)
    return {"ALL": f"{today.year - 30}-05-05T00:00:00", "ADULT": f"{today.year - 30}-05-05T00:00:00",
            "CHILD": f"{today.year - 10}-05-05T00:00:00", "BABY": f"{baby.isoformat()}T00:00:00"}  # fmt: skip


def available_slots(url: str) -> list[tuple[str, str]]:
    """(slot id, tag_age) of every AVAILABLE slot of the default credentials' MOs, read through the FER API."""
    status, answer = fer.post_json(f"{url}/auth.svc", {"username": fer.USERNAME, "password": fer.PASSWORD})
    if status != 200:
        raise RuntimeError(f"auth failed: {status} {answer}")
    token = answer["Result"]["Value"]
    found = []
    for mo in get_json(f"{url}/api/mo/oid/{fer.USERNAME}", token)["result"]:
        for resource in get_json(f"{url}/api/mo/{mo['id']}/resource", token)["result"]:
            for slot in get_json(f"{url}/api/resourse/{resource['id']}/slots", token)["result"]:
                if slot["status"] == "AVAILABLE":
                    found.append((slot["id"], slot.get("tag_age") or "ALL"))
    return found


def book_requests(port: int, slots: list[tuple[str, str]]) -> list[bytes]:
    """Pre-encoded `POST /__admin/fer/epgu/book` requests, one per slot, each with an age-fitting patient."""
    born = birthdates(dt.date.today())
    head = f"POST /__admin/fer/epgu/book HTTP/1.1\r\nHost: {fer.HOST}:{port}\r\nContent-Type: application/json\r\n"
    requests = []
    for slot_id, tag_age in slots:
        body = orjson.dumps({"slot_id": slot_id, "patient": {"birthdate": born.get(tag_age, born["ALL"])}})
        requests.append(head.encode() + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return requests


async def drive(
    port: int, requests: list[bytes], concurrency: int, stagger: float = 0.0
) -> tuple[float, list[Booking]]:
    """Send every request once over `concurrency` keep-alive connections; return (wall seconds, bookings).

    Worker k starts k·stagger/concurrency seconds late: with `stagger` = the MIS's time the workers stay spread over
    its period, as independent ЕПГУ users are; with 0 they start at once and keep booking in lockstep waves, and
    every wave's answers reach the gateway within a few milliseconds of each other.
    """
    bookings: list[Booking | None] = [None] * len(requests)
    queue = iter(range(len(requests)))
    connections = [await fer.Connection.open(port) for _ in range(concurrency)]

    async def worker(k: int) -> None:
        await asyncio.sleep(k * stagger / concurrency)
        for i in queue:
            began = time.perf_counter()
            try:
                status, body = await connections[k].send(requests[i])
                answer = orjson.loads(body)
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                status, answer = 0, {"message": repr(exc)}
                connections[k].close()
                connections[k] = await fer.Connection.open(port)
            bookings[i] = Booking(time.perf_counter() - began, status, answer if isinstance(answer, dict) else {})

    began = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    seconds = time.perf_counter() - began
    for connection in connections:
        connection.close()
    return seconds, [b for b in bookings if b is not None]


def report(seconds: float, bookings: list[Booking], concurrency: int, mis_ms: float, stagger_ms: float) -> bool:
    """Print the figures; True if every booking succeeded."""
    outcomes = Counter(b.outcome for b in bookings)
    start = f"starts spread over {stagger_ms:g} ms" if stagger_ms else "all starting at once (lockstep waves)"
    print(f"bookings         {len(bookings)} (concurrency {concurrency}, {start}, the MIS takes {mis_ms:g} ms "
          f"per booking)")  # fmt: skip
    print("outcomes         " + ", ".join(f"{name} {count}" for name, count in outcomes.most_common()))
    print(f"seconds          {seconds:.2f}")
    print(f"bookings/s       {len(bookings) / seconds:,.1f}")
    series = (
        ("end-to-end ms", [b.seconds for b in bookings], "(a) the admin call, as this client saw it"),
        ("MIS call ms", [b.mis_seconds for b in bookings], "(b) latency_ms: the gateway's call into the MIS"),
        ("overhead ms", [b.seconds - b.mis_seconds for b in bookings], "(a) − (b): the gateway's own time"),
    )
    for label, values, note in series:
        p50, p99 = fer.percentile_ms(values, 0.5), fer.percentile_ms(values, 0.99)
        print(f"{label:<17}p50 {p50:7.2f}  p99 {p99:7.2f}  max {max(values) * 1000:7.2f}    {note}")
    # Without a stagger the first wave starts all clients at the same instant, a burst no real traffic has.
    steady = [b.seconds - b.mis_seconds for b in bookings[concurrency:]] or series[2][1]
    p50, p99 = fer.percentile_ms(steady, 0.5), fer.percentile_ms(steady, 0.99)
    print(
        f"{'overhead, steady':<17}p50 {p50:7.2f}  p99 {p99:7.2f}  max {max(steady) * 1000:7.2f}    "
        f"(a) − (b) without the first {concurrency} bookings (the start)"
    )
    for label, values in (("all", series[2][1]), ("steady", steady)):
        overhead_p99 = fer.percentile_ms(values, 0.99)
        verdict = "met" if overhead_p99 < OVERHEAD_P99_TARGET_MS else "NOT met"
        print(f"target ({label:<6}) gateway overhead p99 < {OVERHEAD_P99_TARGET_MS:g} ms at 50 concurrent: {verdict} "
              f"({overhead_p99:.2f} ms at {concurrency})")  # fmt: skip
    failed = [b for b in bookings if b.outcome != "success"]
    for b in failed[:10]:
        print(f"  {b.outcome}: {str(b.answer.get('message'))[:300]}")
    return not failed and len(bookings) > 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=500, help="bookings (default 500, or as many slots as exist)")
    parser.add_argument("--concurrency", type=int, default=50, help="concurrent admin book calls (default 50)")
    parser.add_argument("--seed", type=int, default=7, help="the sample MIS's seed (default 7)")
    parser.add_argument(
        "--mis-ms",
        type=float,
        default=100.0,
        help="the sample MIS's own time per booking, as a real MIS would take (default 100; 0 = answer at once)",
    )
    parser.add_argument(
        "--stagger-ms",
        type=float,
        help="spread the clients' starts over this many ms (default: the MIS's time; 0 = lockstep waves)",
    )
    args = parser.parse_args(argv)
    stagger_ms = args.mis_ms if args.stagger_ms is None else args.stagger_ms
    with tempfile.TemporaryDirectory(prefix="fer-booking-") as data_dir:
        port, mis_port = fer.free_port(), fer.free_port()
        url = f"http://{fer.HOST}:{port}"
        gateway_cmd = [sys.executable, "-m", "emulators.cli", "up", "fer", "--fer-port", str(port)]
        gateway_cmd += ["--data-dir", data_dir, "--quiet"]
        mis_cmd = [
            sys.executable,
            "-m",
            "emulators.cli",
            "sample-mis",
            "--gateway",
            url,
            "--port",
            str(mis_port),
            "--answer-delay-ms",
            str(args.mis_ms),
        ]
        mis_cmd += ["--seed", str(args.seed)]
        logs = Path(data_dir) / "gateway.log", Path(data_dir) / "mis.log"
        with fer.process(gateway_cmd, logs[0]) as gateway:
            wait_ready(url, [(gateway, logs[0])], lambda state: True)  # the MIS logs in as soon as it starts
            with fer.process(mis_cmd, logs[1]) as mis:
                state = wait_ready(url, [(gateway, logs[0]), (mis, logs[1])], showcase_ready)
                available = available_slots(url)
                requests = book_requests(port, available[: args.bookings])
                watched = {"gateway": fer.Stand(port, gateway.pid, ""), "MIS": fer.Stand(mis_port, mis.pid, "")}
                start = fer.calibration("start")
                cpu_before, client_before = {k: v.cpu_seconds() for k, v in watched.items()}, time.process_time()
                seconds, bookings = fer.run(drive(port, requests, args.concurrency, stagger_ms / 1000))
                client_cpu = time.process_time() - client_before
                cpu = {k: tuple(a - b for a, b in zip(v.cpu_seconds(), cpu_before[k])) for k, v in watched.items()}
                end = fer.calibration("end")
    print(start)
    print(f"showcase         {state['showcase']['slot']} slots from the sample MIS (seed {args.seed}), "
          f"{len(available)} AVAILABLE, {len(requests)} booked once each")  # fmt: skip
    ok = report(seconds, bookings, args.concurrency, args.mis_ms, stagger_ms)
    print(f"CPU seconds      gateway {cpu['gateway'][0]:.1f} (event-loop thread {cpu['gateway'][1]:.1f}), "
          f"MIS {cpu['MIS'][0]:.1f}, client {client_cpu:.1f}, in {seconds:.1f} s wall; {fer.cpu_note()}")  # fmt: skip
    print(end)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
