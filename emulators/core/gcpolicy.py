"""Garbage collection between requests instead of inside them.

CPython's automatic collector runs whenever allocations pile up — in the middle of a 1 000-slot upload,
while that upload's own thousand dicts are alive, so each young-generation pass scans them, and a middle-
generation pass can take ~80 ms here. Collected between requests instead, the transient objects are already
gone (freed by reference counting) and a pass only meets what was stored, which it then stops tracking.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


class BetweenRequests:
    """Disables automatic collection; `collect_if_due()` runs the same generations, called after a response."""

    def __init__(self, young: int = YOUNG_THRESHOLD, middle_every: int = 10, old_every: int = 10) -> None:
        self.young = young
        self.middle_every = middle_every
        self.old_every = old_every
        self.passes = 0
        gc.disable()

    def collect_if_due(self) -> None:
        if gc.get_count()[0] < self.young:
            return
        self.passes += 1
        if self.passes % (self.middle_every * self.old_every) == 0:
            gc.collect(2)
        elif self.passes % self.middle_every == 0:
            gc.collect(1)
        else:
            gc.collect(0)

    @staticmethod
    def uninstall() -> None:
        gc.enable()
