"""Daily best-execution files: a day missed while the service was down is written later."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from alphintra.reports.build import day_bounds
from alphintra.reports.queries import ReportStore
from alphintra.reports.schedule import MAX_BACKFILL_DAYS, DailyReports
from alphintra.store.migrate import upgrade
from reports.desk import SEC
from reports.test_cli_and_schedule import DAY, filled_url  # noqa: F401 (fixture)


def _days(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.json"))


def test_daily_reports_days_missed_while_down_are_written(
    filled_url: str,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports"
    store = ReportStore.open(filled_url)
    try:
        DailyReports(store, reports, lambda: day_bounds(date(2026, 9, 20))[1]).run_due()
        assert _days(reports) == ["best-execution-2026-09-20.json"]
        # Down over the 21st, the day that traded, and back on the 23rd.
        back = day_bounds(date(2026, 9, 23))[0] + 3600 * SEC
        written = DailyReports(store, reports, lambda: back).run_due()
    finally:
        store.close()
    assert sorted(p.name for p in written if p.suffix == ".json") == [
        "best-execution-2026-09-21.json",
        "best-execution-2026-09-22.json",
    ]
    data = json.loads((reports / "best-execution-2026-09-21.json").read_text())
    assert data["orderCount"] == 2


def test_daily_reports_backfill_is_bounded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'quiet.db'}"
    upgrade(url)
    reports = tmp_path / "reports"
    store = ReportStore.open(url)
    try:
        DailyReports(store, reports, lambda: day_bounds(DAY)[1]).run_due()
        far = day_bounds(DAY)[1] + 400 * 86_400 * SEC
        written = DailyReports(store, reports, lambda: far).run_due()
    finally:
        store.close()
    assert len([p for p in written if p.suffix == ".json"]) == MAX_BACKFILL_DAYS
