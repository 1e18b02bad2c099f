"""PostgreSQL by URL: the same Database, RecordLog, delivery outbox and FER gateway state on a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from emulators.core.errors import ConfigError
from emulators.core.storage import Database, RecordLog
from tests.pg_support import fresh_database, postgres_url  # noqa: F401  (the fixture)


@pytest.fixture
def pg(postgres_url: str, request: pytest.FixtureRequest) -> str:  # noqa: F811
    return fresh_database(postgres_url, request.node.name.lower()[:60])


def test_tables_upserts_and_insert_or_work_as_on_sqlite(pg: str) -> None:
    db = Database(pg)
    assert db.kind == "postgresql"
    db.ensure_schema([
        "CREATE TABLE IF NOT EXISTS t_item (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, score REAL,"
        " data BLOB)",
        "CREATE TABLE IF NOT EXISTS t_pair (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b))",
    ])  # fmt: skip
    with db.transaction() as conn:
        first = conn.execute("INSERT INTO t_item (name, score, data) VALUES (?, ?, ?)", ("ёлка", 1.5, b"\x00\xff"))
        second = conn.execute("INSERT INTO t_item (name) VALUES (?)", ("100%",))
    assert (first.lastrowid, second.lastrowid) == (1, 2)
    rows = db.query("SELECT name, score, data FROM t_item ORDER BY id")
    assert rows == [("ёлка", 1.5, b"\x00\xff"), ("100%", None, None)]
    db.execute("INSERT OR REPLACE INTO t_pair (a, b, v) VALUES (?, ?, ?)", ("x", 1, "old"))
    db.execute("INSERT OR REPLACE INTO t_pair (a, b, v) VALUES (?, ?, ?)", ("x", 1, "new"))
    db.execute("INSERT OR IGNORE INTO t_pair (a, b, v) VALUES (?, ?, ?)", ("x", 1, "ignored"))
    assert db.query("SELECT a, b, v FROM t_pair") == [("x", 1, "new")]
    db.set_meta("k", "v1")
    db.set_meta("k", "v2")
    assert db.get_meta("k") == "v2"
    db.close()


def test_a_record_log_replays_and_reports_durability(pg: str) -> None:
    db = Database(pg)
    log = RecordLog(db, "pg.stream")

    async def main() -> None:
        tickets = [log.append("put", f"{n}".encode()) for n in range(50)]
        await log.durable(tickets[-1])

    asyncio.run(main())
    log.compact(lambda: [b"snapshot-1"])
    log.append("put", b"after")
    log.close()
    again = RecordLog(Database(pg), "pg.stream")
    assert list(again.replay()) == [("snapshot", b"snapshot-1"), ("put", b"after")]
    again.close()


def test_a_bad_postgresql_url_is_one_clear_line() -> None:
    with pytest.raises(ConfigError, match=r"cannot connect to PostgreSQL at postgresql://u:\*\*\*@127.0.0.1:1/x"):
        Database("postgresql://u:secret@127.0.0.1:1/x")


@pytest.mark.req("FER-API-1", "X-5")
def test_the_fer_gateway_keeps_its_state_in_postgresql(pg: str, tmp_path: Path) -> None:
    from tests import fer_data as data
    from tests.conftest import start_fer, stop_fer

    first = start_fer(tmp_path, database_url=pg)
    first.login()
    mo = data.mo()
    room = data.room(mo["id"])
    for entity, record in (("mo", mo), ("resource", room)):
        assert first.post(entity, [record]).status_code == 200
    stop_fer(first)
    second = start_fer(tmp_path / "elsewhere", database_url=pg)
    second.login()
    try:
        assert second.get("/api/resource", id=room["id"]).json()["result"]["room_name"] == room["room_name"]
    finally:
        stop_fer(second)


@pytest.mark.req("NET-3", "NET-4")
def test_the_delivery_outbox_runs_on_postgresql(pg: str) -> None:
    """A dead destination on PostgreSQL: exactly max_resends + 1 attempts, then dead; state survives a new engine."""
    import socket

    from emulators.core.config import JournalSettings
    from emulators.core.delivery import DeliveryEngine, Policy
    from emulators.core.journal import Journal
    from emulators.core.outbound import Outbound

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    db = Database(pg)
    journal = Journal(JournalSettings())

    async def main() -> int:
        engine = DeliveryEngine(db, Outbound(journal, "pg"), "pg", Policy(max_resends=2, interval_s=0.01, timeout_s=1))
        worker = engine.component()
        await worker.start()
        url = f"http://127.0.0.1:{dead_port}/CDAStatus"
        delivery = engine.enqueue("site", "CDAStatus", url, b"{}", message_id="m1")
        for _ in range(200):
            shown = engine.message(delivery)
            if shown and shown["state"] == "dead":
                break
            await asyncio.sleep(0.02)
        await worker.stop()
        return delivery

    delivery = asyncio.run(main())
    attempts = db.query("SELECT attempt, outcome FROM delivery_attempt WHERE message = ? ORDER BY attempt", (delivery,))
    assert [a for a, _ in attempts] == [1, 2, 3] and all(outcome != "delivered" for _, outcome in attempts)
    again = DeliveryEngine(Database(pg), Outbound(journal, "pg"), "pg")
    assert (again.message(delivery) or {})["state"] == "dead"
