"""`signal_state` answers what `signal_status` answers for the signal's orders.

`signal_state` reads a one-order signal (most signals) without copying its order list;
whatever path it takes, its answer must be `signal_status` of a copy of the orders,
through a signal's life on a real service: accepted, executed, denied by risk, a
bracket of several orders, and a signal the account never saw.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.domain.enums import OrderType, SignalAction
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.risk.limits import RiskLimits
from alphintra.service.outcomes import signal_state, signal_status
from alphintra.service.trading import AccountSettings, TradingService
from alphintra.store.journal import open_journal
from alphintra.store.migrate import upgrade

T0 = 1_700_000_000_000_000_000
EURUSD = InstrumentId("EURUSD")
ACCOUNT = AccountId("A")
NAMES = ("one", "resting", "denied", "bracket", "unseen")


def _tick(ts: int) -> QuoteTick:
    return QuoteTick(EURUSD, Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), ts)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[TradingService]:
    url = f"sqlite:///{tmp_path / 'alphintra.db'}"
    upgrade(url)
    journal = open_journal(url)
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    limits = RiskLimits(max_order_quantity=Decimal(5000))
    service.open_account(AccountSettings(account_id=ACCOUNT, owner="u", limits=limits))
    asyncio.run(service.on_market_data(_tick(T0)))
    yield service
    journal.close()


def _signal(
    signal_id: str,
    quantity: int,
    order_type: OrderType = OrderType.MARKET,
    *,
    entry_price: Decimal | None = None,
    stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None,
) -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId("m"),
        instrument_id=EURUSD,
        action=SignalAction.BUY,
        confidence=Decimal("0.5"),
        ts=T0,
        quantity=Decimal(quantity),
        order_type=order_type,
        entry_price=entry_price,
        stop_loss=stop_loss,
        take_profit=take_profit,
    )


def _both(service: TradingService, signal_id: str) -> tuple[object, object]:
    state = service.accounts[ACCOUNT].engine.state
    orders = list(state.signal_orders.get(SignalId(signal_id), ()))
    rejection = state.signal_rejections.get(SignalId(signal_id))
    expected = (
        ("REJECTED", rejection.reason_code, rejection.reason)
        if rejection is not None
        else signal_status(orders, state.denials)
    )
    return signal_state(state, SignalId(signal_id)), expected


def test_signal_state_through_a_signals_life(service: TradingService) -> None:
    signals = [
        _signal("one", 1000),
        _signal("resting", 1000, OrderType.LIMIT, entry_price=Decimal("1.0")),
        _signal("denied", 9000),
        _signal("bracket", 1000, stop_loss=Decimal("1.0"), take_profit=Decimal("1.2")),
    ]
    asyncio.run(service.submit_signals("A", signals, None))
    state = service.accounts[ACCOUNT].engine.state
    assert len(state.signal_orders[SignalId("bracket")]) > 1
    accepted = {name: _both(service, name) for name in NAMES}
    asyncio.run(service.on_market_data(_tick(T0 + 1)))
    filled = {name: _both(service, name) for name in NAMES}

    for actual, expected in [*accepted.values(), *filled.values()]:
        assert actual == expected
    assert filled["resting"][0] == ("ACCEPTED", None, None)
    assert filled["one"][0] == ("EXECUTED", None, None)
    assert filled["bracket"][0] == ("EXECUTED", None, None)
    denied = filled["denied"][0]
    assert isinstance(denied, tuple) and denied[0] == "REJECTED" and denied[1] is not None
    assert filled["unseen"][0] == ("ACCEPTED", None, None)
