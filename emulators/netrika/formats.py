"""Formats of the Netrika contracts: a UUID in any letter case (the seed types MessageId as `uuid`) and base64."""

from __future__ import annotations

import binascii
import re

from emulators.core.formats import Format

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def is_uuid(value: str) -> bool:
    return bool(_UUID.fullmatch(value))


def is_base64(value: str) -> bool:
    """Standard padded base64 (RFC 4648 §4) that decodes."""
    if len(value) % 4 or not _BASE64.fullmatch(value):
        return False
    try:
        binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error:
        return False
    return True


NETRIKA_FORMATS: dict[str, Format] = {"netrika-uuid": Format(is_uuid), "netrika-base64": Format(is_base64)}
