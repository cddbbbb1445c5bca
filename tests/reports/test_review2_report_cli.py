"""``alphintra report`` errors: no traceback, no password, JSON on stdout under --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphintra.app.cli import main


def test_report_unsupported_database_url_exits_2_without_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["report", "tca", "--database-url", "bogus://user:hunter2@host/db"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert "bogus" in err
    assert "hunter2" not in err


def test_report_database_error_does_not_print_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql://user:hunter2@127.0.0.1:1/db?connect_timeout=2"
    code = main(["report", "best-execution", "--database-url", url])
    err = capsys.readouterr().err
    assert code == 1
    assert "user:***@127.0.0.1" in err
    assert "hunter2" not in err


def test_report_json_error_is_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"garbage, not SQLite" * 100)
    code = main(["report", "tca", "--json", "--database-url", f"sqlite:///{corrupt}"])
    captured = capsys.readouterr()
    assert code == 1
    document = json.loads(captured.out)
    assert "cannot read execution_quality" in document["error"]
    assert document["exitCode"] == 1
    assert captured.err.startswith("error: ")


def test_report_json_missing_database_is_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.db"
    code = main(["report", "tca", "--json", "--database-url", f"sqlite:///{missing}"])
    captured = capsys.readouterr()
    assert code == 2
    assert str(missing) in json.loads(captured.out)["error"]
