"""The production journal: PostgreSQL through psycopg 3.

The connection runs in autocommit mode; each ``commit()`` is one explicit
transaction with one pipelined ``executemany`` (or ``COPY``) per table. A commit is durable when
it returns, as far as the server's ``synchronous_commit`` setting promises (``on``
by default: the WAL is flushed before the commit is acknowledged). Large batches
(``COPY_THRESHOLD`` rows or more) are written with binary ``COPY``, which is about
twice as fast per row; a unique violation fails it just the same.

Tables go into the first schema of the connection's ``search_path``; pass
``?options=-csearch_path%3Dmy_schema`` in the URL to choose another.
"""

from __future__ import annotations

from typing import Any, ClassVar, Final

import psycopg

from alphintra.store.journal import JournalError, JournalUrlError, redact_url
from alphintra.store.sql import Batch, Params, SqlJournal

__all__ = ["PostgresJournal", "libpq_url"]

COPY_THRESHOLD: Final = 32
"""Batches of at least this many rows go in with binary COPY, smaller ones with executemany."""

_SCHEMA_LOCK: Final = 0x616C7068_6A726E6C  # "alphjrnl": serialises concurrent schema setup

_DDL: Final = """
CREATE TABLE IF NOT EXISTS journal_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_events (
    account_id TEXT NOT NULL,
    seq BIGINT NOT NULL CHECK (seq >= 1),
    event_type TEXT NOT NULL,
    payload BYTEA NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (account_id, seq)
);
CREATE TABLE IF NOT EXISTS journal_fills (
    account_id TEXT NOT NULL,
    venue TEXT NOT NULL,
    trade_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (account_id, venue, trade_id)
);
CREATE TABLE IF NOT EXISTS journal_snapshots (
    account_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    event_hash BYTEA NOT NULL,
    state BYTEA NOT NULL,
    PRIMARY KEY (account_id, seq)
);
CREATE OR REPLACE FUNCTION journal_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;
DO $$
DECLARE
    target TEXT;
BEGIN
    FOREACH target IN ARRAY ARRAY['journal_events', 'journal_fills'] LOOP
        IF NOT EXISTS (
            SELECT 1 FROM pg_trigger
            WHERE tgname = target || '_append_only' AND tgrelid = target::regclass
        ) THEN
            EXECUTE format(
                'CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I '
                'FOR EACH ROW EXECUTE FUNCTION journal_refuse_change()',
                target || '_append_only', target);
            EXECUTE format(
                'CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
                'FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change()',
                target || '_no_truncate', target);
        END IF;
    END LOOP;
END
$$;
"""


def libpq_url(url: str) -> str:
    """Return ``url`` as libpq accepts it: ``postgresql+psycopg://`` becomes ``postgresql://``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise JournalUrlError(
            f"PostgreSQL journal URL must start with postgresql:// or postgresql+psycopg://, "
            f"got {redact_url(url)!r}"
        )
    return f"postgresql://{rest}"


class PostgresJournal(SqlJournal):
    """A journal in a PostgreSQL database, created with its tables if absent."""

    _integrity_errors: ClassVar[tuple[type[Exception], ...]] = (psycopg.IntegrityError,)

    def __init__(self, conninfo: str) -> None:
        super().__init__("%s")
        self._where = redact_url(conninfo)
        self._copies: dict[str, tuple[str, list[str]]] = {
            self._insert_event: (
                "COPY journal_events (account_id, seq, event_type, payload, prev_hash, hash)"
                " FROM STDIN (FORMAT BINARY)",
                ["text", "int8", "text", "bytea", "bytea", "bytea"],
            ),
            self._insert_fill: (
                "COPY journal_fills (account_id, venue, trade_id, seq) FROM STDIN (FORMAT BINARY)",
                ["text", "text", "text", "int8"],
            ),
        }
        try:
            conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise JournalError(
                f"cannot connect to the PostgreSQL journal at {self._where!r}: {exc}"
            ) from exc
        self._conn = conn
        self._cur = conn.cursor()
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                conn.execute(_DDL)
            self._check_format(repr(self._where))
        except BaseException:
            conn.close()
            raise

    @classmethod
    def from_url(cls, url: str) -> PostgresJournal:
        """Open ``postgresql://user:password@host:port/db?...`` (or ``postgresql+psycopg://``)."""
        return cls(libpq_url(url))

    def _query(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, params).fetchall()

    def _run_write(self, batches: list[Batch]) -> None:
        cur = self._cur
        copies = self._copies
        with self._conn.transaction():
            for sql, rows in batches:
                copy = copies.get(sql) if len(rows) >= COPY_THRESHOLD else None
                if copy is None:
                    cur.executemany(sql, rows)
                    continue
                statement, types = copy
                with cur.copy(statement) as writer:
                    writer.set_types(types)
                    for row in rows:
                        writer.write_row(row)

    def close(self) -> None:
        """Discard buffered events and close the database connection."""
        super().close()
        self._conn.close()

    def __repr__(self) -> str:
        return f"PostgresJournal({self._where!r})"
