"""``alphintra report`` and the daily report task, on a database the service filled.

The database holds the day of ``test_recording``: a market buy of 2 at 2026-09-21
08:40:00 UTC and a market sell of 1 twenty seconds later, both on the SIM venue.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.app.cli import main
from alphintra.reports.build import day_bounds
from alphintra.reports.queries import ReportStore
from alphintra.reports.schedule import DailyReports
from alphintra.store.migrate import upgrade
from reports.desk import SEC, Desk
from reports.test_recording import _buy_then_sell

DAY = date(2026, 9, 21)


@pytest.fixture
def filled_url(database_url: str) -> str:
    """Return a database holding the buy and the sell."""
    desk = Desk(database_url)
    try:
        asyncio.run(_buy_then_sell(desk))
    finally:
        desk.close()
    return database_url


def test_cli_best_execution_csv_to_file(filled_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out" / "best.csv"
    argv = ["report", "best-execution", "--database-url", filled_url, "--date", "2026-09-21"]
    assert main([*argv, "--format", "csv", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["venue"], r["order_count"], r["fill_count"]) for r in rows] == [
        ("ALL", "2", "2"),
        ("SIM", "2", "2"),
    ]
    assert Decimal(rows[0]["slippage_bps_p50"]) > 0  # both orders paid half the spread


def test_cli_tca_json_to_stdout_has_decimal_strings(
    filled_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "tca", "--database-url", filled_url, "--from", "2026-09-21"]
    assert main([*argv, "--to", "2026-09-22", "--account", "ALICE-1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["orderCount"] == 2
    total = data["costs"][0]["total"]
    assert Decimal(total["fees"]) == Decimal("0.3006")  # 10 bps of 200.20 + 100.40
    assert Decimal(total["spread"]) == Decimal("0.15")  # 2 x 0.05 + 1 x 0.05


def test_cli_tca_html_out_with_json_summary(
    filled_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tca.html"
    argv = ["report", "tca", "--database-url", filled_url, "--model", "none-such"]
    assert main([*argv, "--format", "html", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"report": "tca", "format": "html", "orders": 0, "out": str(out)}
    assert "No orders in this report." in out.read_text(encoding="utf-8")


def test_cli_bad_date_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", "best-execution", "--date", "21/09/2026"])
    assert exited.value.code == 2
    assert "'21/09/2026'" in capsys.readouterr().err


def test_cli_period_ending_before_it_starts_exits_2(
    filled_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["report", "tca", "--database-url", filled_url, "--from", "2026-09-22"]
    assert main([*argv, "--to", "2026-09-21"]) == 2
    assert "must end after it starts" in capsys.readouterr().err


def test_cli_missing_sqlite_database_exits_2_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.db"
    assert main(["report", "tca", "--database-url", f"sqlite:///{missing}"]) == 2
    assert str(missing) in capsys.readouterr().err
    assert not missing.exists()


def test_cli_unmigrated_database_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    assert main(["report", "tca", "--database-url", f"sqlite:///{empty}"]) == 1
    assert "alphintra migrate" in capsys.readouterr().err


def test_daily_reports_write_yesterday_once(filled_url: str, tmp_path: Path) -> None:
    next_morning = day_bounds(DAY)[1] + 300 * SEC
    store = ReportStore.open(filled_url)
    try:
        daily = DailyReports(store, tmp_path / "reports", lambda: next_morning)
        written = daily.run_due()
        assert sorted(p.name for p in written) == [
            "best-execution-2026-09-21.csv",
            "best-execution-2026-09-21.html",
            "best-execution-2026-09-21.json",
        ]
        data = json.loads((tmp_path / "reports" / "best-execution-2026-09-21.json").read_text())
        assert data["orderCount"] == 2
        assert daily.run_due() == []  # already written
    finally:
        store.close()


def test_daily_reports_task_runs_on_its_schedule_until_cancelled(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'quiet.db'}"
    upgrade(url)
    now = [day_bounds(DAY)[1]]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise asyncio.CancelledError
        now[0] += 86_400 * SEC  # the next day comes while the task sleeps

    store = ReportStore.open(url)
    try:
        daily = DailyReports(store, tmp_path / "reports", lambda: now[0])
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(daily.run(interval_s=60, sleep=sleep))
    finally:
        store.close()
    names = sorted(p.name for p in (tmp_path / "reports").glob("*.json"))
    assert names == ["best-execution-2026-09-21.json", "best-execution-2026-09-22.json"]
    assert sleeps == [60, 60]


@pytest.mark.parametrize(
    "argv",
    [
        ["best-execution", "--date", "2263-01-01"],
        ["tca", "--from", "2263-01-01"],
        ["best-execution", "--date", "20260921"],
    ],
)
def test_cli_dates_out_of_range_or_not_iso_exit_2_naming_them(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", *argv])
    assert exited.value.code == 2
    assert repr(argv[-1]) in capsys.readouterr().err
