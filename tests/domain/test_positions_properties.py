"""Property tests of netted positions and of fills booked into an account.

For any sequence of fills (either side, exact decimal quantities and prices, with
duplicates) the position equals the signed sum of the fills, and realised plus
unrealised P&L equals the mark-to-market change computed independently here,
exactly: Decimal equality, no tolerance.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.account import AccountState
from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from alphintra.domain.events import (
    AccountFunded,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.positions import Position
from alphintra.domain.values import ZERO, Quantity

ACCOUNT = AccountId("ACC")
INSTRUMENT = InstrumentId("ESX")
VENUES = (VenueId("SIM"), VenueId("ALT"))


@dataclass(frozen=True)
class Fill:
    side: OrderSide
    quantity: Decimal
    price: Decimal
    fee: Decimal
    venue: VenueId
    repeat: bool
    """Deliver this fill a second time (a duplicate report)."""

    @property
    def signed(self) -> Decimal:
        return self.quantity if self.side is OrderSide.BUY else -self.quantity


def _scaled(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=low, max_value=high).map(lambda n: Decimal(n).scaleb(-places))


# Quantities with 0-3 decimal places, prices with 0-4: exact decimals as venues send.
_quantities = st.integers(min_value=0, max_value=3).flatmap(
    lambda places: _scaled(1, 5_000 * 10**places, places)
)
_prices = st.integers(min_value=0, max_value=4).flatmap(
    lambda places: _scaled(1, 100_000 * 10**places, places)
)
_fees = st.just(ZERO) | _scaled(0, 100_000, 4)
_fills = st.builds(
    Fill,
    side=st.sampled_from(OrderSide),
    quantity=_quantities,
    price=_prices,
    fee=_fees,
    venue=st.sampled_from(VENUES),
    repeat=st.booleans(),
)
_multipliers = st.sampled_from([Decimal(1), Decimal(10), Decimal("0.1"), Decimal(50)])


def _mark_to_market(fills: list[Fill], mark: Decimal, multiplier: Decimal) -> Decimal:
    """Return the change in value of the fills at ``mark``: signed qty × (mark − price) × m."""
    return sum((f.signed * (mark - f.price) * multiplier for f in fills), ZERO)


@settings(max_examples=300, deadline=None)
@given(
    fills=st.lists(_fills, max_size=25),
    mark=_prices,
    multiplier=_multipliers,
)
def test_position_any_fills_pnl_equals_mark_to_market_exactly(
    fills: list[Fill], mark: Decimal, multiplier: Decimal
) -> None:
    position = Position(ACCOUNT, INSTRUMENT, multiplier, "USD")
    realised_returned = ZERO
    for index, fill in enumerate(fills, start=1):
        trade_id = TradeId(f"T{index}")
        realised = position.apply_fill(fill.venue, trade_id, fill.signed, fill.price, index)
        assert realised is not None
        realised_returned += realised
        if fill.repeat:
            before = (position.quantity, position.open_cost, position.realized_pnl)
            assert position.apply_fill(fill.venue, trade_id, fill.signed, fill.price, index) is None
            assert (position.quantity, position.open_cost, position.realized_pnl) == before
        assert (position.opened_ts is None) == (position.quantity == 0)
        if position.quantity == 0:
            assert position.open_cost == 0
            assert position.average_price is None
    assert position.quantity == sum((f.signed for f in fills), ZERO)
    assert position.realized_pnl == realised_returned
    assert position.realized_pnl + position.unrealized_pnl(mark) == _mark_to_market(
        fills, mark, multiplier
    )
    assert position.market_value(mark) == position.quantity * mark * multiplier
    assert position.trade_ids == {(f.venue, TradeId(f"T{i}")) for i, f in enumerate(fills, 1)}


@settings(max_examples=200, deadline=None)
@given(
    opening=_fills,
    closing_fraction=st.fractions(min_value=0, max_value=2, max_denominator=50),
    close_price=_prices,
    mark=_prices,
)
def test_position_partial_close_pnl_splits_cost_without_loss(
    opening: Fill, closing_fraction: Fraction, close_price: Decimal, mark: Decimal
) -> None:
    # Several opening lots at different prices make the average cost a repeating
    # decimal, the case where a partial close has to divide.
    position = Position(ACCOUNT, INSTRUMENT, Decimal(1), "USD")
    lots = [
        (opening.quantity, opening.price),
        (opening.quantity * 2, opening.price + 1),
        (opening.quantity, opening.price + Decimal("0.01")),
    ]
    for index, (quantity, price) in enumerate(lots, start=1):
        position.apply_fill(
            opening.venue, TradeId(f"L{index}"), quantity * opening.side.sign, price, index
        )
    held = position.quantity
    share = Decimal(closing_fraction.numerator) / Decimal(closing_fraction.denominator)
    closing = -(held * share).quantize(Decimal("0.001"))
    if not closing:
        return
    position.apply_fill(opening.venue, TradeId("C"), closing, close_price, 9)
    expected = sum((q * opening.side.sign * (mark - p) for q, p in lots), ZERO) + closing * (
        mark - close_price
    )
    assert position.realized_pnl + position.unrealized_pnl(mark) == expected
    assert position.quantity == held + closing


def _order_events(
    index: int, fill: Fill, ts: int
) -> tuple[OrderInitialized, OrderSubmitted, OrderAccepted]:
    client_order_id = ClientOrderId(f"O-{index}")
    common: dict[str, Any] = {"account_id": ACCOUNT, "client_order_id": client_order_id}
    return (
        OrderInitialized(
            **common,
            ts_event=ts,
            ts_recv=ts,
            instrument_id=INSTRUMENT,
            side=fill.side,
            order_type=OrderType.MARKET,
            quantity=Quantity(fill.quantity),
            venue=fill.venue,
        ),
        OrderSubmitted(**common, ts_event=ts, ts_recv=ts, venue=fill.venue),
        OrderAccepted(**common, ts_event=ts, ts_recv=ts, venue_order_id=VenueOrderId(f"V{index}")),
    )


@settings(max_examples=300, deadline=None)
@given(
    fills=st.lists(_fills, max_size=25),
    mark=_prices,
    multiplier=_multipliers,
    starting_cash=_scaled(0, 10**9, 2),
)
def test_account_fills_with_fees_cash_and_value_match_pnl_exactly(
    fills: list[Fill], mark: Decimal, multiplier: Decimal, starting_cash: Decimal
) -> None:
    state = AccountState(ACCOUNT, {INSTRUMENT: multiplier}, {INSTRUMENT: "USD"})
    state.apply(
        AccountFunded(
            account_id=ACCOUNT, ts_event=0, ts_recv=0, currency="USD", amount=starting_cash
        )
    )
    # Each venue numbers its own trades from 1, so trade IDs collide across venues:
    # only (venue, trade ID) identifies a fill.
    per_venue: Counter[VenueId] = Counter()
    for index, fill in enumerate(fills, start=1):
        for event in _order_events(index, fill, index):
            assert state.apply(event) is True
        per_venue[fill.venue] += 1
        report = OrderFilled(
            account_id=ACCOUNT,
            client_order_id=ClientOrderId(f"O-{index}"),
            ts_event=index,
            ts_recv=index,
            venue=fill.venue,
            venue_order_id=VenueOrderId(f"V{index}"),
            trade_id=TradeId(str(per_venue[fill.venue])),
            instrument_id=INSTRUMENT,
            side=fill.side,
            last_quantity=Quantity(fill.quantity),
            last_price=fill.price,
            fee=fill.fee,
            fee_currency="USD",
            liquidity=LiquiditySide.TAKER,
        )
        assert state.apply(report) is True
        assert state.orders[report.client_order_id].status is OrderStatus.FILLED
        if fill.repeat:
            cash_before = dict(state.cash)
            assert state.apply(report) is False
            assert state.cash == cash_before
    fees = sum((f.fee for f in fills), ZERO)
    position = state.positions.get(INSTRUMENT)
    quantity = position.quantity if position is not None else ZERO
    realised = position.realized_pnl if position is not None else ZERO
    unrealised = position.unrealized_pnl(mark) if position is not None else ZERO
    value = position.market_value(mark) if position is not None else ZERO
    assert quantity == sum((f.signed for f in fills), ZERO)
    assert state.fees.get("USD", ZERO) == fees
    cash_change = state.cash["USD"] - starting_cash
    assert cash_change + value == realised + unrealised - fees
    assert realised + unrealised == _mark_to_market(fills, mark, multiplier)
    assert not state.open_orders
