"""The base every counterpart emulator builds on: a name, a journal, faults and the components it runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from emulators.core.components import Component, Health, HttpListener, overall
from emulators.core.config import Settings
from emulators.core.faults import FaultPlan
from emulators.core.journal import Journal

C = TypeVar("C", bound=Component)


class Emulator:
    """One counterpart: `components` are started in order by `medstand up` (or `testing.start_in_thread`)
    and stopped in reverse; `health()` is what `/__admin/health` reports."""

    def __init__(self, name: str, settings: Settings, fault_kinds: tuple[str, ...] = ()) -> None:
        self.name = name
        self.settings = settings
        self.journal = Journal(settings.journal)
        self.faults = FaultPlan(fault_kinds)
        self.components: list[Component] = []
        # extra health sources besides the components, e.g. the storage writer ("storage": Health)
        self.health_checks: dict[str, Callable[[], Health]] = {}

    def add(self, component: C) -> C:
        """Run `component` as part of this emulator."""
        self.components.append(component)
        return component

    def listen(self, app: Any, port: int, name: str | None = None) -> HttpListener:
        """Serve `app` on the configured host and `port` (0 in tests: a free one)."""
        return self.add(HttpListener(name or self.name, app, self.settings.host, port))

    @property
    def listeners(self) -> list[HttpListener]:
        return [c for c in self.components if isinstance(c, HttpListener)]

    async def start(self) -> None:
        started: list[Component] = []
        try:
            for component in self.components:
                await component.start()
                started.append(component)
        except BaseException:
            for component in reversed(started):
                await component.stop()
            raise

    async def stop(self) -> None:
        for component in reversed(self.components):
            await component.stop()
        self.close()

    def close(self) -> None:
        """Release what is not a component (databases); called after the components stopped."""

    def health(self) -> dict[str, Any]:
        parts = {c.name: c.health() for c in self.components}
        parts.update({name: check() for name, check in self.health_checks.items()})
        return {"status": overall(list(parts.values())), "components": {k: v.as_dict() for k, v in parts.items()}}
