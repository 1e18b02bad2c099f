"""The [fer] settings section (TOML `[fer]`, `MEDSTAND_FER_*`, `--fer-port`); defaults follow the seed."""

from __future__ import annotations

from dataclasses import dataclass

SEED_EXAMPLE_USERNAME = "1.2.643.5.1.13.13.12.2.86.8902"
SEED_EXAMPLE_PASSWORD = "E837EE78350021618250663B60EF58**"


@dataclass(frozen=True)
class Credential:
    username: str
    password: str


@dataclass(frozen=True)
class FerSettings:
    """FER 2.0 gateway and «Витрина данных»; the defaults follow the seed's test contour."""

    port: int = 2100
    token_ttl_seconds: float = 3600.0
    max_body_bytes: int = 5 * 1024 * 1024
    # FER-AUTH-5 (reconstructed): a token writes only records of its own MO OID ...
    enforce_mo_ownership: bool = True
    # ... except these usernames: the seed's example token (8902) uploads the seed's MO example (parent 8916)
    ownership_exempt: tuple[str, ...] = (SEED_EXAMPLE_USERNAME,)
    # FER-REF-1 (reconstructed): refuse records whose parents are not uploaded yet (false: store with a note)
    require_parents: bool = True
    # FER-FLK-2 (reconstructed): check the СНИЛС checksum (false: 11 digits, as the seed asks)
    snils_checksum: bool = True
    block_after_errors: int = 0
    supported_api_versions: tuple[str, ...] = ("1",)
    slot_refresh_seconds: float = 30.0
    other_refresh_seconds: float = 3600.0
    token_secret: str = ""
    webhook_probe_timeout_seconds: float = 5.0
    booking_deadline_seconds: float = 10.0
    booking_late_grace_seconds: float = 3.0
    followup_seconds: float = 30.0
    credentials: tuple[Credential, ...] = (Credential(SEED_EXAMPLE_USERNAME, SEED_EXAMPLE_PASSWORD),)
