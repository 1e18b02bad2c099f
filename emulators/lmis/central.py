"""The central scheduling API (МИП) emulator: wiring, the central API's handlers, state and health."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from emulators import __version__
from emulators.core.admin import AdminBinding, mount_admin, render_admin_error
from emulators.core.components import DEGRADED, OK, Health, Periodic
from emulators.core.config import Settings
from emulators.core.contract import Contract, contracts_dir
from emulators.core.emulator import Emulator
from emulators.core.faults import Fault
from emulators.core.formats import is_date, is_guid
from emulators.core.http import Handler, HttpApp, HttpError, Request, Response, bind_contract
from emulators.core.outbound import Outbound
from emulators.core.storage import Database
from emulators.lmis import catalogue as texts
from emulators.lmis.appointments import Appointments
from emulators.lmis.calls import LocalMisClient
from emulators.lmis.cards import CardCheck
from emulators.lmis.flows import Flows
from emulators.lmis.index import Clinic, PatientIndex, Registry
from emulators.lmis.schedule import ScheduleCache
from emulators.lmis.settings import LmisSettings
from emulators.lmis.tokens import PatientTokens

NAME = "lmis"
CENTRAL_CONTRACT = "lmis/central.openapi.yaml"
LOCAL_CONTRACT = "lmis/local-mis.openapi.yaml"
ADMIN_CONTRACT = "lmis/admin.openapi.yaml"
FAULT_KINDS = ("delay", "status", "maintenance", "drop")


def envelope(status: int, result: Any = None, error: texts.Text | None = None, message: str | None = None,
             errors: list[dict[str, Any]] | None = None) -> Response:  # fmt: skip
    """`{isSuccess, result, error, errors, statusCode}`; the HTTP status equals statusCode."""
    body = {"isSuccess": status == 200, "result": result,
            "error": {"errorCode": error.code, "errorMessage": message or error.template} if error else None,
            "errors": errors, "statusCode": status}  # fmt: skip
    return Response(status, orjson.dumps(body), outcome="ok" if status == 200 else "rejected")


class Central(Emulator):
    """The central API, its master patient index, clinic registry, schedule cache and booking flows."""

    def __init__(self, settings: Settings, db: Database | None = None, clock: Callable[[], float] = time.time):
        super().__init__(NAME, settings, FAULT_KINDS)
        self.lmis: LmisSettings = settings.section(NAME)
        self.clock = clock
        self.db = db or Database(settings.resolved_database_url)
        self.registry = Registry(self.db, clock)
        self.index = PatientIndex(self.db, clock)
        self.appointments = Appointments(self.db, clock)
        self.tokens = PatientTokens(self.db, self.lmis.token_secret, self.lmis.token_ttl_seconds, clock)
        contract = Contract(contracts_dir() / CENTRAL_CONTRACT)
        self.cards = CardCheck(contract)
        self.outbound = Outbound(self.journal, NAME)
        client = LocalMisClient(self.outbound, self.lmis, Contract(contracts_dir() / LOCAL_CONTRACT))
        self.cache = ScheduleCache(self.db, self.registry, client, self.lmis, clock)
        self.flows = Flows(self.index, self.registry, self.cache, client, self.tokens, self.appointments, self.lmis)
        self.app = HttpApp(NAME, self.journal, self.faults, self._render_error, render_admin_error,
                           self.lmis.max_body_bytes)  # fmt: skip
        self.app.render_fault = self._render_fault
        self.app.on_shutdown.append(self.outbound.close)
        self.app.journal_masks["central.patients.token"] = frozenset({"token"})
        bind_contract(self.app, contract, self._handlers())
        from emulators.lmis.admin import admin_handlers

        bind_contract(self.app, Contract(contracts_dir() / ADMIN_CONTRACT), admin_handlers(self), admin=True)
        documents = {"central": CENTRAL_CONTRACT, "local-mis": LOCAL_CONTRACT, "lmis-admin": ADMIN_CONTRACT}
        mount_admin(self.app, AdminBinding(NAME, __version__, "Центральный API записи на прием (МИП) ↔ ЛМИС",
                                           self.state, self.reset, documents, self.health))  # fmt: skip
        self.listen(self.app, self.lmis.port)
        self.puller = self.add(Periodic("lmis-schedule-puller", self.lmis.pull_interval_seconds, self.cache.pull_all))
        self.health_checks["schedules"] = self._schedule_health

    # -- errors -------------------------------------------------------------------------------------------

    def _render_error(self, request: Request, status: int, message: str, code: str | None) -> Response:
        known = texts.STATUS.get(status, texts.STATUS[500] if status >= 500 else texts.BAD_REQUEST)
        return envelope(status, error=texts.Text(code or known.code, message), message=message)

    def _render_fault(self, fault: Fault, request: Request) -> Response:
        status = 503 if fault.kind == "maintenance" else fault.status
        text = texts.STATUS.get(status, texts.STATUS[500])
        return envelope(status, error=text, message=fault.message or text.template)

    def close(self) -> None:
        self.db.close()

    # -- the central API ----------------------------------------------------------------------------------

    def _handlers(self) -> dict[str, Handler]:
        return {
            "central.patients.upload": self.upload_patients,
            "central.patients.search": self.search_patients,
            "central.patients.get": self.get_patient,
            "central.patients.clinics": self.clinics_of_patient,
            "central.patients.token": self.issue_token,
            "central.clinics.list": self.list_clinics,
            "central.schedule.get": self.cached_schedule,
        }

    async def upload_patients(self, request: Request) -> Response:
        """LMIS-1: a local MIS uploads its МКАБ; each valid card links the clinic to a master patient."""
        clinic = self._calling_clinic(request)
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("patients"), list) or not body["patients"]:
            reason = 'ожидается объект {"patients": [<МКАБ>, …]} с непустым списком'
            raise HttpError(400, texts.BAD_REQUEST.format(reason=reason), texts.BAD_REQUEST.code)
        cards = body["patients"]
        limit = self.lmis.max_patients_per_upload
        if len(cards) > limit:
            raise HttpError(413, texts.TOO_MANY_CARDS.format(limit=limit, count=len(cards)), texts.TOO_MANY_CARDS.code)
        good, errors = self.cards.split(cards)
        linked = self.index.upload(clinic.clinic_id, good)
        result = {"accepted": [{"mkab_id": m, "patient_id": p} for m, p in linked], "rejected": len(errors)}
        if errors:
            response = envelope(400, result, texts.CARDS_REJECTED, texts.CARDS_REJECTED.format(count=len(errors)),
                                errors)  # fmt: skip
            response.violations = [{"requirement": "LMIS-1", "message": e["errorMessage"]} for e in errors[:50]]
        else:
            response = envelope(200, result)
        response.summary = f"{clinic.clinic_id}: {len(linked)} card(s) linked, {len(errors)} rejected"
        return response

    async def search_patients(self, request: Request) -> Response:
        query = {name: request.query.get(name, "").strip() for name in
                 ("snils", "oms_number", "last_name", "first_name", "birth_date")}  # fmt: skip
        query["snils"] = query["snils"].replace("-", "").replace(" ", "")
        by_name = query["last_name"] and query["first_name"] and query["birth_date"]
        if not (query["snils"] or query["oms_number"] or by_name):
            raise HttpError(400, texts.SEARCH_NEEDS.template, texts.SEARCH_NEEDS.code)
        if query["birth_date"] and not is_date(query["birth_date"]):
            raise HttpError(400, texts.BAD_PARAM.format(name="birth_date", reason="ожидается дата ГГГГ-ММ-ДД"),
                            texts.BAD_PARAM.code)  # fmt: skip
        return envelope(200, {"patients": self.index.find(**query)})

    async def get_patient(self, request: Request) -> Response:
        return envelope(200, self._patient(request))

    async def clinics_of_patient(self, request: Request) -> Response:
        patient = self._patient(request)
        clinics = self.index.clinics_of(patient["patient_id"])
        return envelope(200, {"patient_id": patient["patient_id"], "clinics": clinics})

    async def issue_token(self, request: Request) -> Response:
        patient = self._patient(request)
        token, valid_to = self.tokens.issue(patient["patient_id"])
        return envelope(200, {"token": token, "patient_id": patient["patient_id"], "valid_to": valid_to})

    async def list_clinics(self, request: Request) -> Response:
        return envelope(200, {"clinics": [clinic.public() for clinic in self.registry.all()]})

    async def cached_schedule(self, request: Request) -> Response:
        """LMIS-2: what the puller cached for a clinic, with its age and whether it is stale."""
        clinic_id = request.path_params["clinic_id"]
        if self.registry.get(clinic_id) is None:
            raise HttpError(404, texts.CLINIC_NOT_FOUND.format(clinic_id=clinic_id), texts.CLINIC_NOT_FOUND.code)
        resource_id, day = request.query.get("resource_id", ""), request.query.get("date", "")
        if resource_id and not is_guid(resource_id):
            raise HttpError(400, texts.BAD_PARAM.format(name="resource_id", reason="ожидается GUID"), "BAD_REQUEST")
        if day and not is_date(day):
            raise HttpError(400, texts.BAD_PARAM.format(name="date", reason="ожидается дата ГГГГ-ММ-ДД"), "BAD_REQUEST")
        free_only = request.query.get("free_only", "").lower() in {"1", "true", "yes"}
        entry = self.cache.get(clinic_id)
        report = self.cache.report(clinic_id)
        resources = []
        for resource in entry.resources if entry else []:
            if resource_id and resource["resource_id"] != resource_id:
                continue
            slots = [s for s in resource["slots"] if (not day or s["start"][:10] == day)
                     and (not free_only or s["status"] == "free")]  # fmt: skip
            resources.append({**resource, "slots": slots})
        result = {"clinic_id": clinic_id, "pulled_at": report["pulled_at"], "stale": report["stale"],
                  "last_error": report["last_error"], "resources": resources}  # fmt: skip
        return envelope(200, result)

    def _calling_clinic(self, request: Request) -> Clinic:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise HttpError(401, texts.NO_KEY.template, texts.NO_KEY.code)
        clinic = self.registry.by_key(key.strip())
        if clinic is None:
            raise HttpError(401, texts.BAD_KEY.template, texts.BAD_KEY.code)
        return clinic

    def _patient(self, request: Request) -> dict[str, Any]:
        patient_id = request.path_params["patient_id"]
        patient = self.index.get(patient_id)
        if patient is None:
            raise HttpError(404, texts.PATIENT_NOT_FOUND.format(patient_id=patient_id), texts.PATIENT_NOT_FOUND.code)
        return patient

    # -- admin and health ---------------------------------------------------------------------------------

    def clinics(self) -> list[dict[str, Any]]:
        return [{"clinic_id": c.clinic_id, "name": c.name, "base_url": c.base_url, "api_key": c.api_key,
                 "schedule": self.cache.report(c.clinic_id)} for c in self.registry.all()]  # fmt: skip

    def state(self) -> dict[str, Any]:
        return {"emulator": NAME, "index": self.index.counts(), "clinics": self.clinics(),
                "appointments": self.appointments.all()}  # fmt: skip

    def reset(self) -> None:
        self.index.clear()
        self.appointments.clear()
        self.cache.clear()
        for clinic in self.registry.all():
            self.registry.remove(clinic.clinic_id)

    def _schedule_health(self) -> Health:
        reports = [self.cache.report(clinic.clinic_id) for clinic in self.registry.all()]
        failing = [r["clinic_id"] for r in reports if r["last_outcome"] not in (None, "ok")]
        stale = [r["clinic_id"] for r in reports if r["stale"]]
        if failing or stale:
            return Health(DEGRADED, f"{len(failing)} clinic(s) failing, {len(stale)} stale",
                          {"failing": failing, "stale": stale})  # fmt: skip
        return Health(OK, extra={"clinics": len(reports)})


def _json_body(request: Request) -> Any:
    kind = request.headers.get("content-type", "")
    if kind.split(";", 1)[0].strip().lower() not in {"application/json", "text/json"}:
        text = texts.WRONG_CONTENT_TYPE
        raise HttpError(400, text.format(content_type=kind or "не указан"), text.code)
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, texts.NOT_JSON.format(reason=exc), texts.NOT_JSON.code) from exc
