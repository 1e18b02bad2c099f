"""Garbage collection between requests: automatic collection off, passes run when the young generation is due."""

from __future__ import annotations

import gc

from emulators.core.gcpolicy import BetweenRequests


def test_collects_only_when_due_and_escalates_generations() -> None:
    was_enabled = gc.isenabled()
    policy = BetweenRequests(young=100, middle_every=2, old_every=2)
    try:
        assert not gc.isenabled()
        gc.collect()
        policy.collect_if_due()
        assert policy.passes == 0  # nothing allocated: not due
        seen: list[int] = []
        gc.callbacks.append(lambda phase, info: seen.append(info["generation"]) if phase == "start" else None)
        for _ in range(4):
            alive = [[] for _ in range(500)]  # tracked containers push the young count past the threshold
            policy.collect_if_due()
            del alive
        assert policy.passes == 4 and seen == [0, 1, 0, 2]
    finally:
        gc.callbacks.clear()
        if was_enabled:
            policy.uninstall()
