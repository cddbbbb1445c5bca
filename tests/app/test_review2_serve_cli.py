"""``alphintra serve`` on a bad database: one error line and exit 1 or 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _serve(tmp_path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHINTRA_")}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "alphintra.app.cli", "serve", "--demo", "--port", "1"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_unsupported_database_url_exits_2_without_traceback(tmp_path: Path) -> None:
    done = _serve(tmp_path, "bogus://user:hunter2@host/db")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("error: ")]
    assert "bad database URL" in line
    assert "hunter2" not in done.stderr


def test_serve_corrupt_database_exits_1_without_traceback(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"garbage, not SQLite" * 100)
    done = _serve(tmp_path, f"sqlite:///{corrupt}")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("error: ")]
    assert "not a database" in line


def test_serve_database_folder_that_cannot_be_created_exits_1_without_traceback(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    done = _serve(tmp_path, f"sqlite:///{blocker / 'var' / 'alphintra.db'}")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("error: ")]
    assert "cannot start the service" in line
    assert str(blocker / "var") in line
