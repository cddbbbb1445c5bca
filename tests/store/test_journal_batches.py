"""Batches that mix streams, heads between commits, and reads that overlap a commit."""

from __future__ import annotations

from alphintra.domain.identifiers import AccountId
from alphintra.store import ZERO_HASH, DuplicateFillError, StreamHead, chain_hash, verify
from alphintra.store.codec import encode_event
from store.backends import Backend
from store.factories import fill, funded

A = AccountId("ACC-A")
B = AccountId("ACC-B")
C = AccountId("ACC-C")


def test_journal_interleaved_accounts_in_one_batch_each_stream_chained(backend: Backend) -> None:
    journal = backend.open()
    order = [A, B, A, C, B, A, A, C]
    for n, account in enumerate(order):
        journal.append(funded(account, n))
    assert journal.commit() == {A: 4, B: 2, C: 2}
    reader = backend.open()
    for account in (A, B, C):
        expected = [n for n, a in enumerate(order) if a == account]
        records = list(reader.read(account))
        assert [r.seq for r in records] == list(range(1, len(expected) + 1))
        assert [r.event for r in records] == [funded(account, n) for n in expected]
        prev = ZERO_HASH
        for record in records:
            assert record.prev_hash == prev
            payload = encode_event(record.event)
            assert record.hash == chain_hash(prev, account, record.seq, "AccountFunded", payload)
            prev = record.hash
        assert reader.head(account) == StreamHead(len(expected), prev)
        assert verify(reader, account).ok


def test_journal_head_after_commits_is_stream_head_with_fields(backend: Backend) -> None:
    journal = backend.open()
    assert journal.head(A) == StreamHead(0, ZERO_HASH)
    journal.append(funded(A, 0))
    journal.append(funded(A, 1))
    journal.commit()
    head = journal.head(A)
    assert type(head) is StreamHead
    assert head.seq == 2
    assert head.hash == list(journal.read(A))[-1].hash
    journal.append(funded(A, 2))
    assert journal.head(A).seq == 2, "a buffered event does not move the durable head"
    journal.commit()
    assert journal.head(A).seq == 3


def test_journal_one_stream_batch_after_other_stream_continues_chain(backend: Backend) -> None:
    journal = backend.open()
    journal.append(funded(A, 0))
    journal.append(funded(B, 0))
    journal.commit()
    for n in range(1, 4):
        journal.append(funded(A, n))
    assert journal.commit() == {A: 4}
    journal.append(funded(B, 1))
    journal.append(funded(A, 4))
    assert journal.commit() == {B: 2, A: 5}
    assert [r.seq for r in journal.read(A, after_seq=3)] == [4, 5]
    assert verify(journal, A).ok
    assert verify(journal, B).ok


def test_journal_duplicate_fill_across_accounts_batch_rolls_back_all(backend: Backend) -> None:
    journal = backend.open()
    journal.append(fill(A, "T-1"))
    journal.commit()
    journal.append(funded(B, 0))
    journal.append(fill(A, "T-1", n=1))
    journal.append(fill(B, "T-1"))
    try:
        journal.commit()
    except DuplicateFillError as exc:
        assert exc.account_id == A
        assert exc.existing_seq == 1
    else:
        raise AssertionError("a fill already journaled for the account was accepted")
    assert list(journal.read(B)) == []
    assert journal.head(A).seq == 1
    journal.append(fill(B, "T-1"))
    assert journal.commit() == {B: 1}


def test_memory_journal_read_started_before_commit_sees_no_later_events() -> None:
    from alphintra.store.memory import MemoryJournal

    journal = MemoryJournal()
    for n in range(3):
        journal.append(funded(A, n))
    journal.commit()
    reading = journal.read_rows(A, after_seq=1)
    first = next(reading)
    journal.append(funded(A, 3))
    journal.commit()
    rest = list(reading)
    assert [first.seq, *(row.seq for row in rest)] == [2, 3]
    assert [row.seq for row in journal.read_rows(A)] == [1, 2, 3, 4]
    assert list(journal.read_rows(A, after_seq=9)) == []
    assert list(journal.read_rows(AccountId("NOBODY"))) == []
