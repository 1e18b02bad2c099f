"""FER-AUTH-*: /auth.svc credentials and JWT-shaped bearer tokens bound to an MO OID."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from emulators.fer.settings import Credential, FerSettings
from emulators.core.http import HttpError
from emulators.core.storage import Database
from emulators.fer import catalogue as texts

SCHEMA = ["CREATE TABLE IF NOT EXISTS fer_credential (username TEXT PRIMARY KEY, password TEXT NOT NULL)"]
_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the MO OID the token was issued to."""

    oid: str
    expires_at: float


class Authority:
    """Issues and checks tokens; forced expiry bumps a generation so older tokens stop working."""

    def __init__(self, db: Database, settings: FerSettings, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        db.ensure_schema(SCHEMA)
        secret = settings.token_secret or db.get_meta("fer.token_secret")
        if not secret:
            secret = secrets.token_hex(32)
            db.set_meta("fer.token_secret", secret)
        self._key = secret.encode()
        self._generation = int(db.get_meta("fer.token_generation") or 0)
        self._cache: dict[str, Principal] = {}
        self.install_configured()

    def install_configured(self) -> None:
        for credential in self.settings.credentials:
            self.set_credential(credential)

    def set_credential(self, credential: Credential) -> None:
        self.db.execute(
            "INSERT INTO fer_credential (username, password) VALUES (?, ?)"
            " ON CONFLICT(username) DO UPDATE SET password = excluded.password",
            (credential.username.strip(), credential.password),
        )

    def usernames(self) -> list[str]:
        return [row[0] for row in self.db.query("SELECT username FROM fer_credential ORDER BY username")]

    def reset(self) -> None:
        self.db.execute("DELETE FROM fer_credential")
        self.install_configured()
        self.expire_all()

    def issue(self, username: str, password: str) -> tuple[str, datetime] | None:
        """A token for valid credentials (the username trimmed, as the seed's example has a stray space)."""
        rows = self.db.query("SELECT password FROM fer_credential WHERE username = ?", (username.strip(),))
        if not rows or not hmac.compare_digest(rows[0][0].encode(), password.encode()):
            return None
        now = self.clock()
        expires = int(now + self.settings.token_ttl_seconds)
        claims = {
            "sub": "MO Integration",
            "jti": str(uuid.uuid4()),
            "MoOid": username.strip(),
            "gen": self._generation,
            "iat": int(now),
            "exp": expires,
            "iss": "medstand-fer",
            "aud": "medstand-fer",
        }
        return self._sign(claims), datetime.fromtimestamp(expires, UTC)

    def _sign(self, claims: dict[str, Any]) -> str:
        body = _HEADER + b"." + base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=")
        signature = base64.urlsafe_b64encode(hmac.new(self._key, body, hashlib.sha256).digest()).rstrip(b"=")
        return (body + b"." + signature).decode()

    def verify(self, header: str | None) -> Principal:
        """The caller of `Authorization: bearer <token>`; HttpError 401 with the reason otherwise."""
        if not header:
            raise HttpError(401, texts.AUTH_MISSING.template, texts.AUTH_MISSING.code)
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise HttpError(401, texts.AUTH_MALFORMED.template, texts.AUTH_MALFORMED.code)
        principal = self._cache.get(token) or self._decode(token)
        if principal.expires_at <= self.clock():
            self._cache.pop(token, None)
            raise HttpError(401, texts.AUTH_EXPIRED.template, texts.AUTH_EXPIRED.code)
        return principal

    def _decode(self, token: str) -> Principal:
        unknown = HttpError(401, texts.AUTH_UNKNOWN.template, texts.AUTH_UNKNOWN.code)
        parts = token.encode("ascii", "replace").split(b".")
        if len(parts) != 3:
            raise unknown
        expected = base64.urlsafe_b64encode(
            hmac.new(self._key, parts[0] + b"." + parts[1], hashlib.sha256).digest()
        ).rstrip(b"=")
        if not hmac.compare_digest(expected, parts[2]):
            raise unknown
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + b"=" * (-len(parts[1]) % 4)))
        if claims.get("gen") != self._generation:
            raise HttpError(401, texts.AUTH_EXPIRED.template, texts.AUTH_EXPIRED.code)
        principal = Principal(claims["MoOid"], float(claims["exp"]))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = principal
        return principal

    def expire_all(self) -> None:
        """Force every token issued so far to expire (FER-AUTH-4)."""
        self._generation += 1
        self.db.set_meta("fer.token_generation", str(self._generation))
        self._cache.clear()
