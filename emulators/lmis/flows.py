"""LMIS-3/4: the booking client (portal) and the central integrator, played through the whole flow.

Each flow reports every step, stops where the seed says the process is blocked (no patient in the index,
no referral from the referring clinic, an appointment already on the referral — with the offer to cancel
it), and classifies every answer of the local MIS (calls.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from emulators.lmis import catalogue as texts
from emulators.lmis.appointments import Appointments
from emulators.lmis.calls import Exchange, LocalMisClient
from emulators.lmis.index import Clinic, PatientIndex, Registry
from emulators.lmis.schedule import ScheduleCache
from emulators.lmis.settings import LmisSettings
from emulators.lmis.tokens import PatientTokens


@dataclass
class FlowResult:
    """The answer of `POST /__admin/lmis/book|cancel|book-by-referral`."""

    outcome: str
    blocked: bool
    message: str
    user_message: str | None = None
    rule: str | None = None  # the seed's sentence that decided a blocked outcome, verbatim
    patient_id: str | None = None
    clinic_id: str | None = None
    slot_id: str | None = None
    appointment: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None
    offer: dict[str, Any] | None = None
    violations: list[dict[str, str]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Blocked(Exception):
    """The flow stops here; carries its result."""

    def __init__(self, result: FlowResult) -> None:
        super().__init__(result.message)
        self.result = result


class Flows:
    def __init__(self, index: PatientIndex, registry: Registry, cache: ScheduleCache, client: LocalMisClient,
                 tokens: PatientTokens, appointments: Appointments, settings: LmisSettings) -> None:  # fmt: skip
        self.index, self.registry, self.cache, self.client = index, registry, cache, client
        self.tokens, self.appointments, self.settings = tokens, appointments, settings

    # -- plain booking (LMIS-1, LMIS-3) -------------------------------------------------------------------

    async def book(self, spec: dict[str, Any]) -> FlowResult:
        steps: list[dict[str, Any]] = []
        try:
            patient_id = self._patient(spec, steps)
            clinic = self._clinic(spec["clinic_id"], steps, patient_id)
            self._listed(clinic, patient_id, steps)
            slot = self._slot(clinic, spec.get("slot_id"), spec.get("resource_id"), None, steps, patient_id)
        except Blocked as stop:
            return stop.result
        token = self._token(patient_id, steps)
        return await self._appoint(clinic, token, patient_id, slot, None, steps)

    # -- cancel (LMIS-3) ----------------------------------------------------------------------------------

    async def cancel(self, spec: dict[str, Any]) -> FlowResult:
        appointment_id = spec["appointment_id"]
        known = self.appointments.get(appointment_id)
        clinic_id = (known or {}).get("clinic_id") or spec.get("clinic_id")
        patient_id = (known or {}).get("patient_id") or spec.get("patient_id")
        steps: list[dict[str, Any]] = []
        if not clinic_id or not patient_id:
            return FlowResult("rejected", True, f"appointment {appointment_id} was not made through this emulator:"
                              " give clinic_id and patient_id")  # fmt: skip
        try:
            clinic = self._clinic(clinic_id, steps, patient_id)
        except Blocked as stop:
            return stop.result
        token = self._token(patient_id, steps)
        path = self.settings.cancel_path.format(appointment_id=appointment_id)

        def same_appointment(done: Exchange) -> None:
            if done.answer["appointment_id"] != appointment_id:
                done.violate("LMIS-3", f"the cancel answer names appointment {done.answer['appointment_id']},"
                                       f" not {appointment_id}")  # fmt: skip

        done = await self.client.call("cancel", "lmis.appointment.cancel", clinic.base_url, "POST", path,
                                      "CancelResponse", "LMIS-3", token=token, check=same_appointment)  # fmt: skip
        steps.append(done.as_step())
        if done.ok or done.code == "ALREADY_CANCELLED":
            self.appointments.cancelled(appointment_id)
            if known:
                self.cache.mark(clinic.clinic_id, known["slot_id"], "free")
        result = _from_exchange(done, steps, patient_id, clinic.clinic_id)
        result.appointment = {**(known or {}), "appointment_id": appointment_id,
                              "status": "cancelled" if done.ok else (known or {}).get("status")}  # fmt: skip
        if done.ok:
            result.message, result.user_message = f"cancelled: appointment {appointment_id}", texts.USER_CANCELLED
        return result

    # -- booking by referral (LMIS-4) ---------------------------------------------------------------------

    async def book_by_referral(self, spec: dict[str, Any]) -> FlowResult:
        steps: list[dict[str, Any]] = []
        referral_id = spec["referral_id"]
        try:
            patient_id = self._patient(spec, steps)
            referring = self._clinic(spec["referring_clinic_id"], steps, patient_id)
            token = self._token(patient_id, steps)
            referral = await self._referral(referring, referral_id, token, patient_id, steps)
            receiving = self._clinic(referral["receiving_clinic_id"], steps, patient_id)
            await self._no_existing(receiving, referral, token, patient_id, steps)
            slot = self._slot(receiving, spec.get("slot_id"), None, referral.get("speciality_code"), steps, patient_id)
        except Blocked as stop:
            return stop.result
        result = await self._appoint(receiving, token, patient_id, slot, referral_id, steps)
        result.referral = referral
        return result

    async def _referral(self, referring: Clinic, referral_id: str, token: str, patient_id: str,
                        steps: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
        path = self.settings.referral_path.format(referral_id=referral_id)

        def same_referral(got: Exchange) -> None:
            if got.answer["referral_id"] != referral_id or got.answer["patient_id"] != patient_id:
                got.violate("LMIS-4", f"the referring clinic answered another referral or patient"
                                      f" ({got.answer['referral_id']}, {got.answer['patient_id']})")  # fmt: skip

        got = await self.client.call("referral", "lmis.referral.get", referring.base_url, "GET", path, "Referral",
                                     "LMIS-4", token=token, check=same_referral)  # fmt: skip
        steps.append(got.as_step())
        if not got.ok:
            raise Blocked(FlowResult(
                "no_referral", True, f"no referral {referral_id} from the referring clinic {referring.clinic_id}"
                f" ({got.outcome}: {got.message})", texts.USER_NO_REFERRAL, texts.RULE_BLOCKED, patient_id,
                referring.clinic_id, violations=got.violations, steps=steps))  # fmt: skip
        referral: dict[str, Any] = got.answer
        return referral

    async def _no_existing(self, receiving: Clinic, referral: dict[str, Any], token: str, patient_id: str,
                           steps: list[dict[str, Any]]) -> None:  # fmt: skip
        """«Далее идет запрос в принимающее ЛПУ для проверки записи на прием (вдруг по направлению уже есть запись)»."""
        path = self.settings.referral_appointments_path.format(referral_id=referral["referral_id"])
        got = await self.client.call("existing", "lmis.referral.appointments", receiving.base_url, "GET", path,
                                     "ReferralAppointments", "LMIS-4", token=token)  # fmt: skip
        steps.append(got.as_step())
        if not got.ok:
            raise Blocked(FlowResult(
                got.outcome, True, f"the receiving clinic {receiving.clinic_id} could not be asked for an appointment"
                f" on the referral: {got.message}", texts.USER_FAILED, None, patient_id, receiving.clinic_id,
                referral=referral, violations=got.violations, steps=steps))  # fmt: skip
        standing = [a for a in got.answer["appointments"] if a.get("status", "booked") != "cancelled"]
        if standing:
            found = standing[0]
            offer = {"action": "cancel", "method": "POST", "path": "/__admin/lmis/cancel",
                     "body": {"appointment_id": found["appointment_id"], "clinic_id": receiving.clinic_id,
                              "patient_id": patient_id}}  # fmt: skip
            raise Blocked(FlowResult(
                "appointment_exists", True, f"the receiving clinic {receiving.clinic_id} already has appointment"
                f" {found['appointment_id']} on referral {referral['referral_id']}",
                texts.USER_EXISTS.format(ticket=found["ticket_number"]), texts.RULE_EXISTS, patient_id,
                receiving.clinic_id, found["slot_id"], found, referral, offer, steps=steps))  # fmt: skip

    # -- the shared steps ---------------------------------------------------------------------------------

    def _patient(self, spec: dict[str, Any], steps: list[dict[str, Any]]) -> str:
        """The patient in the master index: `patient_id`, or found by `patient.snils` / `patient.oms_number`."""
        wanted: dict[str, Any] = spec["patient"] if isinstance(spec.get("patient"), dict) else {}
        if spec.get("patient_id"):
            found = [p for p in [self.index.get(spec["patient_id"])] if p]
        else:
            found = self.index.find(snils=wanted.get("snils") or "", oms_number=wanted.get("oms_number") or "")
        if not found:
            steps.append(_step("patient", "not_found", "the patient is not in the master patient index (МИП)"))
            raise Blocked(FlowResult("no_patient", True, "the patient is not in the master patient index (МИП)",
                                     texts.USER_NO_PATIENT, texts.RULE_BLOCKED, spec.get("patient_id"),
                                     steps=steps))  # fmt: skip
        patient_id = str(found[0]["patient_id"])
        steps.append(_step("patient", "found", f"patient {patient_id} in the master patient index"))
        return patient_id

    def _clinic(self, clinic_id: str, steps: list[dict[str, Any]], patient_id: str) -> Clinic:
        clinic = self.registry.get(clinic_id)
        if clinic is None:
            steps.append(_step("clinic", "unknown", f"clinic {clinic_id} is not in the clinic registry"))
            raise Blocked(FlowResult("unknown_clinic", True, f"clinic {clinic_id} is not in the clinic registry",
                                     texts.CLINIC_NOT_FOUND.format(clinic_id=clinic_id), None, patient_id, clinic_id,
                                     steps=steps))  # fmt: skip
        return clinic

    def _listed(self, clinic: Clinic, patient_id: str, steps: list[dict[str, Any]]) -> None:
        """LMIS-1: a clinic is offered to the patient only once its local MIS uploaded the patient's card."""
        listed = {c["clinic_id"] for c in self.index.clinics_of(patient_id)}
        if clinic.clinic_id not in listed:
            steps.append(_step("clinics", "not_listed", f"clinic {clinic.clinic_id} has not uploaded this patient"))
            raise Blocked(FlowResult("clinic_not_listed", True, f"clinic {clinic.clinic_id} is not in the patient's"
                                     " clinic list: its local MIS has not uploaded the patient's card (МКАБ)",
                                     texts.USER_NOT_LISTED.format(clinic=clinic.name), texts.RULE_UPLOAD, patient_id,
                                     clinic.clinic_id, steps=steps))  # fmt: skip
        steps.append(_step("clinics", "listed", f"clinic {clinic.clinic_id} is in the patient's clinic list"))

    def _slot(self, clinic: Clinic, slot_id: str | None, resource_id: str | None, speciality: str | None,
              steps: list[dict[str, Any]], patient_id: str) -> dict[str, Any]:  # fmt: skip
        slot = self.cache.slot(clinic.clinic_id, slot_id) if slot_id else \
            self.cache.first_free(clinic.clinic_id, resource_id, speciality)  # fmt: skip
        if slot is None:
            why = f"slot {slot_id} is not in the cached schedule" if slot_id else "no free slot in the cached schedule"
            steps.append(_step("slot", "none", f"{why} of clinic {clinic.clinic_id}"))
            raise Blocked(FlowResult("no_slots", True, f"{why} of clinic {clinic.clinic_id}", texts.USER_NO_SLOTS,
                                     None, patient_id, clinic.clinic_id, slot_id, steps=steps))  # fmt: skip
        steps.append(_step("slot", "chosen", f"slot {slot['slot_id']} at {slot['start']}"))
        return slot

    def _token(self, patient_id: str, steps: list[dict[str, Any]]) -> str:
        token, valid_to = self.tokens.issue(patient_id)
        steps.append(_step("token", "issued", f"patient token valid to {valid_to}"))
        return token

    async def _appoint(self, clinic: Clinic, token: str, patient_id: str, slot: dict[str, Any],
                       referral_id: str | None, steps: list[dict[str, Any]]) -> FlowResult:  # fmt: skip
        body = {"slot_id": slot["slot_id"], "referral_id": referral_id}
        made = await self.client.call("appointment", "lmis.appointment.create", clinic.base_url, "POST",
                                      self.settings.appointments_path, "Appointment", "LMIS-3", token=token,
                                      body=body, check=lambda made: self._check_appointment(made, clinic, body))
        steps.append(made.as_step())
        result = _from_exchange(made, steps, patient_id, clinic.clinic_id)
        result.slot_id = slot["slot_id"]
        if isinstance(made.answer, dict) and made.answer.get("appointment_id") and made.outcome in ("success",
                                                                                                 "violation"):
            answer = made.answer
            # what the MIS says it booked is recorded even when it broke a rule, so that it can be cancelled
            if isinstance(answer.get("ticket_number"), str) and isinstance(answer.get("slot_id"), str):
                self.appointments.add(answer["appointment_id"], clinic.clinic_id, answer["slot_id"], patient_id,
                                      referral_id, answer["ticket_number"])  # fmt: skip
                self.cache.mark(clinic.clinic_id, answer["slot_id"], "busy")
            result.appointment = answer
        if made.ok:
            answer = made.answer
            result.message = f"booked: appointment {answer['appointment_id']}, ticket {answer['ticket_number']}"
            result.user_message = texts.USER_BOOKED.format(ticket=made.answer["ticket_number"])
        return result

    def _check_appointment(self, made: Exchange, clinic: Clinic, body: dict[str, Any]) -> None:
        """LMIS-3 beyond the schema: the answer's slot is the one booked, and no slot is booked twice."""
        answer, slot_id = made.answer, body["slot_id"]
        if answer["slot_id"] != slot_id:
            known = self.cache.slot(clinic.clinic_id, answer["slot_id"]) is not None
            where = "another slot of its schedule" if known else "a slot GUID not in its schedule"
            made.violate("LMIS-3", f"the local MIS booked slot {slot_id} but answered {where}: {answer['slot_id']}")
        earlier = self.appointments.active_on_slot(clinic.clinic_id, answer["slot_id"])
        if earlier is not None and earlier["appointment_id"] != answer["appointment_id"]:
            made.violate("LMIS-3", f"slot {answer['slot_id']} was booked twice: appointment"
                                   f" {earlier['appointment_id']} (ticket {earlier['ticket_number']}) still stands")


def _from_exchange(exchange: Exchange, steps: list[dict[str, Any]], patient_id: str, clinic_id: str) -> FlowResult:
    user = {"success": None, "business_error": texts.LOCAL_ERRORS.get(exchange.code or "", (0, None))[1]}
    return FlowResult(exchange.outcome, False, exchange.message, user.get(exchange.outcome, texts.USER_FAILED),
                      None, patient_id, clinic_id, violations=list(exchange.violations), steps=steps)  # fmt: skip


def _step(step: str, outcome: str, message: str) -> dict[str, Any]:
    return {"step": step, "outcome": outcome, "message": message, "operation": None, "http_status": None,
            "latency_ms": None}  # fmt: skip
