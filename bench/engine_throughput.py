"""Engine order throughput on the NautilusTrader comparison workloads.

Usage: engine_throughput.py {market|market_flip|limit} N [--journal memory|sqlite|postgres]
       [--no-risk] [--postgres-url URL]

The workloads are those of ../shared/bench/nautilus_bench.py: one order per synthetic
EUR/USD quote tick (a 1-pip random walk, 100 ms apart), quantity 1,000.

* market: a market BUY on every tick (the netting position only grows);
* market_flip: market orders alternating BUY and SELL;
* limit: on even ticks a marketable limit BUY at the ask; on odd ticks a passive
  limit BUY 50 pips below the bid, cancelled on the next tick.

Everything the engine does in production runs: validation, pre-trade risk checks
(unless --no-risk), the journal with its hash chain and write-ahead commit before
each venue command, the simulated venue, positions, cash and P&L. Only the loop is
timed; building the ticks is not. Prints one JSON line with ``orders_per_s``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.limits import (
    BuyingPowerLimits,
    ConcentrationLimits,
    ExposureLimits,
    LossLimits,
    PriceCollar,
    RiskLimits,
    Throttle,
)
from alphintra.store.journal import Journal, open_journal
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

EURUSD = InstrumentId("EURUSD")
QUANTITY = Decimal(1000)
PIP = Decimal("0.00001")
PASSIVE_OFFSET = Decimal("0.00500")


def make_ticks(n: int) -> list[QuoteTick]:
    """Build the same random walk as the NautilusTrader harness (seed 42)."""
    rnd = random.Random(42)
    mid = Decimal("1.10000")
    ticks = []
    ts0 = 1_700_000_000_000_000_000
    size = Decimal(1_000_000)
    for k in range(n + 2):
        mid += rnd.choice((-PIP, Decimal(0), PIP))
        ts = ts0 + k * 100_000_000
        ticks.append(QuoteTick(EURUSD, mid - PIP, mid + PIP, size, size, ts))
    return ticks


def open_bench_journal(kind: str, postgres_url: str | None) -> Journal:
    """Open a fresh journal of the given kind."""
    if kind == "memory":
        return open_journal("memory://")
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="alphintra-bench-")
        return open_journal(f"sqlite:///{Path(folder) / 'journal.db'}")
    if kind == "postgres":
        if not postgres_url:
            raise SystemExit("--journal postgres needs --postgres-url or DATABASE_URL")
        return open_journal(postgres_url)
    raise SystemExit(f"unknown journal kind {kind!r}")


def risk_limits(level: str) -> RiskLimits:
    """Return the limits of a risk level: off, basic, or every check enabled (all).

    Every threshold is far from binding, so the workload is the same at every level;
    only the work of checking differs.
    """
    if level == "off":
        return RiskLimits(enforce_min_notional=False)
    big = Decimal(10) ** 15
    basic = RiskLimits(
        max_order_quantity=Decimal(10_000_000),
        max_order_notional=Decimal(100_000_000),
        max_position_quantity=Decimal(10) ** 12,
    )
    if level == "basic":
        return basic
    return RiskLimits(
        max_order_quantity=Decimal(10_000_000),
        max_order_notional=Decimal(100_000_000),
        max_position_quantity=Decimal(10) ** 12,
        max_position_notional=big,
        max_volatility=Decimal(1),
        restricted_symbols=frozenset({"XAUUSD"}),
        price_collar=PriceCollar(max_fraction=Decimal("0.5"), min_band=Decimal("0.001")),
        duplicate_window_ms=1,
        account_throttle=Throttle(window_ms=1000, max_orders=10**9, max_messages=10**9),
        venue_throttle=Throttle(window_ms=1000, max_orders=10**9, max_messages=10**9),
        exposure=ExposureLimits(
            max_gross_exposure=big, max_net_exposure=big, max_leverage=Decimal(10**6)
        ),
        concentration=ConcentrationLimits(
            max_per_instrument=Decimal(10**6),
            max_per_asset_class=Decimal(10**6),
            max_per_venue=Decimal(10**6),
        ),
        buying_power=BuyingPowerLimits(
            fee_rate=Decimal("0.0001"),
            long_margin_rate=Decimal("0.000001"),
            short_margin_rate=Decimal("0.000001"),
        ),
        loss=LossLimits(max_daily_loss=big, max_drawdown=Decimal("0.99")),
    )


def run(mode: str, n: int, journal: Journal, risk: str) -> dict[str, object]:
    """Run one workload and return the measurements."""
    registry = InstrumentRegistry()
    clock = SimulatedClock()
    venue = SimulatedVenue(SimulatedVenueConfig(), {EURUSD: registry.get(EURUSD)})
    limits = risk_limits(risk)
    account = AccountId(f"BENCH-{time.time_ns()}")
    engine = TradingEngine(
        account_id=account,
        registry=registry,
        journal=journal,
        clock=clock,
        venues={venue.venue_id: venue.capabilities},
        default_venue=venue.venue_id,
        limits=limits,
    )
    engine.open_account("USD", {"USD": Decimal(1_000_000_000)})
    engine.flush(force=True)
    ticks = make_ticks(n)
    handle = venue.handle
    on_report = engine.on_venue_event
    submit = engine.submit
    flush = engine.flush
    resting: ClientOrderId | None = None
    market, limit = OrderType.MARKET, OrderType.LIMIT
    buy, sell = OrderSide.BUY, OrderSide.SELL
    flip = mode == "market_flip"
    start = time.perf_counter()
    for i, tick in enumerate(ticks[:n]):
        clock.advance_to(tick.ts)
        for report in venue.on_market_data(tick):
            on_report(report)
        engine.on_market_data(tick)
        if mode == "limit":
            if resting is not None:
                engine.cancel(resting)
                resting = None
            if i % 2 == 0:
                submit(
                    OrderRequest(
                        instrument_id=EURUSD,
                        side=buy,
                        order_type=limit,
                        quantity=QUANTITY,
                        price=tick.ask,
                    )
                )
            else:
                order = submit(
                    OrderRequest(
                        instrument_id=EURUSD,
                        side=buy,
                        order_type=limit,
                        quantity=QUANTITY,
                        price=tick.bid - PASSIVE_OFFSET,
                    )
                )
                resting = order.client_order_id
        else:
            side = sell if flip and i % 2 else buy
            submit(
                OrderRequest(instrument_id=EURUSD, side=side, order_type=market, quantity=QUANTITY)
            )
        commands = flush()
        while commands:
            for command in commands:
                for report in handle(command):
                    on_report(report)
            commands = flush()
    wall = time.perf_counter() - start
    state = engine.state
    orders = len(state.orders)
    fills = sum(len(o.trade_ids) for o in state.orders.values())
    return {
        "engine": "alphintra",
        "mode": mode,
        "n": n,
        "risk": risk,
        "wall_s": round(wall, 4),
        "orders": orders,
        "fills": fills,
        "events": state.event_count,
        "position": str(state.position_quantity(EURUSD)),
        "rejected_reports": len(engine.rejected_reports),
        "orders_per_s": round(orders / wall),
        "events_per_s": round(state.event_count / wall),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run once and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=["market", "market_flip", "limit"])
    parser.add_argument("n", type=int)
    parser.add_argument("--journal", choices=["memory", "sqlite", "postgres"], default="memory")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument(
        "--risk",
        choices=["off", "basic", "all"],
        default="basic",
        help="pre-trade checks: off, basic (three limits) or all (every check enabled)",
    )
    parser.add_argument("--no-risk", action="store_true", help="same as --risk off")
    args = parser.parse_args(argv)
    import os

    journal = open_bench_journal(args.journal, args.postgres_url or os.environ.get("DATABASE_URL"))
    try:
        result = run(args.mode, args.n, journal, "off" if args.no_risk else args.risk)
    finally:
        journal.close()
    result["journal"] = args.journal
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
