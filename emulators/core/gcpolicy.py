"""Garbage collection between requests instead of inside them.

CPython's automatic collector runs whenever allocations pile up — in the middle of a 1 000-slot upload,
while that upload's own thousand dicts are alive, so each young-generation pass scans them, and a middle-
generation pass can take ~80 ms here. Collected between requests instead, the transient objects are already
gone (freed by reference counting) and a pass only meets what was stored, which it then stops tracking.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

YOUNG_THRESHOLD = 20_000


class BetweenRequests:
    """Disables automatic collection; `collect_if_due()` runs the same generations, called after a response.

    A full (oldest-generation) pass waits for a pause: stored rows are nested tuples, which the collector only
    stops tracking a pass or two after they were stored, so under a bulk load a full pass scans the last few
    hundred thousand rows — ~400 ms here at 450 000 slots, long enough to be every upload's p99. When one is
    due, `collect_if_due` runs the middle generation instead and `on_idle` (called every ~0.25 s by the server
    loop) runs the full pass once no request has finished for `quiet_seconds`; after `max_defer_seconds` of
    uninterrupted load it runs between two requests anyway, so cyclic garbage stays bounded.
    """

    def __init__(
        self,
        young: int = YOUNG_THRESHOLD,
        middle_every: int = 10,
        old_every: int = 10,
        quiet_seconds: float = 0.5,
        max_defer_seconds: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.young = young
        self.middle_every = middle_every
        self.old_every = old_every
        self.quiet_seconds = quiet_seconds
        self.max_defer_seconds = max_defer_seconds
        self.clock = clock
        self.passes = 0
        self.full_passes = 0
        self.last_activity = clock()
        self.full_due_since: float | None = None
        gc.disable()

    def collect_if_due(self) -> None:
        """Called after each response (request activity)."""
        self.last_activity = self.clock()
        self._collect(self.last_activity)

    def _collect(self, now: float) -> None:
        if self.full_due_since is not None and now - self.full_due_since >= self.max_defer_seconds:
            self._full()
            return
        if gc.get_count()[0] < self.young:
            return
        self.passes += 1
        if self.passes % (self.middle_every * self.old_every) == 0:
            if self.full_due_since is None:
                self.full_due_since = now
            gc.collect(1)
        elif self.passes % self.middle_every == 0:
            gc.collect(1)
        else:
            gc.collect(0)

    def on_idle(self) -> bool:
        """Called every ~0.25 s whatever the traffic: young passes for work that is not HTTP (delivery
        workers, Kafka), and a deferred full pass once requests have paused; True if the full pass ran."""
        self._collect(self.clock())
        if self.full_due_since is None or self.clock() - self.last_activity < self.quiet_seconds:
            return False
        self._full()
        return True

    def _full(self) -> None:
        gc.collect(2)
        self.full_due_since = None
        self.full_passes += 1

    @staticmethod
    def uninstall() -> None:
        gc.enable()
