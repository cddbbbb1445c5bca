"""The projector's order and signal writes against plain upserts of every write.

A second projector writes the same commits into ``orders_reference`` and
``trading_signals_reference``, copies of the two tables, forgetting before each drain
which order rows it wrote, and binding every None (its statements with NULL literals
turned back into the plain ones): it upserts every row, as the projector did before it
remembered them. After every commit both tables
must hold the same rows, through market and limit orders, modifies of price and
quantity, partial fills, cancels, failed commits and a discarded buffer.
"""

from __future__ import annotations

import random
import sqlite3
from decimal import Decimal
from pathlib import Path

from alphintra.domain.account import AccountState
from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, SignalAction
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.service.trading import signal_state
from alphintra.store.journal import open_journal
from alphintra.store.migrate import upgrade
from alphintra.store.projection import NULL_LITERALS, ReadModelProjector
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

EURUSD = InstrumentId("EURUSD")
PIP = Decimal("0.00001")
T0 = 1_700_000_000_000_000_000


class _Reference:
    """A projector upserting every order and signal row, plainly, into the reference tables."""

    def __init__(self, projector: ReadModelProjector) -> None:
        self.projector = projector

    def appended(self, event: object, seq: int) -> None:
        self.projector.appended(event, seq)  # type: ignore[arg-type]

    def drain(self) -> list[tuple[str, list[tuple[object, ...]]]]:
        self.projector._orders_written.clear()  # every row upserted, as if never written
        batches = []
        for written, params in self.projector.drain():
            sql, rows = written, params
            if written in NULL_LITERALS:  # back to the plain statement, binding every None
                sql, nulls = NULL_LITERALS[written]
                rows = [_with_nones(row, nulls) for row in params]
            for table in ("orders", "trading_signals"):
                if sql.startswith(f"INSERT INTO {table} "):
                    batches.append(
                        (sql.replace(f"INTO {table} ", f"INTO {table}_reference "), rows)
                    )
        return batches

    def discard(self) -> None:
        self.projector.discard()


def _with_nones(row: tuple[object, ...], nulls: tuple[int, ...]) -> tuple[object, ...]:
    values = iter(row)
    return tuple(None if i in nulls else next(values) for i in range(len(row) + len(nulls)))


class _Failing:
    """A hook that fails the commit while ``fail`` is set."""

    def __init__(self) -> None:
        self.fail = False

    def appended(self, event: object, seq: int) -> None:
        pass

    def drain(self) -> list[tuple[str, list[tuple[object, ...]]]]:
        if self.fail:
            raise _CommitFailed
        return []

    def discard(self) -> None:
        pass


class _CommitFailed(Exception):
    pass


def _tables(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Return the rows of orders and trading_signals, and of their reference copies."""
    with sqlite3.connect(path) as conn:
        actual, reference = [], []
        for table, key in (("orders", "order_id"), ("trading_signals", "signal_id")):
            query = f"SELECT * FROM {{}} ORDER BY account_id, {key}"
            actual += conn.execute(query.format(table)).fetchall()
            reference += conn.execute(query.format(f"{table}_reference")).fetchall()
        return actual, reference


def _stored(path: Path) -> list[tuple[object, ...]]:
    """Return the rows of orders (but updated_at_ns) and trading_signals as stored."""
    with sqlite3.connect(path) as conn:
        orders = conn.execute(
            "SELECT account_id, order_id, signal_id, parent_id, symbol, side, order_type,"
            " time_in_force, quantity, price, stop_price, filled_quantity, average_price,"
            " status, venue, venue_order_id, created_at_ns FROM orders ORDER BY order_id"
        ).fetchall()
        signals = conn.execute("SELECT * FROM trading_signals ORDER BY signal_id").fetchall()
    return [*orders, *signals]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _from_scratch(state: AccountState) -> list[tuple[object, ...]]:
    """Return the rows of orders (but updated_at_ns) and trading_signals the state implies."""
    orders = [
        (
            state.account_id,
            o.client_order_id,
            o.signal_id,
            o.parent_id,
            o.instrument_id,
            o.side.value,
            o.order_type.value,
            o.time_in_force.value,
            _text(o.quantity),
            _text(o.price),
            _text(o.trigger_price),
            _text(o.filled_quantity),
            _text(o.average_price),
            o.status.value,
            o.venue,
            o.venue_order_id,
            o.ts_init,
        )
        for o in state.orders.values()
    ]
    signals = [
        (
            state.account_id,
            s.signal_id,
            s.model_id,
            s.instrument_id,
            s.action.value,
            _text(s.confidence),
            _text(s.quantity),
            *signal_state(state, s.signal_id),
            s.ts_event,
            s.ts_recv,
        )
        for s in state.signals.values()
    ]
    return sorted(orders, key=lambda r: str(r[1])) + sorted(signals, key=lambda r: str(r[1]))


def test_projector_order_updates_equal_upserting_every_write(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        for table, key in (("orders", "order_id"), ("trading_signals", "signal_id")):
            conn.execute(f"CREATE TABLE {table}_reference AS SELECT * FROM {table} WHERE 0")
            conn.execute(f"CREATE UNIQUE INDEX ux_{table} ON {table}_reference (account_id, {key})")
    journal = open_journal(f"sqlite:///{path}")
    registry = InstrumentRegistry()
    clock = SimulatedClock(T0)
    venue = SimulatedVenue(SimulatedVenueConfig(), {EURUSD: registry.get(EURUSD)})
    engine = TradingEngine(
        account_id=AccountId("A"),
        registry=registry,
        journal=journal,
        clock=clock,
        venues={venue.venue_id: venue.capabilities},
        default_venue=venue.venue_id,
    )

    def state(_: AccountId) -> AccountState:
        return engine.state

    projector = ReadModelProjector(signal_state, state)
    journal.add_commit_hook(projector)
    journal.add_commit_hook(_Reference(ReadModelProjector(signal_state, state)))
    failing = _Failing()
    journal.add_commit_hook(failing)
    engine.open_account("USD", {"USD": Decimal(1_000_000_000)})
    engine.flush(force=True)
    rnd = random.Random(7)
    mid = Decimal("1.10000")
    working: list[ClientOrderId] = []
    updates_seen = failures = 0
    for step in range(300):
        mid += rnd.choice((-PIP, PIP, Decimal(0)))
        tick = QuoteTick(EURUSD, mid - PIP, mid + PIP, Decimal(5000), Decimal(5000), T0 + step)
        clock.advance_to(tick.ts)
        for report in venue.on_market_data(tick):
            engine.on_venue_event(report)
        engine.on_market_data(tick)
        action = rnd.random()
        if action < 0.1:
            signal = TradingSignal(
                signal_id=SignalId(f"s{step}"),
                model_id=ModelId("m"),
                instrument_id=EURUSD,
                action=SignalAction.BUY,
                confidence=Decimal("0.50"),
                ts=T0 + step,
                quantity=Decimal(1000),
            )
            if rnd.random() < 0.3:
                engine.reject_signal(signal, "TEST", "refused by the test")
            else:
                engine.process_rebalance(signal, {EURUSD: Decimal(rnd.choice([1000, -2000]))})
        elif action < 0.3:
            engine.submit(
                OrderRequest(
                    instrument_id=EURUSD,
                    side=rnd.choice(list(OrderSide)),
                    order_type=OrderType.MARKET,
                    quantity=Decimal(rnd.choice([1000, 8000])),  # 8000: partly filled
                )
            )
        elif action < 0.6:
            side = rnd.choice(list(OrderSide))
            away = PIP * rnd.choice([1, 3, 50])
            working.append(
                engine.submit(
                    OrderRequest(
                        instrument_id=EURUSD,
                        side=side,
                        order_type=OrderType.LIMIT,
                        quantity=Decimal(rnd.choice([1000, 7000])),
                        price=mid - away if side is OrderSide.BUY else mid + away,
                    )
                ).client_order_id
            )
        elif action < 0.8 and working:
            order = engine.state.orders[rnd.choice(working)]
            if order.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
                if rnd.random() < 0.5:
                    engine.modify(order.client_order_id, price=mid + PIP * rnd.choice([-2, 2]))
                else:
                    engine.modify(order.client_order_id, quantity=order.quantity + 1000)
        elif working:
            engine.cancel(rnd.choice(working))
        if step % 37 == 36:
            journal.discard()  # nothing buffered: only what the last drain remembered goes
        failing.fail = step >= 150 and step % 23 == 22  # from-scratch checks before
        try:
            commands = engine.flush(force=True)
        except _CommitFailed:  # the rows of the orders it held were never written
            failures += 1
            # The engine stops at a failed commit (the service then replays the journal);
            # this test drives the projector on through more of them, on the same engine.
            engine.stopped, engine.journal = None, journal
            continue
        finally:
            failing.fail = False
        while commands:
            for command in commands:
                for report in venue.handle(command):
                    engine.on_venue_event(report)
            commands = engine.flush(force=True)
        updates_seen = max(updates_seen, projector.remembered_orders)
        actual, reference = _tables(path)
        assert actual == reference, f"step {step}"
        if step < 150:  # no failed commit yet: the tables hold the whole state
            assert _stored(path) == _from_scratch(engine.state), f"step {step}"
    journal.close()
    assert len(actual) > 100
    assert updates_seen > 0  # the UPDATE paths ran
    assert failures >= 3
    assert any(row[8] is not None for row in actual if len(row) == 12)  # a reason code
