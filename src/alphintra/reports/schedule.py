"""Write the previous day's best-execution report on a schedule.

`DailyReports.run_due` writes ``best-execution-YYYY-MM-DD.{json,csv,html}`` (every
account) for the UTC day before the clock's current one, unless those files already
exist, and for each day missed since the newest report already written (the service
was down over them; at most `MAX_BACKFILL_DAYS`). `DailyReports.run` calls it at
every interval until cancelled. The clock is injected, so tests drive the schedule
without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from alphintra.reports.build import previous_day
from alphintra.reports.queries import ReportStore
from alphintra.reports.render import ReportFormat, render

log = logging.getLogger("alphintra.reports")

DEFAULT_INTERVAL_S: Final = 300.0
MAX_BACKFILL_DAYS: Final = 31
"""The most days `DailyReports.run_due` writes at once, the newest ones."""


class DailyReports:
    """Writes the daily best-execution report files into ``directory``."""

    def __init__(
        self,
        store: ReportStore,
        directory: Path,
        now_ns: Callable[[], int],
        forms: tuple[ReportFormat, ...] = tuple(ReportFormat),
    ) -> None:
        self.store = store
        self.directory = directory
        self.now_ns = now_ns
        self.forms = forms

    def paths(self, day: date) -> list[Path]:
        """Return the files of ``day``'s report, one per format."""
        return [self.directory / f"best-execution-{day.isoformat()}.{f.value}" for f in self.forms]

    def write_day(self, day: date) -> list[Path]:
        """Build ``day``'s report and write every format (atomically); return the paths."""
        report = self.store.best_execution(day, None)
        self.directory.mkdir(parents=True, exist_ok=True)
        written = []
        for form, path in zip(self.forms, self.paths(day), strict=True):
            partial = path.with_name(path.name + ".partial")
            partial.write_text(render(report, form), encoding="utf-8")
            os.replace(partial, path)
            written.append(path)
        return written

    def _written(self, day: date) -> bool:
        return all(path.exists() for path in self.paths(day))

    def _newest_written(self, before: date) -> date | None:
        """Return the newest day before ``before`` whose files are all there, or None."""
        if not self.forms:
            return None
        days = []
        for path in self.directory.glob(f"best-execution-*.{self.forms[0].value}"):
            text = path.name.removeprefix("best-execution-").partition(".")[0]
            try:
                day = date.fromisoformat(text)
            except ValueError:
                continue
            if day < before and self._written(day):
                days.append(day)
        return max(days, default=None)

    def due_days(self) -> list[date]:
        """Return the days to write: yesterday, and each day since the newest one written."""
        yesterday = previous_day(self.now_ns())
        newest = self._newest_written(yesterday)
        first = yesterday if newest is None else newest + timedelta(days=1)
        first = max(first, yesterday - timedelta(days=MAX_BACKFILL_DAYS - 1))
        count = (yesterday - first).days + 1
        days = (first + timedelta(days=n) for n in range(count))
        return [day for day in days if not self._written(day)]

    def run_due(self) -> list[Path]:
        """Write every due day's report (see `due_days`); return the files written."""
        written = []
        for day in self.due_days():
            written.extend(self.write_day(day))
            log.info("best execution report of %s written to %s", day, self.directory)
        return written

    async def run(
        self,
        interval_s: float = DEFAULT_INTERVAL_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Call `run_due` now and then every ``interval_s`` seconds, until cancelled.

        A failure is logged and retried at the next interval.
        """
        while True:
            try:
                await asyncio.to_thread(self.run_due)
            except (OSError, ValueError, ArithmeticError) as exc:
                log.error("daily best execution report failed: %s", exc)
            except Exception:  # a database error must not stop the schedule
                log.exception("daily best execution report failed")
            await sleep(interval_s)
