"""The parts an emulator is made of, each with start / stop / health: listeners, tasks, subprocesses.

`medstand up` starts every component of every emulator on one event loop and stops them in reverse
order on SIGINT/SIGTERM. Health is reported by `/__admin/health`: an emulator is `ok` while all its
components are, `degraded` as soon as one is not (a background task that crashed, a broker that died).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("medstand")

OK, DEGRADED, DOWN, STOPPED = "ok", "degraded", "down", "stopped"


@dataclass(frozen=True)
class Health:
    status: str  # ok | degraded | down | stopped
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"status": self.status}
        if self.detail:
            shown["detail"] = self.detail
        return {**shown, **self.extra}


class Component:
    """Base: a named part with an async start/stop and a health report."""

    name: str = "component"

    async def start(self) -> None:
        """Begin work; return once the part is ready to serve."""

    async def stop(self) -> None:
        """End work; must be safe to call after a failed or no start."""

    def health(self) -> Health:
        return Health(OK)


class HttpListener(Component):
    """One uvicorn server for an ASGI app on (host, port); port 0 picks a free one (see `port`)."""

    def __init__(self, name: str, app: Any, host: str, port: int, scheme: str = "http") -> None:
        self.name = name
        self.app = app
        self.host = host
        self.requested_port = port
        self.port = port
        self.scheme = scheme
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    async def start(self) -> None:
        from emulators.core.runner import bind_socket, make_server

        sock = bind_socket(self.host, self.requested_port)
        self.port = sock.getsockname()[1]
        self._server = make_server(self.app)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError(f"{self.name}: server stopped during start")
            await asyncio.sleep(0.005)
        log.info("%s listening on %s (docs: %s/__admin/docs)", self.name, self.url, self.url)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task

    def health(self) -> Health:
        if self._task is None:
            return Health(STOPPED)
        if self._task.done():
            return Health(DOWN, "the HTTP server stopped")
        return Health(OK, extra={"url": self.url})


class BackgroundTask(Component):
    """A coroutine that runs for the emulator's life (a delivery worker, a scheduler).

    If it raises, the failure is logged, health turns `degraded`, and it is restarted after `restart_after`
    seconds (None: not restarted).
    """

    def __init__(
        self, name: str, run: Callable[[], Awaitable[None]], restart_after: float | None = 1.0
    ) -> None:
        self.name = name
        self._run = run
        self.restart_after = restart_after
        self._task: asyncio.Task[None] | None = None
        self.failures = 0
        self.last_error = ""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=self.name)

    async def _supervise(self) -> None:
        while True:
            try:
                await self._run()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("%s failed (%d so far)", self.name, self.failures)
                if self.restart_after is None:
                    return
                await asyncio.sleep(self.restart_after)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def health(self) -> Health:
        if self._task is None:
            return Health(STOPPED)
        if self.failures:
            state = DOWN if self._task.done() else DEGRADED
            return Health(state, f"failed {self.failures} time(s); last: {self.last_error}")
        return Health(OK)


class Periodic(BackgroundTask):
    """Call `tick` every `interval` seconds (a schedule pull, housekeeping); a failed tick is logged and counted."""

    def __init__(self, name: str, interval: float, tick: Callable[[], Awaitable[object]]) -> None:
        self.interval = interval
        self._tick = tick
        self.ticks = 0
        self.tick_failures = 0
        self.last_tick_error = ""
        super().__init__(name, self._loop)

    async def _loop(self) -> None:
        while True:
            try:
                await self._tick()
                self.last_tick_error = ""
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.tick_failures += 1
                self.last_tick_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: tick failed: %s", self.name, self.last_tick_error)
            self.ticks += 1
            await asyncio.sleep(self.interval)

    def health(self) -> Health:
        base = super().health()
        if base.status == OK and self.last_tick_error:
            return Health(DEGRADED, f"last tick failed: {self.last_tick_error}", {"ticks": self.ticks})
        return Health(base.status, base.detail, {"ticks": self.ticks, "failed_ticks": self.tick_failures})


class Subprocess(Component):
    """A supervised child process (an embedded broker): started, awaited until ready, logged, stopped, reaped.

    Readiness is a TCP port that accepts (`ready_port`) or a callable. Its stdout/stderr go to `log_path`
    (and the last lines are kept for health). It is sent SIGTERM on stop, SIGKILL after `grace` seconds,
    and killed if the medstand process exits by any route (atexit; PR_SET_PDEATHSIG on Linux).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        ready_port: tuple[str, int] | None = None,
        ready: Callable[[], bool] | None = None,
        start_timeout: float = 20.0,
        grace: float = 5.0,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.ready_port = ready_port
        self.ready = ready
        self.start_timeout = start_timeout
        self.grace = grace
        self.env = env
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.tail: deque[str] = deque(maxlen=20)
        self._stopping = False
        self._reader: threading.Thread | None = None

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.process = subprocess.Popen(
                self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})}, cwd=self.cwd, preexec_fn=_die_with_parent,
            )  # fmt: skip
        except OSError as exc:
            raise RuntimeError(f"{self.name}: cannot start {self.argv[0]}: {exc}") from exc
        _CHILDREN.add(self.process)
        self._reader = threading.Thread(target=self._pump, name=f"{self.name}-log", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._is_ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.process.returncode} during start: "
                                   f"{self.last_lines()} (log: {self.log_path})")  # fmt: skip
            if time.monotonic() > deadline:
                await self.stop()
                raise RuntimeError(f"{self.name} not ready after {self.start_timeout:g} s (log: {self.log_path})")
            await asyncio.sleep(0.02)
        log.info("%s started (pid %s, log %s)", self.name, self.process.pid, self.log_path)

    def _is_ready(self) -> bool:
        if self.ready is not None:
            return self.ready()
        if self.ready_port is not None:
            with contextlib.suppress(OSError), socket.create_connection(self.ready_port, timeout=0.2):
                return True
            return False
        return True

    def _pump(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.log_path.open("ab") as sink:
            for line in self.process.stdout:
                sink.write(line)
                sink.flush()
                self.tail.append(line.decode("utf-8", "replace").rstrip())
        code = self.process.wait()
        if not self._stopping:
            log.error("%s died with exit code %s: %s (log: %s)", self.name, code, self.last_lines(), self.log_path)

    def last_lines(self, count: int = 3) -> str:
        return " | ".join(list(self.tail)[-count:]) or "no output"

    async def stop(self) -> None:
        self._stopping = True
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        deadline = time.monotonic() + self.grace
        while process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if process.poll() is None:
            log.warning("%s did not stop within %g s: killing it", self.name, self.grace)
            process.kill()
            process.wait()
        _CHILDREN.discard(process)

    def health(self) -> Health:
        if self.process is None:
            return Health(STOPPED)
        code = self.process.poll()
        if code is not None:
            state = STOPPED if self._stopping else DOWN
            return Health(state, f"exited with code {code}: {self.last_lines()}", {"pid": self.process.pid})
        return Health(OK, extra={"pid": self.process.pid})


_CHILDREN: set[subprocess.Popen[bytes]] = set()


def _die_with_parent() -> None:
    # Linux: the child gets SIGKILL when medstand dies, even by SIGKILL (atexit covers the rest)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@atexit.register
def _kill_children() -> None:
    for process in list(_CHILDREN):
        if process.poll() is None:
            process.kill()


def overall(parts: Sequence[Health]) -> str:
    """ok if every part is ok, degraded otherwise."""
    return OK if all(p.status == OK for p in parts) else DEGRADED
