"""Calls an emulator makes into the MIS: real HTTP with real deadlines, every attempt journaled."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from emulators.core.httpclient import ClientError, HttpClient
from emulators.core.journal import Journal, Message


@dataclass(frozen=True)
class Reply:
    """What came back from the MIS, or why nothing did (`failure`: timeout | refused | transport_error)."""

    status: int | None
    body: bytes
    latency_ms: float
    failure: str | None = None
    detail: str = ""
    sent: bytes = b""

    @property
    def ok(self) -> bool:
        return self.failure is None and self.status is not None and 200 <= self.status < 300


class Outbound:
    """Calls into the MIS through one keep-alive client per emulator; no retries here (the caller decides)."""

    def __init__(self, journal: Journal, emulator: str) -> None:
        self.journal = journal
        self.emulator = emulator
        self.client = HttpClient()

    async def close(self) -> None:
        await self.client.close()

    async def call(
        self, operation: str, method: str, url: str, deadline: float, json_body: Any = None, journal: bool = True
    ) -> Reply:
        """Send one request and wait at most `deadline` seconds for the whole answer.

        With journal=False the caller records the exchange itself (after classifying it) via `record`.
        """
        content = b"" if json_body is None else orjson.dumps(json_body)
        headers = {"Content-Type": "application/json"} if json_body is not None else {}
        started = time.perf_counter()
        try:
            answer = await self.client.request(method, url, content, headers, timeout=deadline)
            reply = Reply(answer.status, answer.body, _since(started), sent=content)
        except ClientError as exc:
            reply = Reply(None, b"", _since(started), exc.kind, exc.detail, content)
        if journal:
            self.record(operation, method, url, reply)
        return reply

    def record(
        self,
        operation: str,
        method: str,
        url: str,
        reply: Reply,
        outcome: str | None = None,
        violations: list[dict[str, str]] | None = None,
        notes: list[str] | None = None,
        **details: Any,
    ) -> None:
        """Journal one outbound exchange with its classification."""
        outcome = outcome or reply.failure or ("ok" if reply.ok else f"http_{reply.status}")
        content = reply.sent
        self.journal.record(
            emulator=self.emulator,
            direction="outbound",
            operation=operation,
            request=Message(self.journal.capture(content), method=method, target=url),
            response=None if reply.status is None else Message(self.journal.capture(reply.body), status=reply.status),
            latency_ms=reply.latency_ms,
            outcome=outcome,
            violations=tuple(violations or ()),
            notes=tuple(notes or ()),
            details={"failure": reply.detail, **details} if reply.failure else details,
        )


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
