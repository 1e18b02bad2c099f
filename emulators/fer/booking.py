"""The gateway as ЕПГУ + ПОДД СМЭВ: booking and cancel driven into the MIS (FER-BK-*, FER-CN-*, FER-EPGU-*).

Each call has the seed's 10-second deadline, is classified (success, business_error, violation, timeout,
transport_error), journaled with its latency, and on success changes the showcase as the gateway does.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import jsonschema
import orjson

from emulators.core.contract import Contract, compile_detailed
from emulators.core.formats import FORMATS
from emulators.fer import formats as _fer_formats  # noqa: F401
from emulators.core.outbound import Outbound, Reply
from emulators.core.validation import compile_check
from emulators.fer import catalogue as texts
from emulators.fer.epgu import REFERRAL_TAGS, SlotQuery, age_on, find_slots, patient_data, warm_up
from emulators.fer.showcase import Showcase, unpack
from emulators.fer.webhooks import Webhooks, booking_url

_STEP_TEXT = {
    "book_uploaded": "МИС выгрузила бирку [{ext_id}] (id = book_ext_id, FER-REF-3)",
    "slot_recorded": "МИС выгрузила слот [{slot_id}] в статусе RECORDED после записи через ЕПГУ (FER-FRESH-1)",
    "slot_available": "МИС выгрузила слот [{slot_id}] в статусе AVAILABLE после отмены через ЕПГУ (FER-FRESH-1)",
}
BOOKING_TYPES = ("APPOINTMENT", "VACCINATION", "DISPENSARY", "PROPHYLACTIC_ADULT", "PROPHYLACTIC_CHILD",
                 "D_OBSERVATION", "ONLINE_CONSULTING", "PAID_APPOINTMENT")  # fmt: skip
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS fer_booking (book_ext_id TEXT PRIMARY KEY, slot_id TEXT NOT NULL, oid TEXT NOT NULL,"
    " patient_id TEXT NOT NULL, referral_id TEXT, booking_type TEXT NOT NULL, status TEXT NOT NULL,"
    " booked_at REAL NOT NULL, cancelled_at REAL, followup TEXT NOT NULL DEFAULT '{}')"
]


@dataclass
class Result:
    """The answer of `POST /__admin/fer/epgu/book|cancel`."""

    outcome: str
    message: str
    status_code: int | None = None
    http_status: int | None = None
    book_ext_id: str | None = None
    slot_id: str | None = None
    latency_ms: float | None = None
    user_message: str | None = None
    violations: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    request: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        # shallow on purpose: dataclasses.asdict deep-copies the request, ~0.7 ms per booking here
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Booking:
    """Drives book/cancel into the MIS registered for the slot's MO (or subdivision)."""

    def __init__(
        self,
        showcase: Showcase,
        webhooks: Webhooks,
        outbound: Outbound,
        contract: Contract,
        deadline: float,
        grace: float,
        associate: Callable[[str, str | None, str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.showcase = showcase
        self.webhooks = webhooks
        self.outbound = outbound
        self.deadline = deadline
        self.grace = grace
        self.associate = associate
        self.clock = clock
        self.db = webhooks.db
        self.db.ensure_schema(SCHEMA)
        names = ("BookRequest", "BookResponse", "CancelRequest", "CancelResponse")
        self.validators = {name: compile_detailed(contract.schema(name), FORMATS) for name in names}
        self.is_valid = {name: compile_check(contract.schema(name), FORMATS) for name in names}  # the fast yes/no
        self.rng = random.Random()
        self.followup_seconds = 30.0
        # ids whose uploads complete a follow-up; checked by set intersection on every upload (cheap)
        columns = "book_ext_id, slot_id, oid, patient_id, referral_id, booking_type, status, booked_at, cancelled_at"
        # every ЕПГУ booking, in memory (read on the MIS's uploads), written behind to fer_booking
        self.records: dict[str, dict[str, Any]] = {}
        self.latest: dict[str, str] = {}  # slot_id -> the latest book_ext_id on it
        for row in self.db.query(f"SELECT {columns}, followup FROM fer_booking ORDER BY booked_at"):
            record = dict(zip([*columns.split(", "), "followup"], row, strict=True))
            record["followup"] = orjson.loads(record["followup"])
            self.records[record["book_ext_id"]] = record
            self.latest[record["slot_id"]] = record["book_ext_id"]
        self.watched = set(self.latest)
        warm_up()
        self.in_flight: set[str] = set()  # slots whose book/cancel is being answered right now
        self.early: dict[str, list[tuple[str, str, Any, float]]] = {}

    # -- book -------------------------------------------------------------------------------------

    async def book(self, spec: dict[str, Any]) -> Result:
        """Choose the slot (given, or searched as ЕПГУ does), build the request, call the MIS, classify."""
        booking_type = spec.get("booking_type") or "APPOINTMENT"
        if booking_type not in BOOKING_TYPES:
            return Result("rejected", f"booking_type must be one of {', '.join(BOOKING_TYPES)}")
        referral = None
        if spec.get("referral_id"):
            referral = self.showcase.get("referral", spec["referral_id"])
            if referral is None or referral[0].get("status") != "AVAILABLE":
                return self._referral_unavailable(spec["referral_id"], referral)
        slot = self._choose_slot(spec, referral[0] if referral else None)
        if isinstance(slot, Result):
            return slot
        record, oid = slot
        visit_day = dt.date.fromisoformat(record["visit_time"][:10])
        patient = patient_data(spec.get("patient"), record.get("tag_age", "ALL"), visit_day, self.rng)
        body = self._book_request(spec, record, patient, booking_type)
        address = self._address(oid, record["mo_id"])
        if address is None:
            return Result("transport_error", f"у МО {oid} не зарегистрирован ответный сервис (POST /api/callback)",
                          slot_id=record["id"], request=body)  # fmt: skip
        self.watched.add(record["id"])
        self.in_flight.add(record["id"])
        try:
            result = await self._call_book(address, body)
        finally:
            self.in_flight.discard(record["id"])
        if result.outcome == "success" and result.book_ext_id:
            self._apply_booking(result.book_ext_id, record, oid, body, booking_type)
        else:
            self.early.pop(record["id"], None)
        return result

    def _referral_unavailable(self, referral_id: str, referral: Any) -> Result:
        if referral is None:
            return Result("no_referral", texts.NO_REFERRAL.template + f": направление [{referral_id}] не найдено")
        status = referral[0].get("status")
        current = [b for b, _, _ in self.showcase.rows_where("book", "referral_id", referral_id)]
        message = f"{texts.NO_REFERRAL.template}: направление [{referral_id}] в статусе {status}"
        result = Result("no_referral", message)
        if status == "RECORDED" and current:
            result.book_ext_id = current[-1]["id"]
            result.slot_id = current[-1]["slot_id"]
            result.message += f"; текущая запись [{result.book_ext_id}]"
        return result

    def _choose_slot(
        self, spec: dict[str, Any], referral: dict[str, Any] | None
    ) -> tuple[dict[str, Any], str] | Result:
        if spec.get("slot_id"):
            row = self.showcase.get("slot", spec["slot_id"])
            if row is None:
                return Result("no_slots", f"{texts.NO_SLOTS.template}: слот [{spec['slot_id']}] не найден в витрине")
            return row[0], row[1]
        query = SlotQuery(mo_id=spec.get("mo_id"), date_from=_day(spec.get("date_from")) or dt.date.today())
        if referral is not None:
            research = referral.get("type") == "RESEARCH"
            query = SlotQuery(
                mo_id=referral.get("to_mo_id"), profile_code=referral.get("to_profile_code"),
                speciality_id=None if research else referral.get("speciality_id"),
                service_code=referral.get("to_service_id") if research else None,
                date_from=query.date_from, tags=REFERRAL_TAGS,
            )  # fmt: skip
        age = _age(spec.get("patient"), query.date_from or dt.date.today())
        if age is not None:
            query = SlotQuery(**{**query.__dict__, "patient_age": age})
        slots = find_slots(self.showcase, query)
        if isinstance(spec.get("patient"), dict) and spec["patient"].get("age_fits") is False:
            slots = [slot for slot in slots if slot.get("tag_age") != "ALL"]  # a wrong age needs an age limit
        if not slots:
            return Result("no_slots", texts.NO_SLOTS.template)
        chosen = slots[0]
        return chosen, self.showcase.owner("slot", chosen["id"]) or ""

    def _book_request(
        self, spec: dict[str, Any], slot: dict[str, Any], patient: dict[str, Any], kind: str
    ) -> dict[str, Any]:
        vaccination = kind == "VACCINATION"
        services = self.showcase.rows_where("service", "resource_id", slot["resource_id"]) if vaccination else []
        return {
            "slot_id": slot["id"],
            "patient_id": spec.get("patient_id") or patient["id"],
            "booking_type": kind,
            "case_number": spec.get("case_number"),
            "preliminary_reservation": bool(spec.get("preliminary_reservation", False)),
            "referral_id": spec.get("referral_id"),
            "cards_id": spec.get("cards_id"),
            "email": spec.get("email"),
            "mobile_phone": spec.get("mobile_phone"),
            "service_id": spec.get("service_id") or (services[0][0]["id"] if services else None),
            "dictionary_nsi_code": spec.get("dictionary_nsi_code") or (services[0][0]["code"] if services else None),
            "patient_data_rrp": patient,
        }

    def _address(self, oid: str, mo_id: str) -> str | None:
        mo = self.showcase.get("mo", mo_id)
        return self.webhooks.resolve(oid, mo[0].get("branch_oid") if mo else None)

    async def _call_book(self, address: str, body: dict[str, Any]) -> Result:
        url = booking_url(address, "book")
        reply = await self._call("mis.booking.book", url, body)
        result = self._classify(reply, "BookResponse", texts.BOOK_CODES, "FER-BK-4")
        result.slot_id, result.request = body["slot_id"], body
        answer = _json(reply.body)
        if isinstance(answer, dict) and result.outcome in {"success", "business_error"}:
            result.book_ext_id = answer.get("book_ext_id") or None
            if answer.get("slot_id") not in (None, body["slot_id"]):
                result.warnings.append(f"ответ содержит другой slot_id [{answer.get('slot_id')}]")
        self._journal("mis.booking.book", url, reply, result)
        return result

    def _apply_booking(self, ext_id: str, slot: dict[str, Any], oid: str, body: dict[str, Any], kind: str) -> None:
        """FER-BK-5: associations_slots, slot RECORDED, book 5000 from EPGU, referral RECORDED."""
        now = self.clock()
        self.associate(slot["id"], ext_id, "RECORDED")
        stamp = dt.datetime.fromtimestamp(now).isoformat(timespec="seconds")
        self.showcase.upsert("slot", oid, [{**slot, "status": "RECORDED", "update_ts": stamp}])
        book = {"id": ext_id, "patient_id": body["patient_id"], "slot_id": slot["id"], "status_code": 5000,
                "tag_source": "EPGU", "type": kind, "referral_id": body["referral_id"], "create_ts": stamp,
                "update_ts": stamp}  # fmt: skip
        self.showcase.upsert("book", oid, [book])
        self._set_referral(body["referral_id"], "RECORDED", stamp)
        self.records[ext_id] = {
            "book_ext_id": ext_id, "slot_id": slot["id"], "oid": oid, "patient_id": body["patient_id"],
            "referral_id": body["referral_id"], "booking_type": kind, "status": "RECORDED", "booked_at": now,
            "cancelled_at": None, "followup": {},
        }  # fmt: skip
        self.latest[slot["id"]] = ext_id
        self.db.defer(
            "INSERT INTO fer_booking (book_ext_id, slot_id, oid, patient_id, referral_id, booking_type, status,"
            " booked_at) VALUES (?, ?, ?, ?, ?, ?, 'RECORDED', ?) ON CONFLICT(book_ext_id) DO UPDATE SET"
            " slot_id = excluded.slot_id, status = 'RECORDED', booked_at = excluded.booked_at, cancelled_at = NULL,"
            " followup = '{}'",
            (ext_id, slot["id"], oid, body["patient_id"], body["referral_id"], kind, now),
        )
        self._replay_early(slot["id"])

    def _set_referral(self, referral_id: str | None, status: str, stamp: str) -> None:
        row = self.showcase.get("referral", referral_id) if referral_id else None
        if row is not None:
            self.showcase.upsert("referral", row[1], [{**row[0], "status": status, "update_ts": stamp}])

    # -- cancel -----------------------------------------------------------------------------------

    async def cancel(self, book_ext_id: str) -> Result:
        booking = self.records.get(book_ext_id)
        if booking is None:
            return Result("rejected", f"запись [{book_ext_id}] не создавалась через ЕПГУ в этом эмуляторе",
                          book_ext_id=book_ext_id)  # fmt: skip
        slot_id, oid = booking["slot_id"], booking["oid"]
        patient_id, referral_id = booking["patient_id"], booking["referral_id"]
        slot = self.showcase.get("slot", slot_id)
        address = self._address(oid, slot[0]["mo_id"] if slot else "")
        if address is None:
            return Result("transport_error", f"у МО {oid} не зарегистрирован ответный сервис", book_ext_id=book_ext_id)
        body = {"book_ext_id": book_ext_id, "patient_id": patient_id, "united_guids": []}
        url = booking_url(address, "cancel")
        self.in_flight.add(slot_id)
        try:
            reply = await self._call("mis.booking.cancel", url, body)
        finally:
            self.in_flight.discard(slot_id)
        result = self._classify(reply, "CancelResponse", texts.CANCEL_CODES, "FER-CN-1")
        result.book_ext_id, result.slot_id, result.request = book_ext_id, slot_id, body
        self._journal("mis.booking.cancel", url, reply, result)
        if result.outcome == "success":
            self._apply_cancel(book_ext_id, slot_id, oid, referral_id)
        else:
            self._replay_early(slot_id)  # uploads made meanwhile still count for the booking that stands
        return result

    def _apply_cancel(self, book_ext_id: str, slot_id: str, oid: str, referral_id: str | None) -> None:
        """FER-CN-2: association removed, slot AVAILABLE, book 5010, referral AVAILABLE."""
        now = self.clock()
        stamp = dt.datetime.fromtimestamp(now).isoformat(timespec="seconds")
        self.associate(slot_id, None, "AVAILABLE")
        slot = self.showcase.get("slot", slot_id)
        if slot is not None:
            self.showcase.upsert("slot", oid, [{**slot[0], "status": "AVAILABLE", "update_ts": stamp}])
        book = self.showcase.get("book", book_ext_id)
        if book is not None:
            self.showcase.upsert("book", oid, [{**book[0], "status_code": 5010, "update_ts": stamp}])
        self._set_referral(referral_id, "AVAILABLE", stamp)
        self.records[book_ext_id].update(status="CANCELED", cancelled_at=now)
        self.db.defer(
            "UPDATE fer_booking SET status = 'CANCELED', cancelled_at = ? WHERE book_ext_id = ?", (now, book_ext_id)
        )
        self._replay_early(slot_id)

    # -- the exchange ---------------------------------------------------------------------------------

    async def _call(self, operation: str, url: str, body: dict[str, Any]) -> Reply:
        """POST with the 10 s deadline; keep listening `grace` seconds more to tell «late» from «no answer»."""
        name = "BookRequest" if operation.endswith("book") else "CancelRequest"
        own_errors = [] if self.is_valid[name](body) else [e.message for e in self.validators[name].iter_errors(body)]
        if own_errors:  # our own request breaking the MIS contract is our bug, never the MIS's
            raise AssertionError(f"medstand built an invalid {name}: {own_errors}")
        reply = await self.outbound.call(operation, "POST", url, self.deadline + self.grace, body, journal=False)
        return reply

    def _classify(self, reply: Reply, schema: str, codes: dict[int, tuple[str, str]], requirement: str) -> Result:
        base = Result("timeout", "", http_status=reply.status, latency_ms=reply.latency_ms)
        deadline_ms = self.deadline * 1000
        if reply.failure == "timeout" or (reply.failure is None and reply.latency_ms > deadline_ms):
            late = reply.failure is None
            base.message = (f"МИС ответила через {reply.latency_ms / 1000:.1f} с — позже допустимых {self.deadline:g} с"
                            if late else f"МИС не ответила за {self.deadline:g} с")  # fmt: skip
            base.violations.append({"requirement": "FER-BK-2", "message": base.message})
            return base
        if reply.failure is not None or reply.status is None:
            base.outcome, base.message = "transport_error", f"ошибка соединения с МИС: {reply.detail}"
            return base
        if not 200 <= reply.status < 300:
            base.outcome, base.message = "transport_error", f"МИС ответила HTTP {reply.status}"
            return base
        return self._classify_body(base, _json(reply.body), schema, codes, requirement)

    def _classify_body(self, base: Result, answer: Any, schema: str, codes: dict[int, tuple[str, str]],
                       requirement: str) -> Result:  # fmt: skip
        status = answer.get("status") if isinstance(answer, dict) else None
        if isinstance(status, dict):
            base.warnings.extend(_normalise_status(status))
        code = status.get("status_code") if isinstance(status, dict) else None
        if code is None or type(code) is not int:
            return self._violation(base, schema, answer)
        base.status_code = code
        if code == 0:
            # the full answer structure is required of a success (FER-BK-3); a business error needs only status
            if not self.is_valid[schema](answer):
                return self._violation(base, schema, answer)
            base.outcome, base.message = "success", (status or {}).get("status_message") or "успешно"
        elif code in codes:
            base.outcome, base.message = "business_error", codes[code][0]
            base.user_message = codes[code][1]
        else:
            base.outcome = "violation"
            base.message = f"status_code {code!r} не входит в допустимые коды ({', '.join(map(str, codes))})"
            base.violations.append({"requirement": requirement, "message": base.message})
        return base

    def _violation(self, base: Result, schema: str, answer: Any) -> Result:
        errors = sorted(self.validators[schema].iter_errors(answer), key=lambda e: list(e.path))
        reasons = [_where(e) for e in errors] or ["ответ не является JSON-объектом со status.status_code"]
        base.outcome = "violation"
        base.message = "ответ МИС не соответствует контракту: " + "; ".join(reasons)
        requirement = "FER-BK-3" if schema == "BookResponse" else "FER-CN-1"
        base.violations = [{"requirement": requirement, "message": r} for r in reasons]
        return base

    def _journal(self, operation: str, url: str, reply: Reply, result: Result) -> None:
        self.outbound.record(
            operation, "POST", url, reply, outcome=result.outcome, violations=result.violations,
            notes=result.warnings, summary=f"{result.outcome}: {result.message}"[:300],
        )  # fmt: skip

    # -- what the MIS does next --------------------------------------------------------------------------

    def observe_upload(self, entity: str, keys: list[str]) -> list[str]:
        """Notes for the upload's journal entry when it completes a booking's follow-up (FER-REF-3, FER-FRESH-1).

        Watched by slot id, from the moment the request goes to the MIS: a MIS may upload before its answer
        has been processed here, and such early uploads are kept and counted once the booking is recorded.
        """
        if entity not in {"book", "slot"} or not keys or not self.watched:
            return []
        table = self.showcase.tables[entity]
        if entity == "slot":
            seen = [(key, key, table.rows[key][2][3]) for key in self.watched.intersection(keys) if key in table.rows]
        else:  # a book's Row[2] is (slot_id, referral_id); its status comes from the record
            seen = [(key, row[2][0], unpack(row[0]).get("status_code")) for key in keys
                    if (row := table.rows.get(key)) is not None and row[2][0] in self.watched]  # fmt: skip
        notes: list[str] = []
        for key, slot_id, status in seen:
            notes.extend(self._observe(entity, key, slot_id, status, self.clock()))
        return notes

    def _observe(self, entity: str, key: str, slot_id: str, status: Any, at: float) -> list[str]:
        ext_id = self.latest.get(slot_id)
        if ext_id is None or slot_id in self.in_flight:
            self.early.setdefault(slot_id, []).append((entity, key, status, at))
            return []
        booking = self.records[ext_id]
        booking_status, booked_at, cancelled_at = booking["status"], booking["booked_at"], booking["cancelled_at"]
        step, since = self._step(entity, key, status, ext_id, booking_status, booked_at, cancelled_at)
        seen = booking["followup"]
        if step is None or step in seen:
            return []
        seen[step] = round(max(0.0, at - since), 3)
        self.db.defer("UPDATE fer_booking SET followup = ? WHERE book_ext_id = ?", (orjson.dumps(seen), ext_id))
        return [f"{_STEP_TEXT[step].format(ext_id=ext_id, slot_id=slot_id)} через {seen[step]:.1f} с"]

    @staticmethod
    def _step(entity: str, key: str, status: Any, ext_id: str, booking_status: str, booked_at: float,
              cancelled_at: float | None) -> tuple[str | None, float]:  # fmt: skip
        if booking_status == "RECORDED":
            if entity == "book" and key == ext_id and status == 5000:
                return "book_uploaded", booked_at
            if entity == "slot" and status == "RECORDED":
                return "slot_recorded", booked_at
        elif entity == "slot" and status == "AVAILABLE" and cancelled_at:
            return "slot_available", cancelled_at
        return None, 0.0

    def _replay_early(self, slot_id: str) -> None:
        for entity, key, status, at in self.early.pop(slot_id, []):
            self._observe(entity, key, slot_id, status, at)

    def bookings(self) -> list[dict[str, Any]]:
        """Every ЕПГУ booking with what the MIS did afterwards, and what is overdue (fer.followup_seconds)."""
        now = self.clock()
        found = []
        for booking in sorted(self.records.values(), key=lambda b: b["booked_at"]):
            ext_id, slot_id, oid, status = booking["book_ext_id"], booking["slot_id"], booking["oid"], booking["status"]
            booked_at, cancelled_at, seen = booking["booked_at"], booking["cancelled_at"], booking["followup"]
            expected = ["book_uploaded", "slot_recorded"] if status == "RECORDED" else ["slot_available"]
            since = booked_at if status == "RECORDED" else cancelled_at or booked_at
            overdue = [step for step in expected if step not in seen and now - since > self.followup_seconds]
            found.append({"book_ext_id": ext_id, "slot_id": slot_id, "mo_oid": oid, "status": status,
                          "booked_at": booked_at, "cancelled_at": cancelled_at, "seconds_until": dict(seen),
                          "awaiting": [s for s in expected if s not in seen], "overdue": overdue})  # fmt: skip
        return found

    def clear(self) -> None:
        self.records.clear()
        self.latest.clear()
        self.db.defer("DELETE FROM fer_booking")
        self.watched.clear()
        self.early.clear()


def _normalise_status(status: dict[str, Any]) -> list[str]:
    """Accept the seed's spellings of status_code: Cyrillic «с» (status_сode) and camelCase (statusCode)."""
    warnings = []
    for spelling in ("status_сode", "statusCode"):
        if spelling in status and "status_code" not in status:
            status["status_code"] = status[spelling]
            if "statusMessage" in status and "status_message" not in status:
                status["status_message"] = status["statusMessage"]
            kind = "кириллической «с»" if spelling == "status_сode" else "camelCase"
            warnings.append(
                f"ключ статуса записан как '{spelling}' ({kind}); принят, ожидается 'status_code' (FER-CN-1)"
            )
    return warnings


def _where(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(p) for p in error.path)
    if error.validator == "required":
        missing = [f for f in error.validator_value if isinstance(error.instance, dict) and f not in error.instance]
        return f"нет обязательного поля {'.'.join(filter(None, [path, ','.join(missing)]))}"
    return f"поле {path or '(корень)'}: {error.message}"


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _age(patient: Any, day: dt.date) -> int | None:
    if isinstance(patient, dict) and isinstance(patient.get("birthdate"), str):
        born = _day(patient["birthdate"][:10])
        return age_on(born, day) if born else None
    return None
