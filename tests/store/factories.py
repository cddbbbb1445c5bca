"""Sample events of every type, for journal tests."""

from __future__ import annotations

from decimal import Decimal
from typing import TypedDict

from alphintra.domain.enums import (
    ContingencyType,
    LiquiditySide,
    OrderSide,
    OrderType,
    SignalAction,
    TimeInForce,
    TradingState,
    TrailingOffsetType,
)
from alphintra.domain.events import (
    AccountFunded,
    AccountOpened,
    AlgoStateChanged,
    AlgoVolumeObserved,
    AnyEvent,
    AuditRecorded,
    EquityMarksRecorded,
    MarkUpdated,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderChildFilled,
    OrderDenied,
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
    PositionMismatch,
    RiskAlertRaised,
    RiskLimitsChanged,
    RoutingDecided,
    SignalReceived,
    SignalRejected,
    SizingPolicyChanged,
    TradingStateChanged,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    ModelId,
    OrderListId,
    SignalId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.values import Price, Quantity

T0 = 1_700_000_000_000_000_000


class _OrderFields(TypedDict):
    account_id: AccountId
    ts_event: int
    ts_recv: int
    client_order_id: ClientOrderId


def funded(account: str, n: int) -> AccountFunded:
    """Return a small event whose amount is ``n``, so tests can check content by seq."""
    return AccountFunded(
        account_id=AccountId(account),
        ts_event=T0 + n,
        ts_recv=T0 + n,
        currency="USD",
        amount=Decimal(n),
    )


def fill(account: str, trade_id: str, venue: str = "SIM", n: int = 0) -> OrderFilled:
    """Return a fill with the given venue and trade id."""
    return OrderFilled(
        account_id=AccountId(account),
        ts_event=T0 + n,
        ts_recv=T0 + n + 5,
        client_order_id=ClientOrderId("O-1"),
        venue=VenueId(venue),
        venue_order_id=VenueOrderId("V-1"),
        trade_id=TradeId(trade_id),
        instrument_id=InstrumentId("EURUSD"),
        side=OrderSide.SELL,
        last_quantity=Quantity("1000.00"),
        last_price=Decimal("1.08345"),
        fee=Decimal("-0.0150"),
        fee_currency="USD",
        liquidity=LiquiditySide.MAKER,
    )


def every_event_type(account: str) -> list[AnyEvent]:
    """Return one event of every type in ``AnyEvent``, with optional fields set and unset."""
    a = AccountId(account)
    coid = ClientOrderId("O-1")
    order = _OrderFields(account_id=a, ts_event=T0, ts_recv=T0 + 1, client_order_id=coid)
    return [
        AccountOpened(account_id=a, ts_event=T0, ts_recv=T0, base_currency="USD"),
        AccountFunded(
            account_id=a, ts_event=T0, ts_recv=T0, currency="USD", amount=Decimal("-12.50")
        ),
        TradingStateChanged(
            account_id=a, ts_event=T0, ts_recv=T0, state=TradingState.REDUCING, reason="drawdown"
        ),
        EquityMarksRecorded(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            day=739_000,
            day_start_equity=Decimal("1000000.00"),
            high_water=Decimal("1003012.5"),
        ),
        RiskLimitsChanged(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            limits='{"loss": {"max_daily_loss": "25000"}, "max_order_quantity": "7"}',
            monitors='{"max_drawdown": "0.1", "timezone": "America/New_York"}',
        ),
        SizingPolicyChanged(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            policy='{"kind": "percent_of_equity", "percent": "2"}',
        ),
        SignalReceived(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            signal_id=SignalId("S-1"),
            model_id=ModelId("m-ünïcode"),
            instrument_id=InstrumentId("BTCUSDT"),
            action=SignalAction.REBALANCE,
            confidence=Decimal("0.750"),
        ),
        SignalRejected(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            signal_id=SignalId("S-1"),
            reason_code="NEGATIVE_EDGE",
            reason="kelly fraction -0.1 <= 0",
        ),
        AuditRecorded(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            actor="user-1",
            action="risk.limits",
            address="127.0.0.1",
            target="ACC-1",
            old_value='{"maxOrderQuantity": null}',
            new_value='{"maxOrderQuantity": "10"}',
        ),
        RiskAlertRaised(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            kind="volatility_breaker",
            message="realised volatility 0.02 exceeds 0.01",
            instrument_id=InstrumentId("BTCUSD"),
        ),
        PositionMismatch(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            instrument_id=InstrumentId("BTCUSD"),
            engine_quantity=Decimal("1.5"),
            venue_quantity=Decimal("1.25"),
        ),
        MarkUpdated(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            instrument_id=InstrumentId("XAUUSD"),
            mark=Decimal("2034.1E+0"),
        ),
        OrderInitialized(
            **order,
            instrument_id=InstrumentId("EURUSD"),
            side=OrderSide.BUY,
            order_type=OrderType.TRAILING_STOP,
            quantity=Quantity("1000.00"),
            price=Price("1.08345"),
            trigger_price=Price("-0.50"),
            trailing_offset=Decimal("0.0010"),
            trailing_offset_type=TrailingOffsetType.PRICE,
            display_quantity=Quantity("100.00"),
            time_in_force=TimeInForce.GTD,
            expire_ts=T0 + 10**12,
            reduce_only=True,
            post_only=True,
            contingency=ContingencyType.OCO,
            order_list_id=OrderListId("L-1"),
            parent_id=ClientOrderId("O-0"),
            linked_ids=(ClientOrderId("O-2"), ClientOrderId("O-3")),
            signal_id=SignalId("S-1"),
            emulated=True,
            venue=VenueId("OANDA"),
            exec_algorithm="TWAP",
            exec_params={"end_ns": str(T0 + 10**12), "slices": "4", "start_ns": str(T0)},
        ),
        OrderInitialized(
            **order,
            instrument_id=InstrumentId("SPY"),
            side=OrderSide.SELL,
            order_type=OrderType.MARKET,
            quantity=Quantity("5"),
        ),
        AlgoStateChanged(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            client_order_id=coid,
            paused=True,
            reason="news due",
        ),
        AlgoStateChanged(account_id=a, ts_event=T0, ts_recv=T0, client_order_id=coid, paused=False),
        AlgoVolumeObserved(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            client_order_id=coid,
            observed_volume=Decimal("12500.50"),
        ),
        RoutingDecided(
            account_id=a,
            ts_event=T0,
            ts_recv=T0,
            client_order_id=coid,
            attempt=2,
            decision='{"method": "greedy walk", "remainder": "0"}',
        ),
        OrderDenied(**order, reason_code="MAX_NOTIONAL", reason="notional 1e6 > 5e5"),
        OrderSubmitted(**order, venue=VenueId("SIM")),
        OrderAccepted(**order, venue_order_id=VenueOrderId("V-1")),
        OrderRejected(**order, reason="insufficient margin"),
        OrderPendingCancel(**order),
        OrderPendingModify(**order),
        OrderCancelRejected(**order, reason="too late"),
        OrderModifyRejected(**order, reason="unknown order"),
        OrderModified(**order, quantity=Quantity("2.000"), price=None, trigger_price=Price("7")),
        OrderModified(**order),
        OrderCancelled(**order),
        OrderCancelled(**order, reason='user "quoted" \\ reason\n'),
        OrderExpired(**order),
        OrderTriggered(**order),
        OrderChildFilled(
            **order,
            child_order_id=ClientOrderId("O-1-c1"),
            trade_id=TradeId("T-0"),
            last_quantity=Quantity("10.0"),
            last_price=Decimal("99.5"),
        ),
        fill(account, "T-1"),
    ]
