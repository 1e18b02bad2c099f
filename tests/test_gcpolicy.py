"""Garbage collection between requests: automatic collection off, passes run when the young generation is due."""

from __future__ import annotations

import gc

from emulators.core.gcpolicy import BetweenRequests


def test_collects_only_when_due_and_escalates_generations() -> None:
    was_enabled = gc.isenabled()
    now = [0.0]
    policy = BetweenRequests(young=100, middle_every=2, old_every=2, quiet_seconds=0.5, clock=lambda: now[0])
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
        # the 4th pass is a full one's turn: it runs the middle generation and leaves the full pass for a pause
        assert policy.passes == 4 and seen == [0, 1, 0, 1]
        now[0] = 0.2
        assert not policy.on_idle() and seen[-1] == 1  # a request finished 0.2 s ago: not quiet yet
        now[0] = 0.6
        assert policy.on_idle() and seen[-1] == 2 and policy.full_passes == 1
        assert not policy.on_idle()  # nothing due any more
    finally:
        gc.callbacks.clear()
        if was_enabled:
            policy.uninstall()


def test_a_full_pass_runs_between_requests_after_max_defer_under_uninterrupted_load() -> None:
    was_enabled = gc.isenabled()
    now = [0.0]
    policy = BetweenRequests(young=100, middle_every=1, old_every=1, max_defer_seconds=10, clock=lambda: now[0])
    try:
        seen: list[int] = []
        gc.callbacks.append(lambda phase, info: seen.append(info["generation"]) if phase == "start" else None)
        for step in range(1, 40):
            now[0] = step * 0.3  # a request every 0.3 s: never quiet for 0.5 s
            alive = [[] for _ in range(500)]
            policy.collect_if_due()
            del alive
            assert not policy.on_idle()  # a request 0.3 s ago is never a pause of 0.5 s
        # due from the first pass (0.3 s), forced by the first request at or after 10.3 s, once
        assert seen.count(2) == 1 and policy.full_passes == 1
        assert seen.index(2) == 34 and seen.count(1) == 38  # 34 middle passes, the full one, 4 more
    finally:
        gc.callbacks.clear()
        if was_enabled:
            policy.uninstall()
