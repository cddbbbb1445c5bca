"""Journal stores under test, with raw SQL access so tests can tamper with them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from alphintra.store import Journal, open_journal
from alphintra.store.memory import MemoryJournal


@dataclass
class Backend:
    """One journal store under test, with raw SQL access for tampering."""

    name: str
    url: str
    memory: MemoryJournal | None = None
    opened: list[Journal] = field(default_factory=list)

    def open(self) -> Journal:
        """Open a new connection to the store (the one shared journal for memory)."""
        if self.memory is not None:
            return self.memory
        journal = open_journal(self.url)
        self.opened.append(journal)
        return journal

    def sql(self, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement on a fresh connection (``?`` placeholders); return its rows."""
        if self.name == "sqlite":
            path = urlsplit(self.url).path[1:]
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                cursor = conn.execute(statement, params)
                return cursor.fetchall() if cursor.description else []
            finally:
                conn.close()
        assert self.name == "postgres", f"no raw SQL for the {self.name} backend"
        with psycopg.connect(self.url, autocommit=True) as pg:
            cur = pg.execute(statement.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []

    def allow_tampering(self) -> None:
        """Remove the append-only guards, as an administrator with raw access could."""
        if self.name == "sqlite":
            for trigger in (
                "events_no_update",
                "events_no_delete",
                "fills_no_update",
                "fills_no_delete",
            ):
                self.sql(f"DROP TRIGGER IF EXISTS journal_{trigger}")
        else:
            self.sql("ALTER TABLE journal_events DISABLE TRIGGER USER")
            self.sql("ALTER TABLE journal_fills DISABLE TRIGGER USER")

    def close(self) -> None:
        """Close every journal this backend opened."""
        for journal in self.opened:
            journal.close()


def with_search_path(url: str, schema: str) -> str:
    """Return a libpq URL whose connections use ``schema`` first."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query), ("options", f"-csearch_path={schema}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Build the named backend, on an empty store."""
    if name == "memory":
        return Backend(name, "memory://", memory=MemoryJournal())
    if name == "sqlite":
        return Backend(name, f"sqlite:///{tmp_path / 'journal.db'}")
    if name == "postgres":
        return Backend(name, request.getfixturevalue("postgres_schema_url"))
    raise AssertionError(f"unknown backend {name!r}")
