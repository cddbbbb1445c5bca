"""Journal replay: an engine rebuilt from its journal equals the live one and carries on.

Random order flows run through a ``TradingEngine``, a ``SimulatedVenue`` and a journal
(memory, or SQLite in a temporary file). The engine is then rebuilt from the journal,
from scratch and from a snapshot taken midway, and must hold exactly the live state.
Then the live engine and the rebuilt ones are fed the same further steps, each with
its own copy of the venue, and must emit exactly the same events.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.backtest.runner import BACKTEST_ACCOUNT, BacktestSettings, run_backtest
from alphintra.backtest.signal_file import NumberedSignal
from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, SignalAction, TradingState
from alphintra.domain.events import AnyEvent, OrderInitialized
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.orders import Order
from alphintra.domain.positions import Position
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.engine.replay import (
    SNAPSHOT_FORMAT,
    AccountSnapshot,
    OrderSnapshot,
    PositionSnapshot,
    capture_snapshot,
    decode_snapshot,
    encode_snapshot,
    read_events,
    rebuild_engine,
    restore_snapshot,
    take_snapshot,
)
from alphintra.marketdata.csv_bars import load_bars
from alphintra.orders.factory import OrderValidationError
from alphintra.store.journal import Journal, SnapshotError
from alphintra.store.memory import MemoryJournal
from alphintra.store.sqlite import SqliteJournal
from alphintra.store.verify import verify
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig
from engine.random_flows import (
    ACCOUNT,
    SPECS,
    T0,
    Bar,
    FlowConfig,
    Market,
    Runner,
    Step,
    bars,
    configs,
    make_engine,
    make_registry,
    run_steps,
    steps,
)
from helpers.market_data import market_data_dir

STARTING_CASH = {"USD": Decimal(10_000_000)}


class SinkJournal:
    """Takes the appends of an engine whose journal is not under test."""

    def __init__(self) -> None:
        self.events: list[AnyEvent] = []

    def append(self, event: AnyEvent) -> int:
        self.events.append(event)
        return len(self.events)

    def commit(self) -> dict[AccountId, int]:
        return {}

    @property
    def pending(self) -> int:
        return 0


def _status(order: Order) -> OrderStatus:
    """Return the order's status (read anew: actions in between change it)."""
    return order.status


def _view(engine: TradingEngine) -> tuple[object, ...]:
    """Return everything a rebuild must reproduce, beyond the account fingerprint."""
    state = engine.state
    tracked = engine.emulator.tracked()
    # The reduce-only index is exactly the reduce-only open orders, in their order.
    assert list(state.open_reduce_only) == [
        k for k, o in state.open_orders.items() if o.reduce_only
    ]
    return (
        state.fingerprint(),
        # The engine's release form of every order that can still be released or resized.
        {k: v for k, v in engine._inits.items() if k in state.open_orders},
        # Per instrument, the order in which the emulator checks its orders.
        sorted(tracked, key=lambda order_id: state.orders[order_id].instrument_id),
    )


def _new_live(config: FlowConfig, journal: Journal) -> tuple[Runner, Market, InstrumentRegistry]:
    registry = make_registry()
    clock = SimulatedClock(T0)
    venue = SimulatedVenue(config.venue_config(), registry.known())
    engine = make_engine(config, registry, journal, clock, venue.venue_id)
    engine.open_account("USD", STARTING_CASH)
    return Runner(engine, venue, clock), Market(), registry


def _maker(
    config: FlowConfig, registry: InstrumentRegistry, journal: Journal, live: Runner
) -> Callable[[], TradingEngine]:
    def make() -> TradingEngine:
        clock = SimulatedClock(live.clock.now_ns())
        return make_engine(config, registry, journal, clock, live.venue.venue_id)

    return make


def _check_rebuild_and_continue(
    config: FlowConfig,
    before: list[Step],
    snapshot_at: int,
    first_bar: Bar,
    after: list[Step],
    open_journal: Callable[[], Journal],
) -> None:
    journal = open_journal()
    live, market, registry = _new_live(config, journal)
    snapshot_seq = None
    for index, step in enumerate(before):
        if index == snapshot_at:
            snapshot_seq = take_snapshot(live.engine, journal)
        run_steps([live], market, [step])
    live.engine.flush(force=True)
    if isinstance(journal, SqliteJournal):
        journal.close()  # a restart: rebuild from the file through a new connection
        journal = open_journal()
    make = _maker(config, registry, journal, live)

    from_scratch = rebuild_engine(journal, ACCOUNT, make, use_snapshot=False)
    from_snapshot = rebuild_engine(journal, ACCOUNT, make)
    expected = _view(live.engine)
    assert _view(from_scratch) == expected
    assert _view(from_snapshot) == expected
    if snapshot_seq is not None:
        assert journal.load_snapshot(ACCOUNT) is not None
        assert journal.snapshots(ACCOUNT)[-1].seq == snapshot_seq

    # Carry on: the live engine and both rebuilt ones get the same steps, each with a
    # copy of the venue as it stands. Only one of them writes to the real journal.
    live.engine.journal = SinkJournal()
    from_snapshot.journal = SinkJournal()
    rebuilt = [
        Runner(engine, copy.deepcopy(live.venue), engine.clock, list(live.reports))  # type: ignore[arg-type]
        for engine in (from_scratch, from_snapshot)
    ]
    live.events.clear()
    head = journal.head(ACCOUNT)
    run_steps([live, *rebuilt], market, [first_bar, *after])
    for runner in rebuilt:
        assert runner.events == live.events
        assert _view(runner.engine) == _view(live.engine)

    # The rebuilt engine trades on under a client order ID never used before.
    runner = rebuilt[0]
    engine = runner.engine
    used = set(engine.state.orders) | set(live.engine.state.orders)
    engine.cancel_all("before the check")
    engine.set_trading_state(TradingState.ACTIVE, "check")
    runner.dispatch()
    spec = SPECS[1]
    position = engine.state.position_quantity(spec.instrument_id)
    order = engine.submit(
        OrderRequest(
            instrument_id=spec.instrument_id,
            side=OrderSide.SELL if position > 0 else OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=Decimal(1),
        )
    )
    runner.dispatch()
    assert order.client_order_id not in used
    runner.feed(market.bars(first_bar))
    assert _status(order) is OrderStatus.FILLED
    engine.flush(force=True)
    stored = read_events(journal, ACCOUNT, head.seq)
    assert [e.client_order_id for e in stored if type(e) is OrderInitialized][-1] == (
        order.client_order_id
    )
    report = verify(journal, ACCOUNT)
    assert report.ok, str(report)
    journal.close()


_flows = st.lists(steps, min_size=15, max_size=50)
_tails = st.lists(steps, min_size=3, max_size=15)


@settings(max_examples=100, deadline=None)
@given(
    config=configs,
    before=_flows,
    snapshot_at=st.integers(0, 40),
    first_bar=bars,
    after=_tails,
)
def test_rebuild_random_flow_memory_journal_matches_live_and_continues_identically(
    config: FlowConfig, before: list[Step], snapshot_at: int, first_bar: Bar, after: list[Step]
) -> None:
    journal = MemoryJournal()
    _check_rebuild_and_continue(config, before, snapshot_at, first_bar, after, lambda: journal)


@settings(max_examples=30, deadline=None)
@given(
    config=configs,
    before=_flows,
    snapshot_at=st.integers(0, 40),
    first_bar=bars,
    after=_tails,
)
def test_rebuild_random_flow_sqlite_journal_matches_live_after_reopen(
    config: FlowConfig, before: list[Step], snapshot_at: int, first_bar: Bar, after: list[Step]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "journal.db"
        _check_rebuild_and_continue(
            config, before, snapshot_at, first_bar, after, lambda: SqliteJournal(path)
        )


# Deterministic cases ----------------------------------------------------------------

_PLAIN = FlowConfig(
    native=True, native_oco=True, partial_fills=False, taker_bps=Decimal(0), limits=False
)
_BAR = Bar(moves=((0, 1, 1, 1, 0), (0, 1, 1, 1, 0)))


@pytest.fixture
def live() -> Iterator[tuple[Runner, Market, MemoryJournal, InstrumentRegistry]]:
    journal = MemoryJournal()
    runner, market, registry = _new_live(_PLAIN, journal)
    run_steps([runner], market, [_BAR])
    yield runner, market, journal, registry


def test_rebuild_after_refused_request_continues_client_order_id_numbering(
    live: tuple[Runner, Market, MemoryJournal, InstrumentRegistry],
) -> None:
    runner, _, journal, registry = live
    btc = SPECS[0].instrument_id
    with pytest.raises(OrderValidationError):  # refused: the ID it drew is given back
        runner.engine.submit(
            OrderRequest(
                instrument_id=btc,
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=Decimal("0.01"),
                price=Decimal("29000.001"),
            )
        )
    kept = runner.engine.submit(
        OrderRequest(
            instrument_id=btc,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal("0.01"),
            price=Decimal("29000.00"),
        )
    )
    runner.dispatch()
    assert kept.client_order_id == "O-1"
    with pytest.raises(OrderValidationError):  # a refused bracket gives back all three
        runner.engine.submit_bracket(
            BracketRequest(
                entry=OrderRequest(
                    instrument_id=btc,
                    side=OrderSide.BUY,
                    order_type=OrderType.MARKET,
                    quantity=Decimal("0.01"),
                ),
                stop_loss=Decimal("29000.005"),
                take_profit=Decimal("31000.00"),
            )
        )
    rebuilt = rebuild_engine(journal, ACCOUNT, _maker(_PLAIN, registry, journal, runner))
    assert rebuilt.next_client_order_id() == runner.engine.next_client_order_id() == "O-2"


def test_bracket_child_modified_before_entry_fill_released_at_new_price(
    live: tuple[Runner, Market, MemoryJournal, InstrumentRegistry],
) -> None:
    runner, market, journal, registry = live
    spec = SPECS[0]
    mid = market.mids[0]
    entry, stop, target = runner.engine.submit_bracket(
        BracketRequest(
            entry=OrderRequest(
                instrument_id=spec.instrument_id,
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=Decimal("0.01"),
                price=mid + spec.step * 2,  # marketable: fills on the next bar
            ),
            stop_loss=mid - spec.step * 20,
            take_profit=mid + spec.step * 20,
        )
    )
    runner.dispatch()
    assert _status(target) is OrderStatus.NEW
    runner.engine.modify(target.client_order_id, price=mid + spec.step * 30)
    runner.dispatch()
    run_steps([runner], market, [_BAR])
    assert _status(entry) is OrderStatus.FILLED
    assert _status(target) is OrderStatus.ACCEPTED
    working = {w.order.client_order_id: w for b in runner.venue._working.values() for w in b}
    assert working[target.client_order_id].price == mid + spec.step * 30
    assert _status(stop) is OrderStatus.ACCEPTED
    runner.engine.flush(force=True)
    rebuilt = rebuild_engine(
        journal, ACCOUNT, _maker(_PLAIN, registry, journal, runner), use_snapshot=False
    )
    assert _view(rebuilt) == _view(runner.engine)


def test_cancel_all_partly_filled_iceberg_parent_stops_slicing(
    live: tuple[Runner, Market, MemoryJournal, InstrumentRegistry],
) -> None:
    # Found by the continuation check: the venue holds only the slices, so the parent's
    # cancel went to the venue, was refused, and the iceberg kept slicing.
    runner, market, _, _ = live
    spec = SPECS[0]
    parent = runner.engine.submit(
        OrderRequest(
            instrument_id=spec.instrument_id,
            side=OrderSide.BUY,
            order_type=OrderType.ICEBERG,
            quantity=Decimal("0.05"),
            display_quantity=Decimal("0.01"),
            price=market.mids[0] + spec.step * 10,
        )
    )
    runner.dispatch()
    run_steps([runner], market, [_BAR])
    assert _status(parent) is OrderStatus.PARTIALLY_FILLED
    assert parent.filled_quantity == Decimal("0.01")
    assert runner.engine.cancel_all("stop") == 1
    runner.dispatch()
    run_steps([runner], market, [_BAR, _BAR])
    assert _status(parent) is OrderStatus.CANCELLED
    assert parent.filled_quantity == Decimal("0.01")
    assert runner.engine.state.position_quantity(spec.instrument_id) == Decimal("0.01")
    assert not runner.engine.state.open_orders
    assert runner.venue.open_order_ids() == []


def test_rebuild_emulated_trailing_stop_moved_by_user_trails_as_live() -> None:
    # The emulator's best price is not journaled: after a user moves the stop, the
    # live engine must trail from the new stop exactly as a restarted one does.
    config = FlowConfig(
        native=False, native_oco=False, partial_fills=False, taker_bps=Decimal(0), limits=False
    )
    journal = MemoryJournal()
    live, market, registry = _new_live(config, journal)
    flat = Bar(moves=((0, 0, 0, 0, 0), (0, 0, 0, 0, 0)))
    spike = Bar(moves=((0, 4, 0, 0, 0), (0, 0, 0, 0, 0)))  # high +20, close unchanged
    run_steps([live], market, [flat])
    stop = live.engine.submit(
        OrderRequest(
            instrument_id=SPECS[0].instrument_id,
            side=OrderSide.SELL,
            order_type=OrderType.TRAILING_STOP,
            quantity=Decimal("0.01"),
            trailing_offset=Decimal("10.00"),
        )
    )
    live.dispatch()
    run_steps([live], market, [flat, spike])
    assert stop.emulated
    assert stop.trigger_price == market.mids[0] + 10
    live.engine.modify(stop.client_order_id, trigger_price=stop.trigger_price - 30)
    live.dispatch()
    live.engine.flush(force=True)
    rebuilt_engine = rebuild_engine(
        journal, ACCOUNT, _maker(config, registry, journal, live), use_snapshot=False
    )
    rebuilt = Runner(rebuilt_engine, copy.deepcopy(live.venue), rebuilt_engine.clock)  # type: ignore[arg-type]
    live.events.clear()
    run_steps([live, rebuilt], market, [flat])
    assert rebuilt.events == live.events
    assert stop.trigger_price == market.mids[0] - 10  # trailed up from the new stop


def test_snapshot_schema_covers_every_order_and_position_slot() -> None:
    assert set(OrderSnapshot.__struct_fields__) == set(Order.__slots__)
    assert set(PositionSnapshot.__struct_fields__) == set(Position.__slots__)


def test_snapshot_encoding_decimals_as_strings_round_trips(
    live: tuple[Runner, Market, MemoryJournal, InstrumentRegistry],
) -> None:
    runner, market, journal, registry = live
    spec = SPECS[1]
    runner.engine.submit(
        OrderRequest(
            instrument_id=spec.instrument_id,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=Decimal(3),
        )
    )
    runner.dispatch()
    run_steps([runner], market, [_BAR])
    seq = take_snapshot(runner.engine, journal)
    stored = journal.load_snapshot(ACCOUNT)
    assert stored is not None
    assert stored[0] == seq == journal.head(ACCOUNT).seq
    raw = msgspec.json.decode(stored[1])
    assert raw["format"] == SNAPSHOT_FORMAT
    assert raw["cash"]["USD"] == str(runner.engine.state.cash["USD"])
    assert raw["positions"][0]["open_cost"] == str(
        runner.engine.state.positions[spec.instrument_id].open_cost
    )
    assert raw["orders"][0]["quantity"] == "3"
    snapshot = decode_snapshot(stored[1])
    assert snapshot == capture_snapshot(runner.engine, seq)
    assert encode_snapshot(snapshot) == stored[1]
    rebuilt = rebuild_engine(journal, ACCOUNT, _maker(_PLAIN, registry, journal, runner))
    assert _view(rebuilt) == _view(runner.engine)
    assert rebuilt.state.marks == runner.engine.state.marks
    assert rebuilt.valuation() == runner.engine.valuation()


def test_decode_snapshot_other_format_raises() -> None:
    snapshot = AccountSnapshot(
        format=SNAPSHOT_FORMAT + 1,
        account_id=ACCOUNT,
        seq=1,
        base_currency="USD",
        trading_state=TradingState.ACTIVE,
        event_count=1,
        cash={},
        fees={},
        marks={},
        orders=[],
        positions=[],
        signals=[],
        released=[],
        id_seq=0,
        emulated=[],
    )
    with pytest.raises(SnapshotError, match="format 2"):
        decode_snapshot(encode_snapshot(snapshot))
    with pytest.raises(SnapshotError, match="invalid account snapshot"):
        decode_snapshot(b'{"format": 1}')


def test_restore_snapshot_into_used_engine_raises(
    live: tuple[Runner, Market, MemoryJournal, InstrumentRegistry],
) -> None:
    runner, _, journal, _ = live
    seq = take_snapshot(runner.engine, journal)
    with pytest.raises(SnapshotError, match="already holds state"):
        restore_snapshot(runner.engine, capture_snapshot(runner.engine, seq))


def test_restore_snapshot_other_account_raises(
    live: tuple[Runner, Market, MemoryJournal, InstrumentRegistry],
) -> None:
    runner, _, journal, registry = live
    snapshot = msgspec.structs.replace(
        capture_snapshot(runner.engine, 1), account_id=AccountId("OTHER")
    )
    engine = _maker(_PLAIN, registry, journal, runner)()
    with pytest.raises(SnapshotError, match="OTHER"):
        restore_snapshot(engine, snapshot)


def test_take_snapshot_account_without_events_raises() -> None:
    registry = make_registry()
    journal = MemoryJournal()
    engine = make_engine(
        _PLAIN, registry, journal, SimulatedClock(T0), SimulatedVenueConfig().venue_id
    )
    with pytest.raises(SnapshotError):
        take_snapshot(engine, journal)


# Real data ---------------------------------------------------------------------------


def _signal(number: int, ts: int, action: SignalAction, **fields: object) -> NumberedSignal:
    return NumberedSignal(
        number,
        TradingSignal(
            signal_id=SignalId(f"sig-{number}"),
            model_id=ModelId("model-1"),
            instrument_id=InstrumentId("BTCUSD"),
            action=action,
            confidence=Decimal("0.8"),
            ts=ts,
            **fields,  # type: ignore[arg-type]
        ),
    )


def test_rebuild_real_btcusd_backtest_sqlite_journal_matches_live(tmp_path: Path) -> None:
    path = market_data_dir() / "crypto" / "minute" / "BTCUSD_quote.csv"
    data = load_bars(path, InstrumentId("BTCUSD"))
    ts = [bar.ts for bar in data]
    signals = [
        _signal(1, ts[10], SignalAction.BUY, quantity=Decimal("0.5")),
        _signal(
            2,
            ts[200],
            SignalAction.BUY,
            quantity=Decimal("0.25"),
            stop_loss=Decimal("6500"),
            take_profit=Decimal("7600"),
        ),
        _signal(3, ts[400], SignalAction.CLOSE_LONG),
        _signal(
            4,
            ts[700],
            SignalAction.SELL,
            quantity=Decimal("0.3"),
            order_type=OrderType.LIMIT,
            entry_price=Decimal("7000.00"),
        ),
        _signal(5, ts[1500], SignalAction.CLOSE_SHORT),
        _signal(6, ts[2000], SignalAction.BUY, quantity=Decimal("0.1")),
    ]
    registry = InstrumentRegistry()
    journal_path = tmp_path / "backtest.db"
    journal = SqliteJournal(journal_path)
    settings_ = BacktestSettings(
        venue=SimulatedVenueConfig(taker_fee_bps=Decimal("7.5"), maker_fee_bps=Decimal(2))
    )
    result = run_backtest({"BTCUSD": data}, signals, registry, journal, settings_)
    live = result.engine
    assert len(result.fills) >= 5
    journal.close()

    reopened = SqliteJournal(journal_path)
    venue_id = settings_.venue.venue_id

    def make() -> TradingEngine:
        return TradingEngine(
            account_id=BACKTEST_ACCOUNT,
            registry=registry,
            journal=reopened,
            clock=SimulatedClock(data[-1].ts),
            venues={venue_id: settings_.venue.capabilities},
            default_venue=venue_id,
            limits=settings_.limits,
        )

    from_scratch = rebuild_engine(reopened, BACKTEST_ACCOUNT, make)
    assert from_scratch.state.fingerprint() == live.state.fingerprint()
    # A snapshot midway (made by replaying a prefix) plus the events after it.
    events = read_events(reopened, BACKTEST_ACCOUNT)
    middle = len(events) // 2
    partial = make()
    partial.restore(events[:middle])
    reopened.save_snapshot(
        BACKTEST_ACCOUNT, middle, encode_snapshot(capture_snapshot(partial, middle))
    )
    from_snapshot = rebuild_engine(reopened, BACKTEST_ACCOUNT, make)
    assert from_snapshot.state.fingerprint() == live.state.fingerprint()
    assert _view(from_snapshot) == _view(from_scratch) == _view(live)
    new_order = from_snapshot.submit(
        OrderRequest(
            instrument_id=InstrumentId("BTCUSD"),
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal("0.01"),
            price=Decimal("5000.00"),
        )
    )
    assert new_order.client_order_id not in live.state.orders
    assert _status(new_order) is OrderStatus.SUBMITTED
    from_snapshot.flush()
    assert read_events(reopened, BACKTEST_ACCOUNT)[-1].client_order_id == (  # type: ignore[union-attr]
        new_order.client_order_id
    )
    reopened.close()
