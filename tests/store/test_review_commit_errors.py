"""A commit the database refuses for any reason raises ``JournalError``.

The service stops an account on a ``JournalError`` from a commit (fail-stop: its state
then holds events the journal does not, and the commands behind them must not go out).
A storage failure other than a constraint (a locked database, a full disk, a lost
connection) used to escape as the driver's own exception: the account went on, and
its next commit, of an empty buffer, reported success, so the venue commands waiting
on the discarded events were released (the write-ahead rule broken).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from alphintra.domain.identifiers import AccountId
from alphintra.store import JournalError
from alphintra.store.sqlite import SqliteJournal
from store.factories import funded

A = AccountId("ACC-A")


def test_sqlite_commit_on_a_locked_database_raises_journal_error(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal = SqliteJournal(path, busy_timeout_s=0.05)
    journal.append(funded(A, 1))
    assert journal.commit() == {A: 1}
    durable = journal.head(A)
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        journal.append(funded(A, 2))
        with pytest.raises(JournalError) as raised:
            journal.commit()
        assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    # Nothing of the batch is stored, the buffer is gone, the head is the durable one.
    assert journal.pending == 0
    assert journal.head(A) == durable
    assert [row.seq for row in journal.read_rows(A)] == [1]
    journal.append(funded(A, 3))
    assert journal.commit() == {A: 2}
    journal.close()
