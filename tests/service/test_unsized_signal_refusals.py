"""A signal that cannot be sized is rejected with the sizing reason, whatever the
instrument's lot size. The service checks the signal's shape before it records the
rejection; it used to check it at a quantity of 1, which an instrument traded in lots
of 100 refuses, so the model got INVALID_QUANTITY (about a quantity it never sent)
instead of why the signal could not be sized. Real service, engine and SQLite journal."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.domain.enums import AssetClass, InstrumentKind, OrderType, SignalAction
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.service.account_runtime import SignalOutcome
from alphintra.service.trading import AccountSettings, TradingService
from alphintra.store.journal import open_journal
from alphintra.store.migrate import upgrade

T0 = 1_700_000_000_000_000_000
ROUND_LOT = Instrument(
    InstrumentId("RLOT"),
    "RLOT",
    AssetClass.EQUITY,
    InstrumentKind.STOCK,
    "RLOT",
    "USD",
    Decimal("0.01"),
    Decimal(100),
    min_quantity=Decimal(200),
)
"""A stock traded in round lots of 100, at least two of them."""


@pytest.mark.parametrize("action", [SignalAction.BUY, SignalAction.SELL])
def test_an_unsized_signal_is_rejected_with_the_sizing_reason_not_a_lot_error(
    tmp_path: Path, action: SignalAction
) -> None:
    url = f"sqlite:///{tmp_path / 'alphintra.db'}"
    upgrade(url)
    journal = open_journal(url)
    service = TradingService(
        journal=journal, registry=InstrumentRegistry([ROUND_LOT]), clock=SimulatedClock(T0)
    )
    service.open_account(AccountSettings(account_id=AccountId("A"), owner="u"))  # no sizing
    tick = QuoteTick(ROUND_LOT.id, Decimal("10.00"), Decimal("10.02"), Decimal(0), Decimal(0), T0)
    asyncio.run(service.on_market_data(tick))
    signal = TradingSignal(
        signal_id=SignalId("s1"),
        model_id=ModelId("m"),
        instrument_id=ROUND_LOT.id,
        action=action,
        confidence=Decimal("0.5"),
        ts=T0,
        order_type=OrderType.MARKET,
    )
    (outcome,) = asyncio.run(service.submit_signals("A", [signal], None))
    assert isinstance(outcome, SignalOutcome), outcome
    assert (outcome.status, outcome.reason_code) == ("REJECTED", "NO_SIZING_POLICY")
    journal.close()
