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
