"""A lean HTTP/1.1 client for calls into the MIS: keep-alive pool, a total deadline, httptools parsing.

Why not httpx: on the reference machine httpx/httpcore cost ~4 ms of event-loop time per call (pool
bookkeeping, anyio), a third of a booking's whole cost; this client costs a fraction of that. It speaks
only what the emulators need: one request with any body and headers; Content-Length, chunked or
close-delimited answers, capped in size. It never re-sends a request by itself: a reused keep-alive
connection that turns out closed raises `ClientError("stale_connection")`, and the caller decides (see
`outbound.Outbound.call`, which journals the re-send as its own attempt).
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field

import httptools

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class ClientError(Exception):
    """The exchange failed; `kind` is refused | timeout | transport_error | stale_connection | too_large."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Parsed:
    headers: dict[str, str] = field(default_factory=dict)
    body: list[bytes] = field(default_factory=list)
    done: bool = False
    headers_done: bool = False
    size: int = 0
    limit: int = DEFAULT_MAX_RESPONSE_BYTES
    name: bytes = b""

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise _TooLarge(self.limit)
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        self.done = True


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.used = False

    def close(self) -> None:
        self.writer.close()


class HttpClient:
    """Keep-alive connections per (scheme, host, port); safe for many concurrent requests on one loop."""

    def __init__(self, max_idle_per_host: int = 64) -> None:
        self._idle: dict[tuple[str, str, int], list[_Connection]] = defaultdict(list)
        self.max_idle = max_idle_per_host

    async def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        fresh: bool = False,
    ) -> Answer:
        """One exchange within `timeout` seconds in total; raises ClientError.

        `fresh=True` opens a new connection instead of reusing an idle one (for an explicit re-send).
        """
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ClientError("transport_error", f"unsupported URL {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}",
                "Connection: keep-alive", "User-Agent: medstand"]  # fmt: skip
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races the answer
            async with asyncio.timeout(timeout):
                return await self._exchange(key, raw, max_response_bytes, fresh)
        except TimeoutError as exc:
            raise ClientError("timeout", f"no complete answer within {timeout:g} s") from exc

    async def _exchange(self, key: tuple[str, str, int], raw: bytes, limit: int, fresh: bool) -> Answer:
        connection = None if fresh else self._take(key)
        if connection is None:
            connection = await self._open(key)
        return await self._send(key, connection, raw, limit)

    def _take(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle[key]
        while idle:
            connection = idle.pop()
            if not connection.writer.is_closing() and not connection.reader.at_eof():
                return connection
            connection.close()
        return None

    async def _open(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        try:
            context = ssl.create_default_context() if scheme == "https" else None
            reader, writer = await asyncio.open_connection(host, port, ssl=context)
        except OSError as exc:
            raise ClientError("refused", f"connection to {host}:{port} failed: {exc}") from exc
        return _Connection(reader, writer)

    async def _send(self, key: tuple[str, str, int], connection: _Connection, raw: bytes, limit: int) -> Answer:
        reused, connection.used = connection.used, True
        parsed = _Parsed(limit=limit)
        parser = httptools.HttpResponseParser(parsed)
        received = 0
        try:
            connection.writer.write(raw)
            await connection.writer.drain()
            while not parsed.done:
                chunk = await connection.reader.read(65536)
                if not chunk:
                    if reused and received == 0:
                        connection.close()
                        raise ClientError(
                            "stale_connection", "the reused keep-alive connection closed before any answer"
                        )
                    if parsed.headers_done and _close_delimited(parsed.headers):
                        connection.close()  # RFC 9112 §6.3: the body ends where the connection does
                        return Answer(parser.get_status_code(), parsed.headers, b"".join(parsed.body))
                    raise ClientError("transport_error", "the connection closed before the answer was complete")
                received += len(chunk)
                try:
                    parser.feed_data(chunk)
                except httptools.HttpParserError:
                    if not parsed.done:
                        raise
                    # a complete answer followed by junk (e.g. a 204 with a body): keep the answer, drop the socket
                    connection.close()
                    return Answer(parser.get_status_code(), parsed.headers, b"".join(parsed.body))
        except _TooLarge as exc:
            connection.close()
            raise ClientError("too_large", f"the answer is larger than {exc.args[0]} bytes") from exc
        except httptools.HttpParserCallbackError as exc:
            connection.close()
            if isinstance(exc.__context__, _TooLarge):
                raise ClientError("too_large", f"the answer is larger than {limit} bytes") from exc
            raise ClientError("transport_error", f"{type(exc).__name__}: {exc}") from exc
        except (httptools.HttpParserError, ConnectionError, OSError) as exc:
            connection.close()
            raise ClientError("transport_error", f"{type(exc).__name__}: {exc}") from exc
        except BaseException:
            connection.close()  # timeout or cancellation mid-exchange: the connection is in an unknown state
            raise
        answer = Answer(parser.get_status_code(), parsed.headers, b"".join(parsed.body))
        if _keeps_alive(parser.get_http_version(), parsed.headers) and len(self._idle[key]) < self.max_idle:
            self._idle[key].append(connection)
        else:
            connection.close()
        return answer

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()


class _TooLarge(Exception):
    pass


def _close_delimited(headers: dict[str, str]) -> bool:
    return "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "").lower()


def _keeps_alive(version: str, headers: dict[str, str]) -> bool:
    # httptools' should_keep_alive() answers False for a completed response; decide as RFC 9112 §9.3 says
    connection = headers.get("connection", "").lower()
    return "close" not in connection if version == "1.1" else "keep-alive" in connection
