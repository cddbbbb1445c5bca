"""A certificate that no portfolio limit can bind: the pre-trade fast path.

The portfolio checks (concentration, gross and net exposure, leverage, correlated
clusters, buying power) deny an order only when a worst-case figure with the order
goes beyond a limit. Every such figure is at most the account's worst-case gross
exposure with the order, ``G``; and the credit check's requirement and free margin are
bounded through ``G`` too. `PortfolioBound` keeps, from the engine's events, an upper
bound ``U`` on ``G`` that costs O(1) per event:

* per instrument, ``units`` bounds its worst-case position: |position| plus the leaves
  of every order that counts (as in `alphintra.risk.books`), OCO members each in full.
  A new order adds its quantity; a fill moves a position by at most what it takes off
  the leaves, and a cancel only removes leaves, so neither can break the bound;
* each instrument's unit value |price x multiplier x rate| is at most ``cap``, worked
  out from a ceiling on its mark and on its quote currency's rate. The ceilings are
  checked against the current mark and rate at every use;
* ``U = sum(units x cap)``; likewise ``R`` bounds what every order that counts can
  require of the credit check (its opening charge per unit, at the ceilings).

`certifies` then shows, in O(instruments), that the exact checks would pass: ``U``
within every exposure, concentration and cluster limit (equity-relative ones at the
current equity), and ``R`` within the free margin's lower bound ``equity - r x U``
(``r`` the larger margin rate). It also makes sure no exact check could lack an input
(a price, a rate, an instrument definition) and so deny for that. Everything is
compared with a relative margin far above the Decimal rounding of either computation.
Anything unexpected (an event not seen, a modify, a trigger, a slice's fill, an order in
an instrument with no ceiling yet, a mark or rate above its ceiling) makes the bound
invalid; the exact checks then run and `reset` rebuilds it from the state.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderSide
from alphintra.domain.events import (
    AnyEvent,
    MarkUpdated,
    OrderFilled,
    OrderInitialized,
    OrderModified,
)
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.domain.orders import Order
from alphintra.domain.values import ONE, ZERO, Currency
from alphintra.risk.books import Valuation, is_slice
from alphintra.risk.context import FxConvert
from alphintra.risk.denial import Denial
from alphintra.risk.limits import BuyingPowerLimits, RiskLimits

HEADROOM: Final = Decimal("1.25")
"""Ceilings sit this far above the mark and rate they were set from."""
MARGIN: Final = Decimal("1e-12")
"""Relative safety margin: far above the Decimal rounding of any sum compared."""
_WITH_MARGIN: Final = ONE + MARGIN
FOLDED: Final[frozenset[type]] = frozenset(
    {OrderInitialized, OrderFilled, OrderModified, MarkUpdated}
)
"""The event types `PortfolioBound.on_event` folds; every other one leaves the bounds
valid: a cancel, expiry, rejection or denial only takes leaves off (the bounds stay
above, loose until `stale`), a trigger changes no quantity or price the bounds count, a
slice's fill reaches its parent as an `OrderChildFilled` that only shrinks the counted
parent's leaves, and cash moves are read at use (per cash version)."""
REBUILD_AFTER: Final = 64
"""Events after which a bound that no longer vouches is rebuilt (it may be loose)."""
PRUNE_FLOOR: Final = 1024
"""Counted order IDs kept before the closed ones are first forgotten."""


class _Ceiling:
    __slots__ = ("cap", "margin_mark", "mark", "market_charge", "multiplier", "quote", "rate")

    def __init__(
        self,
        mark: Decimal,
        rate: Decimal,
        multiplier: Decimal,
        quote: Currency,
        margin_rate: Decimal,
        fee: Decimal,
    ) -> None:
        self.mark = mark
        self.rate = rate
        self.multiplier = multiplier
        self.quote = quote
        self.cap = mark * multiplier * rate
        self.margin_mark = margin_rate * mark
        """The margin part of a unit's charge, in the quote currency (`PortfolioBound._count`)."""
        self.market_charge = (margin_rate + fee) * mark * multiplier * rate
        """The charge of a unit with no price: (margin + fee) x mark x multiplier x rate."""


class PortfolioBound:
    """Upper bounds on one account's worst-case gross exposure and credit requirement."""

    __slots__ = (
        "_caps",
        "_ceilings",
        "_counted",
        "_credit",
        "_fee",
        "_margin_rate",
        "_prune_at",
        "_reset_at",
        "exposure",
        "limits",
        "requirement",
        "seen",
        "state",
        "units",
        "valid",
    )

    def __init__(self, state: AccountState, limits: RiskLimits) -> None:
        self.state = state
        self.limits = limits
        credit = limits.buying_power
        self._fee = credit.fee_rate if credit is not None else ZERO
        self._margin_rate = (
            max(credit.long_margin_rate, credit.short_margin_rate) if credit is not None else ZERO
        )
        self._caps = _caps(limits)
        self.units: dict[InstrumentId, Decimal] = {}
        self._ceilings: dict[InstrumentId, _Ceiling] = {}
        self._counted: set[ClientOrderId] = set()
        """The orders whose leaves the bounds count (closed ones forgotten now and then)."""
        self._prune_at = PRUNE_FLOOR
        self.exposure = ZERO
        """``U``: at least the worst-case gross exposure of every book."""
        self.requirement = ZERO
        """``R``: at least what the working orders can require of the credit check."""
        self.valid = False
        self.seen = -1
        """The state's event count the bounds have followed to; behind it, an event
        went by unseen and the bounds vouch for nothing (see `on_event`)."""
        self._reset_at = -1
        self._credit: tuple[int, Decimal, Decimal] | None = None
        """(cash version, free margin, size) of the credit check at the ceilings."""

    # Keeping up ---------------------------------------------------------------------

    def on_event(self, event: AnyEvent) -> None:
        """Fold one event that the state has just applied.

        Only the types in `FOLDED` change the bounds. A feed may skip the others if it
        counts them instead: ``seen += 1`` for each (as the engine does). An event
        neither folded nor counted leaves ``seen`` behind the state: the bounds then
        vouch for nothing and turn invalid at the next folded event or use.
        """
        if not self.valid:
            return
        self.seen += 1
        if self.seen != self.state.event_count:
            self.valid = False
            return
        kind = type(event)
        if kind is OrderInitialized:
            order = self.state.orders.get(event.client_order_id)  # type: ignore[union-attr]
            if order is not None and (order.parent_id is None or not is_slice(order, self.state)):
                self.valid = self._count(order)
        elif kind is OrderFilled:
            if event.client_order_id not in self._counted:  # type: ignore[union-attr]
                self.valid = False  # a slice's fill: its parent's leaves shrink only next
        elif kind is OrderModified or kind is MarkUpdated:
            # A new quantity or price: rebuild rather than adjust. Marks are checked at
            # use; a snapshot mark is rare.
            self.valid = False

    def _count(self, order: Order) -> bool:
        ceiling = self._ceilings.get(order.instrument_id)
        if ceiling is None:
            return False
        leaves: Decimal = order.quantity - order.filled_quantity
        if leaves <= 0:
            return True
        counted = self._counted
        if len(counted) >= self._prune_at:
            # Forget the closed orders (their leaves stay in the bounds, which only ever
            # overstate): a book that never rebuilds otherwise keeps every order's ID.
            open_orders = self.state.open_orders
            counted.intersection_update(open_orders)
            self._prune_at = max(PRUNE_FLOOR, 2 * len(counted))
        counted.add(order.client_order_id)
        self.units[order.instrument_id] = self.units.get(order.instrument_id, ZERO) + leaves
        self.exposure += leaves * ceiling.cap
        # A bound on one unit's opening charge (see `buying_power`), in the base currency,
        # for any mark up to the ceiling.
        price = order.price if order.price is not None else order.trigger_price
        if price is None:  # p = v: the drift is nil
            charge = ceiling.market_charge
        else:
            size = abs(price)
            unit = ceiling.margin_mark + size + self._fee * size
            if order.side is OrderSide.SELL:
                unit += ceiling.mark
            charge = unit * ceiling.multiplier * ceiling.rate
        self.requirement += leaves * charge
        return True

    # Rebuilding ---------------------------------------------------------------------

    def reset(self, valuation: Valuation) -> None:
        """Rebuild the bounds from the state (O(positions + open orders)); stay invalid
        when some instrument with exposure lacks a positive mark, a rate or a definition."""
        state = self.state
        self.valid = False
        self.units = {}
        self._ceilings = {}
        self._counted = set()
        self._prune_at = PRUNE_FLOOR
        self._credit = None
        self.exposure = self.requirement = ZERO
        for instrument_id, held in state.positions.items():
            if held.quantity:
                if not self._ceiling(instrument_id, valuation):
                    return
                self.units[instrument_id] = abs(held.quantity)
                self.exposure += abs(held.quantity) * self._ceilings[instrument_id].cap
        for order in state.open_orders.values():
            if is_slice(order, self.state):
                continue
            if order.instrument_id not in self._ceilings and not self._ceiling(
                order.instrument_id, valuation
            ):
                return
            self._count(order)
        self.seen = self._reset_at = state.event_count
        self.valid = True

    def _ceiling(self, instrument_id: InstrumentId, valuation: Valuation) -> bool:
        mark = valuation.mark(instrument_id)
        if mark is None or mark <= 0:
            return False
        if isinstance(valuation.instrument(instrument_id), Denial):
            return False
        contract = valuation.contract(instrument_id)
        if isinstance(contract, Denial):
            return False
        rate = valuation.rate(contract[1])
        if isinstance(rate, Denial) or rate <= 0:
            return False
        self._ceilings[instrument_id] = _Ceiling(
            mark * HEADROOM,
            rate if contract[1] == valuation.base else rate * HEADROOM,
            contract[0],
            contract[1],
            self._margin_rate,
            self._fee,
        )
        return True

    # Certifying ---------------------------------------------------------------------

    def vouches_for(self, client_order_id: ClientOrderId) -> bool:
        """Return True when the bounds are valid for the state as it is and count the
        order (so ``units`` is at least each instrument's worst position with it)."""
        return (
            self.valid and self.seen == self.state.event_count and client_order_id in self._counted
        )

    def certifies(
        self, order: OrderInitialized, valuation: Valuation, equity: Decimal | None
    ) -> bool:
        """Return True when no portfolio check could deny ``order`` (applied to the state
        with every event since, so that its quantity is in the bounds; a slice of an
        execution parent adds nothing), at the current marks, rates and ``equity``."""
        if not self.valid:
            return False
        if self.seen != self.state.event_count:
            self.valid = False  # an event went by unseen (a replay, a restore): rebuild
            return False
        if order.client_order_id not in self._counted:
            applied = self.state.orders.get(order.client_order_id)
            if applied is None or not is_slice(applied, self.state):
                return False
        return self.within(valuation.prices, valuation.base, valuation.fx, equity)

    def within(
        self,
        marks: Mapping[InstrumentId, Decimal],
        base: Currency,
        fx: FxConvert | None,
        equity: Decimal | None,
    ) -> bool:
        """Return True when no portfolio check could deny an order the bounds count
        (`vouches_for`) at ``marks``, the rates of ``fx`` into ``base`` (as `Valuation`
        has them) and ``equity``: `certifies` once the order is known to be counted."""
        for ceiling_id, ceiling in self._ceilings.items():
            mark = marks.get(ceiling_id)
            if mark is None or not 0 < mark <= ceiling.mark:
                return False
            if ceiling.quote != base:
                rate = None if fx is None else fx(ONE, ceiling.quote, base)
                if rate is None or rate > ceiling.rate:
                    return False
        limits = self.limits
        bound = self.exposure * _WITH_MARGIN
        fixed, relative = self._caps
        if fixed is not None and bound > fixed:
            return False
        if relative is not None and (equity is None or equity <= 0 or bound > equity * relative):
            return False
        credit = limits.buying_power
        if credit is None:
            return True
        state = self.state
        cached = self._credit
        if cached is not None and cached[0] == state.cash_version:
            free, size = cached[1], cached[2]
        else:
            found = self._credit_figures(credit, base, fx)
            if found is None:
                return False
            free, size, constant = found
            self._credit = (state.cash_version, free, size) if constant else None
        slack = (size + self.requirement) * MARGIN
        return self.requirement + slack <= free - slack

    def _credit_figures(
        self, credit: BuyingPowerLimits, base: Currency, fx: FxConvert | None
    ) -> tuple[Decimal, Decimal, bool] | None:
        """Return ``(cash - used, |cash| + long + short, constant)``: the credit check's
        free margin at the ceilings, its size for the slack, and whether they hold until
        cash or a position moves (no cash in another currency, whose rate can); None when
        the exact check denies an unconvertible debt."""
        cash = cash_size = ZERO
        constant = True
        for currency, amount in self.state.cash.items():
            if not amount:
                continue
            if currency == base:
                rate: Decimal | None = ONE
            else:
                constant = False
                rate = None if fx is None else fx(ONE, currency, base)
            if rate is None:
                if amount < 0:
                    return None  # the exact check denies an unconvertible debt
                continue
            converted = amount * rate
            cash += converted
            cash_size += abs(converted)
        # Free margin is cash plus, per position, (1 - long rate) x its value when long
        # and -(1 + short rate) x its absolute value when short.
        long_side = short_side = ZERO
        for instrument_id, held in self.state.positions.items():
            quantity = held.quantity
            if quantity > 0:
                long_side += quantity * self._ceilings[instrument_id].cap
            elif quantity < 0:
                short_side -= quantity * self._ceilings[instrument_id].cap
        used = short_side * (ONE + credit.short_margin_rate) if short_side else ZERO
        if long_side and credit.long_margin_rate > ONE:
            used += long_side * (credit.long_margin_rate - ONE)
        return cash - used, cash_size + long_side + short_side, constant

    @property
    def stale(self) -> bool:
        """Return True when the bounds have loosened over many events since the rebuild
        (cancels and closing fills leave them high)."""
        return self.state.event_count - self._reset_at >= REBUILD_AFTER


def _caps(limits: RiskLimits) -> tuple[Decimal | None, Decimal | None]:
    """Return the smallest absolute and the smallest equity-relative portfolio limit."""
    fixed: list[Decimal] = []
    relative: list[Decimal] = []
    exposure = limits.exposure
    if exposure is not None:
        for value in (exposure.max_gross_exposure, exposure.max_net_exposure):
            if value is not None:
                fixed.append(value)
        if exposure.max_leverage is not None:
            relative.append(exposure.max_leverage)
    concentration = limits.concentration
    if concentration is not None:
        for value in (
            concentration.max_per_instrument,
            concentration.max_per_sector,
            concentration.max_per_asset_class,
            concentration.max_per_venue,
        ):
            if value is not None:
                relative.append(value)
    correlation = limits.correlation
    if correlation is not None:
        if correlation.max_cluster_exposure is not None:
            fixed.append(correlation.max_cluster_exposure)
        if correlation.max_cluster_fraction is not None:
            relative.append(correlation.max_cluster_fraction)
    return (min(fixed) if fixed else None, min(relative) if relative else None)
