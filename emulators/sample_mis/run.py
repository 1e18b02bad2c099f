"""Run the sample MIS: serve its booking service first, then publish (the gateway probes it on registration)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any

from emulators.core.errors import UsageError
from emulators.core.runner import bind_socket, make_server
from emulators.sample_mis.app import booking_app, start
from emulators.sample_mis.mis import SampleMis

log = logging.getLogger("medstand.sample_mis")


async def serve(
    mis: SampleMis, host: str, port: int, started: threading.Event | None = None, holder: dict[str, Any] | None = None
) -> None:
    """Serve until SIGINT/SIGTERM (or `holder["server"].should_exit`)."""
    try:
        sock = bind_socket(host, port)
    except OSError as exc:
        raise UsageError(f"the sample MIS cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    server = make_server(booking_app(mis))
    if holder is not None:
        holder["server"] = server
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        resend = await start(mis)
    except BaseException:
        server.should_exit = True
        await serving
        raise
    log.info("sample MIS on http://%s:%s, showcase uploaded to %s, webhook registered", host, port, mis.gateway)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    if started is not None:
        started.set()
    try:
        await serving
    finally:
        resend.cancel()


@dataclass
class Running:
    """A sample MIS in a background thread (tests, scenarios)."""

    mis: SampleMis
    thread: threading.Thread
    server: Any

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def run_in_thread(mis: SampleMis, host: str = "127.0.0.1", port: int = 0) -> Running:
    """Start it on (host, port) — port 0 needs `mis.public_url` chosen after binding, so pick a port first."""
    started = threading.Event()
    holder: dict[str, Any] = {}

    def main() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(serve(mis, host, port, started, holder))

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    if not started.wait(60):
        raise RuntimeError("the sample MIS did not start (see its log)")
    return Running(mis, thread, holder["server"])
