"""The reference local MIS (ЛМИС) for the central scheduling API: what a vendor's MIS must do, from real state.

1. register in the clinic registry (stands in for the seed's application form) and upload every patient card
   (МКАБ) into the master patient index — «Инициатором загрузки пациента является ЛМИС»;
2. serve resources (doctors) and their schedules with slot GUIDs (the central API pulls them);
3. book a slot for the patient named by the token's `sub` → appointment GUID, slot GUID and a ticket number;
   cancel by appointment GUID;
4. as the referring clinic, answer its referrals; as the receiving clinic, the appointments on a referral (a
   patient it does not know yet, booked by referral, is fetched from the index and uploaded back).

`misbehave` makes it break the contract on purpose, for the central API's tests: `foreign_slot` (the booking
answer names a slot GUID not in its schedule), `double_booking` (a taken slot is booked again), `bad_schedule`
(a schedule answer that breaks the contract), `unavailable` (503 on every call). A MIS that is down is one
whose server is stopped (`RunningLocalMis.stop`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from emulators.core.asgi import answer, lifespan, read_body
from emulators.core.runner import bind_socket, make_server
from emulators.lmis.catalogue import LOCAL_ERRORS
from emulators.lmis.demo import generate_clinic

log = logging.getLogger("medstand.sample_mis.lmis")
MISBEHAVIOURS = ("foreign_slot", "double_booking", "bad_schedule", "unavailable")
TICKET_LETTERS = "АБВГДЕЖИКЛМН"


class Refusal(Exception):
    """A business error of the local-MIS contract: its code decides the HTTP status and the text."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class LocalMis:
    """One clinic's local MIS: its doctors, schedule, patients, appointments and referrals."""

    central: str
    clinic_id: str
    name: str
    public_url: str = ""
    api_key: str = ""
    seed: int = 11
    patients_seed: int | None = None
    days: int = 7
    patients_count: int = 10
    start: dt.date = field(default_factory=lambda: dt.date.today() + dt.timedelta(days=1))
    misbehave: set[str] = field(default_factory=set)
    answer_delay_ms: float = 0.0  # a slow MIS: every answer waits this long
    resources: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, dict[str, Any]] = field(default_factory=dict)
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)  # mkab_id -> card
    master: dict[str, str] = field(default_factory=dict)  # the index's patient_id -> mkab_id
    appointments: dict[str, dict[str, Any]] = field(default_factory=dict)
    referrals: dict[str, dict[str, Any]] = field(default_factory=dict)
    tickets: int = 0

    def __post_init__(self) -> None:
        data = generate_clinic(self.seed, self.start, self.days, patients=self.patients_count,
                               patients_seed=self.patients_seed)  # fmt: skip
        self.resources = data.resources
        self.slots = {slot["slot_id"]: slot for slot in data.slots}
        self.cards = {card["mkab_id"]: card for card in data.patients}

    # -- talking to the central API -------------------------------------------------------------------------

    async def register(self, http: httpx.AsyncClient) -> None:
        """The application form: the clinic and where the central API calls it; keeps the key it gets."""
        answer = await http.post(f"{self.central}/__admin/lmis/clinics",
                                 json={"clinic_id": self.clinic_id, "name": self.name, "base_url": self.public_url})
        answer.raise_for_status()
        self.api_key = answer.json()["api_key"]

    async def upload(self, http: httpx.AsyncClient, cards: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /api/v1/patients; remembers the index's patient_id of every accepted card."""
        answer = await http.post(f"{self.central}/api/v1/patients", json={"patients": cards},
                                 headers={"Authorization": f"Bearer {self.api_key}"})  # fmt: skip
        envelope: dict[str, Any] = answer.json()
        for link in (envelope.get("result") or {}).get("accepted", []):
            self.master[link["patient_id"]] = link["mkab_id"]
        if not envelope.get("isSuccess"):
            log.warning("%s: cards rejected by the index: %s", self.clinic_id, envelope.get("errors"))
        return envelope

    async def publish(self) -> None:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            if not self.api_key:
                await self.register(http)
            await self.upload(http, list(self.cards.values()))

    async def adopt(self, patient_id: str) -> str:
        """A patient sent here by referral: the card is made from the index's record and uploaded back (LMIS-1)."""
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
            answer = await http.get(f"{self.central}/api/v1/patients/{patient_id}")
            if answer.status_code != 200:
                raise Refusal("PATIENT_NOT_FOUND")
            found = answer.json()["result"]
            card = {k: found.get(k) for k in ("last_name", "first_name", "middle_name", "birth_date", "gender",
                                              "snils", "oms_number") if found.get(k) is not None}  # fmt: skip
            card["mkab_id"] = f"{self.seed % 1000:03d}-R{len(self.cards) + 1:05d}"
            self.cards[card["mkab_id"]] = card
            await self.upload(http, [card])
        return str(card["mkab_id"])

    # -- the local-MIS contract (contracts/lmis/local-mis.openapi.yaml) ---------------------------------------

    def schedule(self, resource_id: str, date_from: str, date_to: str) -> dict[str, Any]:
        if not any(r["resource_id"] == resource_id for r in self.resources):
            raise Refusal("RESOURCE_NOT_FOUND")
        slots = [dict(s) for s in self.slots.values()
                 if s["resource_id"] == resource_id and date_from <= s["start"][:10] <= date_to]  # fmt: skip
        if "bad_schedule" in self.misbehave:
            for slot in slots:
                slot["slot_id"], slot["duration"] = slot["slot_id"].upper(), str(slot["duration"])
                del slot["status"]
        return {"resource_id": resource_id, "slots": slots}

    async def book(self, patient_id: str, request: Any) -> dict[str, Any]:
        slot = self.slots.get(str(request.get("slot_id"))) if isinstance(request, dict) else None
        if slot is None:
            raise Refusal("SLOT_NOT_FOUND")
        if slot["status"] == "busy" and "double_booking" not in self.misbehave:
            raise Refusal("SLOT_TAKEN")
        referral_id = request.get("referral_id")
        mkab_id = self.master.get(patient_id)
        if mkab_id is None:
            if not referral_id:
                raise Refusal("PATIENT_NOT_FOUND")
            mkab_id = await self.adopt(patient_id)
        slot["status"] = "busy"
        self.tickets += 1
        letter = TICKET_LETTERS[next(i for i, r in enumerate(self.resources) if r["resource_id"] == slot["resource_id"])
                                % len(TICKET_LETTERS)]  # fmt: skip
        appointment = {"appointment_id": str(uuid.uuid4()), "slot_id": slot["slot_id"],
                       "ticket_number": f"{letter}-{self.tickets:03d}", "resource_id": slot["resource_id"],
                       "start": slot["start"], "referral_id": referral_id, "status": "booked"}  # fmt: skip
        self.appointments[appointment["appointment_id"]] = {**appointment, "patient_id": patient_id}
        if "foreign_slot" in self.misbehave:
            return {**appointment, "slot_id": str(uuid.uuid4())}
        return appointment

    def cancel(self, patient_id: str, appointment_id: str) -> dict[str, Any]:
        found = self.appointments.get(appointment_id)
        if found is None or found["patient_id"] != patient_id:
            raise Refusal("APPOINTMENT_NOT_FOUND")
        if found["status"] == "cancelled":
            raise Refusal("ALREADY_CANCELLED")
        found["status"] = "cancelled"
        if not any(a["slot_id"] == found["slot_id"] and a["status"] == "booked" for a in self.appointments.values()):
            self.slots[found["slot_id"]]["status"] = "free"
        return {"appointment_id": appointment_id, "status": "cancelled"}

    def add_referral(self, patient_id: str, receiving_clinic_id: str, speciality_code: str | None = None) -> str:
        """Issue a referral of this clinic for a patient of the index; returns its GUID."""
        referral_id = str(uuid.uuid4())
        self.referrals[referral_id] = {
            "referral_id": referral_id, "patient_id": patient_id, "referring_clinic_id": self.clinic_id,
            "receiving_clinic_id": receiving_clinic_id, "speciality_code": speciality_code,
            "issued_on": dt.date.today().isoformat(), "diagnosis_code": "I10",
            "valid_until": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        }  # fmt: skip
        return referral_id

    def referral(self, patient_id: str, referral_id: str) -> dict[str, Any]:
        found = self.referrals.get(referral_id)
        if found is None or found["patient_id"] != patient_id:
            raise Refusal("REFERRAL_NOT_FOUND")
        return found

    def on_referral(self, referral_id: str) -> dict[str, Any]:
        found = [{k: v for k, v in a.items() if k != "patient_id"} for a in self.appointments.values()
                 if a["referral_id"] == referral_id]  # fmt: skip
        return {"referral_id": referral_id, "appointments": found}


_ROUTES = [(method, re.compile(pattern), name) for method, pattern, name in (
    ("GET", r"/resources", "resources"), ("GET", r"/resources/(?P<id>[^/]+)/schedule", "schedule"),
    ("POST", r"/appointments", "book"), ("POST", r"/appointments/(?P<id>[^/]+)/cancel", "cancel"),
    ("GET", r"/referrals/(?P<id>[^/]+)", "referral"), ("GET", r"/referrals/(?P<id>[^/]+)/appointments", "on_referral"),
)]  # fmt: skip


def token_patient(header: str) -> str | None:
    """The `sub` of an unexpired patient token (the central API signs it; this MIS only reads it)."""
    scheme, _, token = header.partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return None
    if not isinstance(claims, dict) or claims.get("exp", 0) < time.time():
        return None
    return str(claims.get("sub") or "") or None


async def _handle(mis: LocalMis, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                  body: bytes) -> tuple[int, Any]:  # fmt: skip
    if "unavailable" in mis.misbehave:
        return 503, {"error": "temporarily unavailable"}
    if (method, path) == ("POST", "/__sample/referrals"):
        spec = orjson.loads(body)
        return 201, {"referral_id": mis.add_referral(spec["patient_id"], spec["receiving_clinic_id"],
                                                     spec.get("speciality_code"))}  # fmt: skip
    if (method, path) == ("POST", "/__sample/misbehave"):
        mis.misbehave = set(orjson.loads(body).get("modes", [])) & set(MISBEHAVIOURS)
        return 200, {"modes": sorted(mis.misbehave)}
    route = next(((name, m) for verb, pattern, name in _ROUTES if verb == method and (m := pattern.fullmatch(path))),
                 None)  # fmt: skip
    if route is None:
        return 404, {"error": f"no route {method} {path}"}
    name, match = route
    if name == "resources":
        return 200, {"resources": mis.resources}
    if name == "schedule":
        return 200, mis.schedule(match["id"], query.get("date_from", ""), query.get("date_to", "9999"))
    patient_id = token_patient(headers.get("authorization", ""))
    if patient_id is None:
        raise Refusal("TOKEN_INVALID")
    if name == "book":
        return 200, await mis.book(patient_id, orjson.loads(body or b"{}"))
    if name == "cancel":
        return 200, mis.cancel(patient_id, match["id"])
    if name == "referral":
        return 200, mis.referral(patient_id, match["id"])
    return 200, mis.on_referral(match["id"])


def local_app(mis: LocalMis) -> Any:
    """A plain ASGI app serving the local-MIS contract from `mis`'s state."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(x.split("=", 1) for x in scope.get("query_string", b"").decode().split("&") if "=" in x)
        if mis.answer_delay_ms:
            await asyncio.sleep(mis.answer_delay_ms / 1000)
        try:
            status, result = await _handle(mis, scope["method"], scope["path"].rstrip("/") or "/", query, headers, body)
        except Refusal as refusal:
            status, text = LOCAL_ERRORS[refusal.code]
            result = {"error": {"code": refusal.code, "message": text}}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            status, result = 400, {"error": {"code": "BAD_REQUEST", "message": f"{type(exc).__name__}: {exc}"}}
        await answer(send, status, orjson.dumps(result))

    return app


@dataclass
class RunningLocalMis:
    """A reference local MIS serving in a background thread (tests, scenarios)."""

    mis: LocalMis
    url: str
    port: int
    thread: threading.Thread
    server: Any

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def run_in_thread(mis: LocalMis, host: str = "127.0.0.1", port: int = 0, publish: bool = True) -> RunningLocalMis:
    """Serve on (host, port) — port 0 picks a free one — then register and upload the patients."""
    sock = bind_socket(host, port)
    bound = sock.getsockname()[1]
    mis.public_url = mis.public_url or f"http://{host}:{bound}"
    server = make_server(local_app(mis))
    ready, failure = threading.Event(), {}

    async def main() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.005)
        try:
            if publish:
                await mis.publish()
        except Exception as exc:  # reported to the caller, which raises it
            failure["error"] = exc
            server.should_exit = True
        ready.set()
        await serving

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True, name=f"lmis-local-{mis.clinic_id}")
    thread.start()
    if not ready.wait(30):
        raise RuntimeError("the reference local MIS did not start")
    if failure:
        thread.join(5)
        raise RuntimeError(f"the reference local MIS could not publish: {failure['error']}")
    return RunningLocalMis(mis, f"http://{host}:{bound}", bound, thread, server)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    local = subparsers.add_parser("lmis-local", help="the local MIS side of the LMIS central scheduling API")
    local.add_argument("--central", default="http://127.0.0.1:2500", help="central API URL (default %(default)s)")
    local.add_argument("--clinic-id", default="1.2.643.5.1.13.13.12.2.50.1001", help="the clinic's ЛПУ code")
    local.add_argument("--name", default="ГБУЗ «Городская поликлиника № 1»")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=3500)
    local.add_argument("--public-url", help="address the central API calls (default http://HOST:PORT)")
    local.add_argument("--api-key", default="", help="the clinic's key if already registered (else it registers)")
    local.add_argument("--seed", type=int, default=11, help="random seed of its doctors and schedule")
    local.add_argument("--patients-seed", type=int, help="random seed of its patients (same seed: shared patients)")
    local.add_argument("--patients", type=int, default=10, help="number of patient cards (default 10)")
    local.add_argument("--days", type=int, default=7, help="days of schedule from tomorrow (default 7)")
    local.add_argument("--misbehave", action="append", choices=MISBEHAVIOURS, default=[], help="break the contract")
    local.add_argument("-v", "--verbose", action="store_true")
    local.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from emulators.core.cliutil import unreachable

    mis = LocalMis(args.central.rstrip("/"), args.clinic_id, args.name, args.public_url or "", args.api_key,
                   args.seed, args.patients_seed, args.days, args.patients, misbehave=set(args.misbehave))  # fmt: skip
    try:
        running = run_in_thread(mis, args.host, args.port)
    except RuntimeError as exc:
        raise unreachable("LMIS central API", args.central) from exc
    log.info("local MIS %s on %s: %d patients uploaded to %s", mis.clinic_id, running.url, len(mis.master),
             mis.central)  # fmt: skip
    with contextlib.suppress(KeyboardInterrupt):
        running.thread.join()
    running.stop()
    return 0
