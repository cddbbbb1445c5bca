"""An in-process journal with the same interface and hashing as the durable ones.

Used by backtests and benchmarks: nothing survives the process. Rows read back exactly
as stored (type tag, payload and both hashes), so the verifier and replay behave
exactly as they do against SQLite or PostgreSQL.
"""

from __future__ import annotations

from array import array
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


class _Stream:
    """One account's stored events, packed: the event with seq n is at index n - 1.

    Payloads are concatenated in one buffer (``ends[i]`` is where event i + 1's ends)
    and hashes in another, 32 bytes each; an event's ``prev_hash`` is the hash before
    its own. Nothing per event is a separate object but its (shared) type tag, so a
    long backtest's journal costs the collector nothing and the allocator little.
    """

    __slots__ = ("data", "ends", "hashes", "kinds")

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.data = bytearray()
        self.ends = array("q")
        self.hashes = bytearray()

    def __len__(self) -> int:
        return len(self.kinds)

    def extend(self, rows: list[Row]) -> None:
        """Store ``rows`` (the next seqs of this stream, in order)."""
        kinds, ends = self.kinds.append, self.ends.append
        data, hashes = self.data, self.hashes
        for _, _, kind, payload, _, digest in rows:
            kinds(kind)
            data += payload
            ends(len(data))
            hashes += digest

    def hash(self, index: int) -> bytes:
        """Return the hash of the event at ``index`` (seq - 1)."""
        return bytes(self.hashes[32 * index : 32 * index + 32])

    def rows(self, account_id: AccountId, start: int, end: int) -> Iterator[EventRow]:
        """Yield the rows at indexes ``start`` to ``end``, copied at the first ``next()``."""
        if start >= end:
            return
        kinds = self.kinds[start:end]
        bounds = [self.ends[start - 1] if start else 0, *self.ends[start:end]]
        base = bounds[0]
        data = bytes(self.data[base : bounds[-1]])
        hashes = bytes(self.hashes[32 * start : 32 * end])
        prev_hash = self.hash(start - 1) if start else ZERO_HASH
        for index, kind in enumerate(kinds):
            digest = hashes[32 * index : 32 * index + 32]
            payload = data[bounds[index] - base : bounds[index + 1] - base]
            yield EventRow(account_id, start + index + 1, kind, payload, prev_hash, digest)
            prev_hash = digest


class MemoryJournal(Journal):
    """A journal held in memory; ``commit()`` makes events visible to ``read()``."""

    def __init__(self) -> None:
        super().__init__()
        self._streams: dict[AccountId, _Stream] = {}
        # Fill keys by account, then venue: nested dicts of strings need no key tuples.
        self._fill_keys: dict[AccountId, dict[VenueId, dict[TradeId, int]]] = {}
        self._snapshots: dict[AccountId, dict[int, tuple[bytes, bytes]]] = {}

    def commit(self) -> dict[AccountId, int]:
        """Write every buffered event; return the new head seq per account (see ``Journal``).

        A batch of one stream without commit hooks (every engine commit) reuses its
        buffers rather than allocating new ones: nothing here keeps them.
        """
        rows = self._rows
        pending = self._pending
        if not rows or self._hooks or len(pending) != 1:
            return super().commit()
        fills = self._fills
        [(account, (seq, digest, _))] = pending.items()
        try:
            if len(fills) > 1:
                self._check_fills_in_batch(rows, fills)
            self._write(rows, fills)
        except BaseException:
            self._rows, self._fills, self._pending = [], [], {}
            self._durable.pop(account, None)
            raise
        rows.clear()
        fills.clear()
        pending.clear()
        self._durable[account] = (seq, digest)
        return {account: seq}

    def _head_from_store(self, account_id: AccountId) -> StreamHead:
        stream = self._streams.get(account_id)
        head = (
            StreamHead(len(stream), stream.hash(len(stream) - 1))
            if stream is not None and len(stream)
            else StreamHead(0, ZERO_HASH)
        )
        self._durable[account_id] = head
        return head

    def _write(self, rows: list[Row], fills: list[Fill]) -> None:
        if self._hooks:
            self._hook_batches()  # nothing to project into: memory has no read tables
        fill_keys = self._fill_keys
        for account, venue, trade_id, _ in fills:
            by_venue = fill_keys.get(account)
            by_trade = by_venue.get(venue) if by_venue is not None else None
            existing = by_trade.get(trade_id) if by_trade is not None else None
            if existing is not None:
                raise DuplicateFillError(account, venue, trade_id, existing, len(rows))
        streams = self._streams
        account = rows[0][0]
        if account == rows[-1][0] and rows[-1][1] - rows[0][1] == len(rows) - 1:
            # One stream (the usual batch): its seqs are consecutive, so a first and a
            # last row of the same account that span the whole batch leave room for no
            # other account.
            stream = streams.get(account)
            if stream is None or rows[0][1] != len(stream) + 1:
                self._check_continues(account, rows[0][1], stream)
                stream = streams[account] = _Stream()
            stream.extend(rows)
        else:
            # Check every stream continues its stored head before changing anything.
            batches: dict[AccountId, list[Row]] = {}
            for row in rows:
                batch = batches.get(row[0])
                if batch is None:
                    batch = batches[row[0]] = []
                batch.append(row)
            for account, batch in batches.items():
                self._check_continues(account, batch[0][1], streams.get(account))
            for account, batch in batches.items():
                stream = streams.get(account)
                if stream is None:
                    stream = streams[account] = _Stream()
                stream.extend(batch)
        for account, venue, trade_id, seq in fills:
            by_venue = fill_keys.get(account)
            if by_venue is None:
                by_venue = fill_keys[account] = {}
            by_trade = by_venue.get(venue)
            if by_trade is None:
                by_trade = by_venue[venue] = {}
            by_trade[trade_id] = seq

    @staticmethod
    def _check_continues(account: AccountId, seq: int, stream: _Stream | None) -> None:
        stored = len(stream) if stream is not None else 0
        if seq != stored + 1:
            raise JournalConflictError(
                f"account {account!r}: the batch starts at seq {seq} but the journal "
                f"holds seq {stored}; the batch was rolled back"
            )

    def read_rows(self, account_id: AccountId, after_seq: int = 0) -> Iterator[EventRow]:
        """Yield the stored rows of a stream after ``after_seq``, in seq order, undecoded."""
        check_after_seq(after_seq)
        stream = self._streams.get(account_id)
        if stream is None:
            return
        # Copied now: a commit during iteration must not change what is read.
        yield from stream.rows(account_id, after_seq, len(stream))

    def accounts(self) -> list[AccountId]:
        """Return the ids of every stream with at least one durable event, sorted."""
        return sorted(account for account, stream in self._streams.items() if len(stream))

    def _event_hash(self, account_id: AccountId, seq: int) -> bytes | None:
        stream = self._streams.get(account_id)
        if stream is None or not 1 <= seq <= len(stream):
            return None
        return stream.hash(seq - 1)

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
