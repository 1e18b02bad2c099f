"""Everything the FER handlers share, built once from the settings: the one object both handler tables get.

`gateway.Gateway` (the composition root) builds a `Services` and hands it to `api.api_handlers` and
`admin.admin_handlers`; neither handler module knows the emulator, so they import nothing of each other.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.core.contract import Contract, contracts_dir
from emulators.core.http import Response
from emulators.core.journal import Journal
from emulators.core.outbound import Outbound
from emulators.core.storage import Database, RecordLog
from emulators.fer.associations import Associations
from emulators.fer.auth import Authority
from emulators.fer.blocks import Blocks
from emulators.fer.booking import Booking
from emulators.fer.entities import Entity, load_entities
from emulators.fer.envelope import envelope
from emulators.fer.freshness import Freshness
from emulators.fer.settings import Credential, FerSettings
from emulators.fer.showcase import Showcase
from emulators.fer.upload import Upload
from emulators.fer.webhooks import Webhooks

NAME = "fer"
GATEWAY_CONTRACT = "fer/gateway.openapi.yaml"
ADMIN_CONTRACT = "fer/admin.openapi.yaml"
MIS_CONTRACT = "fer/mis-booking.openapi.yaml"


@dataclass
class Stored:
    """An upload's answer and the log ticket to await before sending it (an answered upload survives SIGKILL)."""

    response: Response
    ticket: int


class Services:
    """The gateway's state and the operations on it that more than one handler needs."""

    def __init__(self, fer: FerSettings, db: Database, journal: Journal, clock: Callable[[], float] = time.time):
        self.fer = fer
        self.db = db
        self.clock = clock
        self.contract = Contract(contracts_dir() / GATEWAY_CONTRACT)
        self.entities: dict[str, Entity] = load_entities(self.contract, snils_checksum=fer.snils_checksum)
        self.showcase = Showcase(RecordLog(db, "fer.showcase"))
        self.replayed = self.showcase.load()
        self.authority = Authority(db, fer, clock)
        self.freshness = Freshness(fer.slot_refresh_seconds, fer.other_refresh_seconds, clock)
        self.blocks = Blocks(db, fer.block_after_errors, clock)
        self.associations = Associations(db, clock)
        self.outbound = Outbound(journal, NAME)
        self.webhooks = Webhooks(db, self.outbound, fer.webhook_probe_timeout_seconds)
        self.booking = Booking(
            self.showcase, self.webhooks, self.outbound, Contract(contracts_dir() / MIS_CONTRACT),
            fer.booking_deadline_seconds, fer.booking_late_grace_seconds, self.associations, clock,
        )  # fmt: skip
        self.booking.followup_seconds = fer.followup_seconds

    def may_write_anywhere(self, oid: str) -> bool:
        """FER-AUTH-5 applies to this token's MO (not when switched off, nor for fer.ownership_exempt)."""
        return not self.fer.enforce_mo_ownership or oid in self.fer.ownership_exempt

    def upload(self, entity: str, oid: str, records: list[Any]) -> Stored:
        """Check and store one batch as `oid`; the envelope of FER-ENV-1 with per-record errors."""
        now = dt.datetime.fromtimestamp(self.clock()).isoformat(timespec="seconds")
        logged_before = self.showcase.last_ticket
        check = Upload(self.entities[entity], self.showcase, oid, not self.may_write_anywhere(oid),
                       self.associations.book_ext_id, self.fer.require_parents)  # fmt: skip
        outcome = check.run(records, now)
        if outcome.stored:
            self.freshness.uploaded(oid, entity)
        contact = list(outcome.stored) if entity == "slot" else None
        if outcome.status == 200:
            response = envelope(200, sended=outcome.stored, contact=contact)
        else:
            message, code = outcome.top_error()
            errors = [{"id": p.key, "errorMessage": p.message, "errorCode": p.code} for p in outcome.problems]
            response = envelope(outcome.status, error={"errorMessage": message, "errorCode": code}, errors=errors,
                                sended=outcome.stored, contact=contact)  # fmt: skip
            response.violations = outcome.violations()
            self._count_technical_error(oid)
        response.notes = outcome.notes + self.booking.observe_upload(entity, outcome.stored)
        response.summary = f"{entity}: {len(outcome.stored)} stored, {len(outcome.problems)} error(s)"
        # everything this upload changed (its records, and subdivisions set to NONE by a block) is awaited
        return Stored(response, self.showcase.last_ticket if self.showcase.last_ticket != logged_before else 0)

    def _count_technical_error(self, oid: str) -> None:
        """FER-ENV-2: after block_after_errors rejected uploads the MO goes to enabled = NONE and gets 405."""
        if self.blocks.count_error(oid):
            rows = self.showcase.rows_where("mo", "parent_id", oid)
            self.showcase.upsert("mo", oid, [{**row.record, "enabled": "NONE"} for row in rows])

    def add_credential(self, username: str, password: str) -> None:
        self.authority.set_credential(Credential(username, password))

    def state(self) -> dict[str, Any]:
        log = self.showcase.log
        return {
            "emulator": NAME,
            "showcase": self.showcase.counts(),
            "log": {
                "entries": log.entries if log else 0,
                "replayed_at_start": self.replayed,
                "failed_writes": log.failed_writes if log else 0,
            },
            "credentials": self.authority.usernames(),
            "blocked": self.blocks.listing(),
            "technical_errors": self.blocks.technical_errors,
            "freshness": self.freshness.report(),
            "associations": len(self.associations),
            "webhooks": self.webhooks.all(),
            "bookings": self.booking.bookings(),
        }

    def reset(self) -> None:
        self.showcase.clear()
        self.authority.reset()
        self.freshness.clear()
        self.blocks.unblock(None)
        self.associations.clear()
        self.webhooks.clear()
        self.booking.clear()

    def close(self) -> None:
        if self.showcase.log is not None:
            self.showcase.log.close()
        self.db.flush()
