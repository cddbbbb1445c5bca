"""Check a stream's hash chain: detect edited, removed, reordered or inserted events.

The verifier reads the stored rows, never the journal's in-memory heads, and checks
for every event, in seq order:

1. its seq is the next one (a gap means events were removed, or renumbered);
2. its ``prev_hash`` equals the hash of the event before it (zeros for seq 1);
3. its stored hash equals the hash recomputed from its prev hash, account, seq,
   type and payload (a mismatch means the content or the hash itself was altered);
4. its payload decodes to an event of the stored type, for this account.

Then every snapshot must point at an event that is still there, with the same hash:
that catches events removed from the end of a stream up to a snapshot. What a chain
cannot catch alone is a consistent rewrite of everything after some point, or the
removal of the newest events past the last snapshot: for that, compare with a head
recorded elsewhere, either exactly (``expected_head``: the stream must end there) or
as an anchor (``recorded_head``: the stream must still hold that event, and may have
grown since, as a live account does).

The journal's ``journal_fills`` index (venue, trade ID and seq of every fill, kept
for de-duplication) is written with the events: `check_fill_index` compares it with
the verified fills, so a cut tail that held fills shows even without a recorded head.
The ``audit_log`` table is a readable copy of the ``AuditRecorded`` events, outside the
chain: `check_audit_log` compares its rows with the verified events, so that an edited,
removed or inserted row is caught too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from alphintra.domain.events import AuditRecorded
from alphintra.domain.identifiers import AccountId
from alphintra.store.codec import EventDecodeError, decode_event, event_type_of
from alphintra.store.journal import ZERO_HASH, Journal, StreamHead, chain_hash

__all__ = [
    "AuditRow",
    "FillIndexRow",
    "ProblemKind",
    "VerificationProblem",
    "VerificationReport",
    "check_audit_log",
    "check_fill_index",
    "verify",
    "verify_all",
]


_PROGRESS_STEP = 1000


class ProblemKind(StrEnum):
    SEQ_GAP = "SEQ_GAP"
    """The next stored seq is not the expected one: events were removed or renumbered."""
    PREV_HASH_MISMATCH = "PREV_HASH_MISMATCH"
    """The event does not point at the event before it: reordered, removed or replaced."""
    HASH_MISMATCH = "HASH_MISMATCH"
    """The stored hash is not the hash of the stored content: one of them was edited."""
    BAD_PAYLOAD = "BAD_PAYLOAD"
    """The payload does not decode to an event of the stored type and account."""
    SNAPSHOT_MISMATCH = "SNAPSHOT_MISMATCH"
    """A snapshot points at an event that is missing or has another hash."""
    HEAD_MISMATCH = "HEAD_MISMATCH"
    """The stream does not end at the expected head."""
    AUDIT_LOG_MISMATCH = "AUDIT_LOG_MISMATCH"
    """An audit_log row differs from, lacks or has no ``AuditRecorded`` event of its seq."""
    FILL_INDEX_MISMATCH = "FILL_INDEX_MISMATCH"
    """A journal_fills row has no ``OrderFilled`` at its seq, or a fill has no row."""


@dataclass(frozen=True, slots=True)
class VerificationProblem:
    """The first problem found in a stream: where, what kind, and a readable description."""

    seq: int
    kind: ProblemKind
    description: str


@dataclass(frozen=True, slots=True)
class VerificationReport:
    """The outcome of verifying one stream."""

    account_id: AccountId
    checked: int
    """Events whose chain links were checked (up to and including a problem event)."""
    head: StreamHead
    """The last event that passed every check: seq and hash (``(0, zeros)`` if none)."""
    problem: VerificationProblem | None = None

    @property
    def ok(self) -> bool:
        """Return True when no problem was found."""
        return self.problem is None

    def __str__(self) -> str:
        if self.problem is None:
            return (
                f"account {self.account_id!r}: OK, {self.checked} event(s), head seq "
                f"{self.head.seq} hash {self.head.hash.hex()}"
            )
        return (
            f"account {self.account_id!r}: FAILED at seq {self.problem.seq} "
            f"({self.problem.kind}): {self.problem.description}"
        )


def verify(
    journal: Journal,
    account_id: AccountId,
    *,
    expected_head: tuple[int, bytes] | None = None,
    recorded_head: tuple[int, bytes] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """Verify the durable stream of ``account_id``; stop at the first problem.

    ``expected_head`` is a ``(seq, hash)`` recorded outside this database; when given,
    the stream must end exactly there. ``recorded_head`` is one recorded earlier: the
    stream must still hold that event with that hash, and may go on past it.
    ``progress`` is called with the number of events checked since its last call.
    """
    expected_seq = 1
    prev = ZERO_HASH
    checked = 0
    snapshot_seqs = {info.seq: info.event_hash for info in journal.snapshots(account_id)}
    seen_at_snapshots: dict[int, bytes] = {}

    def report(seq: int, kind: ProblemKind, description: str) -> VerificationReport:
        problem = VerificationProblem(seq, kind, description)
        return VerificationReport(account_id, checked, StreamHead(expected_seq - 1, prev), problem)

    for row in journal.read_rows(account_id):
        checked += 1
        if progress is not None and checked % _PROGRESS_STEP == 0:
            progress(_PROGRESS_STEP)
        if row.seq != expected_seq:
            missing = (
                f"seq {expected_seq}"
                if row.seq == expected_seq + 1
                else f"seqs {expected_seq}..{row.seq - 1}"
            )
            return report(
                row.seq,
                ProblemKind.SEQ_GAP,
                f"expected seq {expected_seq} but the next stored event is seq {row.seq}: "
                f"{missing} missing (removed or renumbered)",
            )
        if row.prev_hash != prev:
            return report(
                row.seq,
                ProblemKind.PREV_HASH_MISMATCH,
                f"prev_hash {row.prev_hash.hex()} does not match the hash {prev.hex()} of "
                f"seq {row.seq - 1}: events were reordered, removed or replaced",
            )
        recomputed = chain_hash(row.prev_hash, row.account_id, row.seq, row.event_type, row.payload)
        if row.hash != recomputed:
            return report(
                row.seq,
                ProblemKind.HASH_MISMATCH,
                f"stored hash {row.hash.hex()} differs from the hash {recomputed.hex()} of the "
                f"stored content: the {row.event_type} payload, its type or the hash was edited",
            )
        problem = _payload_problem(row.payload, row.event_type, account_id)
        if problem is not None:
            return report(row.seq, ProblemKind.BAD_PAYLOAD, problem)
        if row.seq in snapshot_seqs:
            seen_at_snapshots[row.seq] = row.hash
        if (
            recorded_head is not None
            and row.seq == recorded_head[0]
            and row.hash != recorded_head[1]
        ):
            return report(
                row.seq,
                ProblemKind.HEAD_MISMATCH,
                f"the head recorded earlier at seq {row.seq} has hash "
                f"{recorded_head[1].hex()} but the event now hashes to {row.hash.hex()}: "
                f"the stream was rewritten up to there",
            )
        prev = row.hash
        expected_seq += 1

    if progress is not None:
        progress(checked % _PROGRESS_STEP)
    last = expected_seq - 1
    for seq, event_hash in sorted(snapshot_seqs.items()):
        found = seen_at_snapshots.get(seq)
        if found is None:
            return report(
                seq,
                ProblemKind.SNAPSHOT_MISMATCH,
                f"a snapshot was taken at seq {seq} but the stream ends at seq {last}: "
                f"events {last + 1}..{seq} were removed",
            )
        if found != event_hash:
            return report(
                seq,
                ProblemKind.SNAPSHOT_MISMATCH,
                f"the snapshot at seq {seq} recorded event hash {event_hash.hex()} but the "
                f"event now hashes to {found.hex()}: the stream was rewritten up to there",
            )
    if recorded_head is not None and recorded_head[0] > last:
        return report(
            last,
            ProblemKind.HEAD_MISMATCH,
            f"a head was recorded earlier at seq {recorded_head[0]} but the stream ends at "
            f"seq {last}: events {last + 1}..{recorded_head[0]} were removed",
        )
    if expected_head is not None:
        want_seq, want_hash = expected_head
        if (want_seq, want_hash) != (last, prev):
            return report(
                last,
                ProblemKind.HEAD_MISMATCH,
                f"expected the stream to end at seq {want_seq} with hash {want_hash.hex()}, "
                f"but it ends at seq {last} with hash {prev.hex()}",
            )
    return VerificationReport(account_id, checked, StreamHead(last, prev))


def verify_all(journal: Journal) -> list[VerificationReport]:
    """Verify every stream in the journal; return one report per account, sorted by id."""
    return [verify(journal, account_id) for account_id in journal.accounts()]


def _payload_problem(payload: bytes, event_type: str, account_id: AccountId) -> str | None:
    try:
        event = decode_event(payload)
    except EventDecodeError as exc:
        return f"payload does not decode: {exc}"
    decoded_type = event_type_of(event)
    if decoded_type != event_type:
        return f"payload is a {decoded_type} but the row says {event_type}"
    if event.account_id != account_id:
        return f"payload belongs to account {event.account_id!r}, not {account_id!r}"
    return None


class AuditRow(NamedTuple):
    """One stored ``audit_log`` row of an account (the copy of an ``AuditRecorded``)."""

    seq: int
    actor: str
    action: str
    address: str
    target: str
    old_value: str
    new_value: str
    ts_ns: int


_AUDIT_FIELDS = ("actor", "action", "address", "target", "old_value", "new_value")


def check_audit_log(
    events: Iterable[tuple[int, str, AuditRecorded | None]],
    rows: Iterable[AuditRow],
    *,
    indexed_upto: int | None = None,
) -> VerificationProblem | None:
    """Compare an account's ``audit_log`` rows with its verified events; return the first
    difference by seq, or None.

    ``events`` are ``(seq, event type, the event if an AuditRecorded)`` of the verified
    stream; every ``AuditRecorded`` must have exactly its row, and every row an
    ``AuditRecorded`` at its seq. With ``indexed_upto`` (the head when the rows were
    read, before the events), an event past it may lack its row: it came later.
    """
    types: dict[int, str] = {}
    audits: dict[int, AuditRecorded] = {}
    for seq, event_type, event in events:
        types[seq] = event_type
        if event is not None:
            audits[seq] = event
    by_seq = {row.seq: row for row in rows}
    for seq in sorted(audits.keys() | by_seq.keys()):
        row, event = by_seq.get(seq), audits.get(seq)
        kind = ProblemKind.AUDIT_LOG_MISMATCH
        if row is None:
            if indexed_upto is not None and seq > indexed_upto:
                continue
            return VerificationProblem(
                seq, kind, f"the audit_log row of the AuditRecorded at seq {seq} is missing"
            )
        if event is None:
            what = (
                f"the event at seq {seq} is a {types[seq]}"
                if seq in types
                else f"the verified stream has no event at seq {seq}"
            )
            return VerificationProblem(
                seq,
                kind,
                f"audit_log has a row at seq {seq} (action {row.action!r} by {row.actor!r}) but "
                f"{what}, not an AuditRecorded: the row was inserted",
            )
        for name in _AUDIT_FIELDS:
            stored, recorded = getattr(row, name), getattr(event, name)
            if stored != recorded:
                return VerificationProblem(
                    seq,
                    kind,
                    f"audit_log row at seq {seq} has {name} {stored!r} but the journal's "
                    f"AuditRecorded has {recorded!r}: the row was edited",
                )
        if row.ts_ns != event.ts_event:
            return VerificationProblem(
                seq,
                kind,
                f"audit_log row at seq {seq} has ts_ns {row.ts_ns} but the journal's "
                f"AuditRecorded has {event.ts_event}: the row was edited",
            )
    return None


class FillIndexRow(NamedTuple):
    """One ``journal_fills`` row of an account: a fill's venue, trade ID and seq."""

    venue: str
    trade_id: str
    seq: int


def check_fill_index(
    fills: Iterable[tuple[int, str, str]],
    rows: Iterable[FillIndexRow],
    last_seq: int,
    *,
    indexed_upto: int | None = None,
) -> VerificationProblem | None:
    """Compare an account's ``journal_fills`` rows with its verified fills; return the first
    difference by seq, or None.

    ``fills`` are ``(seq, venue, trade ID)`` of the ``OrderFilled`` events of the verified
    stream, which ends at ``last_seq``. With ``indexed_upto`` (the head when the rows
    were read, before the events), a fill past it may lack its row: it came later.
    """
    by_seq = {seq: (venue, trade_id) for seq, venue, trade_id in fills}
    indexed = sorted(rows, key=lambda row: row.seq)
    kind = ProblemKind.FILL_INDEX_MISMATCH
    past = [row for row in indexed if row.seq > last_seq]
    if past:
        return VerificationProblem(
            past[0].seq,
            kind,
            f"journal_fills records {len(past)} fill(s) past the end of the stream at seq "
            f"{last_seq}, the first {past[0].venue}/{past[0].trade_id} at seq {past[0].seq} "
            f"and the last at seq {past[-1].seq}: events were removed from the end",
        )
    seen = set()
    for row in indexed:
        found = by_seq.get(row.seq)
        if found != (row.venue, row.trade_id):
            what = "no fill" if found is None else f"the fill {found[0]}/{found[1]}"
            return VerificationProblem(
                row.seq,
                kind,
                f"journal_fills records the fill {row.venue}/{row.trade_id} at seq {row.seq}, "
                f"but the event there is {what}: the event was replaced",
            )
        seen.add(row.seq)
    for seq in sorted(by_seq.keys() - seen):
        if indexed_upto is not None and seq > indexed_upto:
            break
        venue, trade_id = by_seq[seq]
        return VerificationProblem(
            seq,
            kind,
            f"the fill {venue}/{trade_id} at seq {seq} has no journal_fills row: the event "
            f"was inserted",
        )
    return None
