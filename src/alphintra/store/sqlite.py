"""The embedded journal: one SQLite file in WAL mode, through the stdlib driver.

The connection runs in autocommit mode; each ``commit()`` is ``BEGIN IMMEDIATE``,
one ``executemany`` per table, ``COMMIT``.

Durability and ``synchronous`` (``?synchronous=`` in the URL):

- ``NORMAL`` (default): a transaction is durable once ``COMMIT`` returns against a
  crash of the process, SIGKILL included: the WAL frames are in the operating
  system's page cache, which survives the process. SQLite syncs the WAL only at
  checkpoints, so an operating system crash or a power loss can lose the last
  transactions (never corrupt the file). This is the setting the crash test checks,
  and it keeps small commits cheap (no fsync per commit).
- ``FULL``: the WAL is fsynced on every commit, so committed events also survive a
  power loss or kernel panic, at the cost of one fsync per commit (group commit
  amortises it across the batch).
- ``EXTRA``: as FULL, and also syncs the directory after a WAL reset.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Final
from urllib.parse import parse_qsl, urlsplit

from alphintra.store.journal import JournalError, JournalUrlError, Row, redact_url
from alphintra.store.sql import Batch, Params, SqlJournal

__all__ = ["SYNCHRONOUS_MODES", "SqliteJournal"]

SYNCHRONOUS_MODES: Final = ("NORMAL", "FULL", "EXTRA")


def _null(value: None) -> None:
    return value


# The stdlib driver binds int, float, str and bytearray directly but sends every None
# through its adapter protocol, whose misses (__adapt__, __conform__) cost about 0.27 µs
# a parameter; a registered adapter for None answers at once with the same NULL. It is
# process-wide, like every sqlite3 adapter, and changes no value.
sqlite3.register_adapter(type(None), _null)

# One statement each: they run inside one BEGIN IMMEDIATE transaction on open.
_DDL: Final = (
    """CREATE TABLE IF NOT EXISTS journal_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS journal_events (
    account_id TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    event_type TEXT NOT NULL,
    payload BLOB NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS journal_fills (
    account_id TEXT NOT NULL,
    venue TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (account_id, venue, trade_id)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS journal_snapshots (
    account_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_hash BLOB NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (account_id, seq)
)""",
    """CREATE TRIGGER IF NOT EXISTS journal_events_no_update BEFORE UPDATE ON journal_events
BEGIN SELECT RAISE(ABORT, 'journal_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS journal_events_no_delete BEFORE DELETE ON journal_events
BEGIN SELECT RAISE(ABORT, 'journal_events is append-only: DELETE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS journal_fills_no_update BEFORE UPDATE ON journal_fills
BEGIN SELECT RAISE(ABORT, 'journal_fills is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS journal_fills_no_delete BEFORE DELETE ON journal_fills
BEGIN SELECT RAISE(ABORT, 'journal_fills is append-only: DELETE refused'); END""",
)
# ``journal_events`` is a rowid table with a unique index on (account_id, seq): appends
# to both B-trees write fewer WAL pages per commit than a WITHOUT ROWID table keyed by
# the stream, whose leaves hold whole payloads (about 15 % more commits per second). A
# file created with the earlier WITHOUT ROWID layout keeps it (same queries, same
# guarantees) and gets no second index.
_EVENTS_INDEX: Final = (
    "CREATE UNIQUE INDEX IF NOT EXISTS journal_events_stream_seq"
    " ON journal_events (account_id, seq)"
)


def _create_tables(conn: sqlite3.Connection) -> None:
    """Create the journal's tables, index and triggers where absent (caller's transaction)."""
    found = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'journal_events'"
    ).fetchone()
    for statement in _DDL:
        conn.execute(statement)
    if found is None or "WITHOUT ROWID" not in found[0].upper():
        conn.execute(_EVENTS_INDEX)


class SqliteJournal(SqlJournal):
    """A journal in one SQLite file (WAL mode), created with its tables if absent."""

    _integrity_errors: ClassVar[tuple[type[Exception], ...]] = (sqlite3.IntegrityError,)

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "NORMAL",
        busy_timeout_s: float = 5.0,
    ) -> None:
        super().__init__("?")
        mode = synchronous.upper() if isinstance(synchronous, str) else synchronous
        if mode not in SYNCHRONOUS_MODES:
            raise JournalError(
                f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, got {synchronous!r}"
            )
        self.path = str(path)
        self.synchronous: str = mode
        try:
            conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open SQLite journal {self.path!r}: {exc}") from exc
        self._conn = conn
        self._cur = conn.cursor()
        try:
            journal_mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if journal_mode != "wal" and self.path != ":memory:":
                raise JournalError(
                    f"SQLite journal {self.path!r} could not enter WAL mode "
                    f"(journal_mode is {journal_mode!r})"
                )
            conn.execute(f"PRAGMA synchronous={mode}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                _create_tables(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._check_format(repr(self.path))
        except sqlite3.Error as exc:
            conn.close()
            raise JournalError(f"cannot open SQLite journal {self.path!r}: {exc}") from exc
        except BaseException:
            conn.close()
            raise

    @classmethod
    def from_url(cls, url: str) -> SqliteJournal:
        """Open ``sqlite:///relative.db`` or ``sqlite:////abs.db`` (``?synchronous=FULL``)."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "sqlite" or parts.netloc:
            raise JournalUrlError(
                f"SQLite journal URL must look like sqlite:///path/to/file.db, got "
                f"{redact_url(url)!r}"
            )
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise JournalUrlError(f"SQLite journal URL has no file path: {url!r}")
        options: dict[str, Any] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
            if key == "synchronous":
                options["synchronous"] = value
            else:
                raise JournalUrlError(
                    f"unknown SQLite journal URL option {key!r} in {url!r}; known: synchronous"
                )
        return cls(path, **options)

    def _query(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def _event_params(self, rows: list[Row]) -> Sequence[Params]:
        # The stdlib driver binds a bytearray as a BLOB directly, but looks every bytes
        # value up in its adapter registry first; copying the three BLOBs is cheaper.
        return [
            (account, seq, kind, bytearray(payload), bytearray(prev), bytearray(digest))
            for account, seq, kind, payload, prev, digest in rows
        ]

    def _run_write(self, batches: list[Batch]) -> None:
        cur = self._cur
        cur.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in batches:
                cur.executemany(sql, rows)
            cur.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Discard buffered events and close the database connection."""
        super().close()
        self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteJournal({self.path!r}, synchronous={self.synchronous!r})"
