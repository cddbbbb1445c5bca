"""The service starts on a fresh checkout, where the SQLite folder does not exist yet."""

from __future__ import annotations

from pathlib import Path

from alphintra.app.config import Settings
from alphintra.app.server import build_runtime


def test_build_runtime_missing_sqlite_folder_is_created_and_demo_seeded(tmp_path: Path) -> None:
    database = tmp_path / "var" / "nested" / "alphintra.db"
    assert not database.parent.exists()
    runtime = build_runtime(
        Settings(demo=True, database_url=f"sqlite:///{database}", market_data_dir=None), {}
    )
    try:
        assert database.exists()
        assert runtime.demo_key is not None and runtime.demo_key.startswith("alp_")
        assert "DEMO" in runtime.service.accounts
    finally:
        runtime.journal.close()
        runtime.directory.close()
