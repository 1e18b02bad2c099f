"""ЕПГУ's slot search on a large showcase: the time `epgu/book` without slot_id spends on the event loop.

    python benchmarks/fer_epgu_search.py [--slots 200000] [--repeat 20]

The search reads the slots' kept values only (`Showcase.first_available_slot`); beside it, interleaved, the old
way — unpack every slot record, then filter — measured on the same showcase, with the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid

from emulators.core.config import load_settings
from emulators.fer.gateway import Gateway
from emulators.fer.search import SlotQuery, first_slot

OID = "1.2.643.5.1.13.13.12.2.86.8902"


def build(slots: int, directory: str) -> Gateway:
    """A showcase of `slots` AVAILABLE EPGU slots over 20 MOs × 50 rooms, loaded through the upload checks."""
    gateway = Gateway(load_settings(overrides={"data_dir": directory, "database_url": "sqlite:///:memory:"}))
    mos = [{"id": str(uuid.uuid4()), "parent_id": OID, "branch_oid": f"{OID}.0.{n}", "name": f"МО {n}",
            "address": "г. Сургут", "enabled": "ALL",
            "create_ts": "2024-01-10T08:00:00"} for n in range(20)]  # fmt: skip
    gateway.upload("mo", OID, mos)
    resources = [{"id": str(uuid.uuid4()), "type": "ROOM", "mo_id": mo["id"], "enabled": "ALL", "room_number": "1",
                  "room_name": "Кабинет", "create_ts": "2024-01-10T08:00:00"} for mo in mos for _ in range(50)]  # fmt: skip
    gateway.upload("resource", OID, resources)
    start = dt.datetime.combine(dt.date.today() + dt.timedelta(days=1), dt.time(8))
    for first in range(0, slots, 1000):
        batch = []
        for n in range(first, min(first + 1000, slots)):
            resource = resources[n % len(resources)]
            visit = (start + dt.timedelta(minutes=20 * (n // len(resources)) % (13 * 24 * 60))).isoformat()
            batch.append({"id": str(uuid.uuid4()), "mo_id": resource["mo_id"], "resource_id": resource["id"],
                          "tag_type": "EPGU", "tag_age": "ALL", "visit_time": visit, "duration": 20,
                          "status": "AVAILABLE", "create_ts": "2024-01-10T08:00:00"})  # fmt: skip
        gateway.upload("slot", OID, batch)
    if gateway.showcase.counts()["slot"] != slots:
        raise RuntimeError(f"only {gateway.showcase.counts()} stored")
    return gateway


def unpack_all(gateway: Gateway) -> str | None:
    """The previous search: every slot record unpacked before the filters."""
    showcase = gateway.showcase
    found = [row.record for key in list(showcase.tables["slot"].rows) if (row := showcase.get("slot", key))]
    found = [r for r in found if r["status"] == "AVAILABLE" and "EPGU" in r["tag_type"]]
    return min(found, key=lambda r: (r["visit_time"], r["id"]))["id"] if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--slots", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        gateway = build(args.slots, directory)
        now = dt.datetime.now()
        new, old = [], []
        for _ in range(args.repeat):  # interleaved
            began = time.perf_counter()
            chosen = first_slot(gateway.showcase, SlotQuery(), now)
            new.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            previous = unpack_all(gateway)
            old.append((time.perf_counter() - began) * 1000)
            assert chosen == previous, (chosen, previous)
        merged = []  # a 1 000-slot upload before each search: the search merges it into the time order first
        resources = [key for key in gateway.showcase.tables["resource"].rows]
        for round_number in range(args.repeat):
            late = dt.datetime.combine(dt.date.today() + dt.timedelta(days=5), dt.time(8))
            batch = [{"id": str(uuid.uuid4()), "mo_id": gateway.showcase.value("resource", r, "mo_id"), "resource_id": r,
                      "tag_type": "EPGU", "tag_age": "ALL", "duration": 20, "status": "AVAILABLE",
                      "visit_time": (late + dt.timedelta(minutes=20 * round_number)).isoformat(),
                      "create_ts": "2024-01-10T08:00:00"} for r in resources]  # fmt: skip
            gateway.upload("slot", OID, batch)
            began = time.perf_counter()
            first_slot(gateway.showcase, SlotQuery(), now)
            merged.append((time.perf_counter() - began) * 1000)
        gateway.close()
    print(f"{args.slots:,} slots, {args.repeat} searches each, median [max] ms on the loop (the first search sorts)")
    print(f"kept values (now)   {statistics.median(new):8.1f} [{max(new):.1f}]")
    print(f"  after each 1 000-slot upload {statistics.median(merged):8.1f} [{max(merged):.1f}]")
    print(f"unpack every slot   {statistics.median(old):8.1f} [{max(old):.1f}]")
    print(f"ratio now/unpack    {statistics.median(new) / statistics.median(old):8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
