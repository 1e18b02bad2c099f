"""A lean ASGI transport, routed by a contract: requests, responses, body limits, gzip, faults, journal.

Why not Flask/Connexion/Starlette: the FER gateway must take 4 000 small uploads a second with auth,
checks and persistence on a 2-core machine; per-request framework overhead decides that. This module
is the only transport layer; handlers are plain async functions keyed by the contract's operationId.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import urllib.parse
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulators.core.faults import Fault, FaultPlan
from emulators.core.journal import Journal, Message, headers_of

log = logging.getLogger("medstand.http")

JOURNALED_HEADERS = frozenset(
    {
        "content-type",
        "content-encoding",
        "content-length",
        "authorization",
        "user-agent",
        "reply-to",
        "accept",
    }
)


class HttpError(Exception):
    """A request the emulator answers with an error status (rendered in the counterpart's own shape)."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


@dataclass
class Request:
    method: str
    path: str
    query_string: bytes
    raw_headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)
    operation: str = ""
    fault: Fault | None = None  # the injected fault that shaped the answer (journaled with it)
    _query: dict[str, str] | None = None
    _headers: dict[str, str] | None = None

    @property
    def query(self) -> dict[str, str]:
        if self._query is None:
            self._query = dict(urllib.parse.parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True))
        return self._query

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.raw_headers}
        return self._headers

    def json(self) -> Any:
        """The body parsed as JSON; HttpError 400 if it is not JSON."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError as exc:
            raise HttpError(400, f"тело запроса не является корректным JSON ({exc})") from exc


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    outcome: str = "ok"
    violations: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    summary: str = ""
    journal_body: bytes | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # journaled: soap_action, message_id, …


def json_response(data: Any, status: int = 200, **extra: Any) -> Response:
    return Response(status, orjson.dumps(data), **extra)


Handler = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[Request, int, str, "str | None"], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    operation: str
    handler: Handler
    admin: bool = False


class Router:
    """Static paths by dict lookup, templated ones (`/api/mo/{mo_id}/resource`) by regex."""

    def __init__(self) -> None:
        self._static: dict[str, dict[str, Route]] = {}
        self._templated: list[tuple[re.Pattern[str], dict[str, Route]]] = []

    def add(self, route: Route) -> None:
        if "{" not in route.template:
            self._static.setdefault(route.template, {})[route.method] = route
            return
        pattern = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.template) + "$")
        for existing, methods in self._templated:
            if existing.pattern == pattern.pattern:
                methods[route.method] = route
                return
        self._templated.append((pattern, {route.method: route}))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        methods = self._static.get(path)
        params: dict[str, str] = {}
        if methods is None:
            for pattern, candidates in self._templated:
                found = pattern.match(path)
                if found:
                    methods, params = (
                        candidates,
                        {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()},
                    )
                    break
        if methods is None:
            raise HttpError(404, f"путь {path} не найден")
        route = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
        if route is None:
            raise HttpError(405, f"метод {method} не поддерживается для {path}; допустимо: {', '.join(methods)}")
        return route, params

    def routes(self) -> list[Route]:
        found = [r for methods in self._static.values() for r in methods.values()]
        return found + [r for _, methods in self._templated for r in methods.values()]


class HttpApp:
    """The ASGI application of one emulator: routing, body limits, faults, error rendering and journaling."""

    def __init__(
        self,
        name: str,
        journal: Journal,
        faults: FaultPlan,
        render_error: ErrorRenderer,
        render_admin_error: ErrorRenderer,
        max_body_bytes: int,
    ) -> None:
        self.name = name
        self.journal = journal
        self.faults = faults
        self.router = Router()
        self.render_error = render_error
        self.render_admin_error = render_admin_error
        self.max_body_bytes = max_body_bytes
        self.fault_hooks: dict[str, Callable[[Fault, Request], None]] = {}
        self.render_fault: Callable[[Fault, Request], Response] | None = None
        self.on_startup: list[Callable[[], Awaitable[None]]] = []
        self.on_shutdown: list[Callable[[], Awaitable[None]]] = []
        self.after_response: Callable[[], None] | None = None  # e.g. gcpolicy.BetweenRequests.collect_if_due
        # operation -> JSON keys whose values are secrets: masked in the journal (request and answer bodies)
        self.journal_masks: dict[str, frozenset[str]] = {}

    def route(self, method: str, template: str, operation: str, handler: Handler, admin: bool = False) -> None:
        self.router.add(Route(method.upper(), template, operation, handler, admin))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self._serve(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            hooks = self.on_startup if message["type"] == "lifespan.startup" else self.on_shutdown
            for hook in hooks:
                await hook()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return

    async def _serve(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        request = Request(scope["method"], scope["path"], scope.get("query_string", b""), scope["headers"])
        route: Route | None = None
        try:
            route, request.path_params = self.router.match(request.method, request.path)
            request.operation = route.operation
            response = await self._dispatch(route, request, receive, send)
        except HttpError as exc:
            render = self.render_admin_error if route is None and request.path.startswith("/__admin") else None
            render = render or (self.render_admin_error if route and route.admin else self.render_error)
            response = render(request, exc.status, exc.message, exc.code)
        except Exception as exc:  # our own failure must not take the emulator down
            log.exception("%s: unhandled error in %s %s", self.name, request.method, request.path)
            response = self.render_error(request, 500, f"внутренняя ошибка эмулятора: {type(exc).__name__}", None)
            response.outcome = "emulator_error"
        if response is _DROPPED:
            self._journal(request, route, None, started, "dropped")
            return
        await _send(send, response, head_only=request.method == "HEAD")
        if route is None or not route.admin:
            self._journal(request, route, response, started, response.outcome)
        if self.after_response is not None:
            self.after_response()

    async def _dispatch(self, route: Route, request: Request, receive: Any, send: Any) -> Response:
        if route.admin:
            request.body = await read_body(request, receive, 10 * 1024 * 1024)
            return await route.handler(request)
        for fault in self.faults.take(route.operation, self._http_kinds()):
            request.fault = fault
            outcome = await self._apply_fault(fault, request, send)
            if outcome is not None:
                return outcome
        request.body = await read_body(request, receive, self.max_body_bytes)
        return await route.handler(request)

    def _http_kinds(self) -> set[str]:
        # the kinds this transport applies; duplicate/poison belong to message paths (Kafka, deliveries)
        return {"delay", "status", "maintenance", "drop", *self.fault_hooks}

    async def _apply_fault(self, fault: Fault, request: Request, send: Any) -> Response | None:
        if fault.kind == "delay":
            await asyncio.sleep(fault.delay_ms / 1000)
            return None
        if fault.kind == "drop":
            await _abort(send)
            return _DROPPED
        hook = self.fault_hooks.get(fault.kind)
        if hook is not None:
            hook(fault, request)
            return None
        if self.render_fault is not None:
            response = self.render_fault(fault, request)
        else:
            response = self.render_error(request, fault.status, fault.message or "fault injected", None)
        response.outcome = f"fault:{fault.kind}"
        return response

    def _journal(
        self, request: Request, route: Route | None, response: Response | None, started: float, outcome: str
    ) -> None:
        journal = self.journal
        if not journal.enabled:
            return
        target = request.path + ("?" + request.query_string.decode("latin-1") if request.query_string else "")
        operation = route.operation if route else "unmatched"
        mask = self.journal_masks.get(operation)
        answer = None
        if response is not None:
            answer = Message(
                journal.capture(response.journal_body if response.journal_body is not None else response.body, mask),
                status=response.status,
            )
        journal.record(
            emulator=self.name,
            direction="inbound",
            operation=operation,
            request=Message(
                journal.capture(request.body, mask),
                method=request.method,
                target=target,
                headers=headers_of(request.raw_headers, JOURNALED_HEADERS),
            ),
            response=answer,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            outcome=outcome,
            violations=tuple(response.violations) if response else (),
            notes=tuple(response.notes) if response else (),
            details={"summary": response.summary} if response and response.summary else {},
            fault={"id": request.fault.id, "kind": request.fault.kind} if request.fault is not None else None,
            attributes=response.attributes if response is not None else {},
        )


_DROPPED = Response(0)


async def read_body(request: Request, receive: Any, limit: int) -> bytes:
    """Read the whole body, refusing more than `limit` bytes and decoding gzip safely (no bombs)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, f"размер тела запроса {declared} байт превышает допустимый ({limit} байт)")
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HttpError(400, "клиент закрыл соединение до окончания передачи тела запроса")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HttpError(413, f"размер тела запроса превышает допустимый ({limit} байт)")
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in {"", "identity"} or not body:
        return body
    if encoding in {"gzip", "x-gzip"}:
        return gunzip_capped(body, limit)
    raise HttpError(400, f"неподдерживаемый Content-Encoding '{encoding}': допустимы gzip или отсутствие сжатия")


def gunzip_capped(body: bytes, limit: int) -> bytes:
    """Decompress gzip, stopping at `limit` decompressed bytes so a bomb costs nothing."""
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise HttpError(400, f"тело запроса с Content-Encoding: gzip не удалось распаковать ({exc})") from exc
    if len(plain) > limit or decoder.unconsumed_tail:
        raise HttpError(413, f"распакованный размер тела запроса превышает допустимый ({limit} байт)")
    if not decoder.eof:
        raise HttpError(400, "тело запроса с Content-Encoding: gzip обрезано (поток gzip не завершён)")
    return plain


async def _send(send: Any, response: Response, head_only: bool = False) -> None:
    headers = [
        (b"content-type", response.content_type.encode("latin-1")),
        (b"content-length", str(len(response.body)).encode("latin-1")),
    ]
    headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers)
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head_only else response.body})


async def _abort(send: Any) -> None:
    # uvicorn's send is bound to its request cycle, which holds the transport: abort it so the client
    # sees the connection drop with no response at all, as a crashed or unplugged server would look.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
    raise ConnectionAbortedError("fault: drop")


def bind_contract(app: HttpApp, contract: Any, handlers: dict[str, Handler], admin: bool = False) -> None:
    """Route every operation of `contract` to the handler named by its operationId.

    An operation with no handler is a start-up error, unless the contract marks it
    `x-medstand-planned: true`: then it answers 501 with a clear message instead.
    """
    from emulators.core.errors import ConfigError

    for operation in contract.operations:
        handler = handlers.get(operation.operation_id)
        if handler is None:
            if not operation.planned:
                raise ConfigError(f"{contract.path}: no handler for operationId {operation.operation_id}")
            handler = _planned(operation.operation_id)
        app.route(operation.method, operation.path, operation.operation_id, handler, admin=admin or operation.admin)
    unused = set(handlers) - {op.operation_id for op in contract.operations}
    if unused:
        raise ConfigError(f"{contract.path}: handlers for operations the contract lacks: {sorted(unused)}")


def _planned(operation_id: str) -> Handler:
    async def planned(request: Request) -> Response:
        raise HttpError(
            501, f"операция {operation_id} описана в контракте, но ещё не реализована в этой версии medstand"
        )

    return planned
