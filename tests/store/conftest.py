"""The ``backend`` fixture: each journal test runs against memory, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from store.backends import Backend, make_backend, with_search_path

BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """Yield a URL on a fresh, empty schema of the session's PostgreSQL server."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(postgres_url, schema)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Yield an empty journal store of each kind: memory, sqlite, postgres."""
    made = make_backend(str(request.param), request, tmp_path)
    yield made
    made.close()


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Yield an empty SQL journal store (sqlite, postgres), for raw-SQL tampering."""
    made = make_backend(str(request.param), request, tmp_path)
    yield made
    made.close()
