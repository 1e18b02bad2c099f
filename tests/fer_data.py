"""Valid showcase records for tests; override any field by keyword."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import SEED_OID

TS = "2024-01-10T08:00:00"


def guid() -> str:
    return str(uuid.uuid4())


def mo(**over: Any) -> dict[str, Any]:
    key = over.pop("id", guid())
    return {
        "id": key,
        "parent_id": SEED_OID,
        "branch_oid": SEED_OID + ".0.1",
        "name": f"Поликлиника {key[:8]}",
        "address": "г. Ханты-Мансийск, ул. Мира, 1",
        "enabled": "ALL",
        "create_ts": TS,
        **over,
    }


def specialist(mo_id: str, **over: Any) -> dict[str, Any]:
    return {
        "id": guid(),
        "type": "SPECIALIST",
        "mo_id": mo_id,
        "enabled": "ALL",
        "create_ts": TS,
        "post_id": "110",
        "speciality_id": "27",
        "snils": "11223344595",
        "last_name": "Иванов",
        "first_name": "Иван",
        **over,
    }


def room(mo_id: str, **over: Any) -> dict[str, Any]:
    return {
        "id": guid(),
        "type": "ROOM",
        "mo_id": mo_id,
        "enabled": "ALL",
        "create_ts": TS,
        "room_number": "101",
        "room_name": "Процедурный кабинет",
        **over,
    }


def machine(mo_id: str, **over: Any) -> dict[str, Any]:
    return {
        "id": guid(),
        "type": "MACHINE",
        "mo_id": mo_id,
        "enabled": "ALL",
        "create_ts": TS,
        "machine_name": "МРТ Siemens",
        **over,
    }


def slot(mo_id: str, resource_id: str, visit_time: str = "2024-03-28T05:00:00", **over: Any) -> dict[str, Any]:
    return {
        "id": guid(),
        "mo_id": mo_id,
        "resource_id": resource_id,
        "tag_type": "EPGU",
        "tag_age": "ALL",
        "visit_time": visit_time,
        "duration": 20,
        "status": "AVAILABLE",
        "create_ts": TS,
        **over,
    }


def service(resource_id: str, **over: Any) -> dict[str, Any]:
    return {
        "id": guid(),
        "resource_id": resource_id,
        "code": "B01.047.001",
        "price": 1500.5,
        "create_ts": TS,
        **over,
    }


def book(slot_id: str, **over: Any) -> dict[str, Any]:
    return {
        "id": guid(),
        "patient_id": guid(),
        "slot_id": slot_id,
        "status_code": 5000,
        "tag_source": "EPGU",
        "type": "APPOINTMENT",
        "referral_id": None,
        "create_ts": TS,
        **over,
    }


def referral(to_mo_id: str, **over: Any) -> dict[str, Any]:
    return {
        "id": guid(),
        "patient_id": guid(),
        "number": "N-1",
        "type": "CONSULTATION",
        "speciality_id": "27",
        "to_post_name": "врач-терапевт",
        "start_date": TS,
        "to_mo_id": to_mo_id,
        "to_profile_code": "97",
        "from_resource_id": guid(),
        "status": "AVAILABLE",
        "create_ts": TS,
        "referral_type_code": "1",
        "to_mo_oid": SEED_OID,
        "from_mo_oid": SEED_OID,
        **over,
    }


def period(resource_id: str, **over: Any) -> dict[str, Any]:
    return {
        "period_id": guid(),
        "resource_id": resource_id,
        "reason": "VACATION",
        "beg_date": "2024-07-01T00:00:00",
        "end_date": "2024-07-14T00:00:00",
        "create_ts": TS,
        **over,
    }


def profile(resource_id: str, **over: Any) -> dict[str, Any]:
    return {"id": guid(), "resource_id": resource_id, "profile_code": "97", "create_ts": TS, **over}
