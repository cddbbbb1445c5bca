"""An in-process journal with the same interface and hashing as the durable ones.

Used by backtests and benchmarks: nothing survives the process. Rows are kept as
stored (payload and hashes), so the verifier and replay behave exactly as they do
against SQLite or PostgreSQL.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator

from alphintra.domain.identifiers import AccountId, TradeId, VenueId
from alphintra.store.journal import (
    ZERO_HASH,
    DuplicateFillError,
    EventRow,
    Fill,
    Journal,
    JournalConflictError,
    Row,
    SnapshotInfo,
    StreamHead,
    check_after_seq,
)

__all__ = ["MemoryJournal"]


class MemoryJournal(Journal):
    """A journal held in memory; ``commit()`` makes events visible to ``read()``."""

    def __init__(self) -> None:
        super().__init__()
        self._streams: dict[AccountId, list[Row]] = {}
        self._fill_keys: dict[tuple[AccountId, VenueId, TradeId], int] = {}
        self._snapshots: dict[AccountId, dict[int, tuple[bytes, bytes]]] = {}

    def _head_from_store(self, account_id: AccountId) -> StreamHead:
        stream = self._streams.get(account_id)
        head = StreamHead(stream[-1][1], stream[-1][5]) if stream else StreamHead(0, ZERO_HASH)
        self._durable[account_id] = head
        return head

    def _write(self, rows: list[Row], fills: list[Fill]) -> None:
        if self._hooks:
            self._hook_batches()  # nothing to project into: memory has no read tables
        fill_keys = self._fill_keys
        for account, venue, trade_id, _ in fills:
            existing = fill_keys.get((account, venue, trade_id))
            if existing is not None:
                raise DuplicateFillError(account, venue, trade_id, existing, len(rows))
        streams = self._streams
        account = rows[0][0]
        if account == rows[-1][0] and rows[-1][1] - rows[0][1] == len(rows) - 1:
            # One stream (the usual batch): its seqs are consecutive, so a first and a
            # last row of the same account that span the whole batch leave room for no
            # other account.
            stream = streams.get(account)
            self._check_continues(account, rows[0][1], stream)
            if stream is None:
                streams[account] = list(rows)
            else:
                stream.extend(rows)
        else:
            # Check every stream continues its stored head before changing anything.
            first: dict[AccountId, int] = {}
            for row in rows:
                if row[0] not in first:
                    first[row[0]] = row[1]
            for account, seq in first.items():
                self._check_continues(account, seq, streams.get(account))
            for row in rows:
                stream = streams.get(row[0])
                if stream is None:
                    stream = streams[row[0]] = []
                stream.append(row)
        for account, venue, trade_id, seq in fills:
            fill_keys[(account, venue, trade_id)] = seq

    @staticmethod
    def _check_continues(account: AccountId, seq: int, stream: list[Row] | None) -> None:
        stored = stream[-1][1] if stream else 0
        if seq != stored + 1:
            raise JournalConflictError(
                f"account {account!r}: the batch starts at seq {seq} but the journal "
                f"holds seq {stored}; the batch was rolled back"
            )

    def read_rows(self, account_id: AccountId, after_seq: int = 0) -> Iterator[EventRow]:
        """Yield the stored rows of a stream after ``after_seq``, in seq order, undecoded."""
        check_after_seq(after_seq)
        stream = self._streams.get(account_id, [])
        # Seqs are consecutive from 1, but bisect keeps this right for any stored stream.
        start = bisect_right(stream, after_seq, key=_seq_of)
        # Iterate over a copy of the slice: a commit during iteration must not shift it.
        for row in stream[start:]:
            yield EventRow(*row)

    def accounts(self) -> list[AccountId]:
        """Return the ids of every stream with at least one durable event, sorted."""
        return sorted(account for account, stream in self._streams.items() if stream)

    def _event_hash(self, account_id: AccountId, seq: int) -> bytes | None:
        stream = self._streams.get(account_id, [])
        index = bisect_right(stream, seq, key=_seq_of) - 1
        if index >= 0 and stream[index][1] == seq:
            return stream[index][5]
        return None

    def _write_snapshot(
        self, account_id: AccountId, seq: int, event_hash: bytes, state: bytes
    ) -> None:
        self._snapshots.setdefault(account_id, {})[seq] = (event_hash, state)

    def load_snapshot(self, account_id: AccountId) -> tuple[int, bytes] | None:
        """Return ``(seq, state)`` of the account's latest snapshot, or None."""
        stored = self._snapshots.get(account_id)
        if not stored:
            return None
        seq = max(stored)
        return seq, stored[seq][1]

    def snapshots(self, account_id: AccountId) -> list[SnapshotInfo]:
        """Return every snapshot of the account (without state), by seq."""
        stored = self._snapshots.get(account_id, {})
        return [SnapshotInfo(seq, stored[seq][0]) for seq in sorted(stored)]


def _seq_of(row: Row) -> int:
    return row[1]
