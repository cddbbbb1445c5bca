"""A signal's whole life over HTTP: accepted, filled, positioned, valued, reported."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from api.live import (
    QUANTITY,
    STARTING_CASH,
    STOP_LOSS,
    SYMBOL,
    TAKE_PROFIT,
    Deployment,
    LiveService,
    get_ok,
    orders_of,
    post_ok,
    signal_body,
    wait_for,
    wait_order,
)


def _cash(portfolio: dict[str, Any]) -> Decimal:
    return Decimal(portfolio["cashBalance"])


def test_signal_buy_with_quantity_fills_and_updates_orders_trades_position_cash(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    with live.client(alice) as client:
        result = post_ok(client, "/signals", signal_body("flow-buy-1"))
        assert result["signalId"] == "flow-buy-1"
        assert result["status"] in {"ACCEPTED", "EXECUTED"}
        assert result["duplicate"] is False
        assert result["reasonCode"] is None
        assert len(result["orderIds"]) == 1
        order_id = result["orderIds"][0]

        order = wait_order(client, order_id, "FILLED")
        assert order["accountId"] == "ALICE-1"
        assert order["symbol"] == SYMBOL
        assert order["side"] == "BUY"
        assert order["type"] == "MARKET"
        assert order["signalId"] == "flow-buy-1"
        assert Decimal(order["quantity"]) == QUANTITY
        assert Decimal(order["filledQuantity"]) == QUANTITY

        listed = [o for o in orders_of(client) if o["orderId"] == order_id]
        assert listed == [order]
        assert orders_of(client, status="FILLED") == [order]

        trades = get_ok(client, "/trades")
        assert trades["total"] == 1
        (trade,) = trades["items"]
        assert trade["orderId"] == order_id
        assert trade["accountId"] == "ALICE-1"
        assert trade["side"] == "BUY"
        assert trade["symbol"] == SYMBOL
        assert trade["feeCurrency"] == "USD"
        assert Decimal(trade["quantity"]) == QUANTITY
        price, fee = Decimal(trade["price"]), Decimal(trade["fee"])
        assert Decimal(order["averagePrice"]) == price

        (position,) = get_ok(client, "/positions")
        assert position["accountId"] == "ALICE-1"
        assert position["symbol"] == SYMBOL
        assert position["side"] == "LONG"
        assert Decimal(position["quantity"]) == QUANTITY
        assert Decimal(position["averagePrice"]) == price

        portfolio = get_ok(client, "/portfolio")
        assert portfolio["accountId"] == "ALICE-1"
        assert portfolio["tradingState"] == "ACTIVE"
        assert _cash(portfolio) == STARTING_CASH - QUANTITY * price - fee
        assert Decimal(portfolio["fees"]) == fee

        signal = get_ok(client, "/signals/flow-buy-1")
        assert signal["status"] == "EXECUTED"
        assert signal["accountId"] == "ALICE-1"
        assert signal["orderIds"] == [order_id]
        feedback = signal["feedback"]
        assert feedback["orders"] == 1
        assert feedback["fills"] == 1
        assert Decimal(feedback["filledQuantity"]) == QUANTITY
        assert Decimal(feedback["averagePrice"]) == price
        assert feedback["reference"] is not None
        assert feedback["slippageBps"] is not None


def test_signal_bracket_then_close_long_children_work_then_position_flat(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    with live.client(alice) as client:
        bracket = post_ok(
            client,
            "/signals",
            signal_body("flow-bracket-1", stopLoss=str(STOP_LOSS), takeProfit=str(TAKE_PROFIT)),
        )
        assert bracket["status"] in {"ACCEPTED", "EXECUTED"}
        entry_id, *child_ids = bracket["orderIds"]
        assert len(child_ids) == 2

        entry = wait_order(client, entry_id, "FILLED")
        assert entry["parentId"] is None
        assert sorted(entry["linkedOrderIds"]) == sorted(child_ids)
        children = {o["orderId"]: o for o in orders_of(client) if o["parentId"] == entry_id}
        assert set(children) == set(child_ids)
        for child in children.values():
            assert child["side"] == "SELL"
            assert child["signalId"] == "flow-bracket-1"
            assert child["status"] == "ACCEPTED"
            assert Decimal(child["quantity"]) == QUANTITY
        stops = [c for c in children.values() if c["type"] == "STOP"]
        targets = [c for c in children.values() if c["type"] == "LIMIT"]
        assert [Decimal(c["stopPrice"]) for c in stops] == [STOP_LOSS]
        assert [Decimal(c["price"]) for c in targets] == [TAKE_PROFIT]
        (position,) = get_ok(client, "/positions")
        assert Decimal(position["quantity"]) == QUANTITY

        close = post_ok(client, "/signals", signal_body("flow-close-1", "CLOSE_LONG", None))
        assert close["status"] in {"ACCEPTED", "EXECUTED"}
        (close_id,) = close["orderIds"]
        closing = wait_order(client, close_id, "FILLED")
        assert closing["side"] == "SELL"
        assert Decimal(closing["filledQuantity"]) == QUANTITY

        assert get_ok(client, "/positions") == []
        for child_id in child_ids:
            assert wait_order(client, child_id, "CANCELLED")["filledQuantity"] == "0"
        trades = get_ok(client, "/trades")["items"]
        assert sorted(t["orderId"] for t in trades) == sorted([entry_id, close_id])
        buy = next(t for t in trades if t["orderId"] == entry_id)
        sell = next(t for t in trades if t["orderId"] == close_id)
        realized = QUANTITY * (Decimal(sell["price"]) - Decimal(buy["price"]))
        fees = Decimal(buy["fee"]) + Decimal(sell["fee"])
        portfolio = get_ok(client, "/portfolio")
        assert _cash(portfolio) == STARTING_CASH + realized - fees
        assert Decimal(portfolio["positionsValue"]) == 0

        def executed() -> dict[str, Any] | None:
            view: dict[str, Any] = get_ok(client, "/signals/flow-close-1")
            return view if view["status"] == "EXECUTED" else None

        closed = wait_for(executed, "the close signal to be EXECUTED")
        assert closed["orderIds"] == [close_id]
        assert Decimal(closed["feedback"]["realizedPnL"]) == realized - fees


def test_signal_close_long_without_position_rejected_nothing_to_close(
    live: LiveService, deployment: Deployment
) -> None:
    with live.client(deployment.users["alice"]) as client:
        result = post_ok(client, "/signals", signal_body("flow-close-none", "CLOSE_LONG", None))
        assert result["status"] == "REJECTED"
        assert result["reasonCode"] == "NOTHING_TO_CLOSE"
        assert result["orderIds"] == []
        signal = get_ok(client, "/signals/flow-close-none")
        assert signal["status"] == "REJECTED"
        assert signal["reasonCode"] == "NOTHING_TO_CLOSE"
        assert orders_of(client) == []


def test_websocket_payloads_equal_the_rest_views() -> None:
    """The fast WebSocket payload builders produce exactly the REST view JSON."""

    from alphintra.api import views
    from alphintra.domain.enums import LiquiditySide, OrderSide, OrderType
    from alphintra.domain.events import OrderFilled, OrderInitialized
    from alphintra.domain.identifiers import (
        AccountId,
        ClientOrderId,
        InstrumentId,
        TradeId,
        VenueId,
        VenueOrderId,
    )
    from alphintra.domain.orders import Order
    from alphintra.domain.values import Price, Quantity

    init = OrderInitialized(
        account_id=AccountId("A"),
        client_order_id=ClientOrderId("O-1"),
        ts_event=1_700_000_000_123_456_789,
        ts_recv=1_700_000_000_123_456_789,
        instrument_id=InstrumentId("SPY"),
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=Quantity("10"),
        price=Price("450.25"),
        linked_ids=(ClientOrderId("O-2"),),
    )
    order = Order(init)
    assert views.order_payload("A", order) == views.order_view("A", order).model_dump(mode="json")
    fill = OrderFilled(
        account_id=AccountId("A"),
        client_order_id=ClientOrderId("O-1"),
        ts_event=1_700_000_001_000_000_000,
        ts_recv=1_700_000_001_000_000_000,
        venue=VenueId("SIM"),
        venue_order_id=VenueOrderId("SIM-1"),
        trade_id=TradeId("T-1"),
        instrument_id=InstrumentId("SPY"),
        side=OrderSide.BUY,
        last_quantity=Quantity("4"),
        last_price=Decimal("450.20"),
        fee=Decimal("0.0450"),
        fee_currency="USD",
        liquidity=LiquiditySide.MAKER,
    )
    assert views.trade_payload("A", fill) == views.trade_view("A", fill).model_dump(mode="json")


def test_signal_feedback_slippage_measured_against_entry_price_when_given(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    entry = Decimal("7000.00")
    with live.client(alice) as client:
        result = post_ok(client, "/signals", signal_body("feedback-1", entryPrice=str(entry)))
        wait_order(client, result["orderIds"][0], "FILLED")
        feedback = get_ok(client, "/signals/feedback-1")["feedback"]
        assert Decimal(feedback["reference"]) == entry
        average = Decimal(feedback["averagePrice"])
        expected = ((average - entry) / entry * 10_000).quantize(Decimal("0.0001"))
        assert Decimal(feedback["slippageBps"]) == expected
