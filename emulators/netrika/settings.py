"""The [netrika] settings section (TOML `[netrika]`, `MEDSTAND_NETRIKA_*`, `--netrika-port`)."""

from __future__ import annotations

from dataclasses import dataclass

SPELLINGS = ("example", "table")


@dataclass(frozen=True)
class NetrikaSettings:
    """Netrika's callback delivery module; the delivery policy defaults follow the seed (5 re-sends)."""

    port: int = 2200
    max_resends: int = 5  # the seed: «по умолчанию оно ограничено 5 попытками»
    interval_s: float = 30.0  # reconstructed: the seed gives no interval
    backoff: float = 2.0  # reconstructed: 30, 60, 120, 240, 480 s
    timeout_s: float = 10.0  # reconstructed: how long an acknowledgement may take
    per_site_concurrency: int = 8  # POSTs in flight to one site at most
    vimis_spelling: str = "example"  # VimisResult keys: the example's IdSource/StatusCode, or the table's
    seed: int = 1  # generated fields are reproducible from it
    cda_delay_s: float = 1.0  # document intake: acceptance → CDAStatus
    semd_delay_s: float = 2.0  # CDAStatus → SEMDStatus
    remd_delay_s: float = 3.0  # SEMDStatus → REMDStatus
    max_body_bytes: int = 10 * 1024 * 1024
