"""Faults on demand: a closed set of kinds, each applied by one mechanism (X-3)."""

from __future__ import annotations

import fnmatch
import itertools
import threading
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any

# delay: answer late; status: answer with a status; maintenance: the counterpart's 503 mode;
# drop: close the connection with no answer; expire-token: invalidate issued tokens;
# duplicate / poison: deliver a message twice / deliver an unparseable one (message emulators).
KINDS = ("delay", "status", "maintenance", "drop", "expire-token", "duplicate", "poison")


class FaultError(ValueError):
    """A fault definition the admin API refuses."""


@dataclass(frozen=True)
class Fault:
    id: int
    kind: str
    operation: str = "*"
    times: int | None = None
    delay_ms: int = 0
    status: int = 500
    message: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultPlan:
    """The faults armed on one emulator; each matching request consumes one use of a counted fault."""

    def __init__(self, supported: tuple[str, ...]) -> None:
        unknown = set(supported) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}")
        self.supported = supported
        self._faults: list[Fault] = []
        self._remaining: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.armed = False

    def add(self, spec: dict[str, Any]) -> Fault:
        """Arm a fault from its JSON definition; raises FaultError with a readable reason."""
        if not isinstance(spec, dict):
            raise FaultError('a fault is a JSON object such as {"kind": "delay", "delay_ms": 500}')
        kind = spec.get("kind")
        if kind not in self.supported:
            raise FaultError(f"kind must be one of {', '.join(self.supported)}; got {kind!r}")
        allowed = {"kind", "operation", "times", "delay_ms", "status", "message"}
        extra = sorted(set(spec) - allowed)
        if extra:
            raise FaultError(f"unknown field(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")
        fault = Fault(
            id=next(self._ids),
            kind=kind,
            operation=_typed(spec, "operation", str, "*"),
            times=_typed(spec, "times", int, None),
            delay_ms=_typed(spec, "delay_ms", int, 0),
            status=_typed(spec, "status", int, 500),
            message=_typed(spec, "message", str, None),
        )
        if fault.times is not None and fault.times < 1:
            raise FaultError("times must be at least 1 (omit it for a fault that stays until removed)")
        if not 0 <= fault.delay_ms <= 600_000:
            raise FaultError("delay_ms must be between 0 and 600000")
        if not 100 <= fault.status <= 599:
            raise FaultError("status must be an HTTP status between 100 and 599")
        with self._lock:
            self._faults.append(fault)
            if fault.times is not None:
                self._remaining[fault.id] = fault.times
            self.armed = True
        return fault

    def take(self, operation: str, kinds: Collection[str] | None = None) -> list[Fault]:
        """The faults that apply to this operation now, in the order they were armed; each use is consumed.

        Any protocol calls this with its own operation names (an HTTP route's operationId, a Kafka produce,
        a SOAP action); `kinds` limits it to the kinds that caller applies, so the others stay armed.
        """
        if not self.armed:
            return []
        with self._lock:
            found = [
                f for f in self._faults
                if fnmatch.fnmatchcase(operation, f.operation) and (kinds is None or f.kind in kinds)
            ]  # fmt: skip
            for fault in found:
                if fault.id in self._remaining:
                    self._remaining[fault.id] -= 1
                    if self._remaining[fault.id] == 0:
                        self._faults.remove(fault)
                        del self._remaining[fault.id]
            self.armed = bool(self._faults)
            return found

    def remove(self, fault_id: int | None = None) -> int:
        with self._lock:
            before = len(self._faults)
            self._faults = [f for f in self._faults if fault_id is not None and f.id != fault_id]
            self._remaining = {k: v for k, v in self._remaining.items() if any(f.id == k for f in self._faults)}
            self.armed = bool(self._faults)
            return before - len(self._faults)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**f.as_dict(), "remaining": self._remaining.get(f.id)} for f in self._faults]


def _typed(spec: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = spec.get(name, default)
    if value is None or (isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
        return value
    raise FaultError(f"{name} must be of type {kind.__name__}")
