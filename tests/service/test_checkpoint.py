"""The WAL checkpointer copies the journal's log into the database from a worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from alphintra.service.checkpoint import WalCheckpointer, sqlite_path
from alphintra.store.journal import open_journal


def _writer(path: Path) -> sqlite3.Connection:
    """A writer in WAL mode that never checkpoints by itself."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER PRIMARY KEY, text TEXT)")
    return conn


def _write(conn: sqlite3.Connection, start: int, count: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?)", [(n, "x" * 200) for n in range(start, start + count)]
    )
    conn.execute("COMMIT")


def test_checkpoint_copies_every_committed_frame_and_keeps_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    writer = _writer(path)
    try:
        _write(writer, 0, 500)
        checkpointer = WalCheckpointer(path)
        logged, copied = checkpointer.checkpoint()
        assert logged > 0 and copied == logged
        assert checkpointer.frames_copied == copied
        # Nothing is lost: a fresh reader sees every row, and writing goes on.
        _write(writer, 500, 10)
        checkpointer.close()
        with sqlite3.connect(path) as reader:
            assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 510
    finally:
        writer.close()


@pytest.mark.asyncio
async def test_checkpointer_runs_beside_a_journal_until_cancelled(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    journal = open_journal(f"sqlite:///{path}")
    writer = _writer(path)  # more log for the checkpointer, beside the journal's own
    checkpointer = WalCheckpointer(path, interval_s=0.01)
    task = asyncio.create_task(checkpointer.run())
    try:
        for batch in range(20):
            _write(writer, batch * 100, 100)
            while checkpointer.checkpoints <= batch:  # one checkpoint after each write
                await asyncio.sleep(0.01)
        assert checkpointer.frames_copied > 0
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        writer.close()
        journal.close()
    assert checkpointer.checkpoint()[0] >= 0  # usable again after the task ended
    checkpointer.close()


def test_sqlite_path_of_sqlite_urls_only() -> None:
    assert sqlite_path("sqlite:///var/alphintra.db") == Path("var/alphintra.db")
    assert sqlite_path("sqlite:////abs/a.db?synchronous=FULL") == Path("/abs/a.db")
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u@h/db") is None


def test_checkpointer_interval_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="interval_s must be positive, got 0"):
        WalCheckpointer(tmp_path / "a.db", interval_s=0)
