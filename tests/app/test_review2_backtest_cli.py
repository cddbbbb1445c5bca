"""``alphintra backtest`` errors: the exact text, one line, no traceback, JSON under --json."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from rich.progress import Progress

from alphintra.app import backtest_command
from alphintra.app.cli import main
from helpers.csv_rows import SPY_QUOTE
from helpers.market_data import market_data_dir

_SIGNAL = (
    '{"signalId": "s-1", "modelId": "m", "timestamp": "2013-10-07T14:01:00Z", '
    '"symbol": "SPY", "action": "BUY", "confidence": 0.5, "quantity": 10}\n'
)


def _argv(signals: Path, out: Path, *extra: str) -> list[str]:
    data = f"SPY={market_data_dir() / SPY_QUOTE}"
    return ["backtest", "--data", data, "--signals", str(signals), "--out", str(out), *extra]


@pytest.mark.parametrize("name", ["runs[/x].jsonl", "signals[red].jsonl", "[bold]s.jsonl"])
def test_backtest_error_naming_a_path_with_brackets_shows_it_verbatim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    signals = tmp_path / name
    code = main(_argv(signals, tmp_path / "out", "--quiet"))
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"error: {signals}: no such signal file\n"  # one line, not wrapped


def test_backtest_json_input_error_prints_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_argv(tmp_path / "missing.jsonl", tmp_path / "out", "--json"))
    captured = capsys.readouterr()
    assert code == 2
    document = json.loads(captured.out)
    assert "no such signal file" in document["error"]
    assert "error:" in captured.err


def test_backtest_unwritable_out_exits_1_with_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signals = tmp_path / "signals.jsonl"
    signals.write_text(_SIGNAL, encoding="utf-8")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    code = main(_argv(signals, blocker / "out", "--json"))
    captured = capsys.readouterr()
    assert code == 1
    assert f"cannot write the outputs to {blocker / 'out'}" in json.loads(captured.out)["error"]
    assert captured.err.strip().startswith("error:")
    assert "Traceback" not in captured.err


def test_backtest_json_success_stdout_is_exactly_one_json_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signals = tmp_path / "signals.jsonl"
    signals.write_text(_SIGNAL, encoding="utf-8")
    out = tmp_path / "runs[v2]"
    code = main(_argv(signals, out, "--json"))
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out)["orders"] == 1
    code = main(_argv(signals, out))
    assert code == 0
    assert f"-> {out}" in " ".join(capsys.readouterr().err.split())


def test_backtest_progress_bar_total_counts_every_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[float | None, float]] = []

    class Recording(Progress):
        def __exit__(self, *exc: object) -> None:
            seen.extend((task.total, task.completed) for task in self.tasks)
            super().__exit__(None, None, None)

    monkeypatch.setattr(backtest_command, "Progress", Recording)
    signals = tmp_path / "signals.jsonl"
    signals.write_text(_SIGNAL, encoding="utf-8")
    assert main(_argv(signals, tmp_path / "out")) == 0
    ((total, completed),) = seen
    assert completed == total  # the bar ends full, not at 200 %
    assert "Traceback" not in capsys.readouterr().err


def test_backtest_journal_holding_an_earlier_run_is_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signals = tmp_path / "signals.jsonl"
    signals.write_text(_SIGNAL, encoding="utf-8")
    database = tmp_path / "backtest.db"
    journal = f"sqlite:///{database}"
    assert main(_argv(signals, tmp_path / "one", "--quiet", "--journal", journal)) == 0
    before = _event_count(database)
    capsys.readouterr()
    code = main(_argv(signals, tmp_path / "two", "--json", "--journal", journal))
    captured = capsys.readouterr()
    assert code == 2
    assert "already holds" in json.loads(captured.out)["error"]
    assert "Traceback" not in captured.err
    assert _event_count(database) == before  # the first run's journal is left as it was
    assert not (tmp_path / "two").exists()


def _event_count(database: Path) -> int:
    conn = sqlite3.connect(database)
    try:
        ((count,),) = conn.execute("SELECT count(*) FROM journal_events").fetchall()
        return int(count)
    finally:
        conn.close()


def test_backtest_interrupted_exits_130_with_one_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(backtest_command, "run_backtest", interrupted)
    signals = tmp_path / "signals.jsonl"
    signals.write_text(_SIGNAL, encoding="utf-8")
    code = main(_argv(signals, tmp_path / "out", "--quiet"))
    err = capsys.readouterr().err
    assert code == 130
    assert err == "error: interrupted (backtest did not finish)\n"
