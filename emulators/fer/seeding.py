"""`medstand fer seed` and `POST /__admin/fer/seed`: a generated region loaded through the checks of an upload."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from emulators.fer.demo import generate_region
from emulators.fer.services import Services

REJECTIONS_SHOWN = 50  # the first rejected records are listed with their reasons, the rest counted


def load_region(services: Services, seed: int, mo: int, days: int, start: dt.date) -> dict[str, Any]:
    """Generate a region and load it as its MOs would upload it, one MO OID at a time; say what was refused."""
    region = generate_region(seed, mo, days, start)
    for username, password in region.credentials:
        services.add_credential(username, password)
    owner_of_mo = {record["id"]: record["parent_id"] for record in region.mo}
    counts: dict[str, int] = {}
    rejected: list[dict[str, Any]] = []
    total_rejected = 0
    for entity, records in region.batches():
        by_owner: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_owner.setdefault(_owner(services, entity, record, owner_of_mo), []).append(record)
        for oid, batch in by_owner.items():
            answer = orjson.loads(services.upload(entity, oid, batch).response.body)
            stored = len(answer.get("sendedGuids") or [])
            counts[entity] = counts.get(entity, 0) + stored
            total_rejected += len(batch) - stored
            for error in answer.get("errors") or []:
                if len(rejected) < REJECTIONS_SHOWN:
                    rejected.append({"entity": entity, "id": error.get("id"), "code": error.get("errorCode"),
                                     "reason": error.get("errorMessage")})  # fmt: skip
    return {
        "loaded": counts,
        "rejected": total_rejected,
        "rejections": rejected,
        "credentials": [{"username": u, "password": p} for u, p in region.credentials],
    }


def _owner(services: Services, entity: str, record: dict[str, Any], owner_of_mo: dict[str, str]) -> str:
    if entity == "mo":
        return str(record["parent_id"])
    if "mo_id" in record:
        return owner_of_mo.get(record["mo_id"], "")
    if entity == "referral":
        return str(record.get("from_mo_oid", ""))
    resource_mo = services.showcase.value("resource", record.get("resource_id", ""), "mo_id")
    return owner_of_mo.get(resource_mo or "", "")
