"""Run several emulators' ASGI apps in one process, one uvicorn server per port, stopping cleanly on signals.

The servers run on asyncio's own loop (`asyncio.run`), not uvloop: measured on the benchmark VM
(benchmarks/fer_ingest.py, three A/B pairs), uvloop gave no gain for 10-slot uploads and a worse p99 for
1 000-slot ones (212–255 ms against 165–220).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn

log = logging.getLogger("medstand")


@dataclass(frozen=True)
class Listener:
    name: str
    app: Any
    host: str
    port: int


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # One handler for all servers is installed by `serve_all`; uvicorn's own would stop only one.
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (tests read it back from getsockname)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on such sockets, and without it every answer
    # written in two parts (headers, body) waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def make_server(app: Any) -> uvicorn.Server:
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, proxy_headers=False, server_header=False,
        date_header=False, lifespan="on", timeout_keep_alive=30,
    )  # fmt: skip
    return _Server(config)


async def serve_all(
    listeners: list[Listener],
    ready: asyncio.Event | None = None,
    on_idle: Callable[[], object] | None = None,
    idle_interval: float = 0.25,
) -> None:
    """Serve until SIGINT/SIGTERM (or cancellation), then shut every server down gracefully.

    `on_idle` (e.g. gcpolicy.BetweenRequests.on_idle) is called every `idle_interval` seconds on the loop.
    """
    servers = []
    tasks = []
    for listener in listeners:
        sock = bind_socket(listener.host, listener.port)
        server = make_server(listener.app)
        servers.append(server)
        tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
        bound = sock.getsockname()
        log.info("%s listening on http://%s:%s (docs: /__admin/docs)", listener.name, bound[0], bound[1])
    loop = asyncio.get_running_loop()

    def stop() -> None:
        log.info("stopping: finishing requests in flight")
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
    if ready is not None:
        ready.set()
    ticker = asyncio.create_task(_every(idle_interval, on_idle)) if on_idle is not None else None
    try:
        await asyncio.gather(*tasks)
    finally:
        if ticker is not None:
            ticker.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


async def run_emulators(
    emulators: list[Any],
    ready: asyncio.Event | None = None,
    on_idle: Callable[[], object] | None = None,
    idle_interval: float = 0.25,
    stop: asyncio.Event | None = None,
) -> None:
    """Start every component of every emulator, serve until SIGINT/SIGTERM (or `stop`), stop in reverse."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    started: list[Any] = []

    def request_stop() -> None:
        log.info("stopping: finishing requests in flight")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, request_stop)
    ticker = asyncio.create_task(_every(idle_interval, on_idle)) if on_idle is not None else None
    try:
        for emulator in emulators:
            await emulator.start()
            started.append(emulator)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        if ticker is not None:
            ticker.cancel()
        for emulator in reversed(started):
            try:
                await emulator.stop()
            except Exception:
                log.exception("%s: failed to stop cleanly", emulator.name)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)


async def _every(interval: float, call: Callable[[], object]) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            call()
        except Exception:  # a housekeeping failure must not stop the servers
            log.exception("periodic %s failed", getattr(call, "__qualname__", call))
