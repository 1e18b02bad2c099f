"""The sample MIS (`medstand sample-mis`): it uploads its showcase, registers its webhook, books and cancels.

Read it as the example of the FER contract from the MIS side:
1. `POST /auth.svc` with the MO's OID and password, then `Authorization: bearer <token>` on every call;
2. upload the showcase in the seed's order (mo, resource, profilecode_resource, service, slot);
3. `POST /api/callback {"address": <this MIS>}` — the gateway probes `GET /booking/book` first;
4. answer `POST /booking/book` and `/booking/cancel` within 10 s, with the seed's status codes, from real state;
5. after a booking: upload the slot as RECORDED and the book with `id = book_ext_id` (FER-REF-3);
   after a cancel: the slot as AVAILABLE and the book as 5010 — and re-send the slots at least every 30 s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from emulators.core.cliutil import unreachable
from emulators.core.errors import UsageError
from emulators.fer.demo import generate_region

log = logging.getLogger("medstand.sample_mis")

# status codes of the seed's «Коды ошибок в ответе на запрос бронирования / отмены»
OK, TAKEN, SAME_TIME, SAME_DAY, WRONG_AGE, CANCELLED_SLOT, UNKNOWN_PATIENT, OTHER = 0, 11, 12, 13, 14, 15, 17, 18
ALREADY_CANCELLED = 1


@dataclass
class Booked:
    book_ext_id: str
    slot_id: str
    patient_id: str
    booking_type: str
    referral_id: str | None
    cancelled: bool = False


@dataclass
class SampleMis:
    """The MIS's own state: its schedule (the slots it uploads), its patients' bookings."""

    gateway: str
    username: str
    password: str
    public_url: str
    seed: int = 7
    days: int = 14
    resend_seconds: float = 25.0
    answer_delay_ms: float = 0.0  # stands in for a real MIS's own processing time (benchmarks)
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    bookings: dict[str, Booked] = field(default_factory=dict)
    token: str = ""
    process_ms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(base_url=self.gateway, timeout=30, trust_env=False)
        self.uploading = asyncio.Lock()  # uploads after book/cancel go out in the order the events happened

    # -- talking to the gateway -----------------------------------------------------------------------

    async def login(self) -> None:
        """POST /auth.svc; a gateway that is not running or refuses the credentials is a one-line UsageError."""
        try:
            answer = await self.http.post("/auth.svc", json={"username": self.username, "password": self.password})
        except httpx.TransportError as exc:
            raise unreachable("FER gateway", self.gateway) from exc
        if answer.status_code != 200:
            raise UsageError(f"the FER gateway at {self.gateway} refused the login of {self.username}: "
                             f"HTTP {answer.status_code} {answer.text[:200]}")  # fmt: skip
        self.token = answer.json()["Result"]["Value"]

    async def upload(self, entity: str, records: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /api/<entity> gzipped (as the seed recommends); a 401 means the token expired: log in again."""
        import gzip

        body = gzip.compress(orjson.dumps({"data": records}))
        for _attempt in range(2):
            answer = await self.http.post(f"/api/{entity}", content=body, headers=self._headers(gzipped=True))
            if answer.status_code != 401:
                break
            await self.login()
        envelope: dict[str, Any] = answer.json()
        if not envelope.get("isSuccess"):
            log.warning("upload of %s rejected: %s", entity, envelope.get("error"))
        return envelope

    def _headers(self, gzipped: bool = False) -> dict[str, str]:
        headers = {"Authorization": f"bearer {self.token}", "Content-Type": "application/json"}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        return headers

    async def publish(self, today: dt.date) -> None:
        """Upload one MO's showcase in the seed's order, then register the webhook."""
        region = generate_region(self.seed, 1, self.days, today)
        for record in region.mo:
            record["parent_id"] = self.username
        for entity, records in region.batches():
            if entity in {"referral", "unaccessable_period"}:
                continue
            await self.upload(entity, records)
        self.slots = {slot["id"]: slot for slot in region.slot}
        answer = await self.http.post("/api/callback", json={"address": self.public_url}, headers=self._headers())
        if answer.status_code != 200:
            raise UsageError(f"the FER gateway did not register {self.public_url} as this MIS's booking service: "
                             f"HTTP {answer.status_code} {answer.text[:300]}")  # fmt: skip

    async def resend_slots(self) -> None:
        """FER-FRESH-1: the schedule at least every 30 s (here every `resend_seconds`).

        A gateway that lost our data (`POST /__admin/reset`, a new data dir) shows it in two ways: the slots are
        rejected because their MO or resource is missing (R-200), or our webhook is gone. Either way we publish
        the whole showcase and register again, as a real MIS would after the gateway's data loss.
        """
        while True:
            await asyncio.sleep(self.resend_seconds)
            try:
                answer = await self.upload("slot", list(self.slots.values()))
                if _parents_missing(answer) or not await self.webhook_registered():
                    log.warning("the gateway lost this MIS's showcase or webhook: publishing again")
                    await self.publish(dt.date.today())
            except (httpx.TransportError, UsageError) as exc:  # the gateway restarting: try again next round
                log.warning("%s; retrying in %.0f s", exc, self.resend_seconds)

    async def webhook_registered(self) -> bool:
        answer = await self.http.get("/api/callback", headers=self._headers())
        if answer.status_code == 401:
            await self.login()
            answer = await self.http.get("/api/callback", headers=self._headers())
        return answer.status_code == 200 and answer.json().get("address") == self.public_url

    # -- the booking service the gateway calls --------------------------------------------------------

    def book(self, request: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        slot = self.slots.get(str(request.get("slot_id")))
        code, ext_id = self._decide(request, slot), None
        if code == OK and slot is not None:
            ext_id = str(uuid.uuid4())
            slot["status"] = "RECORDED"
            self.bookings[ext_id] = Booked(ext_id, slot["id"], str(request.get("patient_id")), request["booking_type"],
                                           request.get("referral_id"))  # fmt: skip
        self.process_ms.append((time.perf_counter() - started) * 1000)
        return {
            "book_ext_id": ext_id,
            "slot_id": request.get("slot_id"),
            "visit_time": slot["visit_time"] if slot else "",
            "duration": str(slot["duration"]) if slot else "",
            "service_id": None, "organization_id": None, "area_id": None, "queue_number": None,
            "status": {"status_code": code, "status_message": MESSAGES.get(code)},
        }  # fmt: skip

    def _decide(self, request: dict[str, Any], slot: dict[str, Any] | None) -> int:
        patient = request.get("patient_data_rrp") or {}
        if slot is None:
            return OTHER  # «Слот не найден»
        if slot["status"] == "CANCELED":
            return CANCELLED_SLOT
        if slot["status"] != "AVAILABLE":
            return TAKEN
        if not patient.get("snils") and not patient.get("oms_number"):
            return UNKNOWN_PATIENT
        if not _age_fits(slot["tag_age"], patient.get("birthdate", ""), slot["visit_time"]):
            return WRONG_AGE
        mine = [self.slots[b.slot_id] for b in self.bookings.values()
                if b.patient_id == str(request.get("patient_id")) and not b.cancelled]  # fmt: skip
        if any(other["visit_time"] == slot["visit_time"] for other in mine):
            return SAME_TIME
        if any(other["resource_id"] == slot["resource_id"] and other["visit_time"][:10] == slot["visit_time"][:10]
               for other in mine):  # fmt: skip
            return SAME_DAY
        return OK

    def cancel(self, request: dict[str, Any]) -> dict[str, Any]:
        booking = self.bookings.get(str(request.get("book_ext_id")))
        if booking is None:
            code = OTHER
        elif booking.cancelled:
            code = ALREADY_CANCELLED
        else:
            booking.cancelled = True
            self.slots[booking.slot_id]["status"] = "AVAILABLE"
            code = OK
        return {"book_ext_id": request.get("book_ext_id"), "status": {"status_code": code,
                "status_message": CANCEL_MESSAGES.get(code)}}  # fmt: skip

    async def after_booking(self, ext_id: str) -> None:
        """Right after answering: the slot as RECORDED, then the book with id = book_ext_id (FER-REF-3)."""
        booking = self.bookings[ext_id]
        slot = {**self.slots[booking.slot_id], "status": "RECORDED"}  # as it was at booking time
        async with self.uploading:
            await self.upload("slot", [slot])
            await self.upload("book", [self._book(booking, 5000, dt.datetime.now().isoformat(timespec="seconds"))])

    async def after_cancel(self, ext_id: str) -> None:
        booking = self.bookings[ext_id]
        slot = {**self.slots[booking.slot_id], "status": "AVAILABLE"}
        async with self.uploading:
            await self.upload("slot", [slot])
            await self.upload("book", [self._book(booking, 5010, dt.datetime.now().isoformat(timespec="seconds"))])

    def _book(self, booking: Booked, status_code: int, stamp: str) -> dict[str, Any]:
        return {"id": booking.book_ext_id, "patient_id": booking.patient_id, "slot_id": booking.slot_id,
                "status_code": status_code, "tag_source": "EPGU", "type": booking.booking_type,
                "referral_id": booking.referral_id, "create_ts": stamp}  # fmt: skip

    async def close(self) -> None:
        await self.http.aclose()


MESSAGES = {
    OK: None,
    TAKEN: "Слот занят или заблокирован",
    SAME_TIME: "Есть бирка на то же время",
    SAME_DAY: "Есть бирка на тот же день к тому же врачу",
    WRONG_AGE: "Бирка только для пациентов от 18 лет",
    CANCELLED_SLOT: "Слот аннулирован",
    UNKNOWN_PATIENT: "Пациент не найден",
    OTHER: "Слот не найден",
}
CANCEL_MESSAGES = {OK: "Вы отменили своё заявление", ALREADY_CANCELLED: "Запись с ИД записи уже отменена",
                   OTHER: "Произошла техническая ошибка при отмене в МИС"}  # fmt: skip


def _parents_missing(envelope: dict[str, Any]) -> bool:
    return any(error.get("errorCode") == "R-200" for error in envelope.get("errors") or [])


def _age_fits(tag_age: str, birthdate: str, visit_time: str) -> bool:
    try:
        born, day = dt.date.fromisoformat(birthdate[:10]), dt.date.fromisoformat(visit_time[:10])
    except ValueError:
        return False
    age = day.year - born.year - ((day.month, day.day) < (born.month, born.day))
    wanted = "ADULT" if age >= 18 else "CHILD" if age >= 1 else "BABY"
    return tag_age in (wanted, "ALL")
