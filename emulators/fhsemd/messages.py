"""One registration result (SEMD-2/3): the seed's header and body, built from a request with the rest generated,
and its framing on the wire (Kafka headers + body, or one JSON envelope)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from emulators.fhsemd import catalogue as texts

HEADER_FIELDS = ("messageType", "sourceSystem", "targetSystem", "messageId", "timestamp")


class SpecError(ValueError):
    """A result request the admin API refuses (answered 400 with this text)."""


def iso_ms(moment: dt.datetime) -> str:
    """ISO 8601 UTC with milliseconds and Z, as the seed's `2025-01-15T10:30:00.000Z`."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Result:
    """A result ready to send: the seed's header and body, the record key, and what was asked of it."""

    header: dict[str, str]
    body: dict[str, Any]
    key: str
    framing: str
    fault: str | None = None
    poison: bool = False

    @property
    def message_id(self) -> str:
        return self.header["messageId"]

    @property
    def relates_to(self) -> str:
        return str(self.body.get("relatesToMessage", ""))

    def record(self) -> tuple[bytes, list[tuple[str, bytes]]]:
        """The Kafka record value and headers for this result's framing."""
        if self.framing == "envelope":
            value = orjson.dumps({"header": self.header, "body": self.body})
            headers: list[tuple[str, bytes]] = []
        else:
            value = orjson.dumps(self.body)
            headers = [(name, self.header[name].encode()) for name in HEADER_FIELDS]
        if self.poison:
            value = poisoned(value)
        return value, headers

    def rest_body(self) -> dict[str, Any]:
        """SEMD-4: the body the MIS's REST endpoint receives (the seed's request body: the message body)."""
        return self.body


def poisoned(value: bytes) -> bytes:
    """Malformed JSON (SEMD-6): the value cut in the middle, as a producer that died mid-write would leave it."""
    return value[: max(1, len(value) // 2)]


@dataclass
class Generator:
    """Fills what a request leaves out, reproducibly from a seed; remembers each document's emdrId and version."""

    seed: int = 1
    region: str = "77"
    store_years: int = 25
    default_framing: str = "headers"
    rng: random.Random = field(init=False)
    emdr_ids: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def resume(self, already_sent: int) -> None:
        """Continue after a restart: a stream reproducible from (seed, results already sent), so that a restarted
        emulator never repeats a messageId or an emdrId of its previous run."""
        if already_sent:
            self.rng = random.Random(f"{self.seed}:{already_sent}")

    def build(self, spec: dict[str, Any], now: dt.datetime | None = None) -> Result:
        """A result from one request item (see contracts/fhsemd/admin.openapi.yaml)."""
        now = now or dt.datetime.now(dt.UTC)
        status = spec.get("status", texts.SUCCESS)
        relates_to = spec.get("relatesToMessage")
        if status not in (texts.SUCCESS, texts.ERROR):
            raise SpecError('status must be "success" or "error"')
        if not isinstance(relates_to, str) or not relates_to:
            raise SpecError("relatesToMessage (the MIS's registration request id) is required")
        key = _text(spec, "document") or relates_to
        body: dict[str, Any] = {"relatesToMessage": relates_to, "status": status}
        if status == texts.SUCCESS:
            body["registryItem"] = self.registry_item(key, spec.get("registryItem") or {}, spec, now)
            body["errors"] = []
        else:
            body["errors"] = self.errors(spec.get("errors"))
        header = {"messageType": texts.MESSAGE_TYPE, "sourceSystem": texts.SOURCE_SYSTEM,
                  "targetSystem": texts.TARGET_SYSTEM, "messageId": _text(spec, "messageId") or self.uuid(),
                  "timestamp": _text(spec, "timestamp") or iso_ms(now)}  # fmt: skip
        framing = spec.get("framing") or self.default_framing
        if framing not in ("headers", "envelope"):
            raise SpecError('framing must be "headers" or "envelope"')
        return Result(header, body, key, framing)

    def registry_item(self, key: str, given: Any, spec: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        if not isinstance(given, dict):
            raise SpecError("registryItem must be an object")
        version = given.get("documentVersion")
        if version is None:
            version = self.versions.get(key, 0) + 1
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise SpecError("registryItem.documentVersion must be a positive integer")
        self.versions[key] = max(version, self.versions.get(key, 0))
        emdr_id = given.get("emdrId") or self.emdr_ids.setdefault(key, self.emdr_id(now))
        warnings = given.get("registrationWarnings")
        if warnings is None:
            warnings = self.warnings(spec.get("warnings"))
        return {
            "emdrId": emdr_id,
            "documentVersion": version,
            "registrationDate": given.get("registrationDate") or now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "registrationDateTime": given.get("registrationDateTime") or iso_ms(now),
            "storeTillDate": given.get("storeTillDate") or _years_after(now.date(), self.store_years).isoformat(),
            "registrationWarnings": warnings,
        }

    def emdr_id(self, now: dt.datetime) -> str:
        """The registry's dotted form, as in `01.18.246.000000184`: region, year, a group, a serial."""
        return f"{self.region}.{now.year % 100:02d}.{self.rng.randint(100, 999)}.{self.rng.randint(1, 10**9 - 1):09d}"

    def errors(self, given: Any) -> list[dict[str, str]]:
        if given is None:
            return [self.rng.choice(list(texts.ERRORS.values())).as_item()]
        return _items(given, "errors")

    def warnings(self, count: Any) -> list[dict[str, str]]:
        # omitted: about one result in four carries a warning, as registrations with ФРЛЛО remarks do
        if count is None:
            count = 1 if self.rng.random() < 0.25 else 0
        if isinstance(count, list):
            return _items(count, "warnings")
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 10:
            raise SpecError("warnings must be a number from 0 to 10 or a list of codes")
        return [self.rng.choice(list(texts.WARNINGS.values())).as_item() for _ in range(count)]

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _items(given: Any, name: str) -> list[dict[str, str]]:
    """`["NO_SNILS", …]` (texts from the classifier) or `[{"code", "message"}, …]` as given."""
    if not isinstance(given, list):
        raise SpecError(f"{name} must be a list of classifier codes or of {{code, message}} objects")
    items = []
    for item in given:
        if isinstance(item, str):
            code = texts.known_code(item)
            if code is None:
                raise SpecError(f"{item!r} is not a code medstand knows from the РЭМД classifier; "
                                "give {code, message} to send any code")  # fmt: skip
            items.append(code.as_item())
        elif isinstance(item, dict) and isinstance(item.get("code"), str) and isinstance(item.get("message"), str):
            items.append({"code": item["code"], "message": item["message"]})
        else:
            raise SpecError(f"each of {name} is a code or a {{code, message}} object")
    return items


def _text(spec: dict[str, Any], name: str) -> str | None:
    value = spec.get(name)
    if value is not None and not isinstance(value, str):
        raise SpecError(f"{name} must be a string")
    return value


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
