"""Calls an emulator makes into the MIS: real HTTP with real deadlines, every attempt journaled."""

from __future__ import annotations

import dataclasses
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulators.core.httpclient import DEFAULT_MAX_RESPONSE_BYTES, ClientError, HttpClient
from emulators.core.journal import Journal, Message

JOURNALED_HEADERS = frozenset({"content-type", "reply-to", "soapaction", "content-encoding"})


@dataclass(frozen=True)
class Reply:
    """What came back from the MIS, or why nothing did
    (`failure`: timeout | refused | transport_error | stale_connection | too_large)."""

    status: int | None
    body: bytes
    latency_ms: float
    failure: str | None = None
    detail: str = ""
    sent: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # the answer's headers, lower-case names
    sent_headers: tuple[tuple[str, str], ...] = ()
    attempt: int = 1
    url: str = ""  # the URL as sent (with `params` appended)

    @property
    def ok(self) -> bool:
        return self.failure is None and self.status is not None and 200 <= self.status < 300


class Outbound:
    """Calls into the MIS through one keep-alive client per emulator.

    No request is ever re-sent silently. The one re-send made here: when a reused keep-alive connection
    turns out closed before any answer (the MIS closed it while idle), the request is sent again on a new
    connection, and both attempts are journaled, the first with outcome `stale_connection`. Callers that
    must not re-send at all (a delivery engine counting its POSTs) pass `resend_stale=False`.
    """

    def __init__(self, journal: Journal, emulator: str) -> None:
        self.journal = journal
        self.emulator = emulator
        self.client = HttpClient()

    async def close(self) -> None:
        await self.client.close()

    async def call(
        self,
        operation: str,
        method: str,
        url: str,
        deadline: float,
        json_body: Any = None,
        journal: bool = True,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        attributes: Mapping[str, Any] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        resend_stale: bool = True,
    ) -> Reply:
        """Send one request and wait at most `deadline` seconds for the whole answer.

        The body is `json_body` serialised (Content-Type application/json) or raw `content` bytes (set
        Content-Type in `headers`). `params` are appended to the URL's query. With journal=False the caller
        records the exchange itself (after classifying it) via `record`.
        """
        if json_body is not None and content is not None:
            raise ValueError("give json_body or content, not both")
        body = orjson.dumps(json_body) if json_body is not None else (content or b"")
        sent_headers = dict(headers or {})
        if json_body is not None:
            sent_headers.setdefault("Content-Type", "application/json")
        if params:
            url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(dict(params))
        began = time.perf_counter()
        reply = await self._attempt(method, url, deadline, body, sent_headers, max_response_bytes, fresh=False)
        if reply.failure == "stale_connection" and resend_stale:
            # the lost attempt is always journaled, whatever `journal` says: a re-send is never silent
            self.record(operation, method, url, reply, outcome="stale_connection", attributes=attributes)
            left = max(0.001, deadline - (time.perf_counter() - began))  # the deadline stays a total one
            again = await self._attempt(method, url, left, body, sent_headers, max_response_bytes, fresh=True)
            reply = dataclasses.replace(again, attempt=2)
        if journal:
            self.record(operation, method, url, reply, attributes=attributes)
        return reply

    async def _attempt(
        self, method: str, url: str, deadline: float, body: bytes, headers: dict[str, str], limit: int, fresh: bool
    ) -> Reply:
        started = time.perf_counter()
        shown = tuple((k.lower(), v) for k, v in headers.items() if k.lower() in JOURNALED_HEADERS)
        try:
            answer = await self.client.request(method, url, body, headers, deadline, limit, fresh)
        except ClientError as exc:
            return Reply(None, b"", _since(started), exc.kind, exc.detail, body, sent_headers=shown, url=url)
        return Reply(answer.status, answer.body, _since(started), sent=body, headers=answer.headers,
                     sent_headers=shown, url=url)  # fmt: skip

    def record(
        self,
        operation: str,
        method: str,
        url: str,
        reply: Reply,
        outcome: str | None = None,
        violations: list[dict[str, str]] | None = None,
        notes: list[str] | None = None,
        attributes: Mapping[str, Any] | None = None,
        fault: Mapping[str, Any] | None = None,
        **details: Any,
    ) -> None:
        """Journal one outbound exchange with its classification."""
        outcome = outcome or reply.failure or ("ok" if reply.ok else f"http_{reply.status}")
        answer = None
        if reply.status is not None:
            kept = tuple((k, v) for k, v in reply.headers.items() if k in JOURNALED_HEADERS)
            answer = Message(self.journal.capture(reply.body), status=reply.status, headers=kept)
        self.journal.record(
            emulator=self.emulator,
            direction="outbound",
            operation=operation,
            request=Message(self.journal.capture(reply.sent), method=method, target=reply.url or url,
                            headers=reply.sent_headers),  # fmt: skip
            response=answer,
            latency_ms=reply.latency_ms,
            outcome=outcome,
            violations=tuple(violations or ()),
            notes=tuple(notes or ()),
            details={"failure": reply.detail, **details} if reply.failure else details,
            attributes={**({"attempt": reply.attempt} if reply.attempt > 1 else {}), **(attributes or {})},
            fault=dict(fault) if fault else None,
        )


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
