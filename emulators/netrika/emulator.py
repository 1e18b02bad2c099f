"""Netrika's «Модуль доставки обратных сообщений»: wiring, and `send`, the one way a message leaves.

A message is built (fields given + generated), checked against the MIS callback contract, stored in the
durable outbox of core.delivery and POSTed to `[base]/[MessageType]` until the MIS acknowledges it.
Sources: the admin API (`POST /__admin/netrika/send`) and the document intake (NET-6, `intake.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import Any

import orjson

from emulators import __version__
from emulators.core.admin import AdminBinding, mount_admin, render_admin_error
from emulators.core.config import Settings
from emulators.core.contract import Contract, contracts_dir
from emulators.core.delivery import STATES, DeliveryEngine, Policy, PolicyError
from emulators.core.emulator import Emulator
from emulators.core.errors import ConfigError
from emulators.core.faults import Fault
from emulators.core.http import HttpApp, Request, Response, bind_contract, json_response
from emulators.core.outbound import Outbound
from emulators.core.storage import Database
from emulators.netrika import catalogue as texts
from emulators.netrika.callbacks import CONTRACT as CALLBACK_CONTRACT
from emulators.netrika.callbacks import Callbacks
from emulators.netrika.messages import MESSAGE_TYPES, MessageError, build
from emulators.netrika.settings import SPELLINGS, NetrikaSettings
from emulators.netrika.sites import SiteError, Sites, message_url, normalize_base

NAME = "netrika"
ADMIN_CONTRACT = "netrika/admin.openapi.yaml"
INTAKE_CONTRACT = "netrika/intake.openapi.yaml"
FAULT_KINDS = ("delay", "status", "maintenance", "drop", "duplicate", "poison")
REGISTERED_TYPES = ("REMDStatus", "MseResult", "MseResultData")  # NET-5: to the address registered for the site
HEADERS = {"Content-Type": "application/json; charset=utf-8"}
POISON = b'{"MessageId": "'  # an unparseable message (fault `poison`): the MIS must not fall over


class SendError(ValueError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Sent:
    id: int
    message_id: str
    url: str
    destination: str
    message: dict[str, Any]
    duplicate_of: int | None = None

    def as_dict(self) -> dict[str, Any]:
        shown = {"id": self.id, "message_id": self.message_id, "url": self.url, "destination": self.destination,
                 "message": self.message}  # fmt: skip
        if self.duplicate_of is not None:
            shown["duplicate_of"] = self.duplicate_of
        return shown


class Netrika(Emulator):
    """One callback delivery module; `app` is its ASGI application (intake + admin)."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        super().__init__(NAME, settings, FAULT_KINDS)
        self.cfg: NetrikaSettings = settings.section(NAME)
        if self.cfg.vimis_spelling not in SPELLINGS:
            raise ConfigError(f"netrika.vimis_spelling must be one of {', '.join(SPELLINGS)}")
        try:
            policy = Policy(self.cfg.max_resends, self.cfg.interval_s, self.cfg.backoff, self.cfg.timeout_s)
        except PolicyError as exc:
            raise ConfigError(f"netrika: {exc}") from exc
        self.db = db or Database(settings.resolved_database_url)
        self.callbacks = Callbacks()
        self.outbound = Outbound(self.journal, NAME)
        self.engine = DeliveryEngine(self.db, self.outbound, NAME, policy, self.cfg.per_site_concurrency)
        for message_type in MESSAGE_TYPES:
            self.engine.acknowledge_with(message_type, self.callbacks.judge_ack)
        self.sites = Sites(self.db)
        from emulators.netrika.admin import admin_handlers
        from emulators.netrika.intake import Intake

        self.intake = Intake(self)
        self.app = HttpApp(NAME, self.journal, self.faults, self._render_error, render_admin_error,
                           self.cfg.max_body_bytes)  # fmt: skip
        self.app.render_fault = self._render_fault
        self.app.on_shutdown.append(self.outbound.close)
        bind_contract(self.app, Contract(contracts_dir() / INTAKE_CONTRACT), self.intake.handlers())
        bind_contract(self.app, Contract(contracts_dir() / ADMIN_CONTRACT), admin_handlers(self), admin=True)
        documents = {"mis-callback": CALLBACK_CONTRACT, "intake": INTAKE_CONTRACT, "netrika-admin": ADMIN_CONTRACT}
        counterpart = "Netrika: Модуль доставки обратных сообщений (+ приём документов от МИС)"
        mount_admin(self.app, AdminBinding(NAME, __version__, counterpart, self.state, self.reset, documents,
                                           self.health))  # fmt: skip
        self.listen(self.app, self.cfg.port)
        self.add(self.engine.component())

    # -- sending -------------------------------------------------------------------------------------

    def send(
        self,
        message_type: str,
        status: str = "Success",
        fields: dict[str, Any] | None = None,
        base_url: str | None = None,
        site: str | None = None,
        spelling: str | None = None,
        not_before: float | None = None,
    ) -> Sent:
        """Build, check and store one message; it is in the outbox when this returns."""
        if message_type not in MESSAGE_TYPES:
            raise SendError(400, f"message_type must be one of {', '.join(MESSAGE_TYPES)}; got {message_type!r}")
        destination, base = self._destination(message_type, base_url, site)
        spelling = spelling or self.cfg.vimis_spelling
        if spelling not in SPELLINGS:
            raise SendError(400, f"spelling must be one of {', '.join(SPELLINGS)}")
        try:
            message = build(message_type, status, dict(fields or {}), self._rng(), spelling)
        except MessageError as exc:
            raise SendError(400, str(exc)) from exc
        problems = self.callbacks.errors(message_type, message)
        if problems:
            raise SendError(400, f"the {message_type} message would break the MIS callback contract (NET-1): "
                                 + "; ".join(problems))  # fmt: skip
        url = message_url(base, message_type)
        body = orjson.dumps(message)
        faults = self._outgoing_faults(message_type)
        if "poison" in faults:
            body = POISON
        message_id = str(message["MessageId"])
        delivery_id = self.engine.enqueue(destination, message_type, url, body, HEADERS, message_id,
                                          not_before=not_before)  # fmt: skip
        sent = Sent(delivery_id, message_id, url, destination, message)
        if "duplicate" in faults:
            again = self.engine.enqueue(destination, message_type, url, body, HEADERS, message_id,
                                        not_before=not_before)  # fmt: skip
            return Sent(delivery_id, message_id, url, destination, message, duplicate_of=again)
        return sent

    def _destination(self, message_type: str, base_url: str | None, site: str | None) -> tuple[str, str]:
        """(destination key for the engine — the site's name when registered —, callback base URL)."""
        if (base_url is None) == (site is None):
            raise SendError(400, 'give exactly one of "base_url" or "site"')
        if site is not None:
            found = self.sites.by_name(site)
            if found is None:
                raise SendError(404, f"no site {site!r} is registered (POST /__admin/netrika/sites)")
            return found.site, found.base_url
        assert base_url is not None
        try:
            base = normalize_base(base_url)
        except SiteError as exc:
            raise SendError(400, str(exc)) from exc
        holder = self.sites.by_url(base)
        if holder is not None:
            return holder.site, base
        if message_type in REGISTERED_TYPES:
            raise SendError(400, f"{message_type} goes to the address registered for the site (NET-5, seed 4.2): "
                                 "register it with POST /__admin/netrika/sites, then send with \"site\"")  # fmt: skip
        return base, base

    def _outgoing_faults(self, message_type: str) -> set[str]:
        # only duplicate/poison act on outgoing messages; other kinds are for the intake's inbound requests
        if not any(f["kind"] in ("duplicate", "poison") for f in self.faults.list()):
            return set()
        return {f.kind for f in self.faults.take(message_type) if f.kind in ("duplicate", "poison")}

    def _rng(self) -> Random:
        # one counter of generated messages, kept in the database: the same seed gives the same data after restarts
        count = int(self.db.get_meta("netrika.generated") or 0) + 1
        self.db.set_meta("netrika.generated", str(count))
        return Random(f"{self.cfg.seed}:{count}")

    # -- errors, state ---------------------------------------------------------------------------------

    def _render_error(self, request: Request, status: int, message: str, code: str | None) -> Response:
        if status == 413:
            message = f"{texts.INTAKE_TOO_LARGE}: {message}"
        elif status >= 500:
            message = texts.INTAKE_INTERNAL
        return json_response({"Status": "Failed", "Message": message}, status, outcome="rejected")

    def _render_fault(self, fault: Fault, request: Request) -> Response:
        status = 503 if fault.kind == "maintenance" else fault.status
        text = fault.message or (texts.INTAKE_MAINTENANCE if status == 503 else texts.INTAKE_INTERNAL)
        return json_response({"Status": "Failed", "Message": text}, status)

    def state(self) -> dict[str, Any]:
        stats = self.engine.stats
        totals = dict.fromkeys(STATES, 0)
        for per_state in self.engine.counts().values():
            for state, count in per_state.items():
                totals[state] += count
        return {"messages": totals, "sites": len(self.sites.all()), "policy": self.engine.policy.as_dict(),
                "documents": self.intake.count(), "delivery": {"sent": stats.sent, "delivered": stats.delivered,
                "dead": stats.dead, "recovered_in_flight": stats.recovered_in_flight}}  # fmt: skip

    def reset(self) -> None:
        self.engine.clear()
        self.engine.reset_policy()
        self.sites.clear()
        self.intake.clear()

    def close(self) -> None:
        self.db.close()
