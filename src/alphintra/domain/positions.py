"""Netted positions, by the average-cost method.

The position keeps its signed open cost exactly (the sum of signed quantity × price
of the open lots), so that realised plus unrealised P&L always equals the change in
mark-to-market value: the one division, when part of a position is closed, is
rounded to a fixed number of places (``COST_PLACES``, or the open cost's own places
when it has more) and then booked identically on both sides. A quotient carried at
full context precision would not do: the sums it then enters need more digits than
the context holds, and round, so the identity would drift in the last digit.
"""

from __future__ import annotations

from decimal import Decimal, getcontext
from typing import Final

from alphintra.domain.identifiers import AccountId, InstrumentId, TradeId, VenueId
from alphintra.domain.values import ZERO, Currency

COST_PLACES: Final = 12
"""Decimal places the cost of a partially closed lot is rounded to."""


def _round_cost(value: Decimal, like: Decimal) -> Decimal:
    """Round a closed lot's cost to ``COST_PLACES`` (or ``like``'s places, if more)."""
    exponent = value.as_tuple().exponent
    like_exponent = like.as_tuple().exponent
    assert isinstance(exponent, int) and isinstance(like_exponent, int)
    target = min(like_exponent, -COST_PLACES)
    # Beyond the context precision quantize would fail: such amounts stay as computed.
    if exponent >= target or value.adjusted() - target >= getcontext().prec - 1:
        return value
    return value.quantize(Decimal(1).scaleb(target))


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
        self.trade_ids: set[tuple[VenueId, TradeId]] = set()
        """Fills applied, by (venue, trade ID): trade IDs are unique per venue only."""

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
        self,
        venue: VenueId,
        trade_id: TradeId,
        signed_quantity: Decimal,
        price: Decimal,
        ts: int,
    ) -> Decimal | None:
        """Apply a fill; return the P&L it realised, or None for a duplicate.

        A duplicate is a fill whose (venue, trade ID) the position already holds.
        """
        key = (venue, trade_id)
        if key in self.trade_ids:
            return None
        self.trade_ids.add(key)
        self.ts_last = ts
        quantity = self.quantity
        realized = ZERO
        if quantity and (quantity > 0) != (signed_quantity > 0):
            closing = signed_quantity if abs(signed_quantity) <= abs(quantity) else -quantity
            # Cost of the closed lots; removed from open_cost exactly as booked here.
            if closing == -quantity:
                removed_cost = self.open_cost
            else:
                removed_cost = _round_cost(self.open_cost * (-closing) / quantity, self.open_cost)
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
