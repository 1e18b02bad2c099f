"""The [fhsemd] settings section (TOML `[fhsemd]`, `MEDSTAND_FHSEMD_*`, `--fhsemd-port`)."""

from __future__ import annotations

from dataclasses import dataclass

TOPIC = "semd-registration-results"  # SEMD-1: the seed's topic name
FRAMINGS = ("headers", "envelope")


@dataclass(frozen=True)
class FhsemdSettings:
    """ФХ СЭМД: the control API's port, the Kafka side (embedded broker or an existing cluster), SEMD-4 REST."""

    port: int = 2300
    # Kafka: with no `kafka_bootstrap`, medstand runs its embedded broker on `kafka_port` (0: a free one)
    kafka_port: int = 9092
    kafka_bootstrap: str = ""  # host:port[,host:port] of an existing cluster; the embedded broker is not started
    topic: str = TOPIC
    partitions: int = 3
    # "headers": the seed's header as Kafka record headers, the body as the record value (the default);
    # "envelope": one JSON value {"header": {...}, "body": {...}}
    framing: str = "headers"
    # SEMD-5: the consumer groups whose commits count; empty: every group with commits on the topic
    watched_groups: tuple[str, ...] = ()
    consumption_poll_seconds: float = 0.25
    # result generation
    seed: int = 1
    store_years: int = 25  # storeTillDate: registration date + this many years
    region: str = "77"  # first group of the generated emdrId
    # SEMD-4: the MIS's REST endpoint (base URL; the path is the seed's)
    mis_url: str = ""
    rest_deadline_seconds: float = 10.0
    rest_max_resends: int = 5
    rest_interval_seconds: float = 5.0  # before the first re-send; each later one waits rest_backoff times longer
    rest_backoff: float = 2.0
    max_body_bytes: int = 5 * 1024 * 1024
