"""Fixtures for the robustness tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from robustness.harness import LiveService, build_service, record_venue_commands


@contextmanager
def _service(directory: Path) -> Iterator[LiveService]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        service = build_service(directory)
        record_venue_commands(service, monkeypatch)
        try:
            yield service
        finally:
            service.runtime.service.flush_all()
            service.runtime.journal.close()
            service.runtime.directory.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveService]:
    """Yield a fresh service whose venue commands are recorded."""
    with _service(tmp_path) as service:
        yield service


@pytest.fixture(scope="module")
def module_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """Yield one service for a whole module (tests compare its state before and after)."""
    with _service(tmp_path_factory.mktemp("service")) as service:
        yield service
