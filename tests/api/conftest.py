"""Fixtures of the end-to-end API tests: each test gets its own database of each kind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from api.live import Deployment, LiveService
from helpers.market_data import market_data_dir
from store.backends import with_search_path

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alphintra.db'}"
        return
    server: str = request.getfixturevalue("postgres_url")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(server, schema)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def deployment(database_url: str) -> Iterator[Deployment]:
    """Yield a deployment with seeded users on the test's database; stop it afterwards."""
    made = Deployment(database_url, market_data_dir())
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def live(deployment: Deployment) -> LiveService:
    """Return the service running on the deployment."""
    return deployment.start()
