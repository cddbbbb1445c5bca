"""Signal intake of the trading engine: signals and rebalances become orders or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderType, SignalAction, TimeInForce
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.execution.algorithms import TwapSpec
from alphintra.orders.factory import OrderValidationError
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenueConfig

T0 = 1_700_000_000 * 10**9
SPY = InstrumentId("SPY")
EURUSD = InstrumentId("EURUSD")


def _engine(*, priced: bool = True) -> TradingEngine:
    config = SimulatedVenueConfig()
    engine = TradingEngine(
        account_id=AccountId("SIG"),
        registry=InstrumentRegistry(),
        journal=MemoryJournal(),
        clock=SimulatedClock(T0),
        venues={config.venue_id: config.capabilities},
        default_venue=config.venue_id,
    )
    engine.open_account("USD", {"USD": Decimal(1_000_000)})
    quotes = ((SPY, "400.00", "400.02"), (EURUSD, "1.10000", "1.10002")) if priced else ()
    for symbol, bid, ask in quotes:
        engine.on_market_data(
            QuoteTick(symbol, Decimal(bid), Decimal(ask), Decimal(10**6), Decimal(10**6), T0)
        )
    return engine


def _signal(signal_id: str, action: SignalAction, **fields: object) -> TradingSignal:
    values: dict[str, object] = {"instrument_id": SPY, "confidence": Decimal("0.6"), "ts": T0}
    values.update(fields)
    return TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId("m"),
        action=action,
        **values,  # type: ignore[arg-type]
    )


def test_process_rebalance_with_one_invalid_order_records_and_sends_nothing() -> None:
    engine = _engine()
    rebalance = _signal("r1", SignalAction.REBALANCE)
    deltas = {SPY: Decimal(10), EURUSD: Decimal("0.5")}  # EURUSD trades in whole units
    with pytest.raises(OrderValidationError, match=r"EURUSD: quantity 0\.5 "):
        engine.process_rebalance(rebalance, deltas)
    assert SignalId("r1") not in engine.state.signals
    assert engine.state.orders == {}
    assert engine.flush(force=True) == []
    # Corrected, the same signal ID goes through: it was not taken by the failed attempt.
    orders = engine.process_rebalance(rebalance, {SPY: Decimal(10), EURUSD: Decimal(-3)})
    assert [(o.instrument_id, o.side.value, o.quantity) for o in orders] == [
        (SPY, "BUY", Decimal(10)),
        (EURUSD, "SELL", Decimal(3)),
    ]
    # The IDs the refused attempt drew were given back: numbering has no gap.
    assert [o.client_order_id.rsplit("-", 1)[1] for o in orders] == ["1", "2"]


@pytest.mark.parametrize(
    ("action", "exits", "code"),
    [
        (SignalAction.BUY, {"stop_loss": Decimal(105)}, "STOP_LOSS_WRONG_SIDE"),
        (SignalAction.BUY, {"take_profit": Decimal(95)}, "TAKE_PROFIT_WRONG_SIDE"),
        (SignalAction.SELL, {"stop_loss": Decimal(95)}, "STOP_LOSS_WRONG_SIDE"),
        (SignalAction.SELL, {"take_profit": Decimal(105)}, "TAKE_PROFIT_WRONG_SIDE"),
    ],
)
def test_process_signal_market_bracket_without_price_exit_past_entry_price_is_refused(
    action: SignalAction, exits: dict[str, Decimal], code: str
) -> None:
    engine = _engine(priced=False)
    signal = _signal("b1", action, quantity=Decimal(10), entry_price=Decimal(100), **exits)
    with pytest.raises(OrderValidationError, match="the entry 100 ") as refused:
        engine.process_signal(signal)
    assert refused.value.code == code
    assert SignalId("b1") not in engine.state.signals
    assert engine.state.orders == {}


def test_process_signal_market_bracket_without_price_exits_around_entry_price_go_out() -> None:
    engine = _engine(priced=False)
    signal = _signal(
        "b2",
        SignalAction.SELL,
        quantity=Decimal(10),
        entry_price=Decimal(100),
        stop_loss=Decimal(105),
        take_profit=Decimal(90),
    )
    orders = engine.process_signal(signal)
    assert [o.order_type for o in orders] == [OrderType.MARKET, OrderType.STOP, OrderType.LIMIT]


@pytest.mark.parametrize(
    ("fields", "code", "received"),
    [
        ({"quantity": Decimal("0.5")}, "INVALID_QUANTITY", "quantity 0.5 "),
        ({"quantity": Decimal("0.5"), "stop_loss": Decimal(390)}, "INVALID_QUANTITY", "0.5"),
        (
            {
                "quantity": Decimal(1),
                "order_type": OrderType.LIMIT,
                "entry_price": Decimal("399.001"),
            },
            "INVALID_PRICE",
            "399.001",
        ),
        ({"quantity": Decimal(1), "time_in_force": TimeInForce.GTD}, "MISSING_EXPIRE_TIME", "GTD"),
    ],
)
def test_process_signal_invalid_order_records_nothing_and_frees_the_signal_id(
    fields: dict[str, object], code: str, received: str
) -> None:
    engine = _engine()
    with pytest.raises(OrderValidationError) as refused:
        engine.process_signal(_signal("v1", SignalAction.BUY, **fields))
    assert (refused.value.code, received in str(refused.value)) == (code, True)
    assert SignalId("v1") not in engine.state.signals
    assert engine.state.orders == {}
    # The corrected signal, under the same ID, goes through.
    orders = engine.process_signal(_signal("v1", SignalAction.BUY, quantity=Decimal(1)))
    assert [o.quantity for o in orders] == [Decimal(1)]
    assert orders[0].client_order_id.rsplit("-", 1)[1] == "1"  # the refused ID given back


def test_process_signal_refused_algo_leaves_the_signal_rejected_with_the_reason() -> None:
    engine = _engine()
    past = TwapSpec(start_ns=T0 - 2 * 10**9, end_ns=T0 - 10**9, slices=2)
    signal = _signal("a1", SignalAction.BUY, quantity=Decimal(10))
    with pytest.raises(OrderValidationError, match="end time") as refused:
        engine.process_signal(signal, algo=past)
    rejection = engine.state.signal_rejections[SignalId("a1")]
    assert (rejection.reason_code, rejection.reason) == (refused.value.code, str(refused.value))
    assert engine.state.orders == {}
