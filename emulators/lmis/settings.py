"""The [lmis] settings section (TOML `[lmis]`, `MEDSTAND_LMIS_*`, `--lmis-port`).

The local-MIS paths, the patient-token header and the field names are settings because the seed links its
method pages as `#`: a real deployment may spell them differently (contracts/lmis/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LmisSettings:
    """Central scheduling API (МИП) ↔ local MIS; the defaults are medstand's reconstruction."""

    port: int = 2500
    max_body_bytes: int = 1024 * 1024
    max_patients_per_upload: int = 1000
    # the schedule puller (LMIS-2)
    pull_interval_seconds: float = 60.0
    pull_days: int = 14
    pull_deadline_seconds: float = 10.0
    stale_after_seconds: float = 180.0  # a clinic whose last good pull is older than this is `stale`
    # calls into the local MIS on behalf of a patient (LMIS-3/4)
    call_deadline_seconds: float = 10.0
    token_ttl_seconds: float = 3600.0
    token_secret: str = ""  # empty: generated once and kept in the database
    token_header: str = "Authorization"
    token_scheme: str = "Bearer"
    # local-MIS paths ({resource_id}, {appointment_id}, {referral_id} are filled in)
    resources_path: str = "/resources"
    schedule_path: str = "/resources/{resource_id}/schedule"
    appointments_path: str = "/appointments"
    cancel_path: str = "/appointments/{appointment_id}/cancel"
    referral_path: str = "/referrals/{referral_id}"
    referral_appointments_path: str = "/referrals/{referral_id}/appointments"
    # "contract_name=deployment_name" pairs: a local MIS that says e.g. `talon_number` for `ticket_number`
    field_aliases: tuple[str, ...] = ()
