"""The pre-trade fast path: a flat proof that no check can deny an ordinary order.

`passes` answers True only when every enabled check of `alphintra.risk.pretrade`
would pass the order; it never denies. On False (anything it does not handle, or a
check that could deny) the entry point runs the checks in full, which word the
denial. So the answer of ``check_order`` is the same with or without it; only the work
differs (``tests/risk/test_fast_path.py`` compares both, and counts that the fast path
vouches for the orders it should).

It handles an ordinary order of an ACTIVE account: not reduce-only, not a child, in an
unrestricted instrument. Each check is the same comparison as the check itself, done
inline, except three that lean on the portfolio bound kept from the events
(`PortfolioBound`), when it is valid for the state and the limits:

* the position quantity limit: the bound's ``units`` of the instrument are at least
  the worst position with every working order, this one included (the worst
  position reachable, `side_reach`, is at most that);
* the position notional limit: likewise, ``units`` at the reference price;
* the portfolio limits: `PortfolioBound.within` (`certifies`, the order known counted).

Without a usable bound the position limits are measured exactly (`side_reach`), and
an order under portfolio limits goes the full way.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

from alphintra.domain.account import AccountState
from alphintra.domain.enums import OrderStatus, TradingState
from alphintra.domain.events import OrderInitialized
from alphintra.domain.instruments import Instrument
from alphintra.risk.books import side_reach
from alphintra.risk.context import NANOS_PER_MILLI, RiskContext, resolve
from alphintra.risk.limits import RiskLimits
from alphintra.risk.loss_checks import exceeds
from alphintra.risk.order_checks import check_trading_hours

_ACTIVE = TradingState.ACTIVE

REVIEWED_LIMIT_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    name: frozenset(fields.split())
    for name, fields in {
        "RiskLimits": "account_throttle asset_classes buying_power concentration correlation"
        " duplicate_window_ms enforce_min_notional enforce_trading_hours exposure"
        " instruments loss max_order_notional max_order_quantity max_position_notional"
        " max_position_quantity max_volatility price_collar restricted_symbols"
        " venue_throttle",
        "ScopeLimits": "max_order_notional max_order_quantity max_position_notional"
        " max_position_quantity max_volatility",
        "PriceCollar": "max_fraction max_ticks min_band",
        "Throttle": "max_messages max_orders window_ms",
        "ExposureLimits": "max_gross_exposure max_leverage max_net_exposure",
        "ConcentrationLimits": "max_per_asset_class max_per_instrument max_per_sector"
        " max_per_venue",
        "BuyingPowerLimits": "fee_rate long_margin_rate short_margin_rate",
        # min_correlation, min_observations, window and sample_ms only shape the clusters
        # (the view in RiskContext.correlation); the fast path vouches for a correlation limit only
        # through PortfolioBound.within, whose cap (portfolio_bound._caps) is at most
        # max_cluster_exposure and max_cluster_fraction × equity whatever the clusters:
        # a cluster's exposure is never above the whole book's.
        "CorrelationLimits": "max_cluster_exposure max_cluster_fraction min_correlation"
        " min_observations sample_ms window",
        "LossLimits": "max_daily_loss max_daily_loss_fraction max_drawdown max_drawdown_amount",
    }.items()
}
"""The limit fields `passes` was written against, by class (the portfolio ones through
`PortfolioBound`). A field added to one of these classes may be a check `passes` does not
know, so it could vouch for an order the new check denies; ``tests/risk/test_fast_path.py``
fails until the field is handled here (or makes `passes` fall back) and listed."""
_DENIED = OrderStatus.DENIED


def passes(
    order: OrderInitialized,
    instrument: Instrument,
    state: AccountState,
    limits: RiskLimits,
    ctx: RiskContext,
    reference: Decimal | None,
) -> bool:
    """Return True when ``check_order(order, instrument, state, limits, ctx)`` is None
    for certain; False when it may not be (the full checks then decide).

    ``reference`` is the order instrument's price in ``ctx`` (as ``check_order`` finds
    it). Like the checks, this changes nothing.
    """
    if (
        state.trading_state is not _ACTIVE
        or order.reduce_only
        or order.parent_id is not None
        or instrument.id in limits.restricted_symbols
    ):
        return False
    bound = ctx.bound
    if bound is not None and (
        bound.state is not state
        or bound.limits is not limits
        or not bound.vouches_for(order.client_order_id)
    ):
        bound = None
    if bound is None and (limits.uses_portfolio or limits.concentration is not None):
        return False  # the portfolio checks must run in full
    books = ctx.books
    if books is not None and books.active and len(state.open_orders) < books.track_from:
        books.pause()  # as the full checks do: a scan of few orders costs less
    scope = limits.scope_for(instrument) if limits.has_scopes else limits.account_scope
    quantity = order.quantity
    limit = scope.max_order_quantity
    if limit is not None and quantity > limit:
        return False
    own_price = order.price if order.price is not None else order.trigger_price
    limit = scope.max_order_notional
    min_notional = limits.enforce_min_notional and instrument.min_notional > 0
    if limit is not None or min_notional:
        price = own_price if own_price is not None else reference
        if price is None:
            if limit is not None:
                return False
        else:
            notional = quantity * price * instrument.multiplier
            if limit is not None and notional > limit:
                return False
            if min_notional and notional < instrument.min_notional:
                return False
    now = order.ts_event if ctx.now_ns is None else ctx.now_ns
    if (
        limits.enforce_trading_hours
        and instrument.trading_hours is not None
        and check_trading_hours(instrument, now) is not None
    ):
        return False
    if not limits.has_extended_checks:
        return True
    if limits.has_flow_checks and not _flow_passes(
        order, instrument, state, limits, ctx, reference, now
    ):
        return False
    equity: Decimal | None = None
    if limits.has_loss_checks:
        loss = limits.loss
        if loss is not None:
            given = ctx.equity
            equity = given() if given is not None and not isinstance(given, Decimal) else given
            if equity is None:  # `resolve`, inline
                return False
            marks = ctx.equity_marks
            if loss.max_daily_loss is not None or loss.max_daily_loss_fraction is not None:
                start = marks.day_start_equity if marks is not None else None
                if start is None:
                    start = resolve(ctx.day_start_equity)
                if start is None:
                    return False
                lost = start - equity
                if lost > 0 and (
                    (loss.max_daily_loss is not None and lost > loss.max_daily_loss)
                    or (
                        loss.max_daily_loss_fraction is not None
                        and start > 0
                        and lost > start * loss.max_daily_loss_fraction
                    )
                ):
                    return False
            if loss.max_drawdown is not None or loss.max_drawdown_amount is not None:
                high = marks.high_water if marks is not None else None
                if high is None:
                    high = resolve(ctx.high_water_mark)
                if high is None:
                    return False
                drawdown = high - equity
                if drawdown > 0 and (
                    (loss.max_drawdown_amount is not None and drawdown > loss.max_drawdown_amount)
                    or (
                        loss.max_drawdown is not None
                        and (high <= 0 or drawdown > high * loss.max_drawdown)
                    )
                ):
                    return False
        limit = scope.max_volatility
        if limit is not None:
            volatility = ctx.realized_vols.get(instrument.id)
            if volatility is not None and exceeds(volatility, limit):
                return False
    if limits.has_position_limits:
        quantity_limit = scope.max_position_quantity
        notional_limit = scope.max_position_notional
        if bound is not None:
            units = bound.units.get(instrument.id)
            if units is None:
                return False
            if quantity_limit is not None and units > quantity_limit:
                return False
            if notional_limit is not None and (
                reference is None
                or units * (abs(reference) * instrument.multiplier) > notional_limit
            ):
                return False  # the reach with the order is at most ``units``
        else:
            before, after = side_reach(state, order)
            if quantity_limit is not None and after > quantity_limit and after > before:
                return False
            if notional_limit is not None and after > before:
                if reference is None:
                    return False
                unit = abs(reference) * instrument.multiplier
                if after * unit > notional_limit:
                    return False
    if bound is not None and (limits.uses_portfolio or limits.concentration is not None):
        prices = ctx.prices or state.marks
        if reference is not None and prices.get(instrument.id) != reference:
            return False  # the full checks value with the reference in place of the mark
        if equity is None:
            equity = resolve(ctx.equity)
        return bound.within(prices, state.base_currency, ctx.fx, equity)  # see `vouches_for`
    return True


def _flow_passes(
    order: OrderInitialized,
    instrument: Instrument,
    state: AccountState,
    limits: RiskLimits,
    ctx: RiskContext,
    reference: Decimal | None,
    now: int,
) -> bool:
    """The price collar, the duplicate window and the throttles (`pretrade` order flow)."""
    collar = limits.price_collar
    if collar is not None and reference is not None:
        band: Decimal | None = None
        for price in (order.price, order.trigger_price):
            if price is None:
                continue
            distance = abs(price - reference)
            if distance <= collar.min_band:
                continue  # within the narrowest band the collar can have
            if band is None:
                fraction, ticks = collar.max_fraction, collar.max_ticks
                if fraction is not None:
                    band = abs(reference) * fraction
                    if ticks is not None:
                        band = min(band, instrument.tick_size * ticks)
                else:
                    assert ticks is not None
                    band = instrument.tick_size * ticks
                band = max(band, collar.min_band)
            if distance > band:
                return False
    window_ms = limits.duplicate_window_ms
    if window_ms is not None:
        cutoff = now - window_ms * NANOS_PER_MILLI
        own_id = order.client_order_id
        for other in reversed(state.orders.values()):
            if other.ts_init <= cutoff:
                break
            if (
                other.client_order_id == own_id
                or other.status is _DENIED
                or other.parent_id is not None
            ):
                continue
            if (
                other.instrument_id == order.instrument_id
                and other.side is order.side
                and other.quantity == order.quantity
                and other.price == order.price
                and other.trigger_price == order.trigger_price
            ):
                return False
    account, venue_throttle = limits.account_throttle, limits.venue_throttle
    if account is None and venue_throttle is None:
        return True
    rate = ctx.order_rate
    if rate is None:
        return False
    if account is not None and not rate.below(
        now - account.window_ms * NANOS_PER_MILLI, None, account.max_orders, account.max_messages
    ):
        return False
    if venue_throttle is not None:
        venue = order.venue or instrument.venue or ctx.default_venue
        if venue is not None and not rate.below(
            now - venue_throttle.window_ms * NANOS_PER_MILLI,
            venue,
            venue_throttle.max_orders,
            venue_throttle.max_messages,
        ):
            return False
    return True
