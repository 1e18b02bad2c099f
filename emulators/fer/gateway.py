"""The FER 2.0 gateway + «Витрина данных» emulator: the composition root.

It builds one `Services` from the settings, gives it to both handler tables (`api` for the gateway
contract, `admin` for the FER admin contract), and wires the HTTP app, faults, journal masks and the
data-dir lock. Handlers never import this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from emulators import __version__
from emulators.core.admin import AdminBinding, mount_admin, render_admin_error
from emulators.core.config import Settings
from emulators.core.contract import Contract, contracts_dir
from emulators.core.emulator import Emulator
from emulators.core.faults import Fault
from emulators.core.http import HttpApp, Request, Response, bind_contract
from emulators.core.storage import Database
from emulators.fer.admin import admin_handlers
from emulators.fer.api import api_handlers
from emulators.fer.envelope import auth_answer, error_envelope, status_text
from emulators.fer.lock import DataDirLock
from emulators.fer.services import ADMIN_CONTRACT, GATEWAY_CONTRACT, MIS_CONTRACT, NAME, Services, Stored
from emulators.fer.settings import FerSettings

FAULT_KINDS = ("delay", "status", "maintenance", "drop", "expire-token")
# FER-AUTH-1: the password of a request and the token of an answer never reach the journal in clear
AUTH_SECRETS = frozenset({"password", "Value"})
COUNTERPART = "ФЭР 2.0 шлюз + «Витрина данных «Запись к врачу»»"


class Gateway(Emulator):
    """One FER gateway; `app` is its ASGI application, `services` what its handlers share."""

    def __init__(self, settings: Settings, db: Database | None = None, clock: Callable[[], float] = time.time):
        super().__init__(NAME, settings, FAULT_KINDS)
        self.fer: FerSettings = settings.section(NAME)
        self.db = db or Database(settings.resolved_database_url)
        self.health_checks["storage"] = self.db.health
        self.services = Services(self.fer, self.db, self.journal, clock)
        self.showcase, self.booking, self.webhooks = self.services.showcase, self.services.booking, self.services.webhooks
        self.app = HttpApp(NAME, self.journal, self.faults, self._render_error, render_admin_error,
                           self.fer.max_body_bytes)  # fmt: skip
        self.app.fault_hooks["expire-token"] = lambda fault, request: self.services.authority.expire_all()
        self.app.render_fault = self._render_fault
        self.app.journal_masks["auth.token"] = AUTH_SECRETS
        self.app.on_shutdown.append(self._shutdown)
        bind_contract(self.app, self.services.contract, api_handlers(self.services))
        bind_contract(self.app, Contract(contracts_dir() / ADMIN_CONTRACT), admin_handlers(self.services), admin=True)
        documents = {"gateway": GATEWAY_CONTRACT, "fer-admin": ADMIN_CONTRACT, "mis-booking": MIS_CONTRACT}
        mount_admin(self.app, AdminBinding(NAME, __version__, COUNTERPART, self.services.state, self.services.reset,
                                           documents, self.health))  # fmt: skip
        self.add(DataDirLock(self.db.path))
        self.listen(self.app, self.fer.port)

    def upload(self, entity: str, oid: str, records: list[Any]) -> Stored:
        """One batch as `oid` through every check (tools and tests; the HTTP path awaits its ticket)."""
        return self.services.upload(entity, oid, records)

    def _render_error(self, request: Request, status: int, message: str, code: str | None) -> Response:
        if request.operation == "auth.token":
            return auth_answer(status, message)
        return error_envelope(status, message, code)

    def _render_fault(self, fault: Fault, request: Request) -> Response:
        """What an injected `status`/`maintenance` fault answers: that status, its code and text (2xx: success)."""
        status = 503 if fault.kind == "maintenance" else fault.status
        text = status_text(status)
        if request.operation == "auth.token":
            return auth_answer(status, "" if 200 <= status < 300 else fault.message or text.template)
        return error_envelope(status, fault.message or text.template, text.code)

    async def _shutdown(self) -> None:
        await self.services.outbound.close()
        self.close()

    def close(self) -> None:
        self.services.close()
