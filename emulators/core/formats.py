"""String formats the contracts name (`format: guid`, …), shared by the fast and the detailed validator."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from emulators.core.datagen import is_valid_snils

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_VISIT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 / ISO 8601 with optional fraction and offset, plus the two spellings the FER seed itself uses.
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$")
_RU = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})$")


def is_guid(value: str) -> bool:
    """Lower-case hyphenated GUID."""
    return bool(_GUID.match(value))


def is_oid(value: str) -> bool:
    return len(value) <= 256 and bool(_OID.match(value))


def is_visit_time(value: str) -> bool:
    """YYYY-MM-DDTHH:MM:SS naming a real moment."""
    return bool(_VISIT_TIME.match(value)) and _iso_parses(value)


def is_date(value: str) -> bool:
    return bool(_DATE.match(value)) and _iso_parses(value)


def is_fer_timestamp(value: str) -> bool:
    """RFC 3339 / ISO 8601, or `DD.MM.YYYY HH:MM:SS` as in the seed's MO example."""
    if _ISO.match(value):
        return parse_timestamp(value) is not None
    return bool(_RU.match(value)) and parse_timestamp(value) is not None


def parse_timestamp(value: str) -> dt.datetime | None:
    """The moment a fer-timestamp names, or None."""
    match = _RU.match(value)
    if match:
        day, month, year, hour, minute, second = (int(g) for g in match.groups())
        try:
            return dt.datetime(year, month, day, hour, minute, second)
        except ValueError:
            return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _iso_parses(value: str) -> bool:
    # fromisoformat is implemented in C: ~20x cheaper than strptime on the hot path of slot uploads.
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[str], bool]] = {
    "guid": is_guid,
    "oid": is_oid,
    "snils": is_valid_snils,
    "fer-visit-time": is_visit_time,
    "fer-timestamp": is_fer_timestamp,
    "date": is_date,
}


def _guid_column(values: list[str]) -> bool:
    """Lower-case hyphenated GUIDs, checked on the joined column with C-level string operations."""
    count = len(values)
    if set(map(len, values)) != {36}:
        return False
    joined = "-".join(values) + "-"
    if any(joined[offset::37] != "-" * count for offset in (8, 13, 18, 23, 36)):
        return False
    digits = joined.replace("-", "")
    # fromhex validates hex digits; hex() prints lower case, so the round trip also rejects upper case
    return len(digits) == 32 * count and bytes.fromhex(digits).hex() == digits


def _visit_time_column(values: list[str]) -> bool:
    """YYYY-MM-DDTHH:MM:SS on the joined column, then a real calendar date for each distinct value."""
    count = len(values)
    if set(map(len, values)) != {19}:
        return False
    joined = "".join(values)
    for offset, separator in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")):
        if joined[offset::19] != separator * count:
            return False
    digits = joined.replace("-", "").replace("T", "").replace(":", "")
    if len(digits) != 14 * count or not (digits.isascii() and digits.isdigit()):
        return False
    return all(map(dt.datetime.fromisoformat, set(values)))  # ValueError on 2024-02-30 -> caller: invalid


# Whole-column versions for the batch fast path: the same verdicts as FORMATS, without a Python frame per value.
COLUMN_FORMATS = {"guid": _guid_column, "fer-visit-time": _visit_time_column}
FIXED_LENGTH = {"guid": 36, "fer-visit-time": 19}
