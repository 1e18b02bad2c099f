"""MIS sites (площадки МИС-МО) and their callback addresses (NET-5).

For REMDStatus, MseResult and MseResultData the address is registered beforehand (the seed: by the regional
МИАЦ in ИЭМК); this registry stands in for that registration. One unique address per site: a second site
with the same address is refused. A site may name the МО identifiers (`Lpu`) it serves, so that documents
submitted through the intake find their site's address for REMDStatus.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulators.core.storage import Database

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS netrika_site (site TEXT PRIMARY KEY, base_url TEXT NOT NULL UNIQUE,"
    " lpu TEXT NOT NULL DEFAULT '[]', created_at REAL NOT NULL)"
]


class SiteError(ValueError):
    """A registration the registry refuses; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Site:
    site: str
    base_url: str
    lpu: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site, "base_url": self.base_url, "lpu": list(self.lpu)}


def normalize_base(url: str) -> str:
    """The callback base as compared for uniqueness: scheme and host in lower case, no trailing slash."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise SiteError(400, f"a callback address must be an http(s) URL, got {url!r}")
    return urllib.parse.urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def message_url(base: str, message_type: str) -> str:
    """POST [base]/[MessageType] (section 2)."""
    return normalize_base(base) + "/" + message_type


class Sites:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.ensure_schema(SCHEMA)

    def add(self, site: str, base_url: str, lpu: tuple[str, ...] = ()) -> Site:
        if not site.strip():
            raise SiteError(400, "site must be a non-empty name")
        base = normalize_base(base_url)
        holder = self.by_url(base)
        if holder is not None and holder.site != site:
            raise SiteError(409, f"the address {base} is already registered for site {holder.site!r}: "
                                 "each site needs its own address (NET-5)")  # fmt: skip
        if self.by_name(site) is not None:
            raise SiteError(409, f"site {site!r} is already registered; DELETE it first to change its address")
        self.db.execute("INSERT INTO netrika_site (site, base_url, lpu, created_at) VALUES (?, ?, ?, ?)",
                        (site, base, orjson.dumps(list(lpu)).decode(), time.time()))  # fmt: skip
        return Site(site, base, lpu)

    def remove(self, site: str) -> bool:
        return self.db.execute("DELETE FROM netrika_site WHERE site = ?", (site,)) > 0

    def clear(self) -> None:
        self.db.execute("DELETE FROM netrika_site")

    def all(self) -> list[Site]:
        return [self._site(row) for row in self.db.query("SELECT site, base_url, lpu FROM netrika_site ORDER BY site")]

    def by_name(self, site: str) -> Site | None:
        rows = self.db.query("SELECT site, base_url, lpu FROM netrika_site WHERE site = ?", (site,))
        return self._site(rows[0]) if rows else None

    def by_url(self, base_url: str) -> Site | None:
        rows = self.db.query("SELECT site, base_url, lpu FROM netrika_site WHERE base_url = ?",
                             (normalize_base(base_url),))  # fmt: skip
        return self._site(rows[0]) if rows else None

    def by_lpu(self, lpu: str) -> Site | None:
        return next((site for site in self.all() if lpu.lower() in {x.lower() for x in site.lpu}), None)

    @staticmethod
    def _site(row: tuple[Any, ...]) -> Site:
        return Site(row[0], row[1], tuple(orjson.loads(row[2])))
