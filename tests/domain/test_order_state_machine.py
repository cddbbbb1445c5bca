"""Property tests of the order state machine (``Order.apply`` and its ``TRANSITIONS`` table).

Any sequence of order events, with overfills, duplicate trade IDs and events in the
wrong state, must either move the order as the table says or raise and leave every
slot of the order untouched.
"""

from __future__ import annotations

import contextlib
import copy
import typing
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain import events as events_module
from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from alphintra.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderChildFilled,
    OrderDenied,
    OrderEvent,
    OrderEvents,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModified,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingModify,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.orders import (
    BY_FILL,
    RESTORE,
    TRANSITIONS,
    InvalidTransition,
    Order,
    OverfillError,
)
from alphintra.domain.values import Price, Quantity

S = OrderStatus
ACCOUNT = AccountId("ACC")
ORDER_ID = ClientOrderId("O-1")
ORDER_QUANTITY = Quantity("10")
CLOSED = frozenset({S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED, S.DENIED})
PENDING = frozenset({S.PENDING_CANCEL, S.PENDING_MODIFY})
FILL_TYPES: tuple[type[OrderEvent], ...] = (OrderFilled, OrderChildFilled)
ORDER_EVENT_TYPES: tuple[type[OrderEvent], ...] = tuple(
    sorted(
        (
            cls
            for cls in vars(events_module).values()
            if isinstance(cls, type) and issubclass(cls, OrderEvent) and cls is not OrderEvent
        ),
        key=lambda cls: cls.__name__,
    )
)
TRADE_IDS = [TradeId(f"T{i}") for i in range(4)]
# Every type at least once; events that keep the order working more often, so that
# sequences reach deep working and pending states before something closes the order.
_WEIGHTED_TYPES: tuple[type[OrderEvent], ...] = (
    *ORDER_EVENT_TYPES,
    *(OrderFilled,) * 4,
    *(OrderChildFilled, OrderPendingCancel, OrderPendingModify, OrderModified) * 2,
    *(OrderTriggered, OrderAccepted, OrderCancelRejected, OrderModifyRejected) * 2,
)


def _init(order_type: OrderType = OrderType.LIMIT) -> OrderInitialized:
    return OrderInitialized(
        account_id=ACCOUNT,
        client_order_id=ORDER_ID,
        ts_event=1,
        ts_recv=1,
        instrument_id=InstrumentId("BTCUSD"),
        side=OrderSide.BUY,
        order_type=order_type,
        quantity=ORDER_QUANTITY,
        price=Price("100.00"),
        trigger_price=Price("99.00") if order_type is OrderType.STOP_LIMIT else None,
        venue=VenueId("SIM"),
    )


def _snapshot(order: Order) -> dict[str, object]:
    return {slot: copy.copy(getattr(order, slot)) for slot in Order.__slots__}


_quantities = st.integers(min_value=1, max_value=12).map(lambda n: Quantity(str(n)))
_prices = st.integers(min_value=9_000, max_value=11_000).map(
    lambda cents: Price(Decimal(cents).scaleb(-2))
)
_trade_ids = st.sampled_from(TRADE_IDS)


@st.composite
def order_events(draw: st.DrawFn, ts: int) -> OrderEvent:
    """Return one event of a random order event type, with random fields."""
    kind = draw(st.sampled_from(_WEIGHTED_TYPES))
    base: dict[str, typing.Any] = {
        "account_id": ACCOUNT,
        "client_order_id": ORDER_ID,
        "ts_event": ts,
        "ts_recv": ts,
    }
    if kind is OrderInitialized:
        return _init()
    if kind is OrderFilled:
        return OrderFilled(
            **base,
            venue=VenueId("SIM"),
            venue_order_id=VenueOrderId(draw(st.sampled_from(["V-1", "V-2"]))),
            trade_id=draw(_trade_ids),
            instrument_id=InstrumentId("BTCUSD"),
            side=OrderSide.BUY,
            last_quantity=draw(_quantities),
            last_price=draw(_prices),
            fee=Decimal("0.01"),
            fee_currency="USD",
            liquidity=LiquiditySide.TAKER,
        )
    if kind is OrderChildFilled:
        return OrderChildFilled(
            **base,
            child_order_id=ClientOrderId("O-2"),
            trade_id=draw(_trade_ids),
            last_quantity=draw(_quantities),
            last_price=draw(_prices),
        )
    if kind is OrderModified:
        return OrderModified(
            **base,
            quantity=draw(st.none() | _quantities),
            price=draw(st.none() | _prices),
            trigger_price=draw(st.none() | _prices),
        )
    if kind is OrderAccepted:
        return OrderAccepted(**base, venue_order_id=VenueOrderId("V-1"))
    if kind is OrderSubmitted:
        return OrderSubmitted(**base, venue=VenueId("SIM"))
    if kind is OrderDenied:
        return OrderDenied(**base, reason_code="TEST", reason="denied by the test")
    if kind is OrderRejected:
        return OrderRejected(**base, reason="refused by the test")
    if kind is OrderCancelRejected:
        return OrderCancelRejected(**base, reason="refused by the test")
    if kind is OrderModifyRejected:
        return OrderModifyRejected(**base, reason="refused by the test")
    if kind is OrderCancelled:
        return OrderCancelled(**base, reason="cancelled by the test")
    return kind(**base)


@st.composite
def event_sequences(draw: st.DrawFn) -> list[OrderEvent]:
    """Return a sequence that usually walks the order into deeper states first."""
    ts = 2
    sequence: list[OrderEvent] = []
    # A plausible prefix makes working and pending states common, not just NEW.
    prefixes: list[list[type[OrderEvent]]] = [
        [],
        [OrderSubmitted],
        [OrderSubmitted, OrderAccepted],
    ]
    prefix = draw(st.sampled_from(prefixes))
    base: dict[str, typing.Any] = {"account_id": ACCOUNT, "client_order_id": ORDER_ID}
    for kind in prefix:
        if kind is OrderSubmitted:
            sequence.append(OrderSubmitted(**base, ts_event=ts, ts_recv=ts, venue=VenueId("SIM")))
        else:
            sequence.append(
                OrderAccepted(**base, ts_event=ts, ts_recv=ts, venue_order_id=VenueOrderId("V-1"))
            )
        ts += 1
    for _ in range(draw(st.integers(min_value=1, max_value=30))):
        sequence.append(draw(order_events(ts)))
        ts += 1
    return sequence


def test_order_event_types_cover_every_order_event_in_the_union() -> None:
    assert set(ORDER_EVENT_TYPES) == set(typing.get_args(OrderEvents))
    assert len(ORDER_EVENT_TYPES) == 15


@settings(max_examples=300, deadline=None)
@given(
    sequence=event_sequences(), order_type=st.sampled_from([OrderType.LIMIT, OrderType.STOP_LIMIT])
)
def test_order_apply_any_event_sequence_follows_table_or_raises_unchanged(
    sequence: list[OrderEvent], order_type: OrderType
) -> None:
    order = Order(_init(order_type))
    before_pending = S.NEW  # the test's own model of the state a pending request left
    for event in sequence:
        state = order.status
        kind = type(event)
        before = _snapshot(order)
        target = TRANSITIONS.get((state, kind))
        is_fill = isinstance(event, OrderFilled | OrderChildFilled)
        duplicate = is_fill and event.trade_id in order.trade_ids  # type: ignore[attr-defined]
        try:
            changed = order.apply(event)
        except InvalidTransition as exc:
            assert not duplicate, "a repeated fill must be ignored, in any state"
            assert target is None, f"{state} + {kind.__name__} is in the table but raised"
            assert str(state) in str(exc)
            assert kind.__name__ in str(exc)
            assert exc.state is state
            assert _snapshot(order) == before
            continue
        except OverfillError:
            assert target is not None
            assert not duplicate
            if isinstance(event, OrderFilled | OrderChildFilled):
                assert event.trade_id not in before["trade_ids"]  # type: ignore[operator]
                assert order.filled_quantity + event.last_quantity > order.quantity
            else:
                assert isinstance(event, OrderModified)
                assert event.quantity is not None
                assert event.quantity < order.filled_quantity
            assert _snapshot(order) == before
            continue
        if duplicate or not changed:
            assert duplicate
            assert changed is False
            assert _snapshot(order) == before
            continue
        assert target is not None, f"{state} + {kind.__name__} is not in the table but applied"
        after_filled = order.filled_quantity
        assert isinstance(order.status, OrderStatus)
        assert before["filled_quantity"] <= after_filled <= order.quantity  # type: ignore[operator]
        if isinstance(event, OrderFilled | OrderChildFilled):
            assert after_filled == before["filled_quantity"] + event.last_quantity  # type: ignore[operator]
            assert order.trade_ids == before["trade_ids"] | {event.trade_id}  # type: ignore[operator]
            assert order.avg_price_notional == (
                before["avg_price_notional"] + event.last_quantity * event.last_price  # type: ignore[operator]
            )
        else:
            assert after_filled == before["filled_quantity"]
            assert order.trade_ids == before["trade_ids"]
        if state in CLOSED:
            # Only a late fill may reach a closed order; it never reopens it.
            assert is_fill
            assert state in (S.CANCELLED, S.EXPIRED)
            assert order.status in (state, S.FILLED)
        completed = order.filled_quantity == order.quantity
        if target == BY_FILL:
            if completed:
                expected = S.FILLED
            elif state in (S.CANCELLED, S.EXPIRED, *PENDING):
                expected = state
            else:
                expected = S.PARTIALLY_FILLED
        elif kind is OrderModified and completed:
            expected = S.FILLED  # cut down to what has already filled
        elif target == RESTORE:
            expected = S.PARTIALLY_FILLED if order.filled_quantity else before_pending
        else:
            assert isinstance(target, OrderStatus)
            expected = target
        assert order.status is expected, (state, kind.__name__, target)
        assert order.last_event_ts == event.ts_event
        if order.status in PENDING and state not in PENDING:
            before_pending = state
        _check_invariants(order)


def _check_invariants(order: Order) -> None:
    filled = order.filled_quantity
    assert 0 <= filled <= order.quantity
    assert (order.status is S.FILLED) == (filled == order.quantity and filled > 0)
    if order.status is S.PARTIALLY_FILLED:
        assert 0 < filled < order.quantity
    if filled and order.status not in CLOSED:
        # A working order with fills must show it: no ACCEPTED or TRIGGERED with fills.
        assert order.status in (S.PARTIALLY_FILLED, *PENDING), order.status
    assert order.is_open == (order.status not in CLOSED)
    assert order.leaves_quantity == (0 if order.status in CLOSED else order.quantity - filled)


@settings(max_examples=200, deadline=None)
@given(sequence=event_sequences())
def test_order_filled_quantity_any_sequence_never_decreases_nor_exceeds_quantity(
    sequence: list[OrderEvent],
) -> None:
    order = Order(_init())
    previous = order.filled_quantity
    was_closed = False
    for event in sequence:
        with contextlib.suppress(InvalidTransition, OverfillError):
            order.apply(event)
        assert previous <= order.filled_quantity <= order.quantity
        previous = order.filled_quantity
        if was_closed:
            assert order.status in CLOSED
        was_closed = order.status in CLOSED


def test_order_transitions_table_closed_states_accept_only_late_fills() -> None:
    for (state, kind), target in TRANSITIONS.items():
        assert isinstance(state, OrderStatus)
        assert issubclass(kind, OrderEvent)
        assert isinstance(target, OrderStatus) or target in (BY_FILL, RESTORE)
        if state in CLOSED:
            assert state in (S.CANCELLED, S.EXPIRED), (state, kind)
            assert kind in FILL_TYPES, (state, kind)
            assert target == BY_FILL
        if isinstance(target, OrderStatus) and state not in CLOSED:
            assert target is not S.NEW or state is S.NEW
    for kind in FILL_TYPES:
        assert (S.FILLED, kind) not in TRANSITIONS
    for state in (S.FILLED, S.REJECTED, S.DENIED):
        assert not [k for (s, k) in TRANSITIONS if s is state]


def _event_of(kind: type[OrderEvent], ts: int = 5) -> OrderEvent:
    for candidate in _examples_of_each_type(ts):
        if type(candidate) is kind:
            return candidate
    raise AssertionError(kind)


def _examples_of_each_type(ts: int) -> list[OrderEvent]:
    base: dict[str, typing.Any] = {
        "account_id": ACCOUNT,
        "client_order_id": ORDER_ID,
        "ts_event": ts,
        "ts_recv": ts,
    }
    return [
        _init(),
        OrderDenied(**base, reason_code="X", reason="x"),
        OrderSubmitted(**base, venue=VenueId("SIM")),
        OrderAccepted(**base, venue_order_id=VenueOrderId("V-1")),
        OrderRejected(**base, reason="x"),
        OrderPendingCancel(**base),
        OrderPendingModify(**base),
        OrderCancelRejected(**base, reason="x"),
        OrderModifyRejected(**base, reason="x"),
        OrderModified(**base, price=Price("101.00")),
        OrderCancelled(**base),
        OrderExpired(**base),
        OrderTriggered(**base),
        OrderFilled(
            **base,
            venue=VenueId("SIM"),
            venue_order_id=VenueOrderId("V-1"),
            trade_id=TradeId("T-table"),
            instrument_id=InstrumentId("BTCUSD"),
            side=OrderSide.BUY,
            last_quantity=Quantity("1"),
            last_price=Decimal("100.00"),
            fee=Decimal(0),
            fee_currency="USD",
            liquidity=LiquiditySide.MAKER,
        ),
        OrderChildFilled(
            **base,
            child_order_id=ClientOrderId("O-2"),
            trade_id=TradeId("T-child"),
            last_quantity=Quantity("1"),
            last_price=Decimal("100.00"),
        ),
    ]


def _order_in(state: OrderStatus) -> Order:
    order = Order(_init())
    order.status = state
    order.status_before_pending = S.ACCEPTED
    if state is S.PARTIALLY_FILLED:
        order.filled_quantity = Decimal(2)
        order.avg_price_notional = Decimal("200.00")
        order.trade_ids = {TradeId("T-earlier")}
    elif state is S.FILLED:
        order.filled_quantity = order.quantity
    return order


@pytest.mark.parametrize("state", list(OrderStatus))
@pytest.mark.parametrize("kind", ORDER_EVENT_TYPES, ids=lambda k: k.__name__)
def test_order_apply_each_state_and_event_raises_exactly_when_not_in_table(
    state: OrderStatus, kind: type[OrderEvent]
) -> None:
    order = _order_in(state)
    before = _snapshot(order)
    event = _event_of(kind)
    if (state, kind) in TRANSITIONS:
        assert order.apply(event) is True
        assert isinstance(order.status, OrderStatus)
        if state in CLOSED:
            assert order.status in CLOSED
        return
    with pytest.raises(InvalidTransition) as info:
        order.apply(event)
    message = str(info.value)
    assert f"state {state}" in message
    assert f"event {kind.__name__}" in message
    assert ORDER_ID in message
    assert _snapshot(order) == before


def test_order_fill_after_cancel_books_and_stays_cancelled() -> None:
    order = _order_in(S.CANCELLED)
    fill = _event_of(OrderFilled)
    assert order.apply(fill) is True
    assert order.status is S.CANCELLED
    assert order.filled_quantity == 1
    assert order.leaves_quantity == 0


@pytest.mark.parametrize(
    ("request_kind", "answer"),
    [(OrderPendingCancel, OrderCancelRejected), (OrderPendingModify, OrderModifyRejected)],
)
def test_order_partial_fill_while_pending_restores_partially_filled(
    request_kind: type[OrderEvent], answer: type[OrderEvent]
) -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(_event_of(request_kind))
    order.apply(_event_of(OrderFilled))
    assert order.status in PENDING
    order.apply(_event_of(answer))
    assert order.status is S.PARTIALLY_FILLED
    assert order.filled_quantity == 1


def test_order_overfill_raises_and_leaves_order_unchanged() -> None:
    order = _order_in(S.ACCEPTED)
    fill = OrderFilled(
        account_id=ACCOUNT,
        client_order_id=ORDER_ID,
        ts_event=9,
        ts_recv=9,
        venue=VenueId("SIM"),
        venue_order_id=VenueOrderId("V-1"),
        trade_id=TradeId("T-big"),
        instrument_id=InstrumentId("BTCUSD"),
        side=OrderSide.BUY,
        last_quantity=Quantity("11"),
        last_price=Decimal("100.00"),
        fee=Decimal(0),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
    )
    before = _snapshot(order)
    with pytest.raises(OverfillError, match="T-big"):
        order.apply(fill)
    assert _snapshot(order) == before


@pytest.mark.parametrize("kind", FILL_TYPES, ids=lambda k: k.__name__)
def test_order_repeated_fill_after_filled_returns_false_unchanged(
    kind: type[OrderEvent],
) -> None:
    order = _order_in(S.ACCEPTED)
    order.apply(
        OrderModified(
            account_id=ACCOUNT,
            client_order_id=ORDER_ID,
            ts_event=4,
            ts_recv=4,
            quantity=Quantity("1"),
        )
    )
    fill = _event_of(kind)
    assert order.apply(fill) is True
    assert order.status is S.FILLED
    before = _snapshot(order)
    assert order.apply(fill) is False
    assert _snapshot(order) == before
