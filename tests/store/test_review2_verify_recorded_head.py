"""`verify` against a head recorded earlier: the stream may grow, never shrink or change."""

from __future__ import annotations

from alphintra.domain.identifiers import AccountId
from alphintra.store import chain_hash, verify
from alphintra.store.verify import ProblemKind
from store.backends import Backend
from store.factories import funded

A = AccountId("ACC-A")


def _events(backend: Backend, first: int, last: int) -> None:
    journal = backend.open()
    for n in range(first, last + 1):
        journal.append(funded(A, n))
    journal.commit()


def test_verify_recorded_head_grown_stream_passes(sql_backend: Backend) -> None:
    _events(sql_backend, 1, 3)
    head = sql_backend.open().head(A)
    _events(sql_backend, 4, 5)
    report = verify(sql_backend.open(), A, recorded_head=head)
    assert report.ok, str(report)
    assert report.head.seq == 5


def test_verify_recorded_head_cut_tail_detected(sql_backend: Backend) -> None:
    _events(sql_backend, 1, 5)
    head = sql_backend.open().head(A)
    sql_backend.allow_tampering()
    sql_backend.sql("DELETE FROM journal_events WHERE account_id = ? AND seq >= 4", A)
    report = verify(sql_backend.open(), A, recorded_head=head)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (3, ProblemKind.HEAD_MISMATCH)
    assert "events 4..5 were removed" in report.problem.description


def test_verify_recorded_head_consistent_rewrite_detected(sql_backend: Backend) -> None:
    """A rewrite with every later hash recomputed fools the chain, not a recorded head."""
    _events(sql_backend, 1, 5)
    journal = sql_backend.open()
    head = journal.head(A)
    sql_backend.allow_tampering()
    prev = None
    for row in list(journal.read_rows(A)):
        payload = row.payload.replace(b'"amount":"2"', b'"amount":"2000"')
        prev_hash = row.prev_hash if prev is None else prev
        new_hash = chain_hash(prev_hash, A, row.seq, row.event_type, payload)
        sql_backend.sql(
            "UPDATE journal_events SET payload = ?, prev_hash = ?, hash = ?"
            " WHERE account_id = ? AND seq = ?",
            payload,
            prev_hash,
            new_hash,
            A,
            row.seq,
        )
        prev = new_hash
    assert verify(sql_backend.open(), A).ok
    report = verify(sql_backend.open(), A, recorded_head=head)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (5, ProblemKind.HEAD_MISMATCH)
    assert "rewritten" in report.problem.description
