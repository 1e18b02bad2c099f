"""Netrika callback delivery: deliveries/s through the durable outbox against a bare POST loop, fast and slow MIS.

    python benchmarks/netrika_delivery.py [--messages 2000] [--slow-messages 640] [--concurrency 64] [--rounds 6]

Two receivers run in a subprocess (one answers the section-6 acknowledgement at once, one after 200 ms). In the
benchmark process the same SEMDStatus bodies go, round by round and interleaved, through
  outbox   core.delivery.DeliveryEngine as the Netrika emulator wires it: SQLite outbox (committed enqueue, each
           attempt committed before its POST, outcomes group-committed), the acknowledgement judged against the
           contract, every attempt journaled; at most --concurrency POSTs in flight to the site;
  ceiling  a bare loop with the same client (core.httpclient via Outbound) and the same concurrency: POST, await
           the answer, nothing stored, nothing checked, nothing journaled.
Targets, as ratios of the ceiling measured at the same moment: ≥ 0.5 to the fast receiver, ≥ 0.8 to the slow one
(judged on the enqueue_many row: a source with several messages commits them at once; the enqueue() row shows one
commit per message).
p99 is from enqueue to acknowledgement (all of a round's messages are enqueued at once, so it includes queueing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from random import Random
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulators.core.asgi import answer, lifespan, read_body

HOST = "127.0.0.1"
SLOW_S = 0.2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# -- the receivers (a subprocess) ------------------------------------------------------------------------------


def receiver_app(delay: float) -> Any:
    ack_tail = ', "Message": "Сообщение принято успешно", "Status": "Success"}'.encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        message_id = orjson.loads(body)["MessageId"]
        if delay:
            await asyncio.sleep(delay)
        await answer(send, 200, b'{"MessageId": "' + message_id.encode() + b'"' + ack_tail)

    return app


def serve_receivers(fast_port: int, slow_port: int) -> None:
    from emulators.core.runner import bind_socket, make_server

    async def main() -> None:
        servers = [make_server(receiver_app(0.0)), make_server(receiver_app(SLOW_S))]
        ports = (fast_port, slow_port)
        tasks = [asyncio.create_task(s.serve(sockets=[bind_socket(HOST, p)])) for s, p in zip(servers, ports)]
        await asyncio.gather(*tasks)

    asyncio.run(main())


# -- the two senders ----------------------------------------------------------------------------------------------


def bodies(count: int, seed: int) -> list[tuple[str, bytes]]:
    from emulators.netrika.messages import build

    made = []
    for n in range(count):
        message = build("SEMDStatus", "Success", {}, Random(f"{seed}:{n}"))
        made.append((str(message["MessageId"]), orjson.dumps(message)))
    return made


class Outbox:
    """The engine as the emulator runs it, with a worker on this loop."""

    def __init__(self, data_dir: Path, concurrency: int) -> None:
        from emulators.core.config import JournalSettings
        from emulators.core.delivery import DeliveryEngine, Policy
        from emulators.core.journal import Journal
        from emulators.core.outbound import Outbound
        from emulators.core.storage import Database
        from emulators.netrika.callbacks import Callbacks

        self.db = Database(f"sqlite:///{data_dir / 'bench.sqlite3'}")
        self.outbound = Outbound(Journal(JournalSettings()), "netrika")
        self.engine = DeliveryEngine(self.db, self.outbound, "netrika", Policy(timeout_s=10), concurrency,
                                     max_in_flight=4 * concurrency)  # fmt: skip
        self.engine.acknowledge_with("SEMDStatus", Callbacks().judge_ack)
        self.engine.on_settled = self._settled
        self._waiting = 0
        self._done: asyncio.Event | None = None
        self.failed = 0

    def _settled(self, delivery_id: int, state: str) -> None:
        self.failed += state != "delivered"
        self._waiting -= 1
        if self._waiting == 0 and self._done is not None:
            self._done.set()

    async def round(
        self, url: str, site: str, messages: list[tuple[str, bytes]], batch: int
    ) -> tuple[float, list[float]]:
        from emulators.core.delivery import Outgoing

        self._done = asyncio.Event()
        self._waiting = len(messages)
        before = len(self.engine.stats.settle_latency_ms)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        began = time.perf_counter()
        for start in range(0, len(messages), 50):
            chunk = messages[start : start + 50]
            if batch == 1:
                for message_id, body in chunk:
                    self.engine.enqueue(site, "SEMDStatus", url, body, headers, message_id)
            else:
                self.engine.enqueue_many([Outgoing(site, "SEMDStatus", url, body, headers, i) for i, body in chunk])
            await asyncio.sleep(0)  # let the worker start while the rest arrive
        await self._done.wait()
        return time.perf_counter() - began, self.engine.stats.settle_latency_ms[before:]


async def ceiling(
    client: Any, url: str, messages: list[tuple[str, bytes]], concurrency: int
) -> tuple[float, list[float]]:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    queue = iter(messages)
    latencies: list[float] = []
    began = time.perf_counter()

    async def worker() -> None:
        for _message_id, body in queue:
            await client.request("POST", url, body, headers, 10.0)
            latencies.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began, latencies


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


async def measure(args: argparse.Namespace, fast_url: str, slow_url: str, data_dir: Path) -> dict[str, Any]:
    outbox = Outbox(data_dir, args.concurrency)
    worker = asyncio.create_task(outbox.engine.run())
    client = outbox.outbound.client  # the same keep-alive client for both
    results: dict[str, dict[str, list[float]]] = {k: {kind: [] for kind in COLUMNS} for k in ("fast", "slow")}
    seed = 0
    warm = bodies(200, 99)
    await ceiling(client, fast_url + "/SEMDStatus", warm, args.concurrency)
    await outbox.round(fast_url + "/SEMDStatus", "fast", warm, 50)
    for n in range(args.rounds):
        for name, url, count in (("fast", fast_url, args.messages), ("slow", slow_url, args.slow_messages)):
            seed += 1
            messages = bodies(count, seed)
            order = SENDERS[n % 3 :] + SENDERS[: n % 3]  # each goes first in turn
            rates: dict[str, float] = {}
            for kind in order:
                if kind == "ceiling":
                    seconds, latencies = await ceiling(client, url + "/SEMDStatus", messages, args.concurrency)
                else:
                    batch = 1 if kind == "outbox" else 50
                    seconds, latencies = await outbox.round(url + "/SEMDStatus", name, messages, batch)
                rates[kind] = count / seconds
                results[name][kind].append(rates[kind])
                results[name][f"{kind}_p99"].append(p99(latencies))
            for kind in ("outbox", "outbox_many"):
                results[name][f"{kind}_ratio"].append(rates[kind] / rates["ceiling"])
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)
    await outbox.outbound.close()
    outbox.db.close()
    return {"results": results, "failed": outbox.failed, "sent": outbox.engine.stats.sent}


SENDERS = ("outbox", "outbox_many", "ceiling")
COLUMNS = [*SENDERS, *(f"{k}_p99" for k in SENDERS), "outbox_ratio", "outbox_many_ratio"]
LABELS = {"outbox": "outbox, enqueue() each", "outbox_many": "outbox, enqueue_many(50)",
          "ceiling": "ceiling, bare loop"}  # fmt: skip


def report(args: argparse.Namespace, measured: dict[str, Any]) -> bool:
    results = measured["results"]
    print(
        f"messages         {args.messages} per fast round, {args.slow_messages} per slow round, {args.rounds} "
        f"rounds, interleaved (each sender goes first in turn); concurrency {args.concurrency} per site"
    )
    print(f"POSTs            {measured['sent']} by the outbox, {measured['failed']} not delivered")
    ok = measured["failed"] == 0
    for name, target in (("fast", 0.5), ("slow", 0.8)):
        row = results[name]
        print(
            f"{name} receiver ({'answers at once' if name == 'fast' else f'answers in {SLOW_S * 1000:.0f} ms'}), "
            f"medians of {args.rounds} rounds; target ≥ {target} of the ceiling"
        )
        for kind in SENDERS:
            line = (f"  {LABELS[kind]:<26} {statistics.median(row[kind]):8,.0f} /s   "
                    f"p99 {'enqueue→ack' if kind != 'ceiling' else 'start→answer'} "
                    f"{statistics.median(row[f'{kind}_p99']):8.1f} ms")  # fmt: skip
            if kind != "ceiling":
                ratios = row[f"{kind}_ratio"]
                line += f"   ratio {statistics.median(ratios):.2f}  (rounds {' '.join(f'{r:.2f}' for r in ratios)})"
            print(line)
        ok &= statistics.median(row["outbox_many_ratio"]) >= target
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages per fast round (default 2000)")
    parser.add_argument("--slow-messages", type=int, default=640, help="messages per slow round (default 640)")
    parser.add_argument("--concurrency", type=int, default=64, help="POSTs in flight per site (default 64)")
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds (default 6)")
    parser.add_argument("--receivers", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receivers:
        serve_receivers(*args.receivers)
        return 0
    ports = free_port(), free_port()
    process = subprocess.Popen([sys.executable, __file__, "--receivers", *map(str, ports)],
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})  # fmt: skip
    try:
        wait_listening(ports)
        with tempfile.TemporaryDirectory(prefix="netrika-bench-") as folder:
            fast, slow = (f"http://{HOST}:{port}" for port in ports)
            measured = asyncio.run(measure(args, fast, slow, Path(folder)))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    return 0 if report(args, measured) else 1


def wait_listening(ports: tuple[int, int], within: float = 20) -> None:
    deadline = time.monotonic() + within
    for port in ports:
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the receivers did not start") from None
                time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
