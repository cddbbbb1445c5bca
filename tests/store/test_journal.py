"""The journal on every backend: group commit, reading, heads, snapshots, fill dedupe."""

from __future__ import annotations

import pytest

from alphintra.domain.identifiers import AccountId
from alphintra.store import (
    ZERO_HASH,
    DuplicateFillError,
    JournalConflictError,
    JournalError,
    SnapshotError,
    chain_hash,
    open_journal,
    verify,
)
from alphintra.store.codec import EventEncodeError, encode_event
from alphintra.store.memory import MemoryJournal
from store.backends import Backend
from store.factories import every_event_type, fill, funded

A = AccountId("ACC-A")
B = AccountId("ACC-B")


def test_journal_append_assigns_consecutive_seqs_per_account(backend: Backend) -> None:
    journal = backend.open()
    assert [journal.append(funded(A, n)) for n in range(3)] == [1, 2, 3]
    assert journal.append(funded(B, 0)) == 1
    assert journal.append(funded(A, 3)) == 4
    assert journal.pending == 5


def test_journal_commit_returns_new_head_seq_per_account(backend: Backend) -> None:
    journal = backend.open()
    assert journal.commit() == {}
    for n in range(3):
        journal.append(funded(A, n))
    journal.append(funded(B, 0))
    assert journal.commit() == {A: 3, B: 1}
    assert journal.pending == 0
    journal.append(funded(B, 1))
    assert journal.commit() == {B: 2}


def test_journal_every_event_type_round_trips_through_store(backend: Backend) -> None:
    events = every_event_type(A)
    journal = backend.open()
    for event in events:
        journal.append(event)
    journal.commit()
    reader = backend.open()
    records = list(reader.read(A))
    assert [r.event for r in records] == events
    assert [r.seq for r in records] == list(range(1, len(events) + 1))
    assert [type(r.event) for r in records] == [type(e) for e in events]


def test_journal_hashes_chain_from_zero_hash_as_documented(backend: Backend) -> None:
    journal = backend.open()
    journal.append(funded(A, 1))
    journal.append(funded(A, 2))
    journal.commit()
    first, second = list(journal.read(A))
    assert first.prev_hash == ZERO_HASH
    assert first.hash == chain_hash(ZERO_HASH, A, 1, "AccountFunded", encode_event(funded(A, 1)))
    assert second.prev_hash == first.hash
    assert second.hash == chain_hash(first.hash, A, 2, "AccountFunded", encode_event(funded(A, 2)))
    assert journal.head(A) == (2, second.hash)


def test_journal_hashes_identical_on_every_backend(backend: Backend) -> None:
    reference = MemoryJournal()
    journal = backend.open()
    for event in every_event_type(A):
        reference.append(event)
        journal.append(event)
    reference.commit()
    journal.commit()
    assert list(journal.read_rows(A)) == list(reference.read_rows(A))


def test_journal_uncommitted_events_invisible_to_other_connection(backend: Backend) -> None:
    writer = backend.open()
    reader = backend.open()
    writer.append(funded(A, 1))
    writer.commit()
    writer.append(funded(A, 2))
    writer.append(funded(B, 1))
    assert [r.seq for r in reader.read(A)] == [1]
    assert list(reader.read(B)) == []
    assert reader.accounts() == [A]
    writer.commit()
    assert [r.seq for r in reader.read(A)] == [1, 2]
    assert [r.seq for r in reader.read(B)] == [1]
    assert reader.accounts() == [A, B]


def test_journal_discard_drops_buffer_and_rewinds_seq(backend: Backend) -> None:
    journal = backend.open()
    journal.append(funded(A, 1))
    journal.commit()
    journal.append(funded(A, 2))
    journal.append(funded(A, 3))
    assert journal.discard() == 2
    assert journal.commit() == {}
    assert journal.append(funded(A, 2)) == 2
    journal.commit()
    assert [r.event for r in journal.read(A)] == [funded(A, 1), funded(A, 2)]


def test_journal_read_after_seq_skips_earlier_events(backend: Backend) -> None:
    journal = backend.open()
    for n in range(1, 8):
        journal.append(funded(A, n))
    journal.commit()
    assert [r.seq for r in journal.read(A, after_seq=4)] == [5, 6, 7]
    assert list(journal.read(A, after_seq=7)) == []
    assert list(journal.read(AccountId("nobody"))) == []


def test_journal_read_spans_many_pages_in_order(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = backend.open()
    monkeypatch.setattr(type(journal), "PAGE_SIZE", 3, raising=False)
    for n in range(1, 11):
        journal.append(funded(A, n))
    journal.commit()
    assert [r.event.ts_event for r in journal.read(A)] == [
        funded(A, n).ts_event for n in range(1, 11)
    ]


def test_journal_reopen_recovers_head_and_continues_chain(backend: Backend) -> None:
    journal = backend.open()
    for n in range(1, 4):
        journal.append(funded(A, n))
    journal.commit()
    journal.append(funded(A, 99))  # never committed
    journal.close()
    reopened = backend.open()
    head = reopened.head(A)
    assert head.seq == 3
    assert reopened.append(funded(A, 4)) == 4
    reopened.commit()
    report = verify(reopened, A)
    assert report.ok, str(report)
    assert report.checked == 4
    assert reopened.head(B) == (0, ZERO_HASH)


def test_journal_append_non_event_raises_naming_type(backend: Backend) -> None:
    journal = backend.open()
    with pytest.raises(EventEncodeError, match="cannot journal a str"):
        journal.append("AccountFunded")  # type: ignore[arg-type]
    assert journal.pending == 0


def test_journal_append_empty_account_raises(backend: Backend) -> None:
    journal = backend.open()
    with pytest.raises(JournalError, match="non-empty string, got ''"):
        journal.append(funded("", 1))


def test_journal_second_writer_same_stream_conflicts_and_rolls_back(sql_backend: Backend) -> None:
    first = sql_backend.open()
    second = sql_backend.open()
    assert first.head(A).seq == 0
    assert second.head(A).seq == 0
    first.append(funded(A, 1))
    first.commit()
    second.append(funded(A, 100))
    second.append(funded(B, 100))
    with pytest.raises(JournalConflictError, match="'ACC-A' from seq 1"):
        second.commit()
    assert list(first.read(B)) == []
    # After the conflict the second writer re-reads the head and can continue.
    assert second.append(funded(A, 2)) == 2
    second.commit()
    assert verify(first, A).ok


# -- duplicate fills ----------------------------------------------------------------


def test_journal_duplicate_fill_rejected_and_batch_rolled_back(backend: Backend) -> None:
    journal = backend.open()
    journal.append(funded(A, 1))
    journal.append(fill(A, "T-1"))
    journal.commit()
    journal.append(funded(A, 3))
    journal.append(funded(B, 1))
    journal.append(fill(A, "T-1", n=5))
    with pytest.raises(DuplicateFillError) as caught:
        journal.commit()
    error = caught.value
    assert (error.account_id, error.venue, error.trade_id, error.existing_seq) == (
        A,
        "SIM",
        "T-1",
        2,
    )
    assert "venue 'SIM' trade id 'T-1' is already journaled at seq 2" in str(error)
    assert "batch of 3 event(s) was rolled back" in str(error)
    assert journal.pending == 0
    reader = backend.open()
    assert [r.seq for r in reader.read(A)] == [1, 2]
    assert list(reader.read(B)) == []
    assert journal.head(A).seq == 2
    # The journal carries on from the durable head.
    assert journal.append(funded(A, 3)) == 3
    journal.commit()
    assert verify(reader, A).ok


def test_journal_duplicate_fill_in_large_batch_rejected(backend: Backend) -> None:
    journal = backend.open()
    journal.append(fill(A, "T-1"))
    journal.commit()
    for n in range(100):  # large enough for PostgreSQL's COPY path
        journal.append(fill(A, f"T-{n + 2}"))
    journal.append(fill(A, "T-1"))
    for n in range(100):
        journal.append(funded(A, n))
    with pytest.raises(DuplicateFillError, match="'T-1' is already journaled at seq 1"):
        journal.commit()
    assert [r.seq for r in backend.open().read(A)] == [1]
    for n in range(100):
        journal.append(fill(A, f"T-{n + 2}"))
    assert journal.commit() == {A: 101}


def test_journal_duplicate_fill_within_batch_rejected(backend: Backend) -> None:
    journal = backend.open()
    journal.append(fill(A, "T-7"))
    journal.append(fill(A, "T-7"))
    with pytest.raises(DuplicateFillError, match="'T-7' appears twice in the batch"):
        journal.commit()
    assert list(backend.open().read(A)) == []
    assert journal.append(fill(A, "T-7")) == 1


def test_journal_same_trade_id_other_venue_or_account_accepted(backend: Backend) -> None:
    journal = backend.open()
    journal.append(fill(A, "T-1", venue="SIM"))
    journal.append(fill(A, "T-1", venue="BINANCE"))
    journal.append(fill(B, "T-1", venue="SIM"))
    assert journal.commit() == {A: 2, B: 1}


# -- snapshots ----------------------------------------------------------------------


def test_journal_snapshot_load_returns_latest(backend: Backend) -> None:
    journal = backend.open()
    assert journal.load_snapshot(A) is None
    for n in range(1, 6):
        journal.append(funded(A, n))
    journal.commit()
    journal.save_snapshot(A, 2, b"state-at-2")
    journal.save_snapshot(A, 4, b"state-at-4")
    journal.save_snapshot(A, 3, b"state-at-3")
    reader = backend.open()
    assert reader.load_snapshot(A) == (4, b"state-at-4")
    assert reader.load_snapshot(B) is None
    assert [s.seq for s in reader.snapshots(A)] == [2, 3, 4]
    hashes = {r.seq: r.hash for r in reader.read(A)}
    assert all(s.event_hash == hashes[s.seq] for s in reader.snapshots(A))
    # Replay resumes after the snapshot.
    assert [r.seq for r in reader.read(A, after_seq=4)] == [5]


def test_journal_snapshot_same_seq_replaces_state(backend: Backend) -> None:
    journal = backend.open()
    journal.append(funded(A, 1))
    journal.commit()
    journal.save_snapshot(A, 1, b"old")
    journal.save_snapshot(A, 1, b"new")
    assert journal.load_snapshot(A) == (1, b"new")
    assert len(journal.snapshots(A)) == 1


def test_journal_snapshot_of_uncommitted_event_raises(backend: Backend) -> None:
    journal = backend.open()
    journal.append(funded(A, 1))
    journal.commit()
    journal.append(funded(A, 2))
    with pytest.raises(SnapshotError, match=r"at seq 2: no durable event.*head is seq 1"):
        journal.save_snapshot(A, 2, b"state")
    with pytest.raises(SnapshotError, match="positive int, got 0"):
        journal.save_snapshot(A, 0, b"state")
    assert journal.load_snapshot(A) is None


# -- opening ------------------------------------------------------------------------


def test_open_journal_unknown_scheme_raises_naming_scheme() -> None:
    with pytest.raises(JournalError, match=r"unsupported journal URL scheme 'mysql'.*expected"):
        open_journal("mysql://user:secret@host/db")


def test_open_journal_error_redacts_password() -> None:
    with pytest.raises(JournalError) as caught:
        open_journal("redis://user:hunter2@host/db")
    assert "hunter2" not in str(caught.value)
    assert "user:***@host" in str(caught.value)


def test_open_journal_memory_is_new_and_empty() -> None:
    first = open_journal("memory://")
    first.append(funded(A, 1))
    first.commit()
    assert isinstance(first, MemoryJournal)
    assert open_journal("memory://").accounts() == []
    with pytest.raises(JournalError, match="takes no path"):
        open_journal("memory://somewhere")


def test_journal_accounts_lists_every_stream_sorted(backend: Backend) -> None:
    journal = backend.open()
    names = ["zeta", "alpha", "m-1", "m-10", "m-2", "Ärger", "b"]
    for i, name in enumerate(names):
        for n in range(i % 3 + 1):
            journal.append(funded(name, n))
    journal.commit()
    assert backend.open().accounts() == sorted(names)


def test_journal_read_negative_after_seq_raises_naming_value(backend: Backend) -> None:
    with pytest.raises(ValueError, match="non-negative int, got -1"):
        list(backend.open().read(A, after_seq=-1))
