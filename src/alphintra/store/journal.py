"""The event journal: append-only, hash-chained, with group commit.

Every account is one stream. Its events get consecutive sequence numbers from 1,
and each stores the hash of the event before it (32 zero bytes before the first)::

    hash = sha256(prev_hash                                  # 32 bytes
                  || u32be(len(account_id)) || account_id    # UTF-8
                  || u64be(seq)
                  || u32be(len(event_type)) || event_type    # UTF-8, the codec's tag
                  || payload)                                # canonical JSON (codec.py)

so changing, removing or reordering any stored event breaks the chain (see
``verify.py``).

``append()`` only encodes, hashes and buffers; nothing is durable until ``commit()``
writes every buffered event, across accounts, in one transaction. A commit that
fails writes nothing and discards the whole batch: buffered events were never
acknowledged, and the stream heads return to the durable ones. Venue commands must
wait until the commit that holds their event has returned (the write-ahead rule).

An ``OrderFilled`` is also recorded under (account, venue, trade id) in the same
transaction; a second fill with the same key fails the commit with
``DuplicateFillError``.

A journal object is not thread-safe: use it from one thread at a time. Each stream
must have a single writer; a second writer is detected at commit time
(``JournalConflictError``), not prevented.

Backends: ``MemoryJournal`` (memory.py), ``SqliteJournal`` (sqlite.py) and
``PostgresJournal`` (postgres.py), all opened by URL through ``open_journal()``.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator
from hashlib import sha256
from types import TracebackType
from typing import Final, NamedTuple, Protocol, Self
from urllib.parse import urlsplit, urlunsplit

import msgspec

from alphintra.domain.events import AnyEvent, OrderFilled
from alphintra.domain.identifiers import AccountId, TradeId, VenueId
from alphintra.store.codec import EVENT_TYPES, EventEncodeError, decode_event, fast_encode

__all__ = [
    "ZERO_HASH",
    "DuplicateFillError",
    "EventRow",
    "Fill",
    "Journal",
    "JournalConflictError",
    "JournalError",
    "JournalRecord",
    "JournalUrlError",
    "Row",
    "SnapshotError",
    "SnapshotInfo",
    "StreamHead",
    "chain_hash",
    "open_journal",
    "redact_url",
]

ZERO_HASH: Final = bytes(32)
"""The ``prev_hash`` of the first event of every stream."""

_U32: Final = struct.Struct(">I").pack
_U64: Final = struct.Struct(">Q").pack


def _kind_header(kind: str) -> bytes:
    encoded = kind.encode()
    return _U32(len(encoded)) + encoded


_KIND_HEADERS: Final[dict[type, tuple[str, bytes]]] = {
    cls: (kind, _kind_header(kind)) for kind, cls in EVENT_TYPES.items()
}
"""Each event class's type tag and its chained form ``u32be(len(tag)) || tag``."""


def chain_hash(
    prev_hash: bytes, account_id: str, seq: int, event_type: str, payload: bytes
) -> bytes:
    """Return the SHA-256 chain hash of one event (the layout is in the module docstring)."""
    account = account_id.encode()
    kind = event_type.encode()
    return sha256(
        b"".join(
            (prev_hash, _U32(len(account)), account, _U64(seq), _U32(len(kind)), kind, payload)
        )
    ).digest()


class JournalError(Exception):
    """The journal could not do what was asked."""


class JournalUrlError(JournalError, ValueError):
    """A journal URL was malformed or named an unsupported backend."""


class DuplicateFillError(JournalError):
    """A commit held a fill whose (venue, trade id) the account already journaled.

    The whole batch was rolled back and discarded.
    """

    def __init__(
        self,
        account_id: AccountId,
        venue: VenueId,
        trade_id: TradeId,
        existing_seq: int | None,
        batch_size: int,
    ) -> None:
        where = (
            f"is already journaled at seq {existing_seq}"
            if existing_seq is not None
            else "appears twice in the batch"
        )
        super().__init__(
            f"duplicate fill for account {account_id!r}: venue {venue!r} trade id "
            f"{trade_id!r} {where}; the batch of {batch_size} event(s) was rolled back"
        )
        self.account_id = account_id
        self.venue = venue
        self.trade_id = trade_id
        self.existing_seq = existing_seq


class JournalConflictError(JournalError):
    """A commit collided with events another writer stored; the batch was rolled back."""


class SnapshotError(JournalError):
    """A snapshot was asked for an event that is not durable."""


class StreamHead(NamedTuple):
    """The last durable event of a stream: its seq (0 when empty) and hash."""

    seq: int
    hash: bytes


class EventRow(NamedTuple):
    """One stored event exactly as persisted, not decoded (what the verifier reads)."""

    account_id: AccountId
    seq: int
    event_type: str
    payload: bytes
    prev_hash: bytes
    hash: bytes


Row = tuple[AccountId, int, str, bytes, bytes, bytes]
"""An ``EventRow`` as a plain tuple: how rows are buffered and handed to a backend.

Plain tuples of strings, ints and bytes are untracked by the garbage collector, which
keeps a large buffer or memory journal cheap; a named tuple would not be.
"""

Fill = tuple[AccountId, VenueId, TradeId, int]
"""The fill-uniqueness key stored with each ``OrderFilled``: account, venue, trade id, seq."""


class JournalRecord(msgspec.Struct, frozen=True, gc=False):
    """One durable event, decoded, with its place in the chain."""

    account_id: AccountId
    seq: int
    event: AnyEvent
    prev_hash: bytes
    hash: bytes


class SnapshotInfo(NamedTuple):
    """A stored snapshot without its state: the seq it covers and that event's hash."""

    seq: int
    event_hash: bytes


def check_after_seq(after_seq: object) -> None:
    """Raise ``ValueError`` unless ``after_seq`` is a non-negative int."""
    if type(after_seq) is not int or after_seq < 0:
        raise ValueError(f"after_seq must be a non-negative int, got {after_seq!r}")


def record_of(row: EventRow) -> JournalRecord:
    """Decode a stored row into a record."""
    return JournalRecord(
        row.account_id, row.seq, decode_event(row.payload), row.prev_hash, row.hash
    )


class CommitHook(Protocol):
    """Something written in the same transaction as the events (read-model projections).

    Statements use ``?`` placeholders; the journal adapts them to its driver.
    """

    def appended(self, event: AnyEvent, seq: int) -> None:
        """Observe one event as it is buffered."""
        ...

    def drain(self) -> list[tuple[str, list[tuple[object, ...]]]]:
        """Return the statements and parameter rows for the commit now starting."""
        ...

    def discard(self) -> None:
        """Forget everything observed since the last commit (it was never written)."""
        ...


class Journal(ABC):
    """The journal interface, with the buffering and hashing every backend shares.

    Subclasses store and read rows; this class assigns sequence numbers, hashes,
    buffers and keeps the stream heads.
    """

    def __init__(self) -> None:
        self._durable: dict[AccountId, tuple[int, bytes]] = {}
        # The tail of each stream in the buffered batch: (seq, hash, account prefix).
        self._pending: dict[AccountId, tuple[int, bytes, bytes]] = {}
        self._hooks: list[CommitHook] = []
        self._rows: list[Row] = []
        self._fills: list[Fill] = []
        self._prefix: dict[AccountId, bytes] = {}

    # -- writing ---------------------------------------------------------------------

    def append(self, event: AnyEvent) -> int:
        """Encode, hash and buffer ``event`` in its account's stream; return its seq.

        Nothing is durable until ``commit()`` returns.
        """
        kind = _KIND_HEADERS.get(type(event))
        if kind is None:
            raise EventEncodeError(
                f"cannot journal a {type(event).__name__}: it is not an event type from "
                "alphintra.domain.events"
            )
        account = event.account_id
        pending = self._pending
        tail = pending.get(account)
        if tail is None:
            tail = self._batch_tail(account)
        seq = tail[0] + 1
        prev = tail[1]
        prefix = tail[2]
        try:
            payload = fast_encode(event)
        except (NotImplementedError, TypeError, ValueError) as exc:
            raise EventEncodeError(f"cannot encode {kind[0]} for seq {seq}: {exc}") from exc
        digest = sha256(b"".join((prev, prefix, _U64(seq), kind[1], payload))).digest()
        pending[account] = (seq, digest, prefix)
        self._rows.append((account, seq, kind[0], payload, prev, digest))
        if type(event) is OrderFilled:
            self._fills.append((account, event.venue, event.trade_id, seq))
        if self._hooks:
            for hook in self._hooks:
                hook.appended(event, seq)
        return seq

    def _batch_tail(self, account: AccountId) -> tuple[int, bytes, bytes]:
        """Return the durable head of a stream with its hash prefix (first event of a batch)."""
        prefix = self._prefix.get(account)
        if prefix is None:
            prefix = self._account_prefix(account)
        head = self._durable.get(account)
        if head is None:
            head = self._head_from_store(account)
        return (head[0], head[1], prefix)

    def add_commit_hook(self, hook: CommitHook) -> None:
        """Let ``hook`` add statements to every commit, inside the same transaction."""
        self._hooks.append(hook)

    def _hook_batches(self) -> list[tuple[str, list[tuple[object, ...]]]]:
        batches: list[tuple[str, list[tuple[object, ...]]]] = []
        for hook in self._hooks:
            batches.extend(hook.drain())
        return batches

    def commit(self) -> dict[AccountId, int]:
        """Write every buffered event in one transaction; return the new head seq per account.

        Only accounts in the batch appear in the result; an empty buffer returns ``{}``.
        On failure the buffer is discarded and, for ``DuplicateFillError`` and
        ``JournalConflictError``, nothing of the batch is stored. If the connection
        fails during the commit the outcome is unknown: call ``head()``, which then
        re-reads the store, to learn whether the batch landed.
        """
        rows = self._rows
        if not rows:
            return {}
        fills, pending = self._fills, self._pending
        self._rows, self._fills, self._pending = [], [], {}
        try:
            if len(fills) > 1:
                self._check_fills_in_batch(rows, fills)
            self._write(rows, fills)
        except BaseException:
            for hook in self._hooks:
                hook.discard()
            # The store may hold events another writer appended: re-read these heads.
            for account in pending:
                self._durable.pop(account, None)
            raise
        durable = self._durable
        result: dict[AccountId, int] = {}
        for account, (seq, digest, _) in pending.items():
            durable[account] = (seq, digest)
            result[account] = seq
        return result

    def discard(self) -> int:
        """Drop every buffered event without writing it; return how many were dropped."""
        count = len(self._rows)
        self._rows, self._fills, self._pending = [], [], {}
        for hook in self._hooks:
            hook.discard()
        return count

    @property
    def pending(self) -> int:
        """Return the number of buffered events that ``commit()`` would write."""
        return len(self._rows)

    def head(self, account_id: AccountId) -> StreamHead:
        """Return the durable head of a stream: ``(0, ZERO_HASH)`` when it has no events."""
        head = self._durable.get(account_id)
        if head is None:
            return self._head_from_store(account_id)
        return head if type(head) is StreamHead else StreamHead(head[0], head[1])

    # -- reading ---------------------------------------------------------------------

    def read(self, account_id: AccountId, after_seq: int = 0) -> Iterator[JournalRecord]:
        """Yield the durable events of a stream with seq greater than ``after_seq``, in order."""
        for row in self.read_rows(account_id, after_seq):
            yield record_of(row)

    @abstractmethod
    def read_rows(self, account_id: AccountId, after_seq: int = 0) -> Iterator[EventRow]:
        """Yield the stored rows of a stream after ``after_seq``, in seq order, undecoded."""

    @abstractmethod
    def accounts(self) -> list[AccountId]:
        """Return the ids of every stream with at least one durable event, sorted."""

    # -- snapshots -------------------------------------------------------------------

    def save_snapshot(self, account_id: AccountId, seq: int, state: bytes) -> None:
        """Store ``state`` as the account's state after event ``seq``, durably, at once.

        The event must be durable; its hash is stored with the snapshot, so the
        verifier can tell if events up to ``seq`` were later removed or altered.
        Saving again at the same seq replaces the state.
        """
        if type(seq) is not int or seq < 1:
            raise SnapshotError(f"snapshot seq must be a positive int, got {seq!r}")
        if not isinstance(state, bytes | bytearray | memoryview):
            raise SnapshotError(f"snapshot state must be bytes, got {type(state).__name__}")
        event_hash = self._event_hash(account_id, seq)
        if event_hash is None:
            head = self.head(account_id)
            raise SnapshotError(
                f"cannot snapshot account {account_id!r} at seq {seq}: no durable event with "
                f"that seq (the durable head is seq {head.seq})"
            )
        self._write_snapshot(account_id, seq, event_hash, bytes(state))

    @abstractmethod
    def load_snapshot(self, account_id: AccountId) -> tuple[int, bytes] | None:
        """Return ``(seq, state)`` of the account's latest snapshot, or None."""

    @abstractmethod
    def snapshots(self, account_id: AccountId) -> list[SnapshotInfo]:
        """Return every snapshot of the account (without state), by seq."""

    # -- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Release the store. Buffered, uncommitted events are discarded."""
        self.discard()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- backend hooks ---------------------------------------------------------------

    @abstractmethod
    def _head_from_store(self, account_id: AccountId) -> StreamHead:
        """Return the durable head of a stream, read from the store, and cache it."""

    @abstractmethod
    def _write(self, rows: list[Row], fills: list[Fill]) -> None:
        """Store ``rows`` and ``fills`` atomically, or nothing and raise.

        A fill key already stored must raise ``DuplicateFillError``; a seq already
        stored must raise ``JournalConflictError``.
        """

    @abstractmethod
    def _event_hash(self, account_id: AccountId, seq: int) -> bytes | None:
        """Return the stored hash of one durable event, or None if there is none."""

    @abstractmethod
    def _write_snapshot(
        self, account_id: AccountId, seq: int, event_hash: bytes, state: bytes
    ) -> None:
        """Store one snapshot durably, replacing any at the same seq."""

    # -- helpers ---------------------------------------------------------------------

    def _account_prefix(self, account: AccountId) -> bytes:
        if not isinstance(account, str) or not account:
            raise JournalError(f"event account_id must be a non-empty string, got {account!r}")
        encoded = account.encode()
        prefix = self._prefix[account] = _U32(len(encoded)) + encoded
        return prefix

    @staticmethod
    def _check_fills_in_batch(rows: list[Row], fills: list[Fill]) -> None:
        if len(fills) < 2:
            return
        seen: set[tuple[str, str, str]] = set()
        for account, venue, trade_id, _ in fills:
            key = (account, venue, trade_id)
            if key in seen:
                raise DuplicateFillError(account, venue, trade_id, None, len(rows))
            seen.add(key)


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``, for error messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def open_journal(url: str) -> Journal:
    """Open the journal at ``url``.

    Accepted: ``memory://`` (a new, empty in-process journal);
    ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db`` (SQLAlchemy style,
    optional ``?synchronous=NORMAL|FULL``); ``postgresql://...`` or
    ``postgresql+psycopg://...`` (any libpq connection URI).
    """
    if not isinstance(url, str):
        raise JournalUrlError(f"journal URL must be a string, got {type(url).__name__}")
    scheme = url.partition(":")[0].lower()
    if scheme == "memory":
        if url.rstrip("/") not in ("memory:", "memory:/"):
            raise JournalUrlError(f"a memory journal URL takes no path or options, got {url!r}")
        from alphintra.store.memory import MemoryJournal

        return MemoryJournal()
    if scheme == "sqlite":
        from alphintra.store.sqlite import SqliteJournal

        return SqliteJournal.from_url(url)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        from alphintra.store.postgres import PostgresJournal

        return PostgresJournal.from_url(url)
    raise JournalUrlError(
        f"unsupported journal URL scheme {scheme!r} in {redact_url(url)!r}; expected "
        "memory://, sqlite:///path/to/file.db or postgresql://..."
    )
