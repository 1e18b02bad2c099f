"""FER-CB-1/2: the MIS's booking webhook ("ответный сервис"), one per MO OID and one per subdivision OID."""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass

from emulators.core.outbound import Outbound, Reply
from emulators.core.storage import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fer_webhook (oid TEXT NOT NULL, depart_oid TEXT NOT NULL, address TEXT NOT NULL,"
    " registered_at REAL NOT NULL, PRIMARY KEY (oid, depart_oid))"
]
PROBE = "mis.booking.probe"


@dataclass(frozen=True)
class Probe:
    """The result of `GET {address}/booking/book` (Альтернативный поток 5а when not 200)."""

    address: str
    available: bool
    status: int | None
    message: str
    latency_ms: float


class Webhooks:
    """Registered addresses (SQLite) and their reachability probe."""

    def __init__(self, db: Database, outbound: Outbound, probe_timeout: float) -> None:
        self.db = db
        self.outbound = outbound
        self.probe_timeout = probe_timeout
        db.ensure_schema(SCHEMA)
        # read on every booking: kept in memory, written through to SQLite
        self._cache = {(o, d): a for o, d, a in db.query("SELECT oid, depart_oid, address FROM fer_webhook")}

    async def probe(self, address: str) -> Probe:
        url = booking_url(address, "book")
        reply = await self.outbound.call(PROBE, "GET", url, self.probe_timeout, journal=False)
        message = describe(reply, url, self.probe_timeout)
        outcome = "ok" if reply.status == 200 else reply.failure or f"http_{reply.status}"
        self.outbound.record(PROBE, "GET", url, reply, outcome=outcome, notes=[] if reply.status == 200 else [message])
        return Probe(address, reply.status == 200, reply.status, message, reply.latency_ms)

    def register(self, oid: str, depart_oid: str, address: str) -> None:
        self.db.execute(
            "INSERT INTO fer_webhook (oid, depart_oid, address, registered_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(oid, depart_oid) DO UPDATE SET address = excluded.address,"
            " registered_at = excluded.registered_at",
            (oid, depart_oid, address, time.time()),
        )
        self._cache[(oid, depart_oid)] = address

    def address(self, oid: str, depart_oid: str = "") -> str | None:
        return self._cache.get((oid, depart_oid))

    def remove(self, oid: str, depart_oid: str = "") -> str | None:
        found = self.address(oid, depart_oid)
        if found is not None:
            self.db.execute("DELETE FROM fer_webhook WHERE oid = ? AND depart_oid = ?", (oid, depart_oid))
            del self._cache[(oid, depart_oid)]
        return found

    def resolve(self, oid: str, depart_oid: str | None) -> str | None:
        """The address a booking for this subdivision goes to: its own webhook, else its MO's."""
        if depart_oid:
            own = self.address(oid, depart_oid)
            if own:
                return own
        return self.address(oid)

    def all(self) -> list[dict[str, str]]:
        rows = self.db.query("SELECT oid, depart_oid, address FROM fer_webhook ORDER BY oid, depart_oid")
        return [{"oid": o, "depart_oid": d, "address": a} for o, d, a in rows]

    def clear(self) -> None:
        self.db.execute("DELETE FROM fer_webhook")
        self._cache.clear()


def booking_url(address: str, method: str) -> str:
    return address.rstrip("/") + "/booking/" + method


def is_http_url(address: str) -> bool:
    parsed = urllib.parse.urlsplit(address)
    return parsed.scheme in {"http", "https"} and bool(parsed.netloc) and not parsed.query and not parsed.fragment


def describe(reply: Reply, url: str, timeout: float) -> str:
    """The reason a probe failed, in the gateway's words (Альтернативный поток 5а)."""
    if reply.status == 200:
        return f"Ответный сервис доступен: GET {url} ответил 200"
    if reply.failure == "timeout":
        return f"Ответный сервис недоступен: GET {url} не ответил за {timeout:g} с"
    if reply.failure == "refused":
        return f"Ответный сервис недоступен: не удалось установить соединение с {url}"
    if reply.failure:
        return f"Ответный сервис недоступен: ошибка при обращении к {url} ({reply.detail})"
    return f"Ответный сервис недоступен: GET {url} ответил {reply.status}, ожидается 200"
