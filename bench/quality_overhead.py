"""Cost of recording execution quality, and of building the reports from the table.

Usage: quality_overhead.py N [--repeats 3]

Runs the ``market`` workload of ``engine_throughput.py`` (one market BUY per EUR/USD
quote tick, SQLite journal with the read-model projector as in the service, risk off)
N times with and without the `ExecutionQualityRecorder` commit hook, alternating, and
prints the median CPU time per order of each (``time.process_time``, so other
processes on the machine do not count). Then builds the best-execution and TCA reports from
the orders the last recorded run stored, renders them in each format, and prints the
median time of each step. One JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.identifiers import AccountId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.reports.build import tca_selection
from alphintra.reports.queries import ReportStore
from alphintra.reports.recorder import ExecutionQualityRecorder, QuoteHistory
from alphintra.reports.render import ReportFormat, render
from alphintra.service.trading import signal_state
from alphintra.store.journal import open_journal
from alphintra.store.migrate import upgrade
from alphintra.store.projection import ReadModelProjector
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig
from engine_throughput import EURUSD, QUANTITY, make_ticks

HORIZON_NS = 1_000_000_000


def run(n: int, record: bool) -> tuple[float, str]:
    """Run the market workload once; return (CPU µs per order, database URL)."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='alphintra-quality-')) / 'bench.db'}"
    upgrade(url)
    journal = open_journal(url)
    registry = InstrumentRegistry()
    clock = SimulatedClock()
    venue = SimulatedVenue(SimulatedVenueConfig(), {EURUSD: registry.get(EURUSD)})
    engine = TradingEngine(
        account_id=AccountId("BENCH"),
        registry=registry,
        journal=journal,
        clock=clock,
        venues={venue.venue_id: venue.capabilities},
        default_venue=venue.venue_id,
    )
    journal.add_commit_hook(ReadModelProjector(signal_state, lambda _: engine.state))
    quotes = QuoteHistory()
    if record:
        journal.add_commit_hook(
            ExecutionQualityRecorder(lambda _: engine.state, quotes, horizon_ns=HORIZON_NS)
        )
    engine.open_account("USD", {"USD": Decimal(1_000_000_000)})
    engine.flush(force=True)
    ticks = make_ticks(n)
    start = time.process_time()
    for tick in ticks[:n]:
        clock.advance_to(tick.ts)
        if record:
            quotes.record(tick)
        for report in venue.on_market_data(tick):
            engine.on_venue_event(report)
        engine.on_market_data(tick)
        engine.submit(
            OrderRequest(
                instrument_id=EURUSD,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=QUANTITY,
            )
        )
        commands = engine.flush()
        while commands:
            for command in commands:
                for report in venue.handle(command):
                    engine.on_venue_event(report)
            commands = engine.flush()
    cpu = time.process_time() - start
    journal.close()
    return cpu / len(engine.state.orders) * 1e6, url


def _timed(action: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 4)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", type=int)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    plain, recorded = [], []
    url = ""
    for _ in range(args.repeats):
        plain.append(run(args.n, record=False)[0])
        rate, url = run(args.n, record=True)
        recorded.append(rate)
    store = ReportStore.open(url)
    day = datetime.fromtimestamp(make_ticks(1)[0].ts // 1_000_000_000, tz=UTC).date()
    best = store.best_execution(day, None)
    tca = store.tca(tca_selection(), None)
    result: dict[str, object] = {
        "n": args.n,
        "cpu_us_per_order_without_recorder": round(statistics.median(plain), 1),
        "cpu_us_per_order_with_recorder": round(statistics.median(recorded), 1),
        "ratio": round(statistics.median(recorded) / statistics.median(plain), 3),
        "orders_reported": best.order_count,
        "load_orders_s": _timed(store.orders, args.repeats),
        "best_execution_build_s": _timed(lambda: store.best_execution(day, None), args.repeats),
        "tca_build_s": _timed(lambda: store.tca(tca_selection(), None), args.repeats),
    }
    for form in ReportFormat:
        result[f"render_best_execution_{form.value}_s"] = _timed(
            lambda form=form: render(best, form), args.repeats
        )
        result[f"render_tca_{form.value}_s"] = _timed(
            lambda form=form: render(tca, form), args.repeats
        )
    store.close()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
