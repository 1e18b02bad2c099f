"""The storage module: the record log and deferred writes commit in order, flush, and survive failures."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from emulators.core.errors import ConfigError
from emulators.core.storage import BackgroundWriter, Database, RecordLog


def test_record_log_replays_snapshot_then_log_in_order(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    log = RecordLog(db, "s")
    log.append("upsert", b"1")
    log.compact(lambda: [b"snap"])
    log.append("upsert", b"2")
    log.close()
    again = RecordLog(db, "s")
    assert list(again.replay()) == [("snapshot", b"snap"), ("upsert", b"2")]
    assert again.entries == 1


def test_a_failed_write_is_counted_and_the_writer_goes_on(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'b.sqlite3'}")
    log = RecordLog(db, "s")
    db.execute("DROP TABLE record_log")  # a real failure: the table is gone
    log.append("upsert", b"lost")
    assert log.flush() and log.failed_writes == 1
    db.execute(
        "CREATE TABLE record_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, op TEXT NOT NULL,"
        " payload BLOB NOT NULL)"
    )
    log.append("upsert", b"kept")
    log.close()
    assert list(RecordLog(db, "s").replay()) == [("upsert", b"kept")]


def test_the_writer_groups_what_arrives_while_it_lingers_and_flush_does_not_wait_for_the_linger() -> None:
    batches: list[list[Any]] = []
    writer = BackgroundWriter("grouping", batches.append, linger=0.5)
    for item in range(100):
        writer.put(item)
    time.sleep(0.05)  # the writer woke for item 0 and is lingering: nothing is written yet
    assert batches == []
    began = time.perf_counter()
    assert writer.flush(timeout=5)
    assert time.perf_counter() - began < 0.4, "flush waited out the linger"
    assert [item for batch in batches for item in batch] == list(range(100))
    assert len(batches) == 1
    writer.close()


def test_puts_during_a_write_are_written_next_without_a_new_wake_up() -> None:
    release = threading.Event()
    batches: list[list[Any]] = []

    def slow_write(batch: list[Any]) -> None:
        if not batches:
            release.wait(5)  # the first write is slow: puts meanwhile find the writer busy, not idle
        batches.append(batch)

    writer = BackgroundWriter("busy", slow_write, linger=0)
    writer.put("first")
    time.sleep(0.05)
    writer.put("second")
    writer.put("third")
    release.set()
    assert writer.flush(timeout=5)
    assert batches == [["first"], ["second", "third"]]
    writer.close()


def test_deferred_writes_are_committed_in_order_by_flush(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    db.ensure_schema(["CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)"])
    for i in range(100):
        db.defer("INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", (i % 10, str(i)))
    db.flush()
    assert db.query("SELECT v FROM t ORDER BY k") == [(str(90 + k),) for k in range(10)]


@pytest.mark.parametrize("url", ["postgresql://x/y", "mysql://x", "file.db"])
def test_unsupported_database_urls_are_a_clear_config_error(url: str) -> None:
    with pytest.raises(ConfigError):
        Database(url)
