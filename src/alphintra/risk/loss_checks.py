"""Loss-level checks (daily loss, drawdown) and the volatility limit.

Beyond one of these limits only risk-reducing orders pass; the entry point spares
them. Equity is in the base currency and includes realised and unrealised P&L (and
fees), so ``day_start_equity - equity`` is the day's loss. A deposit or withdrawal
during the day moves equity too: the engine should adjust ``day_start_equity`` for
it.
"""

from __future__ import annotations

import math
from decimal import Decimal

from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.values import ZERO
from alphintra.risk.denial import DAILY_LOSS_LIMIT, MAX_DRAWDOWN, VOLATILITY_LIMIT, Denial
from alphintra.risk.limits import LossLimits


def check_daily_loss(
    equity: Decimal, day_start_equity: Decimal, limits: LossLimits
) -> Denial | None:
    """Deny when the loss since the start of the trading day exceeds a limit."""
    loss = day_start_equity - equity
    if loss <= 0:
        return None
    if limits.max_daily_loss is not None and loss > limits.max_daily_loss:
        return Denial(
            DAILY_LOSS_LIMIT,
            f"daily loss {loss} (equity {equity}, start of day {day_start_equity}) exceeds "
            f"the limit {limits.max_daily_loss}",
        )
    fraction = limits.max_daily_loss_fraction
    if fraction is not None and day_start_equity > 0 and loss > day_start_equity * fraction:
        return Denial(
            DAILY_LOSS_LIMIT,
            f"daily loss {loss} (equity {equity}, start of day {day_start_equity}) exceeds "
            f"the limit of {fraction} of the start-of-day equity ({day_start_equity * fraction})",
        )
    return None


def check_drawdown(equity: Decimal, high_water_mark: Decimal, limits: LossLimits) -> Denial | None:
    """Deny when equity is further below the high-water mark than a limit allows."""
    drawdown = high_water_mark - equity
    if drawdown <= 0:
        return None
    amount = limits.max_drawdown_amount
    if amount is not None and drawdown > amount:
        return Denial(
            MAX_DRAWDOWN,
            f"drawdown {drawdown} (equity {equity}, high-water mark {high_water_mark}) exceeds "
            f"the limit {amount}",
        )
    fraction = limits.max_drawdown
    if fraction is not None and (high_water_mark <= 0 or drawdown > high_water_mark * fraction):
        return Denial(
            MAX_DRAWDOWN,
            f"drawdown {drawdown} (equity {equity}, high-water mark {high_water_mark}) exceeds "
            f"the limit of {fraction} of the high-water mark "
            f"({max(high_water_mark, ZERO) * fraction})",
        )
    return None


def check_volatility(
    instrument_id: InstrumentId, volatility: float | Decimal, limit: Decimal
) -> Denial | None:
    """Deny when the instrument's realised volatility exceeds the limit."""
    if exceeds(volatility, limit):
        return Denial(
            VOLATILITY_LIMIT,
            f"realised volatility {volatility} of {instrument_id} exceeds the limit {limit}",
        )
    return None


_FLOAT_BOUNDS: dict[Decimal, tuple[float, float]] = {}


def exceeds(value: float | Decimal, limit: Decimal) -> bool:
    """Return ``value > limit``, exactly, comparing a float with a Decimal quickly.

    A float clearly above or below the double nearest to ``limit`` (beyond its
    neighbours, so beyond any rounding of ``limit``) is decided in floats; only one
    between those neighbours is compared exactly.
    """
    if type(value) is float:
        bounds = _FLOAT_BOUNDS.get(limit)
        if bounds is None:
            near = float(limit)
            bounds = (math.nextafter(near, -math.inf), math.nextafter(near, math.inf))
            if len(_FLOAT_BOUNDS) < 1024:
                _FLOAT_BOUNDS[limit] = bounds
        if value > bounds[1]:
            return True
        if value < bounds[0]:
            return False
    return value > limit


def max_quantity_under_volatility(
    quantity: Decimal,
    volatility: float | Decimal,
    limit: Decimal,
    instrument: Instrument,
) -> Decimal:
    """Return ``quantity`` scaled down by ``limit / volatility`` when the volatility
    exceeds the limit, rounded down to the lot size (zero when below one lot).

    For sizing: the scaled order carries the risk (quantity × volatility) that an
    order of ``quantity`` would carry at the limit volatility. The pre-trade check
    itself denies rather than scales.
    """
    vol = volatility if isinstance(volatility, Decimal) else Decimal(repr(volatility))
    if not vol.is_finite() or vol <= limit:
        return quantity if vol.is_finite() else Decimal(0)
    return instrument.round_quantity_down(quantity * limit / vol)
