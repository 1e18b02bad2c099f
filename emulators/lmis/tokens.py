"""Patient tokens: what the central API attaches to each call into a local MIS made for a patient.

JWT-shaped, HS256 (the seed says only «Пациент определяется по идентификатору переданному в токене»):
`sub` is the patient's identifier in the master index, `exp` its expiry. The local MIS reads `sub`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from emulators.core.storage import Database

_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


class PatientTokens:
    """Issues and verifies patient tokens; the secret survives restarts (kept in the database's meta table)."""

    def __init__(self, db: Database, secret: str, ttl: float, clock: Callable[[], float] = time.time) -> None:
        if not secret:
            secret = db.get_meta("lmis.token_secret") or secrets.token_hex(32)
            db.set_meta("lmis.token_secret", secret)
        self._key = secret.encode()
        self.ttl = ttl
        self.clock = clock

    def issue(self, patient_id: str) -> tuple[str, str]:
        """(token, valid_to as YYYY-MM-DDTHH:MM:SSZ)."""
        now = self.clock()
        claims = {"sub": patient_id, "iss": "medstand-lmis", "iat": int(now), "exp": int(now + self.ttl),
                  "jti": str(uuid.uuid4())}  # fmt: skip
        signing = _HEADER + b"." + _b64(orjson.dumps(claims))
        signature = _b64(hmac.new(self._key, signing, hashlib.sha256).digest())
        valid_to = datetime.fromtimestamp(now + self.ttl, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (signing + b"." + signature).decode(), valid_to

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired token of ours; None otherwise."""
        parts = token.encode().split(b".")
        if len(parts) != 3:
            return None
        expected = _b64(hmac.new(self._key, parts[0] + b"." + parts[1], hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return None
        claims: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(parts[1] + b"=" * (-len(parts[1]) % 4)))
        return claims if claims.get("exp", 0) > self.clock() else None
