"""String formats the contracts name (`format: guid`, …), shared by the fast and the detailed validator.

Core holds the formats every counterpart may use; a counterpart adds its own through its EmulatorSpec
(`formats={...}`), which calls `register_format` once at import.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from emulators.core.datagen import is_valid_snils

# fullmatch everywhere: `$` would accept a trailing newline
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Check = Callable[[str], bool]
ColumnCheck = Callable[[list[str]], bool]


@dataclass(frozen=True)
class Format:
    """A named string format: one value's check, optionally a whole-column check and an implied length."""

    check: Check
    column: ColumnCheck | None = None
    fixed_length: int | None = None


def is_guid(value: str) -> bool:
    """Lower-case hyphenated GUID."""
    return bool(_GUID.fullmatch(value))


def is_oid(value: str) -> bool:
    return len(value) <= 256 and bool(_OID.fullmatch(value))


def is_date(value: str) -> bool:
    return bool(_DATE.fullmatch(value)) and iso_parses(value)


def iso_parses(value: str) -> bool:
    # fromisoformat is implemented in C: ~20x cheaper than strptime on hot paths
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


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


# name -> check; the validators compile against these dicts (filled further by counterparts' registration)
FORMATS: dict[str, Check] = {}
# whole-column versions for the batch fast path: the same verdicts as FORMATS, without a Python frame per value
COLUMN_FORMATS: dict[str, ColumnCheck] = {}
FIXED_LENGTH: dict[str, int] = {}


def register_format(name: str, fmt: Format | Check) -> None:
    """Make `format: name` known to both validators; re-registering the same check is harmless."""
    if not isinstance(fmt, Format):
        fmt = Format(fmt)
    existing = FORMATS.get(name)
    if existing is not None and existing is not fmt.check:
        raise ValueError(f"format {name!r} is already registered with another check")
    FORMATS[name] = fmt.check
    if fmt.column is not None:
        COLUMN_FORMATS[name] = fmt.column
    if fmt.fixed_length is not None:
        FIXED_LENGTH[name] = fmt.fixed_length


register_format("guid", Format(is_guid, _guid_column, 36))
register_format("oid", is_oid)
register_format("snils", is_valid_snils)
register_format("date", is_date)
