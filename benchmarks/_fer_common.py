"""Shared parts of the FER gateway benchmarks: a real gateway subprocess, fixtures, a lean HTTP client, stats.

The gateway runs exactly as `medstand up fer` does — auth, every check and SQLite persistence on — in a fresh
temporary data dir, on a free port. The client is a minimal HTTP/1.1 keep-alive client on asyncio streams with
pre-encoded requests, so that on a small machine it costs far less CPU than the server it measures.

The same requests also go to the issue's reference stack (`_reference_app.py`), and the gateway's rate is reported as
a fraction of its rate. This machine's speed drifts 2–3× within seconds, so by default both servers run at once and
the load is sent in interleaved rounds (`interleave`): one chunk to one server, the same chunk to the other, never
both at once, alternating which goes first; each round gives a ratio measured at (nearly) one machine speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.error
import urllib.request
import uuid
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import orjson

HOST = "127.0.0.1"
USERNAME = "1.2.643.5.1.13.13.12.2.86.8902"
PASSWORD = "E837EE78350021618250663B60EF58**"
CREATE_TS = "2024-01-01T00:00:00"
BASE_TIME = 1_767_254_400  # 2026-01-01T08:00:00 UTC: slot times are (resource, base + k·20 min)
T = TypeVar("T")


def free_port() -> int:
    """A port the kernel says is free right now (bind to port 0, read it back, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def post_json(url: str, body: Any, token: str | None = None) -> tuple[int, Any]:
    """One blocking JSON POST for setup (not for load); returns (status, parsed body)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"bearer {token}"
    request = urllib.request.Request(url, data=orjson.dumps(body), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, orjson.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read() or b"null")


@dataclass
class Stand:
    """A running gateway with `mos` × `resources_per_mo` resources owned by the default credentials."""

    port: int
    pid: int
    token: str
    resources: list[tuple[str, str]] = field(default_factory=list)  # (mo_id, resource_id)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def peak_rss_mib(self) -> float:
        """The server's peak resident set size (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("VmHWM not found in /proc/<pid>/status")

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user + system) of the server process and of its main (event-loop) thread so far."""
        return _cpu(f"/proc/{self.pid}/stat"), _cpu(f"/proc/{self.pid}/task/{self.pid}/stat")


def _cpu(stat_path: str) -> float:
    fields = Path(stat_path).read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


@contextlib.contextmanager
def gateway(mos: int = 20, resources_per_mo: int = 50, journal: bool = True) -> Iterator[Stand]:
    """Start `medstand up fer` on a free port with a fresh data dir; always stop it with SIGTERM."""
    with tempfile.TemporaryDirectory(prefix="fer-bench-") as data_dir:
        port = free_port()
        command = [sys.executable, "-m", "emulators.cli", "up", "fer", "--fer-port", str(port)]
        command += ["--data-dir", data_dir, "--quiet"] + ([] if journal else ["--no-journal"])
        with serve_process(command, port, Path(data_dir) / "server.log") as pid:
            status, answer = post_json(f"http://{HOST}:{port}/auth.svc", {"username": USERNAME, "password": PASSWORD})
            if status != 200:
                raise RuntimeError(f"auth failed: {status} {answer}")
            stand = Stand(port, pid, answer["Result"]["Value"])
            _create_fixtures(stand, mos, resources_per_mo)
            yield stand


@contextlib.contextmanager
def reference() -> Iterator[Stand]:
    """Start the issue's reference stack (`_reference_app.py`) on a free port: a Stand without token or fixtures."""
    with tempfile.TemporaryDirectory(prefix="fer-reference-") as log_dir:
        port = free_port()
        command = [sys.executable, str(Path(__file__).with_name("_reference_app.py")), "--port", str(port)]
        with serve_process(command, port, Path(log_dir) / "server.log") as pid:
            yield Stand(port, pid, token="")


@contextlib.contextmanager
def process(command: list[str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run a subprocess with its output in `log_path`; always stop it with SIGTERM (kill after 60 s)."""
    with log_path.open("wb") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextlib.contextmanager
def serve_process(command: list[str], port: int, log_path: Path) -> Iterator[int]:
    """Run a server subprocess until it answers /__admin/health, yield its pid; always stop it with SIGTERM."""
    with process(command, log_path) as child:
        _wait_healthy(child, port, log_path)  # a server that dies while starting is reported here
        yield child.pid
    if child.returncode not in (0, -signal.SIGTERM):
        print(f"server exited with {child.returncode}:\n{log_path.read_text()[-3000:]}", file=sys.stderr)


def _wait_healthy(process: subprocess.Popen[bytes], port: int, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/__admin/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {timeout} s:\n{log_path.read_text()}")


def _create_fixtures(stand: Stand, mos: int, per_mo: int) -> None:
    mo_records = [
        {"id": str(uuid.uuid4()), "parent_id": USERNAME, "branch_oid": f"{USERNAME}.0.{n + 1}",
         "name": f"Бенчмарк-поликлиника №{n + 1}", "address": f"г. Тест, ул. Нагрузочная, д. {n + 1}",
         "enabled": "ALL", "create_ts": CREATE_TS}
        for n in range(mos)
    ]  # fmt: skip
    resources = [
        {"id": str(uuid.uuid4()), "type": "ROOM", "mo_id": mo["id"], "enabled": "ALL", "create_ts": CREATE_TS,
         "room_number": str(n + 1), "room_name": "Кабинет"}
        for mo in mo_records
        for n in range(per_mo)
    ]  # fmt: skip
    for entity, records in (("mo", mo_records), ("resource", resources)):
        status, answer = post_json(f"{stand.url}/api/{entity}", {"data": records}, stand.token)
        if status != 200 or len(answer["sendedGuids"]) != len(records):
            raise RuntimeError(f"creating {entity} failed: {status} {str(answer)[:2000]}")
    stand.resources = [(r["mo_id"], r["id"]) for r in resources]


def slot_requests(stand: Stand, total: int, batch: int, compress: bool = False) -> tuple[list[bytes], list[list[str]]]:
    """Pre-encoded POST /api/slot requests and the ids each carries.

    Slot n goes to resource n mod R at base + (n div R)·20 min, so every (resource, visit_time) is unique.
    """
    lines = ["POST /api/slot HTTP/1.1", f"Host: {HOST}:{stand.port}", f"Authorization: bearer {stand.token}",
             "Content-Type: application/json"] + (["Content-Encoding: gzip"] if compress else [])  # fmt: skip
    head = "".join(line + "\r\n" for line in lines).encode()
    count = len(stand.resources)
    requests, ids = [], []
    for start in range(0, total, batch):
        records = []
        for n in range(start, min(start + batch, total)):
            mo_id, resource_id = stand.resources[n % count]
            visit = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(BASE_TIME + (n // count) * 1200))
            records.append({"id": str(uuid.uuid4()), "mo_id": mo_id, "resource_id": resource_id,
                            "tag_type": "EPGU", "tag_age": "ALL", "visit_time": visit, "duration": 20,
                            "status": "AVAILABLE", "create_ts": CREATE_TS})  # fmt: skip
        body = orjson.dumps({"data": records})
        if compress:
            body = gzip.compress(body, compresslevel=6)
        requests.append(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        ids.append([r["id"] for r in records])
    return requests, ids


class Connection:
    """One HTTP/1.1 keep-alive connection: send pre-encoded bytes, read status and Content-Length body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        at = head.lower().find(b"\r\ncontent-length:")
        if at < 0:
            raise ValueError(f"answer without Content-Length: {head[:300]!r}")
        length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


@dataclass
class Load:
    seconds: float  # wall time of the requests, from the first sent to the last answer
    latencies: list[float]  # seconds, one per request
    answers: list[tuple[int, bytes]]  # (status, body); status 0 = transport error, body its text
    server_cpu: float = 0.0  # CPU seconds of the server process (all threads), up to when it went idle again
    loop_cpu: float = 0.0  # … of its main (event-loop) thread
    client_cpu: float = 0.0  # … of this client process, during the requests
    settle: float = 0.0  # wall seconds waited after the last answer until the server was idle (not in `seconds`)

    @property
    def cpu(self) -> str:
        """Who used the CPU during the load, for the report."""
        return (
            f"server {self.server_cpu:.1f} (event-loop thread {self.loop_cpu:.1f}), client {self.client_cpu:.1f}, "
            f"in {self.seconds:.1f} s wall (+{self.settle:.2f} s until the server was idle); {cpu_note()}"
        )


def measure(stand: Stand, requests: Sequence[bytes], concurrency: int) -> Load:
    """Run the load, wait until the server is idle again, note the CPU seconds the server, its event-loop thread
    and this client spent on it."""
    server, loop = stand.cpu_seconds()
    client = time.process_time()
    load = run(run_load(stand.port, requests, concurrency))
    load.client_cpu = time.process_time() - client
    load.settle = settle(stand)
    server_after, loop_after = stand.cpu_seconds()
    load.server_cpu, load.loop_cpu = server_after - server, loop_after - loop
    return load


def settle(stand: Stand, quiet: float = 0.05, timeout: float = 30) -> float:
    """Wait until the server has used at most one clock tick of CPU in `quiet` seconds; return the wall time waited.

    The gateway answers before its writer thread has committed the records (and compacted the log); that work
    must not run into the next measurement — in interleaved mode, into the other server's chunk.
    """
    began = time.perf_counter()
    tick = 1 / os.sysconf("SC_CLK_TCK")
    last = stand.cpu_seconds()[0]
    while time.perf_counter() - began < timeout:
        time.sleep(quiet)
        now = stand.cpu_seconds()[0]
        if now - last <= tick * 1.01:
            break
        last = now
    return time.perf_counter() - began


async def run_load(port: int, requests: Sequence[bytes], concurrency: int) -> Load:
    """Send every request once over `concurrency` keep-alive connections, as fast as answers come back.

    The connections are opened before the clock starts and closed after it stops.
    """
    latencies = [0.0] * len(requests)
    answers: list[tuple[int, bytes]] = [(0, b"not sent")] * len(requests)
    queue = iter(range(len(requests)))  # shared by the workers; asyncio is single-threaded
    connections = [await Connection.open(port) for _ in range(concurrency)]

    async def worker(k: int) -> None:
        for i in queue:
            began = time.perf_counter()
            try:
                answers[i] = await connections[k].send(requests[i])
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                answers[i] = (0, repr(exc).encode())
                connections[k].close()
                connections[k] = await Connection.open(port)
            latencies[i] = time.perf_counter() - began

    began = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    seconds = time.perf_counter() - began
    for connection in connections:
        connection.close()
    return Load(seconds, latencies, answers)


@dataclass
class Interleaved:
    """Both servers' loads over the same rounds: per-server totals and the per-round ratios."""

    gateway: Load  # the gateway's chunks merged: summed seconds and CPU, latencies and answers in request order
    reference: Load
    round_ratios: list[float]  # gateway rate / reference rate in each round = reference seconds / gateway seconds
    chunks: list[int]  # requests per chunk (per server per round)

    @property
    def ratio(self) -> float:
        """The gateway's rate over all rounds ÷ the reference's (the same requests, so the inverse time ratio)."""
        return self.reference.seconds / self.gateway.seconds

    @property
    def chunk(self) -> str:
        """Requests per server per round: "20", or "66–67" when the load does not split evenly."""
        low, high = min(self.chunks), max(self.chunks)
        return str(low) if low == high else f"{low}–{high}"

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.round_ratios)


def interleave(gw: Stand, ref: Stand, requests: Sequence[bytes], concurrency: int, rounds: int) -> Interleaved:
    """Split the requests into `rounds` chunks; send each chunk to both servers in turn, never to both at once.

    The gateway is first in even rounds, the reference in odd ones. The gateway gets every request exactly once
    over all rounds (so every slot it receives is unique); the reference, which stores nothing, gets the same bytes.
    After each chunk the client waits until that server is idle again (see `settle`) before the next one starts.
    """
    rounds = max(1, min(rounds, len(requests)))
    bounds = [len(requests) * r // rounds for r in range(rounds + 1)]
    loads: dict[str, list[Load]] = {"gateway": [], "reference": []}
    for r in range(rounds):
        chunk = requests[bounds[r] : bounds[r + 1]]
        order = (("gateway", gw), ("reference", ref))
        for name, stand in order if r % 2 == 0 else order[::-1]:
            loads[name].append(measure(stand, chunk, concurrency))
    ratios = [ref.seconds / gw.seconds for gw, ref in zip(loads["gateway"], loads["reference"], strict=True)]
    sizes = [high - low for low, high in itertools.pairwise(bounds)]
    return Interleaved(_merge(loads["gateway"]), _merge(loads["reference"]), ratios, sizes)


def _merge(loads: Sequence[Load]) -> Load:
    return Load(
        seconds=sum(load.seconds for load in loads),
        latencies=[value for load in loads for value in load.latencies],
        answers=[answer for load in loads for answer in load.answers],
        server_cpu=sum(load.server_cpu for load in loads),
        loop_cpu=sum(load.loop_cpu for load in loads),
        client_cpu=sum(load.client_cpu for load in loads),
        settle=sum(load.settle for load in loads),
    )


def failures(load: Load, ids: Sequence[Sequence[str]]) -> list[str]:
    """Every request whose answer is not 200 with exactly its ids in sendedGuids, described."""
    found = []
    for i, ((status, body), sent) in enumerate(zip(load.answers, ids, strict=True)):
        try:
            envelope = orjson.loads(body) if status else None
        except orjson.JSONDecodeError:
            envelope = None
        ok = (
            status == 200
            and isinstance(envelope, dict)
            and envelope.get("isSuccess") is True
            and envelope.get("statusCode") == 200
            and sorted(envelope.get("sendedGuids") or []) == sorted(sent)
        )
        if not ok:
            found.append(f"request {i}: HTTP {status}: {body[:500].decode(errors='replace')}")
    return found


def percentile_ms(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))] * 1000


def report_failures(found: list[str], shown: int = 20) -> None:
    print(f"failures         {len(found)}")
    for line in found[:shown]:
        print(f"  {line}")
    if len(found) > shown:
        print(f"  … and {len(found) - shown} more")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (uvicorn[standard] brings it), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def cpu_note() -> str:
    return f"{os.cpu_count()} CPU(s) shared by client and server"


def report(load: Load, rss_mib: float) -> None:
    """The lines both benchmarks print after their own figures."""
    print(f"server peak RSS  {rss_mib:.1f} MiB")
    print(f"CPU seconds      {load.cpu}")


def calibration(moment: str) -> str:
    """One line: how fast this machine runs plain Python right now (lower is faster)."""
    best = min(timeit.repeat("sum(range(1000))", number=1000, repeat=5)) / 1000 * 1e6
    return f"CPU calibration  sum(range(1000)) {best:.1f} µs, best of 5×1000 ({moment})"


@dataclass
class Reference:
    """The issue's reference figures for one benchmark: what it measured "here", and what the target is."""

    issue_figure: int  # the reference stack's rate when the issue measured it
    target: int  # our target, at that same moment
    unit: str  # "slots/s" or "requests/s"


def compare(reference: Reference, gateway_rate: float, load: Load, count: int, ids: Sequence[Sequence[str]]) -> bool:
    """Print the reference stack's rate for the same requests and the gateway's as a fraction of it; True if ok.

    `count` is what the rate counts (slots or requests) in the load; the target fraction is target / issue_figure.
    """
    found = failures(load, ids)
    rate = count / load.seconds
    target = reference.target / reference.issue_figure
    print(f"reference        {rate:,.0f} {reference.unit}    Starlette + orjson + fastjsonschema, no auth, no storage; "
          f"p50 {percentile_ms(load.latencies, 0.5):.1f} ms, p99 {percentile_ms(load.latencies, 0.99):.1f} ms; "
          f"failures {len(found)}")  # fmt: skip
    print(f"reference CPU    {load.cpu}")
    print(f"gateway/ref      {gateway_rate / rate:.3f}    target ≥ {target:.3f} = 1/{1 / target:.0f} (the issue: "
          f"{reference.target:,} {reference.unit} vs its reference {reference.issue_figure:,})")  # fmt: skip
    for line in found[:5]:
        print(f"  reference {line}")
    return not found


REFERENCE_STACK = "Starlette + orjson + fastjsonschema behind uvicorn; schema validation only, no auth, no storage"


def row(label: str, gateway: str, reference: str, note: str = "") -> None:
    """One line of the interleaved report: the gateway's and the reference's figure side by side."""
    print(f"{label:<17}{gateway:>14}{reference:>14}" + (f"    {note}" if note else ""))


def report_interleaved(
    result: Interleaved,
    reference: Reference,
    rates: Sequence[tuple[str, int, str]],
    latency: tuple[str, int, str],
    rss: tuple[float, float],
    ids: Sequence[Sequence[str]],
) -> bool:
    """Print both servers' figures, the ratio and the per-round ratios; True if neither had a failure.

    `rates`: (label, what the rate counts over the whole load, note) — the first is the one the target is set on;
    `latency`: (label prefix, decimals, note for p99); `rss`: the peak RSS of (gateway, reference) in MiB.
    """
    gw, ref = result.gateway, result.reference
    found = failures(gw, ids), failures(ref, ids)
    row("", "gateway", "reference")
    row("failures", str(len(found[0])), str(len(found[1])), "target 0")
    row("seconds", f"{gw.seconds:.2f}", f"{ref.seconds:.2f}", "summed over the rounds")
    for label, count, note in rates:
        row(label, f"{count / gw.seconds:,.0f}", f"{count / ref.seconds:,.0f}", note)
    prefix, digits, p99_note = latency
    for name, fraction, note in (("p50", 0.50, ""), ("p99", 0.99, p99_note)):
        values = [f"{percentile_ms(load.latencies, fraction):.{digits}f}" for load in (gw, ref)]
        row(f"{prefix} {name} ms", *values, note)
    row(f"{prefix} max ms", *(f"{max(load.latencies) * 1000:.{digits}f}" for load in (gw, ref)))
    row("peak RSS MiB", f"{rss[0]:.1f}", f"{rss[1]:.1f}")
    row("server CPU s", f"{gw.server_cpu:.1f}", f"{ref.server_cpu:.1f}", "all threads, incl. work after the answers")
    row("event-loop CPU s", f"{gw.loop_cpu:.1f}", f"{ref.loop_cpu:.1f}")
    row("client CPU s", f"{gw.client_cpu:.1f}", f"{ref.client_cpu:.1f}", cpu_note())
    row("settle s", f"{gw.settle:.2f}", f"{ref.settle:.2f}", "waits until the server was idle, not in seconds")
    target = reference.target / reference.issue_figure
    print(f"gateway/ref      {result.ratio:.3f} overall, {result.median_ratio:.3f} median of {len(result.round_ratios)}"
          f" rounds (min {min(result.round_ratios):.3f}, max {max(result.round_ratios):.3f})    target ≥ {target:.3f}"
          f" = 1/{1 / target:.0f} (the issue: {reference.target:,} {reference.unit} vs its reference "
          f"{reference.issue_figure:,})")  # fmt: skip
    print("round ratios     " + " ".join(f"{value:.3f}" for value in result.round_ratios)
          + "    (gateway first in rounds 1, 3, …)")  # fmt: skip
    for name, lines, shown in (("gateway", found[0], 20), ("reference", found[1], 5)):
        for line in lines[:shown]:
            print(f"  {name} {line}")
        if len(lines) > shown:
            print(f"  {name}: … and {len(lines) - shown} more")
    return not (found[0] or found[1])
