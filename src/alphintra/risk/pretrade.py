"""Pre-trade risk: the entry point that runs every check on one order.

``check_order`` returns the first `Denial` (a stable code and a reason naming the
values), or None. It is pure: the same order, state, limits and context give the same
answer, and it changes none of them. A denial is never an exception; the engine turns
it into an ``OrderDenied`` event.

The checks, in order (each runs only when its limit is enabled):

1. account state (HALTED; REDUCING allows only risk-reducing orders), reduce-only;
2. order quantity and notional (per instrument, asset class or account), minimum
   notional, trading hours;
3. restricted symbols, price collar, duplicate window, order and message throttles
   (account and venue);
4. daily loss and drawdown, realised volatility;
5. position quantity and notional, instrument concentration, gross and net exposure,
   leverage, sector / asset-class / venue concentration, correlated clusters;
6. buying power.

*Risk-reducing* means: the order faces the position, and with every working order
on its side it cannot take the position across zero (a reduce-only order: its own
quantity is at most the position). Restricted symbols, loss and volatility limits
and the REDUCING state let such orders through, so risk can always be cut.

Child orders (iceberg slices, bracket exits) and reduce-only orders are exempt from
the price collar, duplicate and rate checks: they are protective traffic (a stop-loss
is often far from the market), and they cannot add risk.

Speed. The context may carry two caches kept from the account's events (the engine
provides both): `WorkingBooks`, the books without a scan of every open order, and
`PortfolioBound`, which can show that no check of steps 5 (beyond the position limits)
and 6 can deny, sparing them. Neither changes an answer: with or without them the same
order gets the same denial, code and reason (``tests/risk/test_pretrade_reference.py``
holds the checks as they were before either existed, and compares). Before any of
that, `alphintra.risk.fast_path.passes` tries to show in one flat pass that every
check passes an ordinary order; only when it cannot do the checks run one by one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from alphintra.domain.account import AccountState
from alphintra.domain.enums import ContingencyType, OrderSide, TradingState
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.instruments import Instrument
from alphintra.domain.orders import is_reducing
from alphintra.domain.values import ZERO
from alphintra.risk.books import (
    InstrumentBook,
    Valuation,
    WorkingOrder,
    collect_books,
    is_slice,
    order_price,
    side_reach,
)
from alphintra.risk.buying_power import (
    check_buying_power,
    free_margin,
    instrument_requirement,
    requirement,
)
from alphintra.risk.context import RiskContext, resolve
from alphintra.risk.denial import (
    CONCENTRATION_ASSET_CLASS,
    CONCENTRATION_INSTRUMENT,
    CONCENTRATION_SECTOR,
    CONCENTRATION_VENUE,
    EQUITY_UNAVAILABLE,
    ORDER_RATE_UNAVAILABLE,
    PRICE_UNAVAILABLE,
    Denial,
)
from alphintra.risk.exposure_checks import (
    PortfolioExposure,
    check_cluster,
    check_concentration,
    check_gross_exposure,
    check_leverage,
    check_net_exposure,
    check_position_notional,
    check_position_quantity,
    group_exposure,
)
from alphintra.risk.fast_path import passes
from alphintra.risk.limits import ExposureLimits, RiskLimits, ScopeLimits
from alphintra.risk.loss_checks import check_daily_loss, check_drawdown, check_volatility
from alphintra.risk.order_checks import (
    check_duplicate,
    check_min_notional,
    check_order_notional,
    check_order_quantity,
    check_price_collar,
    check_reduce_only,
    check_restricted,
    check_throttle,
    check_trading_hours,
    check_trading_state,
    closes_within_position,
)
from alphintra.risk.working_books import WorkingBooks

_NO_CONTEXT: Final = RiskContext()


def check_order(
    order: OrderInitialized,
    instrument: Instrument,
    state: AccountState,
    limits: RiskLimits,
    context: RiskContext | Decimal | None = None,
) -> Denial | None:
    """Run every enabled pre-trade check on ``order``; return the first denial, or None.

    ``context`` is a `RiskContext`; a bare ``Decimal`` (or None) is the older form,
    the order instrument's mark (None: ``state.marks``): prices then come from
    ``state.marks`` and the rest of the context is empty (so limits needing equity, fx
    or the rate window deny with an ``*_UNAVAILABLE`` code). ``order`` may already be
    recorded in ``state`` (as the engine does before checking) or not; it is never
    counted twice.
    """
    if type(context) is RiskContext:
        ctx = context
        reference = (ctx.prices or state.marks).get(instrument.id)
        if passes(order, instrument, state, limits, ctx, reference):
            return None  # every check passes (see `alphintra.risk.fast_path`)
    else:
        ctx = _NO_CONTEXT
        reference = context if isinstance(context, Decimal) else state.marks.get(instrument.id)
    position = state.position_quantity(instrument.id)
    call: _Call | None = None
    if state.trading_state is not TradingState.ACTIVE:
        risk_reducing = False
        if state.trading_state is TradingState.REDUCING:
            call = _Call(order, instrument, state, limits, ctx, reference, position)
            risk_reducing = call.risk_reducing()
        denial = check_trading_state(state.trading_state, position, risk_reducing)
        if denial is not None:
            return denial
    if order.reduce_only:
        denial = check_reduce_only(order, position)
        if denial is not None:
            return denial
    scope = limits.scope_for(instrument)
    quantity = order.quantity
    if scope.max_order_quantity is not None:
        denial = check_order_quantity(instrument, quantity, scope)
        if denial is not None:
            return denial
    min_notional = limits.enforce_min_notional and instrument.min_notional > 0
    if scope.max_order_notional is not None or min_notional:
        price = order_price(order)
        if price is None:
            price = reference
        if price is None:
            if scope.max_order_notional is not None:
                return Denial(
                    PRICE_UNAVAILABLE,
                    f"no price to value the {order.order_type} order in {instrument.id}: "
                    "no order price and no mark",
                )
        else:
            notional = quantity * price * instrument.multiplier
            denial = check_order_notional(instrument, notional, scope)
            if denial is None and min_notional:
                denial = check_min_notional(instrument, notional)
            if denial is not None:
                return denial
    now = order.ts_event if ctx.now_ns is None else ctx.now_ns
    if limits.enforce_trading_hours and instrument.trading_hours is not None:
        denial = check_trading_hours(instrument, now)
        if denial is not None:
            return denial
    if not limits.has_extended_checks:
        return None
    if call is None:
        call = _Call(order, instrument, state, limits, ctx, reference, position)
    return call.extended(scope, now)


class _Call:
    """One check_order call beyond the fast path: lazily computed, cached inputs."""

    __slots__ = (
        "_after_sides",
        "_before",
        "_books",
        "_equity",
        "_equity_known",
        "_own_price",
        "_reach",
        "_valuation",
        "ctx",
        "instrument",
        "limits",
        "order",
        "position",
        "reference",
        "state",
    )

    def __init__(
        self,
        order: OrderInitialized,
        instrument: Instrument,
        state: AccountState,
        limits: RiskLimits,
        ctx: RiskContext,
        reference: Decimal | None,
        position: Decimal,
    ) -> None:
        self.order = order
        self.instrument = instrument
        self.state = state
        self.limits = limits
        self.ctx = ctx
        self.reference = reference
        self.position = position
        self._books: dict[InstrumentId, InstrumentBook] | None = None
        self._before: InstrumentBook | None = None
        self._after_sides: tuple[Decimal, Decimal, Decimal, Decimal] | None = None
        self._valuation: Valuation | None = None
        self._equity: Decimal | None = None
        self._equity_known = False
        self._reach: tuple[Decimal, Decimal] | None = None
        self._own_price: Decimal | Denial | None = None

    # Inputs -------------------------------------------------------------------------

    def tracked(self) -> WorkingBooks | None:
        """Return the context's kept books when they serve this state and beat a scan."""
        tracker = self.ctx.books
        if tracker is None or tracker.state is not self.state:
            return None
        if len(self.state.open_orders) < tracker.track_from:
            if tracker.active:
                tracker.pause()
            return None
        return tracker

    def books(self) -> dict[InstrumentId, InstrumentBook]:
        """Every instrument's book (with working-order prices when the credit check is on)."""
        if self._books is None:
            with_orders = self.limits.buying_power is not None
            exclude = self.order.client_order_id
            tracker = self.tracked()
            books = (
                tracker.books(exclude, with_orders=with_orders)
                if tracker is not None
                else collect_books(self.state, exclude, with_orders=with_orders)
            )
            own = self.instrument.id
            if own not in books:
                books[own] = InstrumentBook(own, self.position, orders=[] if with_orders else None)
            self._books = books
            self._before = books[own]
        return self._books

    def before(self) -> InstrumentBook:
        """The order instrument's book without the order."""
        if self._before is None:
            if self.limits.uses_portfolio:
                self.books()
            else:
                own = self.instrument.id
                exclude = self.order.client_order_id
                tracker = self.tracked()
                self._before = (
                    tracker.book(own, exclude)
                    if tracker is not None
                    else collect_books(self.state, exclude, only=own)[own]
                )
        assert self._before is not None
        return self._before

    def adds_order(self) -> bool:
        """Return False for a slice of an execution parent (its parent already counts)."""
        order = self.order
        return order.parent_id is None or not is_slice(order, self.state)

    def after_sides(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """Return ``(buy, sell, buy_reduce, sell_reduce)`` of the order instrument's book
        with the order (`with_order`)."""
        found = self._after_sides
        if found is None:
            before = self.before()
            buy, sell = before.buy, before.sell
            buy_reduce, sell_reduce = before.buy_reduce, before.sell_reduce
            if self.adds_order():
                order = self.order
                added: Decimal = order.quantity
                if order.contingency is ContingencyType.OCO and order.order_list_id is not None:
                    key = (order.order_list_id, order.side, order.reduce_only)
                    counted = before.groups.get(key, ZERO)
                    added = added - counted if added > counted else ZERO
                if order.side is OrderSide.BUY:
                    if order.reduce_only:
                        buy_reduce += added
                    else:
                        buy += added
                elif order.reduce_only:
                    sell_reduce += added
                else:
                    sell += added
            found = self._after_sides = (buy, sell, buy_reduce, sell_reduce)
        return found

    def after_reach(self) -> tuple[Decimal, Decimal]:
        """Return ``(high, low)`` of the order instrument's book with the order."""
        p = self.before().position
        buy, sell, buy_reduce, sell_reduce = self.after_sides()
        return (
            p + buy + min(buy_reduce, max(-p, ZERO)),
            p - sell - min(sell_reduce, max(p, ZERO)),
        )

    def reach(self) -> tuple[Decimal, Decimal]:
        """Return the worst position on the order's side, without and with it
        (`side_reach`; from the books when they are at hand, by the same sums)."""
        found = self._reach
        if found is None:
            if self._before is None and (self.ctx.books is None or self.tracked() is None):
                found = side_reach(self.state, self.order)  # a scan of one side is cheapest
            else:
                before = self.before()
                p = before.position
                buy, sell, buy_reduce, sell_reduce = self.after_sides()
                if self.order.side is OrderSide.BUY:
                    facing = max(-p, ZERO)
                    found = (
                        max(p + before.buy + min(before.buy_reduce, facing), ZERO),
                        max(p + buy + min(buy_reduce, facing), ZERO),
                    )
                else:
                    facing = max(p, ZERO)
                    found = (
                        max(-p + before.sell + min(before.sell_reduce, facing), ZERO),
                        max(-p + sell + min(sell_reduce, facing), ZERO),
                    )
            self._reach = found
        return found

    def after_max_price(self) -> Decimal | None:
        """Return the highest order price of the order instrument's book with the order."""
        highest = self.before().max_order_price
        if self.adds_order():
            price = order_price(self.order)
            if price is not None and (highest is None or price > highest):
                highest = price
        return highest

    def own_price(self) -> Decimal | Denial:
        """Return the order instrument's reference price, as its book with the order has
        it (`Valuation.price` of the `with_order` book)."""
        if self._own_price is None:
            valuation = self.valuation()
            own_id = self.instrument.id
            known = valuation.known_price(own_id)
            self._own_price = (
                known if known is not None else valuation.price_of(own_id, self.after_max_price())
            )
        return self._own_price

    def own_rate(self) -> Decimal | Denial:
        """Return the rate of the order instrument's quote currency into the base."""
        return self.valuation().rate(self.instrument.quote_currency)

    def own_unit_value(self) -> Decimal | Denial:
        """Return `Valuation.unit_value` of the order instrument's book with the order."""
        price = self.own_price()
        if isinstance(price, Denial):
            return price
        rate = self.own_rate()
        if isinstance(rate, Denial):
            return rate
        return price * self.instrument.multiplier * rate

    def valuation(self) -> Valuation:
        if self._valuation is None:
            ctx = self.ctx
            prices = ctx.prices or self.state.marks
            own = self.instrument.id
            if self.reference is not None and prices.get(own) != self.reference:
                prices = {**prices, own: self.reference}
            self._valuation = Valuation(
                self.state, self.instrument, prices, ctx.instruments, ctx.fx
            )
        return self._valuation

    def equity(self) -> Decimal | Denial:
        if not self._equity_known:
            self._equity = resolve(self.ctx.equity)
            self._equity_known = True
        if self._equity is None:
            return Denial(EQUITY_UNAVAILABLE, "a limit needs the account's equity, none given")
        return self._equity

    def risk_reducing(self) -> bool:
        """Return True when the order cannot take the position across zero."""
        order = self.order
        if order.reduce_only:
            return closes_within_position(order.side, order.quantity, self.position)
        return is_reducing(order.side, self.position) and self.reach()[1] == 0

    def venue(self) -> VenueId | None:
        return self.order.venue or self.instrument.venue or self.ctx.default_venue

    # Checks -------------------------------------------------------------------------

    def extended(self, scope: ScopeLimits, now: int) -> Denial | None:
        limits = self.limits
        if limits.has_flow_checks:
            denial = self.order_flow(now)
            if denial is not None:
                return denial
        if limits.has_loss_checks:
            denial = self.loss_and_volatility(scope)
            if denial is not None:
                return denial
        if limits.has_position_limits:
            denial = self.position_limits(scope)
            if denial is not None:
                return denial
        if limits.uses_portfolio or limits.concentration is not None:
            bound = self.ctx.bound
            if bound is None or bound.state is not self.state or bound.limits is not limits:
                return self.portfolio()
            valuation = self.valuation()
            equity = self.equity()
            if bound.certifies(
                self.order, valuation, None if isinstance(equity, Denial) else equity
            ):
                return None  # no portfolio check can deny (see `PortfolioBound`)
            denial = self.portfolio()
            if not bound.valid or bound.stale:
                bound.reset(valuation)
            return denial
        return None

    def order_flow(self, now: int) -> Denial | None:
        limits, order, instrument = self.limits, self.order, self.instrument
        if instrument.id in limits.restricted_symbols:
            denial = check_restricted(instrument, limits.restricted_symbols, self.risk_reducing())
            if denial is not None:
                return denial
        if order.parent_id is not None or order.reduce_only:
            return None  # protective traffic: exits, slices, reduce-only stops
        if limits.price_collar is not None and (
            order.price is not None or order.trigger_price is not None
        ):
            denial = check_price_collar(order, instrument, self.reference, limits.price_collar)
            if denial is not None:
                return denial
        if limits.duplicate_window_ms is not None:
            denial = check_duplicate(order, self.state, limits.duplicate_window_ms, now)
            if denial is not None:
                return denial
        if limits.account_throttle is None and limits.venue_throttle is None:
            return None
        rate = self.ctx.order_rate
        if rate is None:
            return Denial(
                ORDER_RATE_UNAVAILABLE,
                "an order or message throttle is set but no order-rate window was given",
            )
        if limits.account_throttle is not None:
            denial = check_throttle(rate, limits.account_throttle, now)
            if denial is not None:
                return denial
        if limits.venue_throttle is not None:
            venue = self.venue()
            if venue is not None:
                return check_throttle(rate, limits.venue_throttle, now, venue)
        return None

    def loss_and_volatility(self, scope: ScopeLimits) -> Denial | None:
        loss = self.limits.loss
        denial: Denial | None = None
        if loss is not None:
            equity = self.equity()
            if isinstance(equity, Denial):
                return equity
            if loss.max_daily_loss is not None or loss.max_daily_loss_fraction is not None:
                marks = self.ctx.equity_marks  # read first, as the fast path does
                start = marks.day_start_equity if marks is not None else None
                if start is None:
                    start = resolve(self.ctx.day_start_equity)
                if start is None:
                    return Denial(
                        EQUITY_UNAVAILABLE, "the daily loss limit needs the start-of-day equity"
                    )
                denial = check_daily_loss(equity, start, loss)
            if denial is None and (
                loss.max_drawdown is not None or loss.max_drawdown_amount is not None
            ):
                marks = self.ctx.equity_marks
                high = marks.high_water if marks is not None else None
                if high is None:
                    high = resolve(self.ctx.high_water_mark)
                if high is None:
                    return Denial(
                        EQUITY_UNAVAILABLE, "the drawdown limit needs the high-water mark"
                    )
                denial = check_drawdown(equity, high, loss)
        if denial is None and scope.max_volatility is not None:
            volatility = self.ctx.realized_vols.get(self.instrument.id)
            if volatility is not None:
                denial = check_volatility(self.instrument.id, volatility, scope.max_volatility)
        if denial is not None and self.risk_reducing():
            return None
        return denial

    def position_limits(self, scope: ScopeLimits) -> Denial | None:
        side = self.order.side
        if scope.max_position_quantity is not None:
            before, after = self.reach()
            denial = check_position_quantity(
                self.instrument.id, side, before, after, scope.max_position_quantity
            )
            if denial is not None:
                return denial
        if scope.max_position_notional is not None:
            before, after = self.reach()
            if after <= before:
                return None
            price = self.own_price()
            if isinstance(price, Denial):
                return price
            return check_position_notional(
                self.instrument, side, before, after, price, scope.max_position_notional
            )
        return None

    def portfolio(self) -> Denial | None:
        """Run the portfolio checks in one pass over the books.

        The figures are those of `unit_values`, `gross_by_instrument` and
        `measure_portfolio` on the books and on the order instrument's book with the
        order (`with_order`), computed with the same operations in the same order; a
        check function runs (and words the denial) only when its condition holds.
        """
        limits = self.limits
        own_id = self.instrument.id
        before = self.before()
        books = self.books() if limits.uses_portfolio else {own_id: before}
        valuation = self.valuation()
        own_value = self.own_unit_value()
        concentration, exposure = limits.concentration, limits.exposure
        correlated = limits.correlation is not None and self.ctx.correlation is not None
        keep_gross = correlated or (
            concentration is not None
            and (
                concentration.max_per_sector is not None
                or concentration.max_per_asset_class is not None
                or concentration.max_per_venue is not None
            )
        )
        net = exposure is not None and exposure.max_net_exposure is not None
        gross: dict[InstrumentId, Decimal] = {}
        values: dict[InstrumentId, Decimal] = {}
        total = high_sum = low_sum = own_high = own_low = own_gross = ZERO
        for instrument_id, book in books.items():
            value = own_value if instrument_id == own_id else valuation.unit_value(book)
            if isinstance(value, Denial):
                return value
            value = values[instrument_id] = abs(value)
            p = book.position
            high = p + book.buy + min(book.buy_reduce, max(-p, ZERO))
            low = p - book.sell - min(book.sell_reduce, max(p, ZERO))
            amount = max(abs(low), abs(high)) * value
            if keep_gross:
                gross[instrument_id] = amount
            total += amount
            if net:
                high_sum += high * value
                low_sum += low * value
            if instrument_id == own_id:
                own_high, own_low, own_gross = high, low, amount
        own_value = values[own_id]
        after_high, after_low = self.after_reach()
        own_after = max(abs(after_low), abs(after_high)) * own_value
        if concentration is not None:
            denial = self.concentration(own_gross, gross, own_after)
            if denial is not None:
                return denial
        if exposure is not None:
            figures: _Figures = (
                total,
                total - own_gross + own_after,
                high_sum,
                high_sum + (after_high - own_high) * own_value if net else ZERO,
                low_sum,
                low_sum + (after_low - own_low) * own_value if net else ZERO,
            )
            denial = self.exposure(exposure, figures)
            if denial is not None:
                return denial
        if correlated:
            denial = self.cluster(gross, own_after)
            if denial is not None:
                return denial
        if limits.buying_power is not None:
            return self.buying_power(books, values)
        return None

    def exposure(self, exposure: ExposureLimits, figures: _Figures) -> Denial | None:
        gross_before, gross_after = figures[0], figures[1]
        limit = exposure.max_gross_exposure
        if limit is not None and gross_after > limit and gross_after > gross_before:
            return check_gross_exposure(PortfolioExposure(*figures), limit)
        limit = exposure.max_net_exposure
        if limit is not None:
            side = self.order.side
            if side is OrderSide.BUY:
                after, before = figures[3], figures[2]
            else:
                after, before = -figures[5], -figures[4]
            if after > limit and after > before:
                return check_net_exposure(PortfolioExposure(*figures), side, limit)
        limit = exposure.max_leverage
        if limit is not None and gross_after > gross_before:
            equity = self.equity()
            if isinstance(equity, Denial):
                return equity
            if equity <= 0 or gross_after > limit * equity:
                return check_leverage(PortfolioExposure(*figures), equity, limit)
        return None

    def concentration(
        self, before_value: Decimal, gross: dict[InstrumentId, Decimal], own_after: Decimal
    ) -> Denial | None:
        """``before_value`` is the order instrument's gross, ``gross`` every instrument's
        (needed only with group limits)."""
        concentration = self.limits.concentration
        assert concentration is not None
        own = self.instrument
        own_id = own.id
        if own_after <= before_value:
            return None  # no group containing this instrument can grow
        equity = self.equity()
        if isinstance(equity, Denial):
            return equity
        limit = concentration.max_per_instrument
        if limit is not None and (equity <= 0 or own_after > equity * limit):
            return check_concentration(
                CONCENTRATION_INSTRUMENT,
                f"instrument {own_id}",
                before_value,
                own_after,
                equity,
                limit,
            )
        if (
            concentration.max_per_sector is None
            and concentration.max_per_asset_class is None
            and concentration.max_per_venue is None
        ):
            return None
        valuation = self.valuation()
        default_venue = self.ctx.default_venue
        own_venue = own.venue or default_venue or self.order.venue
        groups = (
            (concentration.max_per_sector, CONCENTRATION_SECTOR, "sector", own.sector),
            (
                concentration.max_per_asset_class,
                CONCENTRATION_ASSET_CLASS,
                "asset class",
                own.asset_class,
            ),
            (concentration.max_per_venue, CONCENTRATION_VENUE, "venue", own_venue),
        )
        for limit, code, label, key in groups:
            if limit is None or key is None:
                continue
            before_group = ZERO
            for instrument_id, amount in gross.items():
                if instrument_id != own_id:
                    other = valuation.instrument(instrument_id)
                    if isinstance(other, Denial):
                        return other
                    if label == "sector":
                        member = other.sector == key
                    elif label == "asset class":
                        member = other.asset_class == key
                    else:
                        member = (other.venue or default_venue) == key
                    if not member:
                        continue
                before_group += amount
            after_group = before_group - before_value + own_after
            if after_group > before_group and (equity <= 0 or after_group > equity * limit):
                return check_concentration(
                    code, f"{label} {key}", before_group, after_group, equity, limit
                )
        return None

    def cluster(self, gross: dict[InstrumentId, Decimal], own_after: Decimal) -> Denial | None:
        view = self.ctx.correlation
        correlation = self.limits.correlation
        assert view is not None and correlation is not None
        members = view.cluster_of(self.instrument.id)
        if members is None:
            return None
        before_value, after_value = group_exposure(
            gross, self.instrument.id, own_after, members.__contains__
        )
        if after_value <= before_value:
            return None
        equity: Decimal | None = None
        if correlation.max_cluster_fraction is not None:
            found = self.equity()
            if isinstance(found, Denial):
                return found
            equity = found
        return check_cluster(
            members, view.threshold, before_value, after_value, correlation, equity
        )

    def buying_power(
        self, books: dict[InstrumentId, InstrumentBook], values: dict[InstrumentId, Decimal]
    ) -> Denial | None:
        limits = self.limits.buying_power
        assert limits is not None
        valuation = self.valuation()
        own_id = self.instrument.id
        before = books[own_id]
        own_before = instrument_requirement(before, valuation, limits)
        if isinstance(own_before, Denial):
            return own_before
        if not self.adds_order():
            return None  # the book with the order is the book without it
        order = self.order
        # `instrument_requirement` of the book with the order: the portfolio checks have
        # already valued it (its price and rate are known to be there).
        price, rate = self.own_price(), self.own_rate()
        assert not isinstance(price, Denial) and not isinstance(rate, Denial)
        extra = WorkingOrder(order.side, order.quantity, order_price(order))
        own_after = requirement(before, price, limits, extra) * self.instrument.multiplier * rate
        if own_after <= own_before:
            return None
        required = ZERO
        for instrument_id, book in books.items():
            if instrument_id == own_id:
                continue
            need = instrument_requirement(book, valuation, limits)
            if isinstance(need, Denial):
                return need
            required += need
        free = free_margin(self.state, books, values, valuation, limits)
        if isinstance(free, Denial):
            return free
        return check_buying_power(free, required + own_before, required + own_after)


_Figures = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]
"""The fields of `PortfolioExposure`, in order."""


__all__ = ["Denial", "RiskContext", "RiskLimits", "check_order"]
