"""Instruments of the five asset classes, with their trading rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from alphintra.domain.enums import AssetClass, InstrumentKind
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.values import ONE, ZERO, Currency, Price, Quantity, ValueRangeError


class InstrumentRuleError(ValueError):
    """A price or quantity breaks the instrument's tick, lot or minimum rules."""


@dataclass(frozen=True, slots=True)
class TradingSession:
    """One weekly session: open and close local times on the given ISO weekdays (1=Monday)."""

    weekdays: frozenset[int]
    open: time
    close: time

    def contains(self, local: datetime) -> bool:
        """Return True when ``local`` falls inside this session."""
        if local.isoweekday() not in self.weekdays:
            return False
        now = local.time()
        if self.open <= self.close:
            return self.open <= now < self.close
        return now >= self.open or now < self.close  # session crosses midnight


@dataclass(frozen=True, slots=True)
class TradingHours:
    """Weekly trading sessions in one time zone."""

    timezone: str
    sessions: tuple[TradingSession, ...]

    def is_open(self, ts_ns: int) -> bool:
        """Return True when the UTC nanosecond timestamp is inside a session."""
        local = datetime.fromtimestamp(ts_ns / 1e9, tz=UTC).astimezone(ZoneInfo(self.timezone))
        return any(session.contains(local) for session in self.sessions)


def _decimal_places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument and its rules.

    ``multiplier`` converts price × quantity into quote-currency notional (contract
    size for futures, 1 for spot). Prices must be multiples of ``tick_size``;
    quantities multiples of ``lot_size`` and at least ``min_quantity``.
    """

    id: InstrumentId
    venue_symbol: str
    asset_class: AssetClass
    kind: InstrumentKind
    base_currency: Currency
    quote_currency: Currency
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: Decimal = ZERO
    min_notional: Decimal = ZERO
    multiplier: Decimal = ONE
    venue: VenueId | None = None
    sector: str | None = None
    trading_hours: TradingHours | None = None
    price_precision: int = field(init=False)
    size_precision: int = field(init=False)

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size", "multiplier"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueRangeError(
                    f"instrument {self.id}: {name} must be a positive decimal, got {value!r}"
                )
        for name in ("min_quantity", "min_notional"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueRangeError(
                    f"instrument {self.id}: {name} must be a non-negative decimal, got {value!r}"
                )
        object.__setattr__(self, "price_precision", _decimal_places(self.tick_size))
        object.__setattr__(self, "size_precision", _decimal_places(self.lot_size))

    def make_price(self, value: object) -> Price:
        """Return ``value`` as a price on this instrument's tick grid, or raise."""
        try:
            price = Price.of(value, self.price_precision)
        except ValueRangeError as exc:
            raise InstrumentRuleError(
                f"{self.id}: price {value} is off the tick size {self.tick_size}"
            ) from exc
        if price % self.tick_size != 0:
            raise InstrumentRuleError(
                f"{self.id}: price {value} is not a multiple of the tick size {self.tick_size}"
            )
        return price

    def make_quantity(self, value: object) -> Quantity:
        """Return ``value`` as a positive quantity on the lot grid, at least the minimum."""
        try:
            quantity = Quantity.of(value, self.size_precision)
        except ValueRangeError as exc:
            raise InstrumentRuleError(
                f"{self.id}: quantity {value} is invalid for lot size {self.lot_size}: {exc}"
            ) from exc
        if quantity <= 0:
            raise InstrumentRuleError(f"{self.id}: quantity must be positive, got {value}")
        if quantity % self.lot_size != 0:
            raise InstrumentRuleError(
                f"{self.id}: quantity {value} is not a multiple of the lot size {self.lot_size}"
            )
        if quantity < self.min_quantity:
            raise InstrumentRuleError(
                f"{self.id}: quantity {value} is below the minimum {self.min_quantity}"
            )
        return quantity

    def round_quantity_down(self, value: Decimal) -> Quantity:
        """Round a computed quantity down to the lot grid (zero if below one lot)."""
        lots = (value / self.lot_size).to_integral_value(rounding="ROUND_FLOOR")
        exact = (max(lots, ZERO) * self.lot_size).quantize(Decimal(1).scaleb(-self.size_precision))
        return Quantity(exact)

    def notional(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Return the quote-currency notional of ``quantity`` at ``price``."""
        return quantity * price * self.multiplier
