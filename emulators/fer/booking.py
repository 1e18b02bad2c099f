"""The gateway as ЕПГУ + ПОДД СМЭВ: booking and cancel driven into the MIS (FER-BK-*, FER-CN-*, FER-EPGU-*).

Each call has the seed's 10-second deadline, is classified (`answers`), journaled with its latency, and on
success changes the showcase as the gateway does. The preconditions of UC-1 / UC-1.1 (FER-BK-6) are checked
first: a request that breaks them is refused without calling the MIS, unless the admin call says "force".
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any

from emulators.core.contract import Contract
from emulators.core.outbound import Outbound, Reply
from emulators.fer import catalogue as texts
from emulators.fer.answers import Classifier, Result, parse_json
from emulators.fer.associations import Associations
from emulators.fer.epgu import age_on, patient_data, warm_up
from emulators.fer.followup import Followups
from emulators.fer.search import REFERRAL_TAGS, SlotQuery, first_slot, head_mo_subdivisions
from emulators.fer.showcase import Row, Showcase
from emulators.fer.webhooks import Webhooks, booking_url

BOOKING_TYPES = ("APPOINTMENT", "VACCINATION", "DISPENSARY", "PROPHYLACTIC_ADULT", "PROPHYLACTIC_CHILD",
                 "D_OBSERVATION", "ONLINE_CONSULTING", "PAID_APPOINTMENT")  # fmt: skip
FORCE_HINT = 'send "force": true to call the MIS anyway'
LIMITED_AGES = frozenset({"ADULT", "CHILD", "BABY"})  # a wrong age needs a slot with an age limit


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
        associations: Associations,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.showcase = showcase
        self.webhooks = webhooks
        self.outbound = outbound
        self.deadline = deadline
        self.grace = grace
        self.associations = associations
        self.clock = clock
        self.db = webhooks.db
        self.answers = Classifier(contract, deadline)
        self.rng = random.Random()
        self.followups = Followups(self.db, showcase, clock)
        warm_up()

    @property
    def followup_seconds(self) -> float:
        return self.followups.followup_seconds

    @followup_seconds.setter
    def followup_seconds(self, value: float) -> None:
        self.followups.followup_seconds = value

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock())

    # -- book -------------------------------------------------------------------------------------

    async def book(self, spec: dict[str, Any]) -> Result:
        """Choose the slot (given, or searched as ЕПГУ does), build the request, call the MIS, classify."""
        kind = spec.get("booking_type") or "APPOINTMENT"
        if kind not in BOOKING_TYPES:
            return Result("rejected", f"booking_type must be one of {', '.join(BOOKING_TYPES)}")
        warnings: list[str] = []
        referral = None
        referral_id = spec.get("referral_id")
        if spec.get("referral") is True and not referral_id:
            return Result("rejected", "a referral booking needs referral_id (FER-BK-7)")
        if referral_id:
            if kind != "APPOINTMENT":  # step 8.2: booking_type=APPOINTMENT for every referral booking
                warnings.append(f"booking_type {kind} asked for a referral booking; APPOINTMENT sent (FER-BK-7)")
                kind = "APPOINTMENT"
            referral = self.showcase.get("referral", referral_id)
            if referral is None or referral.record.get("status") != "AVAILABLE":
                return self._referral_unavailable(referral_id, referral)
        chosen = self._choose_slot(spec, referral.record if referral else None, kind)
        if isinstance(chosen, Result):
            return chosen
        slot, oid = chosen
        result = await self._book(spec, slot, oid, kind)
        result.warnings[:0] = warnings
        return result

    async def _book(self, spec: dict[str, Any], slot: dict[str, Any], oid: str, kind: str) -> Result:
        service = self._service(spec, slot["resource_id"]) if kind == "VACCINATION" else None
        if kind == "VACCINATION" and service is None:
            return Result("rejected", f"resource {slot['resource_id']} offers no service: a vaccination booking "
                          "needs service_id and dictionary_nsi_code (FER-BK-7)", slot_id=slot["id"])  # fmt: skip
        visit_day = dt.date.fromisoformat(slot["visit_time"][:10])
        patient = patient_data(spec.get("patient"), slot.get("tag_age", "ALL"), visit_day, self.rng)
        body = self._book_request(spec, slot, patient, kind, service)
        address = self._address(oid, slot["mo_id"])
        if address is None:
            return Result("transport_error", f"MO {oid} has no registered booking service (POST /api/callback)",
                          slot_id=slot["id"], request=body)  # fmt: skip
        self.followups.calling(slot["id"])
        stands = False
        try:
            result = await self._call_book(address, body)
            if result.outcome == "success" and result.book_ext_id:
                await self._apply_booking(result.book_ext_id, slot, oid, body, kind)
                stands = True
        finally:
            self.followups.answered(slot["id"], stands)
        return result

    def _referral_unavailable(self, referral_id: str, referral: Row | None) -> Result:
        if referral is None:
            return Result("no_referral", f"referral {referral_id} is not in the showcase",
                          description=texts.NO_REFERRAL.template)  # fmt: skip
        status = referral.record.get("status")
        result = Result("no_referral", f"referral {referral_id} is {status}, not AVAILABLE",
                        description=texts.NO_REFERRAL.template)  # fmt: skip
        current = [row.record for row in self.showcase.rows_where("book", "referral_id", referral_id)]
        if status == "RECORDED" and current:  # step 6.2: a RECORDED referral shows its current book
            result.book_ext_id, result.slot_id = current[-1]["id"], current[-1]["slot_id"]
            result.message += f"; current booking {result.book_ext_id}"
        return result

    def _choose_slot(self, spec: dict[str, Any], referral: dict[str, Any] | None,
                     kind: str) -> tuple[dict[str, Any], str] | Result:  # fmt: skip
        if spec.get("slot_id"):
            return self._given_slot(str(spec["slot_id"]), spec.get("force") is True)
        query = self._query(spec, referral, kind)
        found = first_slot(self.showcase, query, self.now())
        row = self.showcase.get("slot", found) if found else None
        if row is None:
            return Result("no_slots", "no slot ЕПГУ would offer matches the request",
                          description=texts.NO_SLOTS.template)  # fmt: skip
        return row.record, row.owner

    def _given_slot(self, slot_id: str, force: bool) -> tuple[dict[str, Any], str] | Result:
        row = self.showcase.get("slot", slot_id)
        if row is None:
            return Result("no_slots", f"slot {slot_id} is not in the showcase", description=texts.NO_SLOTS.template)
        broken = [] if force else self._unbookable(row.record)
        if broken:
            return Result("rejected", f"slot {slot_id} cannot be booked: {'; '.join(broken)} (FER-BK-6, UC-1); "
                          f"{FORCE_HINT}", slot_id=slot_id)  # fmt: skip
        return row.record, row.owner

    def _unbookable(self, slot: dict[str, Any]) -> list[str]:
        """UC-1 preconditions: AVAILABLE, no book_ext_id in associations_slots, not started yet."""
        broken = []
        if slot.get("status") != "AVAILABLE":
            broken.append(f"its status is {slot.get('status')}")
        ext_id = self.associations.book_ext_id(slot["id"])
        if ext_id:
            broken.append(f"associations_slots holds book_ext_id {ext_id}")
        if slot["id"] in self.followups.in_flight:
            broken.append("a booking or cancel of it is being answered right now")
        if slot["visit_time"] <= self.now().isoformat(timespec="seconds"):
            broken.append(f"its time {slot['visit_time']} has passed")
        return broken

    def _query(self, spec: dict[str, Any], referral: dict[str, Any] | None, kind: str) -> SlotQuery:
        day = _day(spec.get("date_from")) or self.now().date()
        mo_ids = frozenset({spec["mo_id"]}) if isinstance(spec.get("mo_id"), str) else None
        owner = spec["mo_oid"] if isinstance(spec.get("mo_oid"), str) else None
        query = SlotQuery(mo_ids=mo_ids, owner=owner, date_from=day, with_service=kind == "VACCINATION")
        if referral is not None:
            research = referral.get("type") == "RESEARCH"
            query = SlotQuery(
                mo_ids=head_mo_subdivisions(self.showcase, referral.get("to_mo_id")), owner=owner,
                profile_code=referral.get("to_profile_code"),
                speciality_id=None if research else referral.get("speciality_id"),
                service_code=referral.get("to_service_id") if research else None,
                date_from=day, tags=REFERRAL_TAGS,
            )  # fmt: skip
        query = query.with_age(_age(spec.get("patient"), day))
        if isinstance(spec.get("patient"), dict) and spec["patient"].get("age_fits") is False:
            query = SlotQuery(**{**query.__dict__, "tag_ages": LIMITED_AGES})
        return query

    def _service(self, spec: dict[str, Any], resource_id: str) -> dict[str, Any] | None:
        services = [row.record for row in self.showcase.rows_where("service", "resource_id", resource_id)]
        wanted = spec.get("service_id")
        return next((s for s in services if wanted in (None, s["id"])), None)

    def _book_request(self, spec: dict[str, Any], slot: dict[str, Any], patient: dict[str, Any], kind: str,
                      service: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
        return {
            "slot_id": slot["id"],
            "patient_id": spec.get("patient_id") or patient["id"],
            "booking_type": kind,
            "case_number": spec.get("case_number"),
            "preliminary_reservation": spec.get("preliminary_reservation") is True,
            "referral_id": spec.get("referral_id"),
            "cards_id": spec.get("cards_id"),
            "email": spec.get("email"),
            "mobile_phone": spec.get("mobile_phone"),
            "service_id": service["id"] if service else None,
            "dictionary_nsi_code": service["code"] if service else None,
            "patient_data_rrp": patient,
        }

    def _address(self, oid: str, mo_id: str) -> str | None:
        mo = self.showcase.record("mo", mo_id)
        return self.webhooks.resolve(oid, mo.get("branch_oid") if mo else None)

    async def _call_book(self, address: str, body: dict[str, Any]) -> Result:
        url = booking_url(address, "book")
        reply = await self._call("mis.booking.book", url, body)
        result = self.answers.classify(reply, "BookResponse", texts.BOOK_CODES, "FER-BK-4")
        result.slot_id, result.request = body["slot_id"], body
        answer = parse_json(reply.body)
        if isinstance(answer, dict) and result.outcome in {"success", "business_error"}:
            result.book_ext_id = answer.get("book_ext_id") or None
            if answer.get("slot_id") not in (None, body["slot_id"]):
                result.warnings.append(f"the answer names another slot_id {answer.get('slot_id')}")
        self._journal("mis.booking.book", url, reply, result)
        return result

    async def _apply_booking(self, ext_id: str, slot: dict[str, Any], oid: str, body: dict[str, Any],
                             kind: str) -> None:  # fmt: skip
        """FER-BK-5: associations_slots, slot RECORDED, book 5000 from EPGU, referral RECORDED; durable first."""
        now = self.clock()
        stamp = dt.datetime.fromtimestamp(now).isoformat(timespec="seconds")
        tickets = [self.associations.set(slot["id"], ext_id, "RECORDED")]
        self.showcase.upsert("slot", oid, [{**slot, "status": "RECORDED", "update_ts": stamp}])
        book = {"id": ext_id, "patient_id": body["patient_id"], "slot_id": slot["id"], "status_code": 5000,
                "tag_source": "EPGU", "type": kind, "referral_id": body["referral_id"], "create_ts": stamp,
                "update_ts": stamp}  # fmt: skip
        self.showcase.upsert("book", oid, [book])
        self._set_referral(body["referral_id"], "RECORDED", stamp)
        tickets.append(self.followups.booked({
            "book_ext_id": ext_id, "slot_id": slot["id"], "oid": oid, "patient_id": body["patient_id"],
            "referral_id": body["referral_id"], "booking_type": kind, "status": "RECORDED", "booked_at": now,
            "cancelled_at": None, "followup": {},
        }))  # fmt: skip
        await self._durable(max(tickets))

    def _set_referral(self, referral_id: str | None, status: str, stamp: str) -> None:
        row = self.showcase.get("referral", referral_id) if referral_id else None
        if row is not None:
            self.showcase.upsert("referral", row.owner, [{**row.record, "status": status, "update_ts": stamp}])

    async def _durable(self, db_ticket: int) -> None:
        """Answer only once the showcase changes and the gateway's own tables are committed."""
        await self.showcase.durable(self.showcase.last_ticket)
        if db_ticket:
            await self.db.durable(db_ticket)

    # -- cancel -----------------------------------------------------------------------------------

    async def cancel(self, book_ext_id: str, force: bool = False) -> Result:
        booking = self.followups.records.get(book_ext_id)
        if booking is None:
            return Result("rejected", f"booking {book_ext_id} was not made through ЕПГУ in this emulator",
                          book_ext_id=book_ext_id)  # fmt: skip
        slot_id, oid = booking["slot_id"], booking["oid"]
        associated = (self.associations.status(slot_id), self.associations.book_ext_id(slot_id))
        if not force and associated != ("RECORDED", book_ext_id):
            return Result("rejected", f"slot {slot_id} is not RECORDED with book_ext_id {book_ext_id} in "
                          f"associations_slots (found {associated[0]}, {associated[1]}): already cancelled? "
                          f"(FER-BK-6, UC-1.1); {FORCE_HINT}", book_ext_id=book_ext_id, slot_id=slot_id)  # fmt: skip
        address = self._address(oid, self.showcase.value("slot", slot_id, "mo_id") or "")
        if address is None:
            return Result("transport_error", f"MO {oid} has no registered booking service", book_ext_id=book_ext_id)
        body = {"book_ext_id": book_ext_id, "patient_id": booking["patient_id"], "united_guids": []}
        url = booking_url(address, "cancel")
        self.followups.calling(slot_id)
        try:
            reply = await self._call("mis.booking.cancel", url, body)
            result = self.answers.classify(reply, "CancelResponse", texts.CANCEL_CODES, "FER-CN-1")
            result.book_ext_id, result.slot_id, result.request = book_ext_id, slot_id, body
            self._journal("mis.booking.cancel", url, reply, result)
            if result.outcome == "success":
                await self._apply_cancel(book_ext_id, slot_id, oid, booking["referral_id"])
        finally:
            self.followups.answered(slot_id, True)  # uploads made meanwhile count for the booking that stands
        return result

    async def _apply_cancel(self, book_ext_id: str, slot_id: str, oid: str, referral_id: str | None) -> None:
        """FER-CN-2: association removed, slot AVAILABLE, book 5010, referral AVAILABLE; durable first."""
        now = self.clock()
        stamp = dt.datetime.fromtimestamp(now).isoformat(timespec="seconds")
        self.associations.set(slot_id, None, "AVAILABLE")
        slot = self.showcase.record("slot", slot_id)
        if slot is not None:
            self.showcase.upsert("slot", oid, [{**slot, "status": "AVAILABLE", "update_ts": stamp}])
        book = self.showcase.record("book", book_ext_id)
        if book is not None:
            self.showcase.upsert("book", oid, [{**book, "status_code": 5010, "update_ts": stamp}])
        self._set_referral(referral_id, "AVAILABLE", stamp)
        await self._durable(self.followups.cancelled(book_ext_id, now))

    # -- the exchange ---------------------------------------------------------------------------------

    async def _call(self, operation: str, url: str, body: dict[str, Any]) -> Reply:
        """POST with the 10 s deadline; keep listening `grace` seconds more to tell «late» from «no answer»."""
        name = "BookRequest" if operation.endswith("book") else "CancelRequest"
        own_errors = self.answers.own_errors(name, body)
        if own_errors:  # our own request breaking the MIS contract is our bug, never the MIS's
            raise AssertionError(f"medstand built an invalid {name}: {own_errors}")
        return await self.outbound.call(operation, "POST", url, self.deadline + self.grace, body, journal=False)

    def _journal(self, operation: str, url: str, reply: Reply, result: Result) -> None:
        self.outbound.record(
            operation, "POST", url, reply, outcome=result.outcome, violations=result.violations,
            notes=result.warnings, summary=f"{result.outcome}: {result.message}"[:300],
        )  # fmt: skip

    # -- what the MIS does next --------------------------------------------------------------------------

    def observe_upload(self, entity: str, keys: list[str]) -> list[str]:
        return self.followups.observe_upload(entity, keys)

    def bookings(self) -> list[dict[str, Any]]:
        return self.followups.report()

    def clear(self) -> None:
        self.followups.clear()


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
