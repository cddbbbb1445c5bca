"""Trading signals as models send them, after validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from alphintra.domain.enums import OrderType, SignalAction, TimeInForce
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId


class TradingSignal(msgspec.Struct, frozen=True, kw_only=True):
    """A validated trading signal.

    ``confidence`` is in [0, 1]. Prices are exact decimals in the instrument's quote
    currency. When ``stop_loss`` or ``take_profit`` is set, the signal becomes a
    bracket order. ``target_weights`` is used by REBALANCE only.
    """

    signal_id: SignalId
    model_id: ModelId
    instrument_id: InstrumentId
    action: SignalAction
    confidence: Decimal
    ts: int
    quantity: Decimal | None = None
    entry_price: Decimal | None = None
    price_target: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    order_type: OrderType = OrderType.MARKET
    time_in_force: TimeInForce = TimeInForce.GTC
    account_id: AccountId | None = None
    target_weights: dict[InstrumentId, Decimal] | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
