"""Overhead per child order of the execution algorithms and SOR, against plain orders.

Usage: algo_overhead.py [--children N] [--rounds R]

Each workload pairs an algorithm with a *plain twin*: the same engine (memory
journal, default risk checks), the same simulated venue(s), the same market data,
and plain orders of the same type, size and count as the algorithm's children,
submitted by hand at the moments the algorithm sends its children:

* TWAP: one parent of N × Q over N quote ticks (N slices); twin: a LIMIT order of
  Q at the ask on each tick.
* VWAP: the same with a flat volume profile of N 100-ms buckets.
* POV: participation 0.5 on trade ticks of size 2Q; twin: a LIMIT of Q at the trade
  price on each tick.
* ICEBERG: one LIMIT parent of N × Q showing Q, filled child after child at one
  instant; twin: N LIMIT orders of Q at that instant.
* SOR: three venues, each showing Q at its own ask (1 pip apart) on each tick; one SOR
  parent of 3Q per tick, split into three IOC children; twin: three IOC LIMIT
  orders of Q per tick, one per venue.

The process's CPU time is measured (``time.process_time``), so that other programs
competing for the cores do not count; it covers the loop (data feed, commands, venue
matching, reports), not building the engines. Rounds alternate which of the pair
runs first, so that drift on the machine falls on both alike. Prints one JSON
document: per workload, the median µs per child of the algorithm and of the twin,
the median over rounds of their ratio and of their difference (the overhead per
child), and the ratio of the best runs.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType, TimeInForce
from alphintra.domain.identifiers import AccountId, InstrumentId, VenueId
from alphintra.domain.market import MarketData, QuoteTick, TradeTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.execution.algorithms import (
    NS_PER_DAY,
    AlgoSpec,
    IcebergSpec,
    PovSpec,
    SorSpec,
    TwapSpec,
    VolumeProfile,
    VwapSpec,
)
from alphintra.execution.routing import VenueProfile
from alphintra.risk.limits import RiskLimits
from alphintra.store.journal import open_journal
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

EURUSD = InstrumentId("EURUSD")
Q = Decimal(1000)
PIP = Decimal("0.00001")
STEP_NS = 100_000_000
T0 = 1_700_000_000_000_000_000 - 1_700_000_000_000_000_000 % STEP_NS
MID = Decimal("1.10000")
BUY = OrderSide.BUY


class Rig:
    """One account's engine and its simulated venues, fed and pumped by hand."""

    def __init__(self, venue_count: int) -> None:
        registry = InstrumentRegistry()
        self.clock = SimulatedClock(T0)
        names = [VenueId(f"SIM{k}") for k in range(venue_count)]
        self.venues = {
            name: SimulatedVenue(
                SimulatedVenueConfig(venue_id=name, partial_fills=True),
                {EURUSD: registry.get(EURUSD)},
            )
            for name in names
        }
        self.engine = TradingEngine(
            account_id=AccountId(f"BENCH-{time.time_ns()}"),
            registry=registry,
            journal=open_journal("memory://"),
            clock=self.clock,
            venues={name: venue.capabilities for name, venue in self.venues.items()},
            default_venue=names[0],
            limits=RiskLimits(enforce_min_notional=False),
        )
        for name in names:
            self.engine.set_routing_profile(name, VenueProfile(taker_fee_bps=Decimal(1)))
        self.engine.open_account("USD", {"USD": Decimal(10) ** 12})
        self.engine.flush(force=True)

    def feed(self, venue: VenueId, data: MarketData) -> None:
        """Show one data point of one venue to it and to the engine, then pump."""
        self.clock.advance_to(data.ts)
        for report in self.venues[venue].on_market_data(data):
            self.engine.on_venue_event(report)
        self.engine.on_venue_market_data(venue, data)
        self.pump()

    def pump(self) -> None:
        """Hand the engine's commands to their venues until none are left."""
        engine = self.engine
        commands = engine.flush()
        while commands:
            for command in commands:
                for report in self.venues[command.venue].handle(command):
                    engine.on_venue_event(report)
            commands = engine.flush()

    def submit(self, request: OrderRequest) -> None:
        """Submit a plain order and pump."""
        self.engine.submit(request)
        self.pump()

    def submit_algo(self, quantity: Decimal, spec: AlgoSpec, price: Decimal | None) -> None:
        """Submit an algo parent (LIMIT with ``price``, else MARKET) and pump."""
        kind = OrderType.MARKET if price is None else OrderType.LIMIT
        request = OrderRequest(
            instrument_id=EURUSD, side=BUY, order_type=kind, quantity=quantity, price=price
        )
        self.engine.submit_algo(request, spec)
        self.pump()

    def children(self) -> int:
        """Return how many orders went to a venue (children, or the twin's orders)."""
        return sum(1 for o in self.engine.state.orders.values() if not o.emulated)

    def filled(self) -> Decimal:
        """Return the position bought."""
        return self.engine.state.position_quantity(EURUSD)


def _quote(k: int, venue: int = 0) -> QuoteTick:
    ask = MID + PIP * (1 + venue)
    return QuoteTick(EURUSD, MID - PIP, ask, Q, Q, T0 + k * STEP_NS)


def _limit(
    price: Decimal, tif: TimeInForce = TimeInForce.GTC, venue: str | None = None
) -> OrderRequest:
    return OrderRequest(
        instrument_id=EURUSD,
        side=BUY,
        order_type=OrderType.LIMIT,
        quantity=Q,
        price=price,
        time_in_force=tif,
        venue=VenueId(venue) if venue else None,
    )


# Workloads: each returns its rig (for the counts) after running its timed loop ----------


def twap(rig: Rig, n: int, algo: bool) -> Rig:
    venue = VenueId("SIM0")
    spec = TwapSpec(start_ns=T0, end_ns=T0 + n * STEP_NS, slices=n)
    rig.feed(venue, _quote(0))
    return _timed_schedule(rig, venue, n, spec if algo else None)


def vwap(rig: Rig, n: int, algo: bool) -> Rig:
    venue = VenueId("SIM0")
    first = (T0 % NS_PER_DAY) // STEP_NS
    weights = tuple((first + k, Decimal(1) / n) for k in range(n))
    spec = VwapSpec(start_ns=T0, end_ns=T0 + n * STEP_NS, profile=VolumeProfile(STEP_NS, weights))
    rig.feed(venue, _quote(0))
    return _timed_schedule(rig, venue, n, spec if algo else None)


def _timed_schedule(rig: Rig, venue: VenueId, n: int, spec: AlgoSpec | None) -> Rig:
    if spec is not None:
        rig.submit_algo(Q * n, spec, None)
    else:
        rig.submit(_limit(_quote(0).ask))
    for k in range(1, n + 2):
        tick = _quote(k)
        rig.feed(venue, tick)
        if spec is None and k < n:
            rig.submit(_limit(tick.ask))
    return rig


def pov(rig: Rig, n: int, algo: bool) -> Rig:
    venue = VenueId("SIM0")
    rig.feed(venue, TradeTick(EURUSD, MID, 2 * Q, T0))
    if algo:
        start = T0 + STEP_NS
        rig.submit_algo(Q * n, PovSpec(participation=Decimal("0.5"), start_ns=start), None)
    for k in range(1, n + 1):
        trade = TradeTick(EURUSD, MID, 2 * Q, T0 + k * STEP_NS)
        rig.feed(venue, trade)
        if not algo:
            rig.submit(_limit(MID))
    return rig


def iceberg(rig: Rig, n: int, algo: bool) -> Rig:
    venue = VenueId("SIM0")
    rig.feed(venue, QuoteTick(EURUSD, MID - PIP, MID + PIP, Q * n, Q * n, T0))
    price = MID + 10 * PIP
    if algo:
        rig.submit_algo(Q * n, IcebergSpec(display_quantity=Q), price)
    else:
        for _ in range(n):
            rig.submit(_limit(price))
    return rig


SOR_VENUES = 3


def sor(rig: Rig, n: int, algo: bool) -> Rig:
    parents = n // SOR_VENUES
    for k in range(parents):
        for v in range(SOR_VENUES):
            rig.feed(VenueId(f"SIM{v}"), _quote(k, v))
        if algo:
            rig.submit_algo(Q * SOR_VENUES, SorSpec(max_attempts=1), None)
        else:
            for v in range(SOR_VENUES):
                rig.submit(_limit(_quote(k, v).ask, TimeInForce.IOC, f"SIM{v}"))
    return rig


Workload = Callable[[Rig, int, bool], Rig]

WORKLOADS: dict[str, tuple[int, Workload]] = {
    "TWAP": (1, twap),
    "VWAP": (1, vwap),
    "POV": (1, pov),
    "ICEBERG": (1, iceberg),
    "SOR": (SOR_VENUES, sor),
}
"""Each workload: how many venues its rig has, and the timed loop."""


def _measure(venue_count: int, workload: Workload, n: int, algo: bool) -> tuple[float, int]:
    rig = Rig(venue_count)
    gc.collect()
    start = time.process_time()
    workload(rig, n, algo)
    elapsed = time.process_time() - start
    children = rig.children()
    if rig.filled() != Q * children:
        raise SystemExit(f"{workload.__name__}: {children} children filled {rig.filled()}")
    return elapsed / children * 1e6, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--children", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    samples: dict[str, tuple[list[float], list[float], list[int]]] = {
        name: ([], [], []) for name in WORKLOADS
    }
    for venue_count, workload in WORKLOADS.values():  # warm-up: imports, caches
        _measure(venue_count, workload, 30, True)
        _measure(venue_count, workload, 30, False)
    for r in range(args.rounds):
        for name, (venue_count, workload) in WORKLOADS.items():
            algo_us, plain_us, counts = samples[name]
            order = (True, False) if r % 2 == 0 else (False, True)
            for algo in order:
                per_child, children = _measure(venue_count, workload, args.children, algo)
                (algo_us if algo else plain_us).append(per_child)
                if algo:
                    counts.append(children)
    for name, (algo_us, plain_us, counts) in samples.items():
        pairs = list(zip(algo_us, plain_us, strict=True))
        results[name] = {
            "children": counts[0],
            "algo_us_per_child": round(statistics.median(algo_us), 1),
            "plain_us_per_order": round(statistics.median(plain_us), 1),
            "ratio": round(statistics.median(a / p for a, p in pairs), 3),
            "overhead_us_per_child": round(statistics.median(a - p for a, p in pairs), 1),
            "ratio_of_best_runs": round(min(algo_us) / min(plain_us), 3),
        }
    json.dump(
        {
            "benchmark": "algo_overhead",
            "rounds": args.rounds,
            "children_per_run": args.children,
            "child_quantity": str(Q),
            "python": sys.version.split()[0],
            "workloads": results,
        },
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
