"""Document intake (NET-6, reconstructed: contracts/netrika/intake.openapi.yaml and README.md).

The MIS posts the JSON description of a document with `Reply-To: <its callback address>` (seed 4.1) and gets a
synchronous acceptance with the module's IdMedDocument. The module then "processes" it and the MIS receives
CDAStatus (Success with the base64 CDA, or Failed) → SEMDStatus → REMDStatus (with IdFedRequest and
RemdRegNumber), each step's outcome, text and delay scriptable from the admin API. Every message of the chain
is in the durable outbox before the acceptance is answered; a Failed step ends the chain. REMDStatus goes to
the address registered for the site (NET-5): the site that lists the document's Lpu, else the site registered
with the Reply-To address; with neither, it is not sent and the document record says why.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from emulators.core.contract import Contract, compile_detailed, contracts_dir
from emulators.core.formats import FORMATS
from emulators.core.http import Handler, HttpError, Request, Response, json_response
from emulators.core.validation import compile_check
from emulators.netrika import catalogue as texts
from emulators.netrika.sites import SiteError, normalize_base

if TYPE_CHECKING:
    from emulators.netrika.emulator import Netrika

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS netrika_document (id INTEGER PRIMARY KEY, id_mis TEXT NOT NULL, lpu TEXT NOT NULL,"
    " doc_type INTEGER NOT NULL, reply_to TEXT NOT NULL, steps TEXT NOT NULL, created_at REAL NOT NULL,"
    " updated_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS netrika_script (seq INTEGER PRIMARY KEY AUTOINCREMENT, script TEXT NOT NULL)",
]
FIRST_DOCUMENT_ID = 1053  # the seed's example IdMedDocument: the first document gets it
STEPS = (("cda", "CDAStatus"), ("semd", "SEMDStatus"), ("remd", "REMDStatus"))
EXPECTED = {"string": "строка", "integer": "целое число", "object": "объект"}


@dataclass(frozen=True)
class Step:
    status: str = "Success"
    message: str | None = None
    delay_s: float | None = None


class ScriptError(ValueError):
    pass


def parse_script(raw: Any) -> dict[str, Step]:
    """{"cda": "Failed" | {"status", "message", "delay_s"}, "semd": …, "remd": …} → steps (missing: Success)."""
    if not isinstance(raw, dict):
        raise ScriptError('a script is an object such as {"cda": "Success", "semd": {"status": "Failed"}}')
    unknown = sorted(set(raw) - {"cda", "semd", "remd", "times"})
    if unknown:
        raise ScriptError(f"unknown key(s) {', '.join(unknown)}; known: cda, semd, remd, times")
    steps = {}
    for key, _ in STEPS:
        value = raw.get(key, "Success")
        value = {"status": value} if isinstance(value, str) else value
        if not isinstance(value, dict) or set(value) - {"status", "message", "delay_s"}:
            raise ScriptError(f'{key} must be "Success", "Failed" or {{status, message, delay_s}}')
        status, message, delay = value.get("status", "Success"), value.get("message"), value.get("delay_s")
        if status not in ("Success", "Failed") or (message is not None and not isinstance(message, str)):
            raise ScriptError(f"{key}.status must be Success or Failed and {key}.message a string")
        numeric = isinstance(delay, int | float) and not isinstance(delay, bool)
        if delay is not None and (not numeric or not 0 <= delay <= 3600):
            raise ScriptError(f"{key}.delay_s must be a number of seconds from 0 to 3600")
        steps[key] = Step(status, message, None if delay is None else float(delay))
    return steps


class Intake:
    def __init__(self, netrika: Netrika) -> None:
        self.netrika = netrika
        self.db = netrika.db
        self.db.ensure_schema(SCHEMA)
        contract = Contract(contracts_dir() / "netrika/intake.openapi.yaml")
        schema = contract.schema("DocumentDescription")
        self._valid = compile_check(schema, FORMATS)
        self._detailed = compile_detailed(schema, FORMATS)

    def handlers(self) -> dict[str, Handler]:
        return {"intake.document.submit": self.submit, "intake.document.update": self.update}

    async def submit(self, request: Request) -> Response:
        description, reply_to = self._read(request)
        with self.db.transaction() as conn:
            row = conn.execute("SELECT MAX(id) FROM netrika_document").fetchone()
            document_id = max(int(row[0] or 0) + 1, FIRST_DOCUMENT_ID)
            now = time.time()
            conn.execute("INSERT INTO netrika_document (id, id_mis, lpu, doc_type, reply_to, steps, created_at,"
                         " updated_at) VALUES (?, ?, ?, ?, ?, '[]', ?, ?)",
                         (document_id, description["IdMedDocumentMis"], description["Lpu"],
                          description["MedDocumentType"], reply_to, now, now))  # fmt: skip
        return self._process(document_id, description, reply_to)

    async def update(self, request: Request) -> Response:
        raw_id = request.path_params["IdMedDocument"]
        rows = self.db.query("SELECT id FROM netrika_document WHERE id = ?", (int(raw_id),)) if raw_id.isdigit() else []
        if not rows:
            raise HttpError(404, texts.INTAKE_NOT_FOUND.format(id=raw_id))
        description, reply_to = self._read(request)
        values = (description["IdMedDocumentMis"], description["Lpu"], description["MedDocumentType"], reply_to)
        self.db.execute("UPDATE netrika_document SET id_mis = ?, lpu = ?, doc_type = ?, reply_to = ?, updated_at = ?"
                        " WHERE id = ?", (*values, time.time(), rows[0][0]))  # fmt: skip
        return self._process(int(rows[0][0]), description, reply_to)

    def _read(self, request: Request) -> tuple[dict[str, Any], str]:
        reply_to = request.headers.get("reply-to", "").strip()
        if not reply_to:
            raise HttpError(400, texts.INTAKE_NO_REPLY_TO)
        try:
            reply_to = normalize_base(reply_to)
        except SiteError as exc:
            raise HttpError(400, texts.INTAKE_BAD_REPLY_TO.format(value=reply_to)) from exc
        try:
            description = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise HttpError(400, texts.INTAKE_NOT_JSON) from exc
        if not self._valid(description):
            raise HttpError(400, "; ".join(self._problems(description)))
        return description, reply_to

    def _problems(self, description: Any) -> list[str]:
        if not isinstance(description, dict):
            return [texts.INTAKE_NOT_OBJECT]
        found = []
        for error in self._detailed.iter_errors(description):
            if error.validator == "required":
                missing = str(error.message).split("'")[1]
                found.append(texts.INTAKE_REQUIRED.format(field=missing))
            elif error.validator == "type":
                field = "/".join(map(str, error.absolute_path))
                expected = EXPECTED.get(str(error.validator_value), str(error.validator_value))
                found.append(texts.INTAKE_WRONG_TYPE.format(field=field, expected=expected))
            else:
                found.append(f"[{'/'.join(map(str, error.absolute_path))}]: {error.message}")
        return sorted(found)

    def _process(self, document_id: int, description: Mapping[str, Any], reply_to: str) -> Response:
        steps = self._next_script()
        at = time.time()
        chain: list[dict[str, Any]] = []
        document = {"IdMedDocumentMis": description["IdMedDocumentMis"], "IdMedDocument": document_id,
                    "MedDocumentType": description["MedDocumentType"], "Lpu": description["Lpu"]}  # fmt: skip
        cfg = self.netrika.cfg
        delays = {"cda": cfg.cda_delay_s, "semd": cfg.semd_delay_s, "remd": cfg.remd_delay_s}
        for key, message_type in STEPS:
            step = steps[key]
            at += step.delay_s if step.delay_s is not None else delays[key]
            chain.append(self._emit(key, message_type, step, document, reply_to, at))
            if step.status == "Failed":
                break
        self.db.execute("UPDATE netrika_document SET steps = ? WHERE id = ?", (orjson.dumps(chain).decode(),
                                                                                document_id))  # fmt: skip
        body = {"IdMedDocument": document_id, "IdMedDocumentMis": description["IdMedDocumentMis"],
                "Status": "Success", "Message": texts.INTAKE_ACCEPTED}  # fmt: skip
        return json_response(body, summary=f"document {document_id}: {', '.join(s['message_type'] for s in chain)}")

    def _emit(self, key: str, message_type: str, step: Step, document: dict[str, Any], reply_to: str,
              at: float) -> dict[str, Any]:  # fmt: skip
        fields: dict[str, Any] = dict(document)
        if message_type == "REMDStatus":
            fields = {"IdSourceMis": document["IdMedDocumentMis"], "MedDocumentType": document["MedDocumentType"],
                      "Lpu": document["Lpu"]}  # fmt: skip
        if step.message is not None:
            fields["Message"] = step.message
        record: dict[str, Any] = {"step": key, "message_type": message_type, "status": step.status}
        sites = self.netrika.sites
        site = sites.by_lpu(str(document["Lpu"])) or sites.by_url(reply_to) if message_type == "REMDStatus" else None
        if message_type == "REMDStatus" and site is None:
            record["skipped"] = ("no site is registered for this Lpu or for the Reply-To address (NET-5): "
                                 "POST /__admin/netrika/sites")  # fmt: skip
            return record
        from emulators.netrika.emulator import SendError

        try:
            if site is not None:
                sent = self.netrika.send(message_type, step.status, fields, site=site.site, not_before=at)
            else:
                sent = self.netrika.send(message_type, step.status, fields, base_url=reply_to, not_before=at)
        except SendError as exc:
            raise HttpError(400, str(exc)) from exc
        return {**record, "delivery_id": sent.id, "message_id": sent.message_id, "url": sent.url}

    def _next_script(self) -> dict[str, Step]:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT seq, script FROM netrika_script ORDER BY seq LIMIT 1").fetchone()
            if row is None:
                return parse_script({})
            conn.execute("DELETE FROM netrika_script WHERE seq = ?", (row[0],))
        return parse_script(orjson.loads(row[1]))

    # -- admin -----------------------------------------------------------------------------------------

    def add_script(self, raw: Any) -> int:
        parse_script(raw)
        times = raw.get("times", 1)
        if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 10_000:
            raise ScriptError("times must be a whole number from 1 to 10000")
        kept = orjson.dumps({k: v for k, v in raw.items() if k != "times"}).decode()
        with self.db.transaction() as conn:
            conn.executemany("INSERT INTO netrika_script (script) VALUES (?)", [(kept,)] * times)
        return len(self.scripts())

    def scripts(self) -> list[dict[str, Any]]:
        return [orjson.loads(row[0]) for row in self.db.query("SELECT script FROM netrika_script ORDER BY seq")]

    def clear_scripts(self) -> int:
        return self.db.execute("DELETE FROM netrika_script")

    def documents(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT id, id_mis, lpu, doc_type, reply_to, steps FROM netrika_document"
                             " ORDER BY id DESC LIMIT ?", (limit,))  # fmt: skip
        return [{"IdMedDocument": i, "IdMedDocumentMis": m, "Lpu": lpu, "MedDocumentType": t, "reply_to": r,
                 "steps": orjson.loads(s)} for i, m, lpu, t, r, s in rows]  # fmt: skip

    def count(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM netrika_document")[0][0])

    def clear(self) -> None:
        self.db.execute("DELETE FROM netrika_document")
        self.clear_scripts()
