"""Netted positions, by the average-cost method.

The position keeps its signed open cost exactly (the sum of signed quantity × price
of the open lots), so that realised plus unrealised P&L always equals the change in
mark-to-market value: the one division, when part of a position is closed, is
booked identically on both sides.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.identifiers import AccountId, InstrumentId, TradeId
from alphintra.domain.values import ZERO, Currency


class Position:
    """The net position of one account in one instrument."""

    __slots__ = (
        "account_id",
        "currency",
        "instrument_id",
        "multiplier",
        "open_cost",
        "opened_ts",
        "quantity",
        "realized_pnl",
        "trade_ids",
        "ts_last",
    )

    def __init__(
        self,
        account_id: AccountId,
        instrument_id: InstrumentId,
        multiplier: Decimal,
        currency: Currency,
    ) -> None:
        self.account_id = account_id
        self.instrument_id = instrument_id
        self.multiplier = multiplier
        self.currency = currency
        """The currency P&L is realised in (the instrument's quote currency)."""
        self.quantity: Decimal = ZERO
        """Signed: positive long, negative short."""
        self.open_cost: Decimal = ZERO
        """Signed sum of quantity × price over the open lots."""
        self.realized_pnl: Decimal = ZERO
        self.opened_ts: int | None = None
        self.ts_last: int = 0
        self.trade_ids: set[TradeId] = set()

    @property
    def average_price(self) -> Decimal | None:
        """Return the average open price, or None when flat."""
        if not self.quantity:
            return None
        return self.open_cost / self.quantity

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        """Return (mark − average price) × quantity × multiplier, exactly."""
        return (self.quantity * mark - self.open_cost) * self.multiplier

    def market_value(self, mark: Decimal) -> Decimal:
        """Return quantity × mark × multiplier (negative for a short)."""
        return self.quantity * mark * self.multiplier

    def apply_fill(
        self, trade_id: TradeId, signed_quantity: Decimal, price: Decimal, ts: int
    ) -> Decimal | None:
        """Apply a fill; return the P&L it realised, or None for a duplicate trade ID."""
        if trade_id in self.trade_ids:
            return None
        self.trade_ids.add(trade_id)
        self.ts_last = ts
        quantity = self.quantity
        realized = ZERO
        if quantity and (quantity > 0) != (signed_quantity > 0):
            closing = signed_quantity if abs(signed_quantity) <= abs(quantity) else -quantity
            # Cost of the closed lots; removed from open_cost exactly as booked here.
            if closing == -quantity:
                removed_cost = self.open_cost
            else:
                removed_cost = self.open_cost * (-closing) / quantity
            realized = (-closing * price - removed_cost) * self.multiplier
            self.realized_pnl += realized
            self.open_cost -= removed_cost
            quantity += closing
            signed_quantity -= closing
            if not quantity:
                self.open_cost = ZERO
                self.opened_ts = None
        if signed_quantity:
            if not quantity:
                self.opened_ts = ts
            self.open_cost += signed_quantity * price
            quantity += signed_quantity
        self.quantity = quantity
        return realized
