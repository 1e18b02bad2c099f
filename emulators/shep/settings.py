"""The [shep] settings section (TOML `[shep]`, `MEDSTAND_SHEP_*`, `--shep-port`); defaults follow the seed."""

from __future__ import annotations

from dataclasses import dataclass

SERVICE_ID = "EHEALTH_MEDICAL_EXEMPTION_SEARCH"
SEED_SENDER_ID = "sender"  # the seed's request example (Приложение 3)
SEED_PASSWORD = "password"
SEED_EXEMPTION_NUMBER = "01085"  # the number the seed's example searches for and finds
SEED_EXAMPLE_IIN = "850315300128"  # reconstructed: the patient of 01085 (the seed does not name one)


@dataclass(frozen=True)
class Sender:
    sender_id: str
    password: str


@dataclass(frozen=True)
class ShepSettings:
    """ШЭП SyncChannel v10 with the «Медицинские отводы» provider behind it."""

    port: int = 2400
    # a search envelope is a few KB; 1 MiB leaves room for any honest one and refuses a 50 MB body early
    max_body_bytes: int = 1024 * 1024
    service_ids: tuple[str, ...] = (SERVICE_ID,)
    senders: tuple[Sender, ...] = (Sender(SEED_SENDER_ID, SEED_PASSWORD),)
    # SHEP-2 (reconstructed): how requestInfo errors are answered: "fault" (SOAP fault with
    # SendMessageFault1_SendMessageFault) or "status" (a SendMessageResponse with a non-success status)
    request_info_errors: str = "fault"
    # the seed's example answers SUCCESS; real ШЭП deployments answer SCSS001
    success_code: str = "SUCCESS"
    # validate every SendMessage against contracts/shep (the XSD, including the xsi:type of data)
    validate_requests: bool = True
    # the seed's Таблица 2 gives the electronic form for an actual exemption only; true: for every status
    certificates_for_every_status: bool = False
    certificate_cache_size: int = 512
    # generated exemptions at the first start (besides the seed's 01085), reproducible from `seed`
    generate: int = 30
    seed: int = 1
    # responseDate/errorDate offset: the seed's examples are in Almaty time, +06:00
    utc_offset_hours: int = 6
