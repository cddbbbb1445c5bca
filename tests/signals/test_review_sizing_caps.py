"""Review: a sized signal must pass the order limits of pre-trade risk.

`size_signal` caps the quantity with `SizingCaps` so that risk will not deny it; the
caps must be the ones risk applies to the order: the instrument's scope (instrument,
then asset class, then account), at the price risk values the order at. The service
builds them from the account-level fields only and sizes a MARKET signal at its
entryPrice, which risk does not use (it values a MARKET order at the mark).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.domain.enums import OrderStatus, OrderType, SignalAction
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.risk.limits import RiskLimits, ScopeLimits
from alphintra.service.trading import AccountSettings, TradingService
from alphintra.signals.sizing import FixedNotional, FixedQuantity, SizingPolicy
from alphintra.store.journal import open_journal
from alphintra.store.migrate import upgrade

T0 = 1_700_000_000_000_000_000
EURUSD = InstrumentId("EURUSD")
Make = Callable[[RiskLimits, SizingPolicy], TradingService]
ACCOUNT = AccountId("A")


def _signal(entry_price: Decimal | None = None) -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId("s1"),
        model_id=ModelId("m"),
        instrument_id=EURUSD,
        action=SignalAction.BUY,
        confidence=Decimal("0.5"),
        ts=T0,
        order_type=OrderType.MARKET,
        entry_price=entry_price,
    )


@pytest.fixture
def open_service(tmp_path: Path) -> Iterator[Make]:
    url = f"sqlite:///{tmp_path / 'alphintra.db'}"
    upgrade(url)
    journal = open_journal(url)

    def make(limits: RiskLimits, sizing: SizingPolicy) -> TradingService:
        service = TradingService(
            journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
        )
        service.open_account(
            AccountSettings(account_id=ACCOUNT, owner="u", limits=limits, sizing=sizing)
        )
        tick = QuoteTick(EURUSD, Decimal("1.1"), Decimal("1.1002"), Decimal(0), Decimal(0), T0)
        asyncio.run(service.on_market_data(tick))
        return service

    yield make
    journal.close()


def _order_statuses(service: TradingService) -> list[tuple[Decimal, OrderStatus]]:
    state = service.accounts[ACCOUNT].engine.state
    return [(o.quantity, o.status) for o in state.signal_orders.get(SignalId("s1"), ())]


def test_sized_quantity_is_capped_by_the_instruments_own_limit(open_service: Make) -> None:
    limits = RiskLimits(
        max_order_quantity=Decimal(100_000),
        instruments={"EURUSD": ScopeLimits(max_order_quantity=Decimal(5000))},
    )
    service = open_service(limits, FixedQuantity(quantity=Decimal(10_000)))
    asyncio.run(service.submit_signals("A", [_signal()], None))
    [(quantity, status)] = _order_statuses(service)
    assert quantity == 5000
    assert status is not OrderStatus.DENIED


def test_market_signal_sized_at_entry_price_below_the_mark_passes_the_notional_cap(
    open_service: Make,
) -> None:
    limits = RiskLimits(max_order_notional=Decimal(5500))
    service = open_service(limits, FixedNotional(notional=Decimal(100_000)))
    asyncio.run(service.submit_signals("A", [_signal(entry_price=Decimal("1.0"))], None))
    [(quantity, status)] = _order_statuses(service)
    assert status is not OrderStatus.DENIED, f"{quantity} denied"
