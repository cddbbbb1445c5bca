"""The pre-trade checks as they were before the hot path was reworked (commit baa1284),
kept verbatim as the reference that the reworked `alphintra.risk.pretrade` must agree
with, denial for denial (see ``test_pretrade_reference.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from alphintra.domain.account import AccountState
from alphintra.domain.enums import TradingState
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.instruments import Instrument
from alphintra.domain.orders import is_reducing
from alphintra.domain.values import ZERO
from alphintra.risk.books import (
    InstrumentBook,
    Valuation,
    collect_books,
    order_price,
    side_reach,
    with_order,
)
from alphintra.risk.buying_power import check_buying_power, free_margin, instrument_requirement
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
    check_cluster,
    check_concentration,
    check_gross_exposure,
    check_leverage,
    check_net_exposure,
    check_position_notional,
    check_position_quantity,
    gross_by_instrument,
    group_exposure,
    measure_portfolio,
    unit_values,
)
from alphintra.risk.limits import RiskLimits, ScopeLimits
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

_NO_CONTEXT: Final = RiskContext()


def reference_check_order(
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
        "_after",
        "_before",
        "_books",
        "_equity",
        "_equity_known",
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
        self._after: InstrumentBook | None = None
        self._valuation: Valuation | None = None
        self._equity: Decimal | None = None
        self._equity_known = False
        self._reach: tuple[Decimal, Decimal] | None = None

    # Inputs -------------------------------------------------------------------------

    def books(self) -> dict[InstrumentId, InstrumentBook]:
        """Every instrument's book (with working-order prices when the credit check is on)."""
        if self._books is None:
            books = collect_books(
                self.state,
                self.order.client_order_id,
                with_orders=self.limits.buying_power is not None,
            )
            own = self.instrument.id
            if own not in books:
                books[own] = InstrumentBook(
                    own, self.position, orders=[] if self.limits.buying_power else None
                )
            self._books = books
            self._before = books[own]
        return self._books

    def before(self) -> InstrumentBook:
        if self._before is None:
            if self.limits.uses_portfolio:
                self.books()
            else:
                self._before = collect_books(
                    self.state, self.order.client_order_id, only=self.instrument.id
                )[self.instrument.id]
        assert self._before is not None
        return self._before

    def after(self) -> InstrumentBook:
        if self._after is None:
            self._after = with_order(self.before(), self.order, self.state)
        return self._after

    def reach(self) -> tuple[Decimal, Decimal]:
        """Return the worst position on the order's side, without and with it."""
        if self._reach is None:
            self._reach = side_reach(self.state, self.order)
        return self._reach

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
            return self.portfolio()
        return None

    def order_flow(self, now: int) -> Denial | None:
        limits, order, instrument = self.limits, self.order, self.instrument
        if instrument.id in limits.restricted_symbols:
            denial = check_restricted(instrument, limits.restricted_symbols, self.risk_reducing())
            if denial is not None:
                return denial
        if order.parent_id is not None or order.reduce_only:
            return None  # protective traffic: exits, slices, reduce-only stops
        if limits.price_collar is not None:
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
        venue = self.venue()
        if limits.venue_throttle is not None and venue is not None:
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
                start = resolve(self.ctx.day_start_equity)
                if start is None:
                    return Denial(
                        EQUITY_UNAVAILABLE, "the daily loss limit needs the start-of-day equity"
                    )
                denial = check_daily_loss(equity, start, loss)
            if denial is None and (
                loss.max_drawdown is not None or loss.max_drawdown_amount is not None
            ):
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
            price = self.valuation().price(self.after())
            if isinstance(price, Denial):
                return price
            return check_position_notional(
                self.instrument, side, before, after, price, scope.max_position_notional
            )
        return None

    def portfolio(self) -> Denial | None:
        limits = self.limits
        after = self.after()
        # Only the instrument's own concentration needs no more than its own book.
        books = self.books() if limits.uses_portfolio else {self.instrument.id: self.before()}
        own_id = after.instrument_id
        values = unit_values({**books, own_id: after}, self.valuation())
        if isinstance(values, Denial):
            return values
        gross = gross_by_instrument(books, values)
        own_after = after.worst * values[own_id]
        concentration = limits.concentration
        if concentration is not None:
            denial = self.concentration(gross, own_after)
            if denial is not None:
                return denial
        exposure = limits.exposure
        if exposure is not None:
            figures = measure_portfolio(books, values, gross, after)
            if exposure.max_gross_exposure is not None:
                denial = check_gross_exposure(figures, exposure.max_gross_exposure)
                if denial is not None:
                    return denial
            if exposure.max_net_exposure is not None:
                denial = check_net_exposure(figures, self.order.side, exposure.max_net_exposure)
                if denial is not None:
                    return denial
            if exposure.max_leverage is not None and figures.gross_after > figures.gross_before:
                equity = self.equity()
                if isinstance(equity, Denial):
                    return equity
                denial = check_leverage(figures, equity, exposure.max_leverage)
                if denial is not None:
                    return denial
        if limits.correlation is not None and self.ctx.correlation is not None:
            denial = self.cluster(gross, own_after)
            if denial is not None:
                return denial
        if limits.buying_power is not None:
            return self.buying_power(books, values, after)
        return None

    def concentration(
        self, gross: dict[InstrumentId, Decimal], own_after: Decimal
    ) -> Denial | None:
        concentration = self.limits.concentration
        assert concentration is not None
        own = self.instrument
        before_value, after_value = gross[own.id], own_after
        if after_value <= before_value:
            return None  # no group containing this instrument can grow
        equity = self.equity()
        if isinstance(equity, Denial):
            return equity
        if concentration.max_per_instrument is not None:
            denial = check_concentration(
                CONCENTRATION_INSTRUMENT,
                f"instrument {own.id}",
                before_value,
                after_value,
                equity,
                concentration.max_per_instrument,
            )
            if denial is not None:
                return denial
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
            members: dict[InstrumentId, bool] = {own.id: True}
            for instrument_id in gross:
                if instrument_id == own.id:
                    continue
                other = valuation.instrument(instrument_id)
                if isinstance(other, Denial):
                    return other
                if label == "sector":
                    members[instrument_id] = other.sector == key
                elif label == "asset class":
                    members[instrument_id] = other.asset_class == key
                else:
                    members[instrument_id] = (other.venue or default_venue) == key
            before_group, after_group = group_exposure(
                gross, own.id, own_after, members.__getitem__
            )
            denial = check_concentration(
                code, f"{label} {key}", before_group, after_group, equity, limit
            )
            if denial is not None:
                return denial
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
        self,
        books: dict[InstrumentId, InstrumentBook],
        values: dict[InstrumentId, Decimal],
        after: InstrumentBook,
    ) -> Denial | None:
        limits = self.limits.buying_power
        assert limits is not None
        valuation = self.valuation()
        own_before = instrument_requirement(books[after.instrument_id], valuation, limits)
        if isinstance(own_before, Denial):
            return own_before
        own_after = instrument_requirement(after, valuation, limits)
        if isinstance(own_after, Denial):
            return own_after
        if own_after <= own_before:
            return None
        required = ZERO
        for instrument_id, book in books.items():
            if instrument_id == after.instrument_id:
                continue
            need = instrument_requirement(book, valuation, limits)
            if isinstance(need, Denial):
                return need
            required += need
        free = free_margin(self.state, books, values, valuation, limits)
        if isinstance(free, Denial):
            return free
        return check_buying_power(free, required + own_before, required + own_after)


__all__ = ["reference_check_order"]
