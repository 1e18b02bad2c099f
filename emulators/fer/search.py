"""ЕПГУ's slot search (FER-EPGU-1, step 7.2 of «Запись на прием по направлению»), read from the kept values.

The search first picks the resources that may be offered (enabled ≠ NONE, speciality, profile, service, no
unavailability period intersecting the asked interval), then scans only their slots' kept values
(`Showcase.first_available_slot` / `slots_between`): no slot record is unpacked until one is chosen.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from emulators.fer.formats import parse_timestamp
from emulators.fer.showcase import Showcase, SlotFacts

REFERRAL_TAGS = frozenset({"REFERRAL", "ORDINARY", "EPGU", "REGISTRY"})
EPGU_TAGS = frozenset({"EPGU"})
# step 7.2: «Подсчитаны количество доступных/занятых слотов для ЕПГУ/Регистратуры/дучета»
COUNTED_TAGS = {"epgu": "EPGU", "registry": "REGISTRY", "d_observation": "D_OBSERVATION"}


def ages_accepted(age: int | None) -> frozenset[str] | None:
    """FER-EPGU-1 age filter: ≥18 ADULT|ALL, 1–17 CHILD|ALL, <1 BABY|ALL; None (any) for an unknown age."""
    if age is None:
        return None
    return frozenset({"ADULT" if age >= 18 else "CHILD" if age >= 1 else "BABY", "ALL"})


@dataclass(frozen=True)
class SlotQuery:
    """EPGU's slot search; every field optional. `mo_ids` None: every MO (or every MO of `owner`)."""

    mo_ids: frozenset[str] | None = None
    owner: str | None = None  # only the subdivisions of this MO OID
    speciality_id: str | None = None
    service_code: str | None = None
    profile_code: str | None = None
    patient_age: int | None = None
    date_from: dt.date | None = None
    days: int = 14
    tags: frozenset[str] = EPGU_TAGS
    with_service: bool = False  # vaccination: the resource must offer a service (service_id, dictionary_nsi_code)
    tag_ages: frozenset[str] | None = None  # instead of the patient's age rule (a wrong-age test needs a limit)

    @property
    def ages(self) -> frozenset[str] | None:
        return self.tag_ages if self.tag_ages is not None else ages_accepted(self.patient_age)

    def with_age(self, age: int | None) -> SlotQuery:
        return self if age is None else replace(self, patient_age=age)


@dataclass(frozen=True)
class Window:
    """The asked interval: [start, end) by day, never before `now` (a slot that has started is not offered)."""

    start: dt.datetime
    end: dt.datetime
    now: dt.datetime

    @classmethod
    def of(cls, query: SlotQuery, now: dt.datetime) -> Window:
        first = query.date_from or now.date()
        start = dt.datetime.combine(first, dt.time())
        return cls(start, start + dt.timedelta(days=query.days), now)

    @property
    def after(self) -> str:
        """The strict lower bound of visit_time as text: the later of now and the first day's start."""
        earliest = max(self.now, self.start - dt.timedelta(seconds=1))
        return earliest.isoformat(timespec="seconds")

    @property
    def before(self) -> str:
        return self.end.isoformat(timespec="seconds")


def eligible_resources(showcase: Showcase, query: SlotQuery, window: Window) -> list[str]:
    """Resources ЕПГУ may offer for this query, in a stable order."""
    found = []
    for resource_id in sorted(_resources_of(showcase, _mo_ids(showcase, query))):
        resource = showcase.record("resource", resource_id)
        if resource is None or resource.get("enabled") == "NONE":
            continue
        if query.speciality_id and resource.get("speciality_id") != query.speciality_id:
            continue
        if not _fits(showcase, resource_id, query) or unavailable_within(showcase, resource_id, window):
            continue
        found.append(resource_id)
    return found


def first_slot(showcase: Showcase, query: SlotQuery, now: dt.datetime) -> str | None:
    """The id of the earliest slot ЕПГУ would offer, or None."""
    window = Window.of(query, now)
    resources = eligible_resources(showcase, query, window)
    return showcase.first_available_slot(
        resources, window.after, window.before, _tag_test(query.tags), query.ages
    )


def find_slots(showcase: Showcase, query: SlotQuery, now: dt.datetime) -> list[SlotFacts]:
    """Every slot ЕПГУ would offer, earliest first."""
    ages, tagged = query.ages, _tag_test(query.tags)
    return [s for s in _window_slots(showcase, query, now) if s.status == "AVAILABLE" and _shown(s, tagged, ages)]


def day_counts(showcase: Showcase, query: SlotQuery, now: dt.datetime) -> list[dict[str, Any]]:
    """Step 7.2: per day, MO, resource and tag_age, the available/booked slots for ЕПГУ, registry and D-observation."""
    ages = query.ages
    groups: dict[tuple[str, str, str, str], dict[str, int]] = {}
    for slot in _window_slots(showcase, query, now):
        if slot.status not in {"AVAILABLE", "RECORDED"} or (ages is not None and slot.tag_age not in ages):
            continue
        counts = groups.setdefault((slot.visit_time[:10], slot.mo_id, slot.resource_id, slot.tag_age), _zero())
        tags = _tags(slot.tag_type)
        for name, tag in COUNTED_TAGS.items():
            if tag in tags:
                counts[name] += 1
                counts[f"recorded_{name}"] += slot.status == "RECORDED"
    return [{"day": day, "mo_id": mo, "resource_id": res, "tag_age": age, **counts}
            for (day, mo, res, age), counts in sorted(groups.items())]  # fmt: skip


def days_open(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calendar of step 7.2: a day is open online when sum(epgu) > 0 and ≠ sum(recorded_epgu), at the
    registry when sum(registry) > 0 and ≠ sum(recorded_registry)."""
    days: dict[str, dict[str, int]] = {}
    for group in groups:
        total = days.setdefault(group["day"], _zero())
        for name in total:
            total[name] += group[name]
    return [{"day": day, "online": t["epgu"] > 0 and t["epgu"] != t["recorded_epgu"],
             "registry": t["registry"] > 0 and t["registry"] != t["recorded_registry"]}
            for day, t in sorted(days.items())]  # fmt: skip


def unavailable_within(showcase: Showcase, resource_id: str, window: Window) -> bool:
    """An unaccessable_period of the resource intersects the asked interval (the resource is not offered)."""
    for period in showcase.rows_where("unaccessable_period", "resource_id", resource_id):
        begins, ends = _moment(period.record.get("beg_date")), _moment(period.record.get("end_date"))
        if begins is not None and ends is not None and begins < window.end and ends >= window.start:
            return True
    return False


def head_mo_subdivisions(showcase: Showcase, mo_id: str | None) -> frozenset[str] | None:
    """The referral's subdivision and every other subdivision of its head MO (same parent_id OID)."""
    if not mo_id:
        return None
    parent = showcase.value("mo", mo_id, "parent_id")
    if parent is None:
        return frozenset({mo_id})
    return frozenset(showcase.tables["mo"].keys_where("parent_id", parent)) | {mo_id}


def _window_slots(showcase: Showcase, query: SlotQuery, now: dt.datetime) -> list[SlotFacts]:
    window = Window.of(query, now)
    slots = showcase.slots_between(eligible_resources(showcase, query, window), window.after, window.before)
    return sorted(slots, key=lambda s: (s.visit_time, s.id))


def _mo_ids(showcase: Showcase, query: SlotQuery) -> Iterable[str] | None:
    if query.owner is None:
        return query.mo_ids
    own = showcase.tables["mo"].keys_where("parent_id", query.owner)
    return own if query.mo_ids is None else own & query.mo_ids


def _resources_of(showcase: Showcase, mo_ids: Iterable[str] | None) -> set[str]:
    table = showcase.tables["resource"]
    if mo_ids is None:
        return set(table.rows)
    return set().union(*(table.keys_where("mo_id", mo_id) for mo_id in mo_ids))


def _fits(showcase: Showcase, resource_id: str, query: SlotQuery) -> bool:
    if query.profile_code:
        profiles = showcase.rows_where("profilecode_resource", "resource_id", resource_id)
        if not any(p.record.get("profile_code") == query.profile_code for p in profiles):
            return False
    if query.service_code or query.with_service:
        services = showcase.rows_where("service", "resource_id", resource_id)
        if not any(query.service_code in (None, s.record.get("code")) for s in services):
            return False
    return True


def _shown(slot: SlotFacts, tagged: Any, ages: frozenset[str] | None) -> bool:
    return bool(tagged(slot.tag_type)) and (ages is None or slot.tag_age in ages)


def _tag_test(wanted: frozenset[str]) -> Any:
    @functools.lru_cache(maxsize=256)
    def tagged(tag_type: str) -> bool:
        return bool(_tags(tag_type) & wanted)

    return tagged


def _tags(tag_type: Any) -> set[str]:
    return {t.strip() for t in str(tag_type or "").split(",")}


def _moment(value: Any) -> dt.datetime | None:
    parsed = parse_timestamp(value) if isinstance(value, str) else None
    return None if parsed is None else parsed.replace(tzinfo=None)


def _zero() -> dict[str, int]:
    return {name: 0 for tag in COUNTED_TAGS for name in (tag, f"recorded_{tag}")}
