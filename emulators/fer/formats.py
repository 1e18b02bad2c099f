"""The string formats FER's contracts add: `fer-visit-time` and `fer-timestamp` (registered by fer.plugin)."""

from __future__ import annotations

import datetime as dt
import re

from emulators.core.formats import Format, iso_parses, register_format

_VISIT_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
# RFC 3339 / ISO 8601 with optional fraction and offset, plus the two spellings the FER seed itself uses.
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?")
_RU = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}):(\d{2})")


def is_visit_time(value: str) -> bool:
    """YYYY-MM-DDTHH:MM:SS naming a real moment."""
    return bool(_VISIT_TIME.fullmatch(value)) and iso_parses(value)


def is_fer_timestamp(value: str) -> bool:
    """RFC 3339 / ISO 8601, or `DD.MM.YYYY HH:MM:SS` as in the seed's MO example."""
    if _ISO.fullmatch(value) or _RU.fullmatch(value):
        return parse_timestamp(value) is not None
    return False


def parse_timestamp(value: str) -> dt.datetime | None:
    """The moment a fer-timestamp names, or None."""
    match = _RU.fullmatch(value)
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


FER_FORMATS = {
    "fer-visit-time": Format(is_visit_time, _visit_time_column, 19),
    "fer-timestamp": Format(is_fer_timestamp),
}

for _name, _format in FER_FORMATS.items():  # known as soon as FER's validators can be compiled
    register_format(_name, _format)
