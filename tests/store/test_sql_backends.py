"""Backend specifics: SQLite pragmas and URLs, PostgreSQL URLs and connection errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from alphintra.domain.identifiers import AccountId
from alphintra.store import JournalError, JournalUrlError, open_journal, verify
from alphintra.store.postgres import PostgresJournal, libpq_url
from alphintra.store.sqlite import SqliteJournal
from store.factories import funded

A = AccountId("ACC-A")


def test_sqlite_journal_uses_wal_and_normal_sync_by_default(tmp_path: Path) -> None:
    journal = open_journal(f"sqlite:///{tmp_path}/j.db")
    assert isinstance(journal, SqliteJournal)
    assert journal.synchronous == "NORMAL"
    conn = sqlite3.connect(tmp_path / "j.db")
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"journal_events", "journal_fills", "journal_snapshots", "journal_meta"} <= tables
    conn.close()
    journal.close()


def test_none_binds_as_null_through_the_registered_adapter() -> None:
    assert (type(None), sqlite3.PrepareProtocol) in sqlite3.adapters
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(None, 1), (None, None)])
    assert conn.execute("SELECT count(*) FROM t WHERE a IS NULL").fetchone() == (2,)
    assert conn.execute("SELECT b, typeof(b) FROM t ORDER BY rowid").fetchall() == [
        (1, "integer"),
        (None, "null"),
    ]
    conn.close()


def _events_layout(path: Path) -> tuple[str, list[str]]:
    conn = sqlite3.connect(path)
    sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'journal_events'"
    ).fetchone()[0]
    indexes = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'journal_events'"
        )
    ]
    conn.close()
    return sql, indexes


def test_sqlite_journal_events_rowid_table_refuses_a_second_event_at_one_seq(
    tmp_path: Path,
) -> None:
    journal = SqliteJournal(tmp_path / "j.db")
    journal.append(funded(A, 1))
    journal.commit()
    sql, indexes = _events_layout(tmp_path / "j.db")
    assert "WITHOUT ROWID" not in sql.upper()
    assert "journal_events_stream_seq" in indexes
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        journal._conn.execute(
            "INSERT INTO journal_events (account_id, seq, event_type, payload, prev_hash, hash)"
            " VALUES (?, 1, 'x', x'00', x'00', x'00')",
            (A,),
        )
    journal.close()


def test_sqlite_journal_keeps_an_earlier_without_rowid_layout(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE journal_events (account_id TEXT NOT NULL, seq INTEGER NOT NULL"
        " CHECK (seq >= 1), event_type TEXT NOT NULL, payload BLOB NOT NULL,"
        " prev_hash BLOB NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (account_id, seq))"
        " WITHOUT ROWID"
    )
    conn.commit()
    conn.close()
    journal = SqliteJournal(path)
    for k in range(1, 4):
        journal.append(funded(A, k))
    journal.commit()
    journal.close()
    sql, indexes = _events_layout(path)
    assert "WITHOUT ROWID" in sql.upper()
    assert indexes == []  # the primary key is the index; no second one was added
    reopened = SqliteJournal(path)
    assert [row.seq for row in reopened.read_rows(A)] == [1, 2, 3]
    assert verify(reopened, A).ok
    reopened.close()


def test_sqlite_journal_url_synchronous_full_accepted(tmp_path: Path) -> None:
    journal = open_journal(f"sqlite:///{tmp_path}/j.db?synchronous=full")
    assert isinstance(journal, SqliteJournal)
    assert journal.synchronous == "FULL"
    assert journal._conn.execute("PRAGMA synchronous").fetchone() == (2,)
    journal.close()


def test_sqlite_journal_url_relative_path_is_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    journal = open_journal("sqlite:///sub.db")
    journal.append(funded(A, 1))
    journal.commit()
    journal.close()
    assert (tmp_path / "sub.db").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "sqlite:///x.db?synchronous=OFF",
            "synchronous must be one of NORMAL, FULL, EXTRA, got 'OFF'",
        ),
        ("sqlite:///x.db?cache=big", "unknown SQLite journal URL option 'cache'"),
        ("sqlite://host/x.db", "must look like sqlite:///path/to/file.db"),
        ("sqlite://", "must look like sqlite:///path|has no file path"),
    ],
)
def test_sqlite_journal_bad_url_raises_naming_value(
    url: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(JournalError, match=message):
        open_journal(url)


def test_sqlite_journal_unwritable_path_raises_naming_path(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="cannot open SQLite journal"):
        open_journal(f"sqlite:///{tmp_path}/missing-dir/j.db")


def test_sqlite_journal_not_a_database_raises_naming_path(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_bytes(b"this is not a database, " * 100)
    with pytest.raises(
        JournalError, match=r"cannot open SQLite journal .*notes\.db.*not a database"
    ):
        open_journal(f"sqlite:///{tmp_path}/notes.db")


def test_sqlite_journal_other_storage_format_refused(tmp_path: Path) -> None:
    open_journal(f"sqlite:///{tmp_path}/j.db").close()
    conn = sqlite3.connect(tmp_path / "j.db", isolation_level=None)
    conn.execute("UPDATE journal_meta SET value = 'alphintra-journal/99'")
    conn.close()
    with pytest.raises(JournalError, match="storage format 'alphintra-journal/99'"):
        open_journal(f"sqlite:///{tmp_path}/j.db")


def test_libpq_url_normalises_sqlalchemy_scheme() -> None:
    assert libpq_url("postgresql+psycopg://u:p@h:5/db?sslmode=require") == (
        "postgresql://u:p@h:5/db?sslmode=require"
    )
    with pytest.raises(JournalUrlError, match="got 'mysql://u:\\*\\*\\*@h/db'"):
        libpq_url("mysql://u:secret@h/db")


@pytest.mark.postgres
def test_postgres_journal_sqlalchemy_style_url_opens(postgres_schema_url: str) -> None:
    url = postgres_schema_url.replace("postgresql://", "postgresql+psycopg://", 1)
    journal = open_journal(url)
    assert isinstance(journal, PostgresJournal)
    journal.append(funded(A, 1))
    journal.commit()
    assert verify(journal, A).ok
    journal.close()


def test_postgres_journal_unreachable_server_raises_without_password(tmp_path: Path) -> None:
    url = f"postgresql://user:hunter2@/db?host={tmp_path}&connect_timeout=2"
    with pytest.raises(JournalError, match="cannot connect to the PostgreSQL journal") as caught:
        open_journal(url)
    assert "hunter2" not in str(caught.value)
