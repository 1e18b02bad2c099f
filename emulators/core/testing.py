"""Serve an emulator's app on a real ephemeral port in a background thread (tests and Python scenarios)."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from emulators.core.runner import bind_socket, make_server


@dataclass
class Served:
    """A running server: its base URL, and `stop()`."""

    url: str
    port: int
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Served:
    """Start uvicorn for `app` on (host, port); port 0 picks a free one. Returns once it accepts connections."""
    sock = bind_socket(host, port)
    server = make_server(app)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    bound_port = sock.getsockname()[1]
    return Served(f"http://{host}:{bound_port}", bound_port, server, thread)


@dataclass
class Running:
    """An emulator whose components run on their own loop in a background thread."""

    emulator: Any
    loop: asyncio.AbstractEventLoop = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _stop: asyncio.Event = field(repr=False)

    @property
    def url(self) -> str:
        """The base URL of the emulator's first HTTP listener."""
        return str(self.emulator.listeners[0].url)

    def url_of(self, name: str) -> str:
        return next(str(c.url) for c in self.emulator.listeners if c.name == name)

    def call(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the emulator's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=20)


def start_in_thread(emulator: Any, timeout: float = 30) -> Running:
    """Start every component of `emulator` (listeners on port 0 pick free ports); returns once all are up.

    `stop()` stops them and closes the emulator, as `medstand up` does on SIGTERM.
    """
    from emulators.core.runner import run_emulators

    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        holder["loop"] = asyncio.get_running_loop()
        holder["stop"] = asyncio.Event()
        started = asyncio.Event()
        runner = asyncio.create_task(run_emulators([emulator], ready=started, stop=holder["stop"]))
        waiter = asyncio.create_task(started.wait())
        done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            waiter.cancel()
            await runner  # raises what made the start fail; thread_main reports it
        ready.set()
        await runner

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the caller below
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=thread_main, daemon=True, name=f"{emulator.name}-test-loop")
    thread.start()
    if not ready.wait(timeout):
        raise RuntimeError(f"{emulator.name} did not start within {timeout} s")
    if "error" in holder:
        raise RuntimeError(f"{emulator.name} failed to start: {holder['error']}") from holder["error"]
    return Running(emulator, holder["loop"], thread, holder["stop"])
