"""The buying-power (credit) check, and the margin model behind it.

Model. Every amount is in the base currency; ``v`` is an instrument's reference price
(mark), ``m_long`` and ``m_short`` the margin rates, ``f`` the fee rate.

* Free margin = cash + Σ position value − Σ margin used, where a position's margin is
  ``m_long`` × its value when long and ``m_short`` × its absolute value when short.
  With the defaults (``m_long`` = 1: a cash account) a long ties up its full value, so
  free margin is the cash not needed as collateral for shorts (cash − (1 + ``m_short``)
  × short value). Cash in a currency with no fx rate counts as nothing when positive
  and denies the order when negative (an unknown debt).
* Filling a unit at price ``p`` lowers free margin by at most:

  - buy that opens or extends a long: ``m_long·v + (p - v) + f·p``
    (with ``m_long`` = 1 that is ``p + f·p``: the notional plus the fee);
  - sell that opens or extends a short: ``m_short·v + (v - p) + f·p``;
  - buy that covers a short: ``(p - v) - m_short·v + f·p`` (its margin is released);
  - sell that closes a long: ``(v - p) - m_long·v + f·p``;

  each floored at zero (a fill that frees margin is not credited). Market orders use
  ``p = v``.
* The check: free margin ≥ the requirement of every working order plus this one, where
  the quantity that can only close the current position (per instrument and side, at
  most the position) is charged the closing rate and the rest the opening rate,
  assigning the closing quantity so that the charge is the largest possible. After any
  set of fills at the order prices, with prices unchanged, free margin then stays
  non-negative.

The fee rate is an estimate; the venue's real fee may differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.values import ZERO
from alphintra.risk.books import InstrumentBook, Valuation, WorkingOrder
from alphintra.risk.denial import FX_RATE_UNAVAILABLE, INSUFFICIENT_BUYING_POWER, Denial
from alphintra.risk.limits import BuyingPowerLimits


def requirement(
    book: InstrumentBook,
    mark: Decimal,
    limits: BuyingPowerLimits,
    extra: WorkingOrder | None = None,
) -> Decimal:
    """Return the worst-case free-margin use of the book's working orders (and of
    ``extra`` after them), in quote currency per unit of multiplier (multiply by the
    multiplier and fx rate)."""
    fee = limits.fee_rate
    long_rate, short_rate = limits.long_margin_rate, limits.short_margin_rate
    buy_total = buy_quantity = sell_total = sell_quantity = ZERO
    buy_saving: Decimal | None = None
    sell_saving: Decimal | None = None
    working_orders: Iterable[WorkingOrder] = book.orders or ()
    if extra is not None:
        working_orders = (*working_orders, extra)
    for working in working_orders:
        price = working.price if working.price is not None else mark
        leaves = working.leaves
        if working.side is OrderSide.BUY:
            drift = price - mark
            opening = max(ZERO, long_rate * mark + drift + fee * price)
            closing = max(ZERO, drift - short_rate * mark + fee * price)
            buy_total += leaves * opening
            buy_quantity += leaves
            saving = opening - closing
            if buy_saving is None or saving < buy_saving:
                buy_saving = saving
        else:
            drift = mark - price
            opening = max(ZERO, short_rate * mark + drift + fee * price)
            closing = max(ZERO, drift - long_rate * mark + fee * price)
            sell_total += leaves * opening
            sell_quantity += leaves
            saving = opening - closing
            if sell_saving is None or saving < sell_saving:
                sell_saving = saving
    position = book.position
    # The quantity that can only close the position is charged the closing rate; the
    # least saving of any order on that side keeps the charge the largest possible.
    if buy_saving is not None:
        buy_total -= min(buy_quantity, max(-position, ZERO)) * buy_saving
    if sell_saving is not None:
        sell_total -= min(sell_quantity, max(position, ZERO)) * sell_saving
    return buy_total + sell_total


def instrument_requirement(
    book: InstrumentBook, valuation: Valuation, limits: BuyingPowerLimits
) -> Decimal | Denial:
    """Return the base-currency requirement of one instrument's working orders."""
    if not book.orders:
        return ZERO
    contract = valuation.contract(book.instrument_id)
    if isinstance(contract, Denial):
        return contract
    mark = valuation.price(book)
    if isinstance(mark, Denial):
        return mark
    rate = valuation.rate(contract[1])
    if isinstance(rate, Denial):
        return rate
    return requirement(book, mark, limits) * contract[0] * rate


def free_margin(
    state: AccountState,
    books: Mapping[InstrumentId, InstrumentBook],
    values: Mapping[InstrumentId, Decimal],
    valuation: Valuation,
    limits: BuyingPowerLimits,
) -> Decimal | Denial:
    """Return cash + position values − margin used, in the base currency.

    ``values`` are the base-currency unit values of every instrument in ``books``
    (which must hold every open position).
    """
    free = ZERO
    for currency, amount in state.cash.items():
        if not amount:
            continue
        rate = valuation.rate(currency)
        if isinstance(rate, Denial):
            if amount < 0:
                return Denial(
                    FX_RATE_UNAVAILABLE,
                    f"cash balance {amount} {currency} cannot be converted into "
                    f"{valuation.base}: {rate.reason}",
                )
            continue
        free += amount * rate
    for instrument_id, book in books.items():
        position = book.position
        if not position:
            continue
        value = position * values[instrument_id]
        rate_used = limits.long_margin_rate if position > 0 else limits.short_margin_rate
        free += value - rate_used * abs(value)
    return free


def check_buying_power(
    free: Decimal, required_before: Decimal, required_after: Decimal
) -> Denial | None:
    """Deny an order that raises the working orders' requirement beyond free margin."""
    if required_after <= required_before or required_after <= free:
        return None
    return Denial(
        INSUFFICIENT_BUYING_POWER,
        f"working orders including this one need {required_after} of buying power (this "
        f"order adds {required_after - required_before}), but only {free} is available",
    )
