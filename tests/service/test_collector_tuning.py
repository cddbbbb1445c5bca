"""While the service runs, start-up objects are frozen and young collections are rarer."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from alphintra.app.config import Settings
from alphintra.app.server import GC_GEN0_THRESHOLD, Runtime, build_runtime


def _runtime(path: Path) -> Runtime:
    return build_runtime(
        Settings(demo=True, database_url=f"sqlite:///{path}", market_data_dir=None), {}
    )


@pytest.mark.asyncio
async def test_lifespan_collector_tuned_while_serving_and_restored_after(tmp_path: Path) -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    runtime = _runtime(tmp_path / "a.db")
    try:
        async with runtime.app.router.lifespan_context(runtime.app):
            assert gc.get_threshold()[0] == max(before[0], GC_GEN0_THRESHOLD)
            assert gc.get_threshold()[1:] == before[1:]
            assert gc.get_freeze_count() > 0
            # The service still collects cycles made while it runs.
            cycle: list[object] = []
            cycle.append(cycle)
            del cycle
            assert gc.collect() >= 1
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
    finally:
        runtime.journal.close()
        runtime.directory.close()


@pytest.mark.asyncio
async def test_lifespan_two_services_in_one_process_last_one_restores(tmp_path: Path) -> None:
    before = gc.get_threshold()
    first, second = _runtime(tmp_path / "a.db"), _runtime(tmp_path / "b.db")
    try:
        async with first.app.router.lifespan_context(first.app):
            async with second.app.router.lifespan_context(second.app):
                assert gc.get_threshold()[0] == max(before[0], GC_GEN0_THRESHOLD)
            assert gc.get_threshold()[0] == max(before[0], GC_GEN0_THRESHOLD)
            assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() == 0
    finally:
        for runtime in (first, second):
            runtime.journal.close()
            runtime.directory.close()
