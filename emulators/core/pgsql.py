"""PostgreSQL behind the same `Database` API: a connection that speaks the emulators' SQLite-flavoured SQL.

The emulators write the SQL that SQLite and PostgreSQL share; what differs is translated here, once per
statement text (cached): `?` placeholders, `BEGIN IMMEDIATE`, the DDL types (`INTEGER PRIMARY KEY
[AUTOINCREMENT]` → `BIGSERIAL`, `BLOB` → `BYTEA`, `REAL` → `DOUBLE PRECISION`, `INTEGER` → `BIGINT`),
`INSERT OR IGNORE` / `INSERT OR REPLACE` (as ON CONFLICT on the table's primary key, learnt from its DDL),
and `cursor.lastrowid` (an INSERT into a table with a serial key gets `RETURNING` it). PRAGMAs are SQLite's
own and are skipped.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulators.core.errors import ConfigError

_CREATE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\s*\((.*)\)\s*$", re.I | re.S)
_INSERT_OR = re.compile(r"^\s*INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\w+)\s*\(([^)]*)\)(.*)$", re.I | re.S)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.I)


@dataclass
class _Table:
    primary_key: tuple[str, ...] = ()
    serial: str | None = None


@dataclass
class Dialect:
    """What the translation learnt from the DDL it saw (shared by the connections of one Database)."""

    tables: dict[str, _Table] = field(default_factory=dict)
    cache: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def translate(self, sql: str) -> tuple[str, str | None]:
        """(PostgreSQL text, the serial column to return for lastrowid or None)."""
        found = self.cache.get(sql)
        if found is None:
            found = self._translate(sql)
            with self.lock:
                self.cache[sql] = found
        return found

    def _translate(self, sql: str) -> tuple[str, str | None]:
        stripped = sql.strip()
        upper = stripped.upper()
        if upper.startswith("PRAGMA"):
            return "", None
        if upper.startswith("BEGIN"):
            return "BEGIN", None
        create = _CREATE.match(stripped)
        if create:
            return self._create(create.group(1).lower(), create.group(2)), None
        returning = None
        replaced = _INSERT_OR.match(stripped)
        if replaced:
            stripped = self._insert_or(replaced)
        insert = _INSERT.match(stripped)
        if insert and "RETURNING" not in upper:
            table = self.tables.get(insert.group(1).lower())
            if table is not None and table.serial is not None:
                returning = table.serial
                stripped = f"{stripped} RETURNING {returning}"
        return _placeholders(stripped), returning

    def _create(self, name: str, body: str) -> str:
        table = _Table()
        columns = []
        for part in _split_columns(body):
            words = part.split()
            head = words[0].upper() if words else ""
            if head == "PRIMARY":
                inside = part[part.index("(") + 1 : part.rindex(")")]
                table.primary_key = tuple(c.strip().lower() for c in inside.split(","))
                columns.append(part)
                continue
            if re.match(r"^\w+\s+INTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", part, re.I):
                table.serial = words[0].lower()
                table.primary_key = (table.serial,)
                rest = re.sub(r"^\w+\s+INTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?", "", part, flags=re.I)
                columns.append(f"{words[0]} BIGSERIAL PRIMARY KEY{rest}")
                continue
            if re.search(r"\bPRIMARY\s+KEY\b", part, re.I):
                table.primary_key = (words[0].lower(),)
            columns.append(_types(part))
        with self.lock:
            self.tables[name] = table
        return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(columns)})"

    def _insert_or(self, match: re.Match[str]) -> str:
        verb, name, columns, rest = match.group(1).upper(), match.group(2), match.group(3), match.group(4)
        table = self.tables.get(name.lower())
        if table is None or not table.primary_key:
            raise ConfigError(f"INSERT OR {verb} INTO {name}: its CREATE TABLE (with a primary key) was not seen")
        key = ", ".join(table.primary_key)
        head = f"INSERT INTO {name} ({columns}){rest}"
        if verb == "IGNORE":
            return f"{head} ON CONFLICT ({key}) DO NOTHING"
        names = [c.strip() for c in columns.split(",")]
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in names if c.lower() not in table.primary_key)
        return f"{head} ON CONFLICT ({key}) " + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")


def _split_columns(body: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in body:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _types(column: str) -> str:
    column = re.sub(r"\bBLOB\b", "BYTEA", column, flags=re.I)
    column = re.sub(r"\bREAL\b", "DOUBLE PRECISION", column, flags=re.I)
    return re.sub(r"\bINTEGER\b", "BIGINT", column, flags=re.I)


def _placeholders(sql: str) -> str:
    """`?` → `%s` and `%` → `%%`, outside string literals."""
    out, quoted = [], False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if not quoted and char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    return "".join(out)


class Cursor:
    """The part of sqlite3.Cursor the emulators use."""

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None


class Connection:
    """A psycopg connection in autocommit mode (transactions are explicit BEGIN/COMMIT, as with SQLite)."""

    def __init__(self, url: str, dialect: Dialect) -> None:
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            raise ConfigError("PostgreSQL needs psycopg: pip install 'psycopg[binary]'") from exc
        try:
            self._conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise ConfigError(f"cannot connect to PostgreSQL at {_safe(url)}: {str(exc).strip()}") from exc
        self._dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        text, returning = self._dialect.translate(sql)
        if not text:
            return Cursor([], 0, None)
        with self._conn.cursor() as cursor:
            cursor.execute(text, tuple(params) or None)
            rows = list(cursor.fetchall()) if cursor.description is not None else []
            lastrowid = int(rows[0][0]) if returning and rows else None
            return Cursor([] if returning else rows, cursor.rowcount, lastrowid)

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Cursor:
        text, _returning = self._dialect.translate(sql)
        params = [tuple(p) for p in seq]
        if not text or not params:
            return Cursor([], 0, None)
        with self._conn.cursor() as cursor:
            cursor.executemany(text.removesuffix(f" RETURNING {_returning}") if _returning else text, params)
            return Cursor([], cursor.rowcount, None)

    def close(self) -> None:
        self._conn.close()


def _safe(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)
