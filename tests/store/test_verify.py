"""The verifier: passes an untouched journal, catches every kind of tampering."""

from __future__ import annotations

import pytest

from alphintra.domain.identifiers import AccountId
from alphintra.store import verify, verify_all
from alphintra.store.verify import ProblemKind
from store.backends import Backend
from store.factories import every_event_type, fill, funded

A = AccountId("ACC-A")
B = AccountId("ACC-B")


def _five_events(backend: Backend) -> None:
    journal = backend.open()
    for n in range(1, 6):
        journal.append(funded(A, n))
    journal.append(funded(B, 1))
    journal.commit()


def test_verify_untouched_journal_passes(backend: Backend) -> None:
    journal = backend.open()
    for event in every_event_type(A):
        journal.append(event)
        journal.append(funded(B, 1))
        journal.commit()
    report = verify(backend.open(), A)
    assert report.ok, str(report)
    assert report.problem is None
    assert report.checked == len(every_event_type(A))
    assert report.head == journal.head(A)
    assert "OK" in str(report)
    assert [r.ok for r in verify_all(journal)] == [True, True]


def test_verify_empty_stream_passes(backend: Backend) -> None:
    report = verify(backend.open(), AccountId("nobody"))
    assert report.ok
    assert report.checked == 0
    assert report.head.seq == 0


def test_verify_edited_payload_detected(sql_backend: Backend) -> None:
    _five_events(sql_backend)
    sql_backend.allow_tampering()
    ((payload,),) = sql_backend.sql(
        "SELECT payload FROM journal_events WHERE account_id = ? AND seq = 3", A
    )
    forged = bytes(payload).replace(b'"amount":"3"', b'"amount":"3000"')
    assert forged != bytes(payload)
    sql_backend.sql(
        "UPDATE journal_events SET payload = ? WHERE account_id = ? AND seq = 3", forged, A
    )
    report = verify(sql_backend.open(), A)
    assert not report.ok
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (3, ProblemKind.HASH_MISMATCH)
    assert "AccountFunded payload" in report.problem.description
    assert report.head.seq == 2
    assert verify(sql_backend.open(), B).ok


def test_verify_deleted_event_detected(sql_backend: Backend) -> None:
    _five_events(sql_backend)
    sql_backend.allow_tampering()
    sql_backend.sql("DELETE FROM journal_events WHERE account_id = ? AND seq = 3", A)
    report = verify(sql_backend.open(), A)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (4, ProblemKind.SEQ_GAP)
    assert "expected seq 3" in report.problem.description
    assert "seq 3 missing" in report.problem.description


def test_verify_deleted_first_event_detected(sql_backend: Backend) -> None:
    _five_events(sql_backend)
    sql_backend.allow_tampering()
    sql_backend.sql("DELETE FROM journal_events WHERE account_id = ? AND seq = 1", A)
    report = verify(sql_backend.open(), A)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (2, ProblemKind.SEQ_GAP)


def test_verify_deleted_and_renumbered_detected(sql_backend: Backend) -> None:
    _five_events(sql_backend)
    sql_backend.allow_tampering()
    sql_backend.sql("DELETE FROM journal_events WHERE account_id = ? AND seq = 3", A)
    for seq in (4, 5):
        sql_backend.sql(
            "UPDATE journal_events SET seq = ? WHERE account_id = ? AND seq = ?", seq - 1, A, seq
        )
    report = verify(sql_backend.open(), A)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (3, ProblemKind.PREV_HASH_MISMATCH)


def test_verify_reordered_events_detected(sql_backend: Backend) -> None:
    _five_events(sql_backend)
    sql_backend.allow_tampering()
    swap = "UPDATE journal_events SET seq = ? WHERE account_id = ? AND seq = ?"
    sql_backend.sql(swap, 1000, A, 2)
    sql_backend.sql(swap, 2, A, 3)
    sql_backend.sql(swap, 3, A, 1000)
    report = verify(sql_backend.open(), A)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (2, ProblemKind.PREV_HASH_MISMATCH)
    assert "reordered" in report.problem.description


def test_verify_edited_hash_detected(sql_backend: Backend) -> None:
    _five_events(sql_backend)
    sql_backend.allow_tampering()
    sql_backend.sql(
        "UPDATE journal_events SET hash = ? WHERE account_id = ? AND seq = 4", b"\x01" * 32, A
    )
    report = verify(sql_backend.open(), A)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (4, ProblemKind.HASH_MISMATCH)
    assert ("01" * 32) in report.problem.description


def test_verify_consistent_rehash_detected_by_snapshot(sql_backend: Backend) -> None:
    """An attacker who rewrites an event and recomputes every later hash fools the chain,
    but not a snapshot taken before the rewrite."""
    from alphintra.store import chain_hash

    _five_events(sql_backend)
    journal = sql_backend.open()
    journal.save_snapshot(A, 4, b"state")
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
    report = verify(sql_backend.open(), A)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (4, ProblemKind.SNAPSHOT_MISMATCH)
    assert "rewritten" in report.problem.description


def test_verify_truncation_before_snapshot_detected(sql_backend: Backend) -> None:
    _five_events(sql_backend)
    journal = sql_backend.open()
    journal.save_snapshot(A, 5, b"state-at-5")
    sql_backend.allow_tampering()
    sql_backend.sql("DELETE FROM journal_events WHERE account_id = ? AND seq >= 4", A)
    report = verify(sql_backend.open(), A)
    assert report.problem is not None
    assert (report.problem.seq, report.problem.kind) == (5, ProblemKind.SNAPSHOT_MISMATCH)
    assert "events 4..5 were removed" in report.problem.description


def test_verify_tail_truncation_detected_by_expected_head(sql_backend: Backend) -> None:
    _five_events(sql_backend)
    head = sql_backend.open().head(A)
    sql_backend.allow_tampering()
    sql_backend.sql("DELETE FROM journal_events WHERE account_id = ? AND seq = 5", A)
    journal = sql_backend.open()
    assert verify(journal, A).ok  # the chain alone cannot see a removed tail
    report = verify(journal, A, expected_head=head)
    assert report.problem is not None
    assert report.problem.kind == ProblemKind.HEAD_MISMATCH
    assert "expected the stream to end at seq 5" in report.problem.description


def test_verify_payload_of_other_account_detected(sql_backend: Backend) -> None:
    """A row moved to another stream with a matching hash still decodes to the wrong account."""
    from alphintra.store import ZERO_HASH, chain_hash
    from alphintra.store.codec import encode_event

    journal = sql_backend.open()
    journal.append(funded(A, 1))
    journal.commit()
    sql_backend.allow_tampering()
    payload = encode_event(funded(B, 1))
    digest = chain_hash(ZERO_HASH, A, 1, "AccountFunded", payload)
    sql_backend.sql(
        "UPDATE journal_events SET payload = ?, hash = ? WHERE account_id = ? AND seq = 1",
        payload,
        digest,
        A,
    )
    report = verify(sql_backend.open(), A)
    assert report.problem is not None
    assert report.problem.kind == ProblemKind.BAD_PAYLOAD
    assert "belongs to account 'ACC-B'" in report.problem.description


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_events SET payload = payload WHERE account_id = ?",
        "DELETE FROM journal_events WHERE account_id = ?",
        "DELETE FROM journal_fills WHERE account_id = ?",
    ],
)
def test_store_append_only_guard_refuses_change(sql_backend: Backend, statement: str) -> None:
    journal = sql_backend.open()
    journal.append(fill(A, "T-1"))
    journal.commit()
    with pytest.raises(Exception, match="append-only"):
        sql_backend.sql(statement, A)
    assert verify(journal, A).ok
