"""Exact money values: prices, quantities and amounts in a currency.

Every value is a `decimal.Decimal` that was checked at creation: finite, and
representable at the stated precision without rounding. Floats are refused, because
a float such as ``0.1`` is not the decimal it prints as.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Final, final

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)


class ValueRangeError(ValueError):
    """A value was not finite, was negative where it must not be, or had too many digits."""


def to_decimal(value: object, what: str = "value") -> Decimal:
    """Convert ``value`` (Decimal, int or numeric string) to a finite Decimal.

    Floats are refused: pass the decimal string instead.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueRangeError(f"{what} must be a number, got the boolean {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueRangeError(f"{what} must be a decimal number, got {value!r}") from None
    elif isinstance(value, float):
        raise ValueRangeError(
            f"{what} must not be a float (got {value!r}); pass a decimal string or Decimal"
        )
    else:
        raise ValueRangeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if not result.is_finite():
        raise ValueRangeError(f"{what} must be finite, got {value!r}")
    return result


def quantize_exact(value: Decimal, precision: int, what: str) -> Decimal:
    """Return ``value`` at exactly ``precision`` decimal places, refusing any rounding."""
    exponent = Decimal(1).scaleb(-precision)
    try:
        result = value.quantize(exponent)
    except InvalidOperation:
        raise ValueRangeError(f"{what} {value} does not fit {precision} decimal places") from None
    if result != value:
        raise ValueRangeError(f"{what} {value} has more than {precision} decimal places")
    return result


@final
class Price(Decimal):
    """A price at a fixed number of decimal places. May be negative (spreads, some futures)."""

    __slots__ = ()

    @classmethod
    def of(cls, value: object, precision: int) -> Price:
        """Create a price at ``precision`` decimal places; refuse values that need rounding."""
        return cls(quantize_exact(to_decimal(value, "price"), precision, "price"))

    @property
    def precision(self) -> int:
        """Return the number of decimal places."""
        exponent = self.as_tuple().exponent
        assert isinstance(exponent, int)
        return max(0, -exponent)


@final
class Quantity(Decimal):
    """A non-negative amount of an instrument at a fixed number of decimal places."""

    __slots__ = ()

    @classmethod
    def of(cls, value: object, precision: int) -> Quantity:
        """Create a quantity at ``precision`` decimal places; refuse negatives and rounding."""
        number = to_decimal(value, "quantity")
        if number < 0:
            raise ValueRangeError(f"quantity must not be negative, got {number}")
        return cls(quantize_exact(number, precision, "quantity"))

    @property
    def precision(self) -> int:
        """Return the number of decimal places."""
        exponent = self.as_tuple().exponent
        assert isinstance(exponent, int)
        return max(0, -exponent)


Currency = str
"""An ISO 4217 code such as ``USD``, or a crypto asset code such as ``BTC``."""


@final
class Money:
    """An exact amount in one currency. Arithmetic across currencies is an error."""

    __slots__ = ("amount", "currency")

    def __init__(self, amount: object, currency: Currency) -> None:
        if not currency or not currency.isalnum() or not currency.isupper():
            raise ValueRangeError(f"currency must be an upper-case code, got {currency!r}")
        self.amount: Decimal = to_decimal(amount, "money amount")
        self.currency: Currency = currency

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueRangeError(
                f"cannot combine {self.currency} with {other.currency}; convert first"
            )

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Money)
            and self.currency == other.currency
            and self.amount == other.amount
        )

    def __hash__(self) -> int:
        return hash((self.amount, self.currency))

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
