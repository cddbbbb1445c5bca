"""Exchange rates derived from the quotes the engine has seen. Never guessed."""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.values import ONE, Currency


class FxRates:
    """Latest mid rates between currencies, from FX and crypto spot quotes."""

    def __init__(self) -> None:
        self._rates: dict[tuple[Currency, Currency], Decimal] = {}

    def update(self, base: Currency, quote: Currency, mid: Decimal) -> None:
        """Record that one unit of ``base`` costs ``mid`` units of ``quote``."""
        if mid > 0:
            self._rates[(base, quote)] = mid

    def rate(self, source: Currency, target: Currency) -> Decimal | None:
        """Return units of ``target`` per unit of ``source``, or None when unknown.

        Uses a direct quote, its inverse, or one intermediate currency.
        """
        if source == target:
            return ONE
        direct = self._direct(source, target)
        if direct is not None:
            return direct
        for base, quote in list(self._rates):
            for middle in (base, quote):
                if middle in (source, target):
                    continue
                first = self._direct(source, middle)
                if first is None:
                    continue
                second = self._direct(middle, target)
                if second is not None:
                    return first * second
        return None

    def _direct(self, source: Currency, target: Currency) -> Decimal | None:
        rate = self._rates.get((source, target))
        if rate is not None:
            return rate
        inverse = self._rates.get((target, source))
        if inverse is not None:
            return ONE / inverse
        return None

    def convert(self, amount: Decimal, source: Currency, target: Currency) -> Decimal | None:
        """Convert ``amount``; return None when no rate is known."""
        rate = self.rate(source, target)
        return None if rate is None else amount * rate
