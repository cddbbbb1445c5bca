"""Signals of one batch are validated once per shape, and a different shape is checked."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderType, SignalAction
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.service.trading import (
    AccountSettings,
    InvalidRequestError,
    ServiceError,
    SignalOutcome,
    TradingService,
)
from alphintra.store.memory import MemoryJournal

T0 = 1_700_000_000_000_000_000
EURUSD = InstrumentId("EURUSD")
TICK = QuoteTick(EURUSD, Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), T0)


def _service() -> TradingService:
    service = TradingService(
        journal=MemoryJournal(), registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    service.open_account(AccountSettings(account_id=AccountId("A"), owner="u"))
    asyncio.run(service.on_market_data(TICK))
    return service


def _signal(n: int, **fields: object) -> TradingSignal:
    base: dict[str, object] = {
        "signal_id": SignalId(f"s{n}"),
        "model_id": ModelId("m"),
        "instrument_id": EURUSD,
        "action": SignalAction.BUY,
        "confidence": Decimal("0.5"),
        "ts": T0,
        "quantity": Decimal(1000),
    }
    base.update(fields)
    return TradingSignal(**base)  # type: ignore[arg-type]


def _codes(results: list[SignalOutcome | ServiceError]) -> list[str]:
    return [r.code if isinstance(r, ServiceError) else r.status for r in results]


@pytest.mark.parametrize(
    ("valid", "invalid", "code"),
    [
        ({"quantity": Decimal(1000)}, {"quantity": Decimal("1000.5")}, "INVALID_QUANTITY"),
        (
            {"order_type": OrderType.LIMIT, "entry_price": Decimal("1.1")},
            {"order_type": OrderType.LIMIT, "entry_price": Decimal("1.100005")},
            "INVALID_PRICE",
        ),
        (
            {"order_type": OrderType.LIMIT, "entry_price": Decimal("1.1")},
            {"order_type": OrderType.LIMIT},
            "MISSING_ENTRY_PRICE",
        ),
        (
            {"stop_loss": Decimal("1.0")},
            {"stop_loss": Decimal("1.2")},
            "STOP_LOSS_WRONG_SIDE",
        ),
    ],
)
def test_signal_shapes_valid_then_invalid_variant_in_one_batch_refused(
    valid: dict[str, object], invalid: dict[str, object], code: str
) -> None:
    service = _service()
    batch = [_signal(1, **valid), _signal(2, **invalid), _signal(3, **valid)]
    results = asyncio.run(service.submit_signals("A", batch, None))
    codes = _codes(results)
    assert codes[0] != code and codes[2] != code
    assert isinstance(results[1], InvalidRequestError)
    assert codes[1] == code
    state = service.account_state(AccountId("A"))
    assert state is not None
    # Refused up front: the engine never saw the signal, nothing was journaled for it.
    assert SignalId("s2") not in state.signals and SignalId("s3") in state.signals
    # The shapes are forgotten at the commit: the refused one is refused again.
    again = asyncio.run(service.submit_signals("A", [_signal(4, **invalid)], None))
    assert _codes(again) == [code]
