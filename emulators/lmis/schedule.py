"""LMIS-2: the schedule puller and its cache — resources and slots of every registered local MIS.

«API периодически запрашивает информацию о ресурсах и их расписании и хранит эти данные в кеше». A pull
that fails (no answer, an error status, an answer that breaks the contract) keeps the previous cache and is
reported for that clinic; a clinic whose last good pull is older than `stale_after_seconds` is `stale`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulators.core.storage import Database
from emulators.lmis.calls import Exchange, LocalMisClient
from emulators.lmis.index import Clinic, Registry
from emulators.lmis.settings import LmisSettings

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS lmis_schedule (clinic_id TEXT PRIMARY KEY, resources TEXT NOT NULL,"
    " pulled_at REAL NOT NULL)"
]


@dataclass
class ClinicSchedule:
    """What the central API holds for one clinic, and how its pulls went."""

    clinic_id: str
    resources: list[dict[str, Any]] = field(default_factory=list)  # each with its "slots"
    pulled_at: float | None = None  # the last good pull
    attempted_at: float | None = None
    last_outcome: str | None = None
    last_error: str | None = None
    failures: int = 0  # consecutive failed pulls
    pulls: int = 0
    violations: list[dict[str, str]] = field(default_factory=list)

    def slots(self) -> dict[str, dict[str, Any]]:
        return {slot["slot_id"]: slot for resource in self.resources for slot in resource["slots"]}


class ScheduleCache:
    """Pulls every registered clinic (concurrently) and serves what was pulled."""

    def __init__(self, db: Database, registry: Registry, client: LocalMisClient, settings: LmisSettings,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.db, self.registry, self.client, self.settings, self.clock = db, registry, client, settings, clock
        db.ensure_schema(SCHEMA)
        self.clinics: dict[str, ClinicSchedule] = {}
        for clinic_id, resources, pulled_at in db.query("SELECT clinic_id, resources, pulled_at FROM lmis_schedule"):
            self.clinics[clinic_id] = ClinicSchedule(clinic_id, orjson.loads(resources), pulled_at)
        self._locks: dict[str, asyncio.Lock] = {}

    async def pull_all(self) -> dict[str, dict[str, Any]]:
        """One tick of the puller: every registered clinic, concurrently."""
        clinics = self.registry.all()
        reports = await asyncio.gather(*(self.pull(clinic) for clinic in clinics))
        return {clinic.clinic_id: report for clinic, report in zip(clinics, reports, strict=True)}

    async def pull(self, clinic: Clinic) -> dict[str, Any]:
        lock = self._locks.setdefault(clinic.clinic_id, asyncio.Lock())
        async with lock:
            entry = self.clinics.setdefault(clinic.clinic_id, ClinicSchedule(clinic.clinic_id))
            entry.attempted_at, entry.pulls = self.clock(), entry.pulls + 1
            resources, failed = await self._fetch(clinic)
            if failed is None:
                entry.resources, entry.pulled_at, entry.failures = resources, self.clock(), 0
                entry.last_outcome, entry.last_error, entry.violations = "ok", None, []
                self.db.execute(
                    "INSERT INTO lmis_schedule (clinic_id, resources, pulled_at) VALUES (?, ?, ?) ON CONFLICT"
                    "(clinic_id) DO UPDATE SET resources = excluded.resources, pulled_at = excluded.pulled_at",
                    (clinic.clinic_id, orjson.dumps(resources).decode(), entry.pulled_at),
                )
            else:
                entry.failures += 1
                entry.last_outcome, entry.last_error = failed.outcome, failed.message
                entry.violations = failed.violations
            return self.report(clinic.clinic_id)

    async def _fetch(self, clinic: Clinic) -> tuple[list[dict[str, Any]], Exchange | None]:
        deadline = self.settings.pull_deadline_seconds
        got = await self.client.call(
            "pull", "lmis.resources", clinic.base_url, "GET", self.settings.resources_path, "ResourcesResponse",
            "LMIS-2", deadline=deadline, check=_unique_resources,
        )  # fmt: skip
        if not got.ok:
            return [], got
        today = dt.date.fromtimestamp(self.clock())
        window = {"date_from": today.isoformat(),
                  "date_to": (today + dt.timedelta(days=max(0, self.settings.pull_days - 1))).isoformat()}  # fmt: skip
        resources = []
        for resource in got.answer["resources"]:
            path = self.settings.schedule_path.format(resource_id=resource["resource_id"])
            schedule = await self.client.call(
                "pull", "lmis.schedule", clinic.base_url, "GET", path, "ScheduleResponse", "LMIS-2", params=window,
                deadline=deadline, check=functools.partial(_own_slots, resource_id=resource["resource_id"]),
            )  # fmt: skip
            if not schedule.ok:
                return [], schedule
            resources.append({**resource, "slots": sorted(schedule.answer["slots"], key=lambda s: s["start"])})
        every_slot = [slot["slot_id"] for resource in resources for slot in resource["slots"]]
        _unique(got, every_slot, "slot_id")
        return resources, None if got.ok else got

    # -- what the flows and the API read ------------------------------------------------------------------

    def get(self, clinic_id: str) -> ClinicSchedule | None:
        return self.clinics.get(clinic_id)

    def is_stale(self, entry: ClinicSchedule | None) -> bool:
        if entry is None or entry.pulled_at is None:
            return True
        return self.clock() - entry.pulled_at > self.settings.stale_after_seconds

    def slot(self, clinic_id: str, slot_id: str) -> dict[str, Any] | None:
        entry = self.clinics.get(clinic_id)
        return entry.slots().get(slot_id) if entry else None

    def first_free(self, clinic_id: str, resource_id: str | None = None,
                   speciality_code: str | None = None) -> dict[str, Any] | None:  # fmt: skip
        entry = self.clinics.get(clinic_id)
        if entry is None:
            return None
        now = dt.datetime.fromtimestamp(self.clock()).isoformat(timespec="seconds")
        free = [slot for resource in entry.resources
                if (resource_id is None or resource["resource_id"] == resource_id)
                and (speciality_code is None or resource.get("speciality_code") == speciality_code)
                for slot in resource["slots"] if slot["status"] == "free" and slot["start"] > now]  # fmt: skip
        return min(free, key=lambda s: s["start"]) if free else None

    def mark(self, clinic_id: str, slot_id: str, status: str) -> None:
        """After a booking or a cancel: the cache says so until the next pull brings the local MIS's word."""
        slot = self.slot(clinic_id, slot_id)
        if slot is not None:
            slot["status"] = status

    def report(self, clinic_id: str) -> dict[str, Any]:
        entry = self.clinics.get(clinic_id) or ClinicSchedule(clinic_id)
        return {
            "clinic_id": clinic_id, "pulled_at": _stamp(entry.pulled_at), "attempted_at": _stamp(entry.attempted_at),
            "stale": self.is_stale(entry), "last_outcome": entry.last_outcome, "last_error": entry.last_error,
            "consecutive_failures": entry.failures, "pulls": entry.pulls, "violations": entry.violations,
            "resources": len(entry.resources), "slots": sum(len(r["slots"]) for r in entry.resources),
        }  # fmt: skip

    def forget(self, clinic_id: str) -> None:
        self.clinics.pop(clinic_id, None)
        self.db.execute("DELETE FROM lmis_schedule WHERE clinic_id = ?", (clinic_id,))

    def clear(self) -> None:
        self.clinics.clear()
        self.db.execute("DELETE FROM lmis_schedule")


def _unique(exchange: Exchange, keys: list[str], name: str) -> None:
    seen: set[str] = set()
    repeated: set[str] = set()
    for key in keys:
        (repeated if key in seen else seen).add(key)
    if repeated:
        exchange.violate("LMIS-2", f"{name} repeated: {', '.join(sorted(repeated)[:10])}")


def _unique_resources(exchange: Exchange) -> None:
    _unique(exchange, [resource["resource_id"] for resource in exchange.answer["resources"]], "resource_id")


def _own_slots(exchange: Exchange, resource_id: str) -> None:
    answer = exchange.answer
    wrong = [s["slot_id"] for s in answer["slots"] if s["resource_id"] != resource_id]
    if answer["resource_id"] != resource_id or wrong:
        exchange.violate("LMIS-2", f"the schedule of resource {resource_id} names another resource"
                                   f"{' in slots ' + ', '.join(wrong[:10]) if wrong else ''}")  # fmt: skip


def _stamp(at: float | None) -> str | None:
    return dt.datetime.fromtimestamp(at, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if at else None
