"""The recorder on the events a venue reports, folded into a real ``AccountState``.

ETHUSD quotes 1999 / 2001 (mid 2000). A market buy of 2 fills 1 @ 2001 and 1 @ 2002;
the fees are charged in ETH, the base asset, as crypto venues do: 0.001 ETH on each
fill, worth 0.001 x the fill price in USD.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.account import AccountState
from alphintra.domain.enums import LiquiditySide, OrderSide, OrderType
from alphintra.domain.events import (
    AnyEvent,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderInitialized,
    OrderRejected,
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
from alphintra.domain.market import QuoteTick
from alphintra.domain.values import Quantity
from alphintra.reports.recorder import ExecutionQualityRecorder, QuoteHistory
from alphintra.reports.records import COLUMNS, UPSERT_ROWS, RecordedOrder, orders_from_rows

ETH = InstrumentId("ETHUSD")
ACCOUNT = AccountId("A")
ORDER = ClientOrderId("A-1")
SEC = 1_000_000_000
D = Decimal


def _events(fee_currency: str, first_price: str) -> list[AnyEvent]:
    fills = [
        OrderFilled(
            account_id=ACCOUNT,
            client_order_id=ORDER,
            ts_event=k * SEC,
            ts_recv=k * SEC,
            venue=VenueId("X"),
            venue_order_id=VenueOrderId("v1"),
            trade_id=TradeId(f"t{k}"),
            instrument_id=ETH,
            side=OrderSide.BUY,
            last_quantity=Quantity("1"),
            last_price=D(price),
            fee=D("0.001"),
            fee_currency=fee_currency,
            liquidity=LiquiditySide.TAKER,
        )
        for k, price in ((1, first_price), (2, "2002"))
    ]
    return [
        OrderInitialized(
            account_id=ACCOUNT,
            client_order_id=ORDER,
            ts_event=0,
            ts_recv=0,
            instrument_id=ETH,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=Quantity("2"),
        ),
        OrderSubmitted(
            account_id=ACCOUNT, client_order_id=ORDER, ts_event=0, ts_recv=0, venue=VenueId("X")
        ),
        OrderAccepted(
            account_id=ACCOUNT,
            client_order_id=ORDER,
            ts_event=0,
            ts_recv=0,
            venue_order_id=VenueOrderId("v1"),
        ),
        *fills,
    ]


def _record(fee_currency: str, first_price: str = "2001") -> tuple[list[RecordedOrder], list[bool]]:
    state = AccountState(ACCOUNT, {ETH: D(1)}, {ETH: "USD"})
    quotes = QuoteHistory()
    quotes.record(QuoteTick(ETH, D(1999), D(2001), D(1), D(1), 0))
    completions: list[bool] = []
    recorder = ExecutionQualityRecorder(
        lambda _: state,
        quotes,
        horizon_ns=SEC,
        base_currency=lambda _: "ETH",
        listener=lambda _order, _fills, done: completions.append(done),
    )
    rows: list[tuple[object, ...]] = []
    for seq, event in enumerate(_events(fee_currency, first_price), start=1):
        state.apply(event)
        recorder.appended(event, seq)
        for sql, params in recorder.drain():  # one commit per event
            rows.extend(UPSERT_ROWS.full(sql, row) for row in params)
    latest = {(row[0], row[1], row[2]): row for row in rows}  # the upserts' end state
    return orders_from_rows([dict(zip(COLUMNS, r, strict=True)) for r in latest.values()]), (
        completions
    )


def test_fee_in_the_base_asset_is_converted_at_the_fill_price() -> None:
    (order,), completions = _record("ETH")
    q = order.quality
    assert q.fees == D("2.001") + D("2.002")  # 0.001 ETH at 2001 and at 2002
    assert [f.fee for f in q.fills] == [D("2.001"), D("2.002")]
    # spread 1 + 2 (fills vs the mid 2000), fees 4.003: the shortfall against arrival.
    assert q.implementation_shortfall == D(3) + D("4.003")
    assert completions == [False, True]  # the order completed once, with its second fill


def test_fee_in_a_third_currency_leaves_the_order_unmeasured() -> None:
    orders, completions = _record("BNB")
    assert orders == [] and completions == []


def test_fill_at_a_negative_price_leaves_the_order_unmeasured_without_failing() -> None:
    orders, completions = _record("USD", first_price="-1")  # a spread instrument, say
    assert orders == [] and completions == []


def _unfilled(closing: AnyEvent) -> tuple[list[tuple[object, ...]], int]:
    """Record an unfilled market order that ``closing`` closes; return rows and tracked count."""
    state = AccountState(ACCOUNT, {ETH: D(1)}, {ETH: "USD"})
    quotes = QuoteHistory()
    quotes.record(QuoteTick(ETH, D(1999), D(2001), D(1), D(1), 0))
    recorder = ExecutionQualityRecorder(lambda _: state, quotes, horizon_ns=SEC)
    opening = _events("USD", "2001")[:3]  # initialized, submitted, accepted
    rows: list[tuple[object, ...]] = []
    for seq, event in enumerate([*opening, closing], start=1):
        state.apply(event)
        recorder.appended(event, seq)
        for sql, params in recorder.drain():
            rows.extend(UPSERT_ROWS.full(sql, row) for row in params)
    return rows, recorder.tracked_orders


def test_unfilled_order_cancelled_after_acknowledgement_is_measured_and_forgotten() -> None:
    rows, tracked = _unfilled(
        OrderCancelled(account_id=ACCOUNT, client_order_id=ORDER, ts_event=SEC, ts_recv=SEC)
    )
    (row,) = (dict(zip(COLUMNS, r, strict=True)) for r in rows)
    assert row["kind"] == "ORDER" and row["order_id"] == ORDER
    assert row["fill_rate"] == "0" and row["end_ts_ns"] == SEC
    assert tracked == 0


def test_unfilled_order_rejected_after_acknowledgement_leaves_nothing_tracked() -> None:
    rows, tracked = _unfilled(
        OrderRejected(
            account_id=ACCOUNT, client_order_id=ORDER, ts_event=SEC, ts_recv=SEC, reason="no"
        )
    )
    assert rows == []
    assert tracked == 0
