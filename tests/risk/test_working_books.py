"""Properties: the books kept from the engine's events equal `collect_books`, and the
checks answer the same with them as with a scan, on random engine flows.

The flows are those of the replay tests (`engine.random_flows`): every order type,
emulated icebergs with their slices, brackets, OCO exits, cancels, modifies, partial
fills, repeated venue reports and trading-state changes.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import OrderSide
from alphintra.domain.events import AnyEvent, OrderEvent
from alphintra.domain.identifiers import ClientOrderId
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.books import collect_books
from alphintra.risk.context import RiskContext
from alphintra.risk.denial import MAX_POSITION_QUANTITY
from alphintra.risk.limits import (
    RiskLimits,
)
from alphintra.risk.pretrade import check_order
from alphintra.risk.working_books import WorkingBooks
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenue
from engine.random_flows import (
    T0,
    FlowConfig,
    Market,
    Runner,
    Step,
    configs,
    make_engine,
    make_registry,
    run_steps,
    steps,
)
from risk.builders import D, equity, make_state, order, work

NOBODY = ClientOrderId("NOT-AN-ORDER")
AAA = equity("AAA")
_FLOWS = st.lists(steps, min_size=10, max_size=80)


def _runner(config: FlowConfig, cash: Decimal = Decimal(10_000_000)) -> Runner:
    registry = make_registry()
    clock = SimulatedClock(T0)
    venue = SimulatedVenue(config.venue_config(), registry.known())
    engine = make_engine(config, registry, MemoryJournal(), clock, venue.venue_id)
    engine.open_account("USD", {"USD": cash})
    return Runner(engine, venue, clock)


def _assert_same_books(tracker: WorkingBooks, engine: TradingEngine, exclude: ClientOrderId) -> int:
    state = engine.state
    compared = 0
    for with_orders in (False, True):
        kept = tracker.books(exclude, with_orders=with_orders)
        scanned = collect_books(state, exclude, with_orders=with_orders)
        assert list(kept.items()) == list(scanned.items())
        compared += len(scanned)
    instruments = {o.instrument_id for o in state.open_orders.values()} | set(state.positions)
    for instrument_id in instruments:
        assert (
            tracker.book(instrument_id, exclude)
            == (collect_books(state, exclude, only=instrument_id)[instrument_id])
        )
    return compared


@settings(max_examples=80, deadline=None)
@given(configs, _FLOWS)
def test_working_books_random_flows_equal_collect_books_after_every_event(
    config: FlowConfig, flow: list[Step]
) -> None:
    runner = _runner(config)
    engine = runner.engine
    tracker = WorkingBooks(engine.state)
    compared = [0]

    def listen(event: AnyEvent) -> None:
        tracker.on_event(event)
        excludes = [NOBODY]
        if isinstance(event, OrderEvent):
            excludes.append(event.client_order_id)
        for exclude in excludes:
            compared[0] += _assert_same_books(tracker, engine, exclude)

    engine.subscribe(listen)
    run_steps([runner], Market(), flow)
    # The last state too, after any event the listener did not see (duplicates).
    _assert_same_books(tracker, engine, NOBODY)


def test_working_books_events_it_missed_rebuild_from_the_state() -> None:
    state = make_state([AAA])
    tracker = WorkingBooks(state)  # told of no event: it must rebuild from the state
    work(state, order(AAA, OrderSide.BUY, 5, price="10"))
    work(state, order(AAA, OrderSide.SELL, 2, price="12", reduce_only=True))
    books = tracker.books(NOBODY, with_orders=True)
    assert books == collect_books(state, NOBODY, with_orders=True)
    assert (books[AAA.id].buy, books[AAA.id].sell_reduce) == (D(5), D(2))
    work(state, order(AAA, OrderSide.BUY, 1, price="9"))  # again unseen
    assert tracker.book(AAA.id, NOBODY).buy == D(6)


def test_check_order_context_books_of_another_state_are_not_used() -> None:
    limits = RiskLimits(max_position_quantity=D(8), enforce_min_notional=False)
    other = make_state([AAA])
    state = make_state([AAA])
    work(state, order(AAA, OrderSide.BUY, 5, price="10"))
    init = order(AAA, OrderSide.BUY, 5, price="10")
    wrong = RiskContext(books=WorkingBooks(other, track_from=0))
    right = RiskContext(books=WorkingBooks(state, track_from=0))
    for context in (wrong, right):
        denial = check_order(init, AAA, state, limits, context)
        assert denial is not None and denial.code == MAX_POSITION_QUANTITY
