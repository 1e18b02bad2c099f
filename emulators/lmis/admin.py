"""LMIS-specific admin routes (contracts/lmis/admin.openapi.yaml): clinic registry, pulls, the booking flows."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from emulators.core.http import Handler, HttpError, Request, Response, json_response
from emulators.lmis.flows import FlowResult

if TYPE_CHECKING:
    from emulators.lmis.central import Central

_CLINIC_ID = re.compile(r"[0-9A-Za-z._-]{1,64}")
_URL = re.compile(r"https?://[^\s/]+(/\S*)?")


def admin_handlers(central: Central) -> dict[str, Handler]:
    async def clinics_list(request: Request) -> Response:
        return json_response({"clinics": central.clinics()})

    async def clinics_add(request: Request) -> Response:
        body = _object(request, required=("clinic_id", "name", "base_url"))
        if not _CLINIC_ID.fullmatch(body["clinic_id"]):
            raise HttpError(400, "clinic_id: 1–64 characters of letters, digits, '.', '_' or '-' (e.g. an OID)")
        if not _URL.fullmatch(body["base_url"]):
            raise HttpError(400, f"base_url must be an http(s) URL, got {body['base_url']!r}")
        clinic = central.registry.register(body["clinic_id"], body["name"].strip(), body["base_url"])
        return json_response({"clinic_id": clinic.clinic_id, "name": clinic.name, "base_url": clinic.base_url,
                              "api_key": clinic.api_key}, 201)  # fmt: skip

    async def clinics_remove(request: Request) -> Response:
        clinic_id = request.query.get("clinic_id", "")
        central.cache.forget(clinic_id)
        return json_response({"removed": central.registry.remove(clinic_id)})

    async def pull(request: Request) -> Response:
        body = _object(request, optional=("clinic_id",)) if request.body.strip() else {}
        if not body.get("clinic_id"):
            return json_response({"clinics": await central.cache.pull_all()})
        clinic = central.registry.get(body["clinic_id"])
        if clinic is None:
            raise HttpError(404, f"clinic {body['clinic_id']} is not registered")
        return json_response({"clinics": {clinic.clinic_id: await central.cache.pull(clinic)}})

    async def book(request: Request) -> Response:
        body = _object(request, required=("clinic_id",), optional=("patient_id", "slot_id", "resource_id"))
        _patient_given(body)
        return _result(await central.flows.book(body))

    async def cancel(request: Request) -> Response:
        body = _object(request, required=("appointment_id",), optional=("clinic_id", "patient_id"))
        return _result(await central.flows.cancel(body))

    async def book_by_referral(request: Request) -> Response:
        body = _object(request, required=("referral_id", "referring_clinic_id"), optional=("patient_id", "slot_id"))
        _patient_given(body)
        return _result(await central.flows.book_by_referral(body))

    return {
        "admin.lmis.clinics.list": clinics_list,
        "admin.lmis.clinics.add": clinics_add,
        "admin.lmis.clinics.remove": clinics_remove,
        "admin.lmis.pull": pull,
        "admin.lmis.book": book,
        "admin.lmis.cancel": cancel,
        "admin.lmis.book-by-referral": book_by_referral,
    }


def _object(request: Request, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A JSON object whose named fields are non-empty strings (required) or strings (optional)."""
    body = request.json()
    if not isinstance(body, dict):
        raise HttpError(400, f"expected a JSON object with string fields {', '.join(required + optional)}")
    missing = [name for name in required if not isinstance(body.get(name), str) or not body[name].strip()]
    wrong = [name for name in optional if body.get(name) is not None and not isinstance(body[name], str)]
    if missing or wrong:
        raise HttpError(400, f"fields {', '.join(missing + wrong)} must be non-empty strings")
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in body.items() if v is not None}


def _patient_given(body: dict[str, Any]) -> None:
    patient = body.get("patient")
    if patient is not None and (not isinstance(patient, dict)
                                or not all(isinstance(v, str) for v in patient.values())):  # fmt: skip
        raise HttpError(400, 'patient must be an object such as {"snils": "…"} or {"oms_number": "…"}')
    if not body.get("patient_id") and not (patient and (patient.get("snils") or patient.get("oms_number"))):
        raise HttpError(400, "give patient_id, or patient with snils or oms_number")
    if patient and patient.get("snils"):
        body["patient"] = {**patient, "snils": patient["snils"].replace("-", "").replace(" ", "")}


def _result(result: FlowResult) -> Response:
    response = json_response(result.as_dict())
    response.summary = f"{result.outcome}: {result.message}"[:200]
    return response
