"""A scriptable stand-in for a MIS's booking service, on a real socket (the counterpart, not our code)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """What the stub answers for one path: status, JSON body (or raw bytes), delay in seconds."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    delay: float = 0.0


@dataclass
class MisStub:
    url: str
    scripts: dict[str, Script] = field(default_factory=dict)
    received: list[tuple[str, str, Any]] = field(default_factory=list)

    def answer(self, method_path: str, **script: Any) -> None:
        self.scripts[method_path] = Script(**script)


@contextmanager
def mis_stub() -> Iterator[MisStub]:
    stub = MisStub("")

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            stub.received.append((self.command, self.path, body))
            script = stub.scripts.get(f"{self.command} {self.path}", Script())
            time.sleep(script.delay)
            payload = script.raw if script.raw is not None else json.dumps(script.body or {}).encode()
            try:
                self.send_response(script.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
