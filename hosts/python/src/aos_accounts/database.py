"""The SQLite database of the Python host: opening it the way the Rust host does, applying the shared
migrations (recorded in sqlx's own table, so that the Rust host and this one open each other's files),
and the one transaction of an engine call."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

#: The oldest SQLite the migrations and the catalogue's statements run on: `RETURNING` (3.35) and the JSON
#: functions (built in since 3.38; compiled into Python's and Node's SQLite before that).
SQLITE_FLOOR = (3, 35, 0)

_MIGRATION_NAME = re.compile(r"^(\d+)_(.+)\.sql$")


class Database:
    """One SQLite connection (a host object is used by one thread at a time)."""

    def __init__(self, path: str, migrations: Path, busy_timeout_s: float = 10.0):
        if sqlite3.sqlite_version_info < SQLITE_FLOOR:
            floor = ".".join(map(str, SQLITE_FLOOR))
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is older than {floor}, the oldest this host supports")
        # Autocommit mode: the host issues BEGIN/COMMIT itself (one transaction per engine call).
        # A call waits for the writer lock no longer than its deadline.
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
        self.conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        self._migrate(migrations)

    def close(self) -> None:
        self.conn.close()

    # --- statements ---------------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Runs a catalogue statement; ``$1``… are bound from ``params`` by position."""
        return self.conn.execute(sql, {str(i + 1): _bindable(v) for i, v in enumerate(params)})

    def one(self, sql: str, params: Sequence[Any] = ()) -> Optional[sqlite3.Row]:
        cursor = self.execute(sql, params)
        row = cursor.fetchone()
        cursor.close()
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list:
        return self.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    def rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.execute(sql, params).rowcount

    # --- transactions -------------------------------------------------------------------------------

    def begin(self) -> None:
        # IMMEDIATE: the writer lock up front, so that a call never fails half-way on a lock upgrade.
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    # --- migrations ---------------------------------------------------------------------------------

    def _migrate(self, directory: Path) -> None:
        self.conn.row_factory = None
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, "
            "installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, "
            "checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"
        )
        applied = {v: bytes(c) for v, c in self.conn.execute("SELECT version, checksum FROM _sqlx_migrations")}
        rewritten = _rewritten(directory)
        for version, description, text in _migrations(directory):
            checksum = hashlib.sha384(text).digest()
            if version in applied:
                if applied[version] == checksum:
                    continue
                if applied[version].hex() in rewritten.get(str(version), []):
                    # The old text of a migration rewritten without changing what it does.
                    self.conn.execute("UPDATE _sqlx_migrations SET checksum = ? WHERE version = ?", (checksum, version))
                    continue
                raise RuntimeError(f"migration {version} was applied with a different text; refusing to open")
            started = time.monotonic_ns()
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(text.decode()):
                    self.conn.execute(statement)
                self.conn.execute(
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) "
                    "VALUES (?, ?, TRUE, ?, ?)",
                    (version, description, checksum, time.monotonic_ns() - started),
                )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        self.conn.row_factory = sqlite3.Row


def _migrations(directory: Path) -> Iterable[tuple]:
    """(version, description, bytes) of each migration: sqlx's checksum is of the file's bytes."""
    found = []
    for path in directory.glob("*.sql"):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), match.group(2).replace("_", " "), path.read_bytes()))
    return sorted(found)


def _rewritten(directory: Path) -> dict:
    """Old checksums (hex) of migrations rewritten without changing what they do, by version."""
    path = directory / "rewritten.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _statements(script: str) -> Iterable[str]:
    """The statements of a migration, in order (``executescript`` would commit the transaction)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""
    if buffer.strip() and not all(l.strip().startswith("--") or not l.strip() for l in buffer.splitlines()):
        yield buffer


def _bindable(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value
