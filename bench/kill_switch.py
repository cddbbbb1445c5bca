"""Kill switch latency: time to cancel N working orders through the trading service.

Usage: kill_switch.py [--orders 500] [--journal sqlite|memory] [--repeats 5]

Places N resting limit orders on the simulated venue through ``TradingService`` (the
same methods the REST API calls), then times ``emergency_stop``: HALTED, every order
cancelled at the venue, and the journal committed. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.service.trading import AccountSettings, TradingService
from alphintra.store.journal import open_journal

EURUSD = InstrumentId("EURUSD")


async def once(orders: int, journal_kind: str) -> float:
    """Return the seconds one emergency stop took."""
    folder = tempfile.mkdtemp(prefix="alphintra-kill-")
    url = "memory://" if journal_kind == "memory" else f"sqlite:///{Path(folder) / 'j.db'}"
    journal = open_journal(url)
    service = TradingService(journal=journal, registry=InstrumentRegistry(), clock=LiveClock())
    runtime = service.open_account(AccountSettings(account_id=AccountId("KILL"), owner="bench"))
    await service.on_market_data(
        QuoteTick(
            EURUSD, Decimal("1.10000"), Decimal("1.10002"), Decimal(0), Decimal(0), time.time_ns()
        )
    )
    for i in range(orders):
        await service.place_order(
            "KILL",
            OrderRequest(
                instrument_id=EURUSD,
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=Decimal(1000),
                price=Decimal("1.05000") - Decimal("0.00001") * i,
            ),
            None,
        )
    working = list(runtime.engine.state.open_orders.values())
    assert len(working) == orders
    started = time.perf_counter()
    cancelled = await service.emergency_stop("KILL", None, "benchmark")
    elapsed = time.perf_counter() - started
    assert cancelled == orders
    assert all(o.status is OrderStatus.CANCELLED for o in working)
    assert runtime.venue.open_order_ids() == []
    journal.close()
    return elapsed


def main() -> int:
    """Run the measurement and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--journal", choices=["sqlite", "memory"], default="sqlite")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times = [asyncio.run(once(args.orders, args.journal)) for _ in range(args.repeats)]
    print(
        json.dumps(
            {
                "orders": args.orders,
                "journal": args.journal,
                "median_ms": round(statistics.median(times) * 1000, 2),
                "max_ms": round(max(times) * 1000, 2),
                "runs": args.repeats,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
