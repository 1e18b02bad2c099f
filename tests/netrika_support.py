"""Real MIS callback receivers on ephemeral ports for the Netrika and delivery-engine tests.

`Receiver` is a uvicorn server whose answers are scripted per request (ack, 500, wrong MessageId, late,
invalid JSON); `Silent` accepts connections and reads but never answers; `down_url()` is a port nobody
listens on. Every receiver records what it got, so a test counts POSTs where they arrive.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from emulators.core.asgi import answer, lifespan, read_body
from emulators.core.testing import Served, serve_in_thread

SEED = Path("/work/shared/seeds/001_9831b7b9adb56c85.txt")
GOLDEN = Path(__file__).parent / "golden" / "netrika"
ACK_TEXT = "Сообщение принято успешно"


@dataclass
class Received:
    path: str
    body: bytes
    headers: dict[str, str]
    at: float

    def json(self) -> Any:
        return orjson.loads(self.body)


Answer = tuple[int, bytes, float]  # status, body, seconds to wait before answering
Script = Callable[[Received, int], Answer]  # (request, its number from 1) -> answer


def ack(request: Received, n: int) -> Answer:
    """The seed's acknowledgement with the MessageId received."""
    message_id = request.json().get("MessageId")
    return 200, orjson.dumps({"MessageId": message_id, "Message": ACK_TEXT, "Status": "Success"}), 0.0


def fail_then_ack(failures: int, status: int = 500) -> Script:
    def script(request: Received, n: int) -> Answer:
        return (status, b'{"error": "boom"}', 0.0) if n <= failures else ack(request, n)

    return script


def wrong_message_id(request: Received, n: int) -> Answer:
    body = {"MessageId": "00000000-0000-4000-8000-000000000000", "Message": ACK_TEXT, "Status": "Success"}
    return 200, orjson.dumps(body), 0.0


def late(seconds: float) -> Script:
    def script(request: Received, n: int) -> Answer:
        status, body, _ = ack(request, n)
        return status, body, seconds

    return script


def invalid_json(request: Received, n: int) -> Answer:
    return 200, b'{"MessageId": "x", Message: }', 0.0


def ack_missing_fields(request: Received, n: int) -> Answer:
    return 200, orjson.dumps({"MessageId": request.json().get("MessageId")}), 0.0


def slow_ack(seconds: float) -> Script:
    return late(seconds)


@dataclass
class Receiver:
    """A scripted MIS callback service on a real port."""

    script: Script = ack
    received: list[Received] = field(default_factory=list)
    served: Served | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

        self.served = serve_in_thread(asgi)
        return self

    @property
    def url(self) -> str:
        assert self.served is not None
        return self.served.url

    def stop(self) -> None:
        if self.served is not None:
            self.served.stop()

    def count(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.received if path is None or r.path == path)

    def wait_for(self, count: int, within: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + within
        while self.count() < count and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            return list(self.received)

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request = Received(scope["path"], await read_body(receive), headers, time.time())
        with self._lock:
            self.received.append(request)
            n = len(self.received)
        try:
            status, body, wait = self.script(request, n)
        except Exception:  # a body the script cannot read: answer 400 like a strict MIS
            status, body, wait = 400, b'{"error": "bad request"}', 0.0
        if wait:
            await asyncio.sleep(wait)
        await answer(send, status, body)


class Silent:
    """Accepts connections, reads what is sent, never answers (the MIS that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests = 0
        self._stop = threading.Event()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self._connections.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        conn.settimeout(0.2)
        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            heads = len(re.findall(rb"^POST ", buffer, re.M))
            if heads:
                with self._lock:
                    self.requests += heads
                buffer = buffer[buffer.rfind(b"POST ") + 5 :]

    def count(self) -> int:
        with self._lock:
            return self.requests

    def stop(self) -> None:
        self._stop.set()
        for conn in self._connections:
            conn.close()
        self.sock.close()
        self._thread.join(timeout=5)


def down_url() -> str:
    """An address where nothing listens (bound and closed: the port is free, connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def wait_until(check: Callable[[], Any], within: float = 10.0, every: float = 0.02) -> Any:
    """Poll `check` until it returns something truthy; AssertionError after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within} s: {check}")
        time.sleep(every)


def tolerant_loads(text: str) -> Any:
    """What a tolerant MIS parser must accept to read the seed's examples as printed.

    The seed's PDF text breaks long strings (the base64 CDA and Data) over several lines, leaves a key's value on
    the next line, and omits the commas between members in two examples (MseResultData after Data, VimisResult
    after StatusCode and IdCaseMis). Strings are joined, values brought to their key, missing commas inserted.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    joined: list[str] = []
    for line in lines:
        if joined and _open_string(joined[-1]):
            joined[-1] += line
        elif joined and joined[-1].endswith(":"):
            joined[-1] += " " + line
        else:
            joined.append(line)
    fixed = []
    for index, line in enumerate(joined):
        following = joined[index + 1] if index + 1 < len(joined) else ""
        if following.startswith('"') and not line.endswith((",", "{", "[")):
            line += ","
        fixed.append(line)
    return orjson.loads("\n".join(fixed))


def _open_string(line: str) -> bool:
    return (line.count('"') - line.count('\\"')) % 2 == 1


def seed_example(name: str) -> str:
    """A golden file: the seed's example exactly as printed (tests/golden/netrika/README.md gives the lines)."""
    return (GOLDEN / f"{name}.seed.txt").read_text(encoding="utf-8")


# -- a running Netrika emulator ---------------------------------------------------------------------------

FAST = {"netrika.interval_s": 0.01, "netrika.backoff": 1.0, "netrika.timeout_s": 0.4, "netrika.cda_delay_s": 0,
        "netrika.semd_delay_s": 0, "netrika.remd_delay_s": 0}  # fmt: skip


@dataclass
class Stand:
    """A Netrika emulator on an ephemeral port, with helpers over its admin API."""

    emulator: Any
    running: Any

    @property
    def url(self) -> str:
        return str(self.running.url)

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        import requests

        return requests.request(method, f"{self.url}/__admin{path}", timeout=30, **kw)

    def send(self, **body: Any) -> dict[str, Any]:
        answer = self.admin("POST", "/netrika/send", json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def message(self, delivery_id: int) -> dict[str, Any]:
        answer = self.admin("GET", f"/netrika/messages/{delivery_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def settled(self, delivery_id: int, within: float = 10.0) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            shown = self.message(delivery_id)
            return shown if shown["state"] in ("delivered", "dead") else None

        return dict(wait_until(done, within))

    def stop(self) -> None:
        self.running.stop()


def start_netrika(data_dir: Path, **overrides: Any) -> Stand:
    from emulators.core.config import load_settings
    from emulators.core.testing import start_in_thread
    from emulators.netrika.emulator import Netrika

    settings = load_settings(overrides={"data_dir": str(data_dir), "netrika.port": 0, **FAST, **overrides})
    emulator = Netrika(settings)
    return Stand(emulator, start_in_thread(emulator))


def contract_errors(schema: str, value: Any) -> list[str]:
    """Every way `value` breaks a schema of contracts/netrika/mis-callback.openapi.yaml."""
    from emulators.netrika.callbacks import Callbacks

    return _callbacks(Callbacks).errors(schema, value)


_CACHE: dict[str, Any] = {}


def _callbacks(kind: Any) -> Any:
    if "callbacks" not in _CACHE:
        _CACHE["callbacks"] = kind()
    return _CACHE["callbacks"]
