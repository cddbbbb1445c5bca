"""What the SQLite and PostgreSQL journals share: tables, queries and error diagnosis.

Tables (created if absent when a journal opens)::

    journal_events    (account_id, seq) PRIMARY KEY -- unique per stream
                      event_type, payload (the canonical JSON bytes), prev_hash, hash
    journal_fills     (account_id, venue, trade_id) PRIMARY KEY, seq
    journal_snapshots (account_id, seq) PRIMARY KEY, event_hash, state
    journal_meta      (key PRIMARY KEY, value): the storage format, checked on open

Triggers refuse UPDATE and DELETE on ``journal_events`` and ``journal_fills``. They
stop accidents, not an administrator: tampering is what the hash chain and
``verify()`` detect.

The hot path uses the database drivers directly (no ORM): one transaction per
commit, ``executemany`` for the events and again for the fills.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Final

from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import (
    ZERO_HASH,
    DuplicateFillError,
    EventRow,
    Fill,
    Journal,
    JournalConflictError,
    JournalError,
    Row,
    SnapshotInfo,
    StreamHead,
    check_after_seq,
)

__all__ = ["STORAGE_FORMAT", "SqlJournal"]

STORAGE_FORMAT: Final = "alphintra-journal/1"
"""The table layout and hash layout version, stored in ``journal_meta``."""

Params = Sequence[object]
Batch = tuple[str, Sequence[Params]]


class SqlJournal(Journal):
    """A journal in an SQL database; subclasses supply the driver calls and DDL."""

    PAGE_SIZE: ClassVar[int] = 2000
    """Rows fetched per query when reading a stream (keyset pagination by seq)."""

    _integrity_errors: ClassVar[tuple[type[Exception], ...]]

    def __init__(self, placeholder: str) -> None:
        super().__init__()
        p = placeholder
        self._placeholder = placeholder

        def q(sql: str) -> str:
            return sql.replace("?", p)

        self._insert_event = q(
            "INSERT INTO journal_events (account_id, seq, event_type, payload, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?)"
        )
        self._insert_fill = q(
            "INSERT INTO journal_fills (account_id, venue, trade_id, seq) VALUES (?, ?, ?, ?)"
        )
        self._select_page = q(
            "SELECT seq, event_type, payload, prev_hash, hash FROM journal_events"
            " WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?"
        )
        self._select_head = q(
            "SELECT seq, hash FROM journal_events WHERE account_id = ? ORDER BY seq DESC LIMIT 1"
        )
        self._select_hash = q("SELECT hash FROM journal_events WHERE account_id = ? AND seq = ?")
        # A loose index scan: one index probe per stream instead of reading every event.
        self._select_accounts = (
            "WITH RECURSIVE streams(account_id) AS ("
            " SELECT * FROM (SELECT account_id FROM journal_events"
            " ORDER BY account_id LIMIT 1) AS first_stream"
            " UNION ALL"
            " SELECT (SELECT e.account_id FROM journal_events AS e"
            " WHERE e.account_id > streams.account_id ORDER BY e.account_id LIMIT 1)"
            " FROM streams WHERE streams.account_id IS NOT NULL)"
            " SELECT account_id FROM streams WHERE account_id IS NOT NULL"
        )
        self._select_fill = q(
            "SELECT seq FROM journal_fills WHERE account_id = ? AND venue = ? AND trade_id = ?"
        )
        self._upsert_snapshot = q(
            "INSERT INTO journal_snapshots (account_id, seq, event_hash, state)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (account_id, seq)"
            " DO UPDATE SET event_hash = excluded.event_hash, state = excluded.state"
        )
        self._select_snapshot = q(
            "SELECT seq, state FROM journal_snapshots WHERE account_id = ?"
            " ORDER BY seq DESC LIMIT 1"
        )
        self._select_snapshots = q(
            "SELECT seq, event_hash FROM journal_snapshots WHERE account_id = ? ORDER BY seq"
        )
        self._insert_meta = q(
            "INSERT INTO journal_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING"
        )
        self._select_meta = q("SELECT value FROM journal_meta WHERE key = ?")

    # -- driver hooks ----------------------------------------------------------------

    @abstractmethod
    def _query(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        """Run one read-only statement outside any write transaction; return all rows."""

    @abstractmethod
    def _run_write(self, batches: list[Batch]) -> None:
        """Run every (statement, parameter rows) with executemany in one transaction."""

    def _event_params(self, rows: list[Row]) -> Sequence[Params]:
        """Return the parameter rows of the event insert (the rows themselves by default)."""
        return rows

    # -- shared implementation -------------------------------------------------------

    def _check_format(self, where: str) -> None:
        self._run_write([(self._insert_meta, [("format", STORAGE_FORMAT)])])
        rows = self._query(self._select_meta, ("format",))
        found = rows[0][0] if rows else None
        if found != STORAGE_FORMAT:
            raise JournalError(
                f"journal at {where} has storage format {found!r}; this version reads "
                f"{STORAGE_FORMAT!r} only"
            )

    def _write(self, rows: list[Row], fills: list[Fill]) -> None:
        batches: list[Batch] = [(self._insert_event, self._event_params(rows))]
        if fills:
            batches.append((self._insert_fill, fills))
        if self._hooks:
            for sql, params in self._hook_batches():
                if params:
                    batches.append((sql.replace("?", self._placeholder), params))
        try:
            self._run_write(batches)
        except self._integrity_errors as exc:
            raise self._diagnose(rows, fills, exc) from exc
        except Exception as exc:
            # Any other storage failure (a locked database, a full disk, a lost
            # connection) is a JournalError too: callers stop on it (fail-stop) rather
            # than release the commands whose events this batch held.
            raise JournalError(
                f"commit of {len(rows)} event(s) failed ({type(exc).__name__}: {exc}); the "
                "batch is discarded, and whether it was stored is known only from head()"
            ) from exc

    def _diagnose(self, rows: list[Row], fills: list[Fill], exc: Exception) -> JournalError:
        """Name the fill or the stream that made a rolled-back commit fail."""
        for account, venue, trade_id, _ in fills:
            found = self._query(self._select_fill, (account, venue, trade_id))
            if found:
                return DuplicateFillError(account, venue, trade_id, int(found[0][0]), len(rows))
        starts: dict[AccountId, int] = {}
        for row in rows:
            starts.setdefault(row[0], row[1])
        streams = ", ".join(f"{account!r} from seq {seq}" for account, seq in starts.items())
        return JournalConflictError(
            f"commit of {len(rows)} event(s) ({streams}) collides with stored events, most "
            f"likely from a second writer of the same stream; the batch was rolled back "
            f"({type(exc).__name__}: {exc})"
        )

    def _head_from_store(self, account_id: AccountId) -> StreamHead:
        rows = self._query(self._select_head, (account_id,))
        head = StreamHead(int(rows[0][0]), bytes(rows[0][1])) if rows else StreamHead(0, ZERO_HASH)
        self._durable[account_id] = head
        return head

    def read_rows(self, account_id: AccountId, after_seq: int = 0) -> Iterator[EventRow]:
        """Yield the stored rows of a stream after ``after_seq``, in seq order, undecoded."""
        check_after_seq(after_seq)
        last = after_seq
        page_size = self.PAGE_SIZE
        while True:
            page = self._query(self._select_page, (account_id, last, page_size))
            for seq, event_type, payload, prev_hash, digest in page:
                yield EventRow(
                    account_id, seq, event_type, bytes(payload), bytes(prev_hash), bytes(digest)
                )
            if len(page) < page_size:
                return
            last = page[-1][0]

    def accounts(self) -> list[AccountId]:
        """Return the ids of every stream with at least one durable event, sorted."""
        # Sorted here, by code point, whatever the database collation.
        return sorted(AccountId(row[0]) for row in self._query(self._select_accounts, ()))

    def _event_hash(self, account_id: AccountId, seq: int) -> bytes | None:
        rows = self._query(self._select_hash, (account_id, seq))
        return bytes(rows[0][0]) if rows else None

    def _write_snapshot(
        self, account_id: AccountId, seq: int, event_hash: bytes, state: bytes
    ) -> None:
        self._run_write([(self._upsert_snapshot, [(account_id, seq, event_hash, state)])])

    def load_snapshot(self, account_id: AccountId) -> tuple[int, bytes] | None:
        """Return ``(seq, state)`` of the account's latest snapshot, or None."""
        rows = self._query(self._select_snapshot, (account_id,))
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    def snapshots(self, account_id: AccountId) -> list[SnapshotInfo]:
        """Return every snapshot of the account (without state), by seq."""
        rows = self._query(self._select_snapshots, (account_id,))
        return [SnapshotInfo(int(seq), bytes(event_hash)) for seq, event_hash in rows]
