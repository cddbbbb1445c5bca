"""Signal intake of the trading engine: signals and rebalances become orders or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import SignalAction
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.orders.factory import OrderValidationError
from alphintra.store.memory import MemoryJournal
from alphintra.venues.simulated.matching import SimulatedVenueConfig

T0 = 1_700_000_000 * 10**9
SPY = InstrumentId("SPY")
EURUSD = InstrumentId("EURUSD")


def _engine() -> TradingEngine:
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
    for symbol, bid, ask in ((SPY, "400.00", "400.02"), (EURUSD, "1.10000", "1.10002")):
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
