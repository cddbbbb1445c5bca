"""Order-level checks through ``check_order``: each at, just inside and just beyond its limit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from alphintra.domain.enums import AssetClass, OrderSide, OrderStatus, TradingState
from alphintra.domain.identifiers import VenueId
from alphintra.risk.context import NANOS_PER_MILLI, OrderRateWindow, RiskContext
from alphintra.risk.limits import PriceCollar, RiskLimits, ScopeLimits, Throttle
from alphintra.risk.pretrade import check_order
from risk.builders import (
    BTCUSD,
    SPY,
    T0,
    D,
    deny,
    equity,
    hold,
    make_state,
    order,
    set_trading_state,
    work,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
ACME = equity("ACME", venue="XNYS")


def code(denial: object) -> str | None:
    return getattr(denial, "code", None)


# Account state and reduce-only ----------------------------------------------------------


def test_trading_state_halted_denied() -> None:
    state = make_state([ACME])
    set_trading_state(state, TradingState.HALTED)
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, RiskLimits(), None)
    assert code(denial) == "TRADING_HALTED"


@pytest.mark.parametrize(
    ("quantity", "expected"), [(9, None), (10, None), (11, "TRADING_REDUCING")]
)
def test_trading_state_reducing_sell_against_long_allowed_up_to_position(
    quantity: int, expected: str | None
) -> None:
    state = make_state([ACME])
    hold(state, ACME, "10", "10")
    set_trading_state(state, TradingState.REDUCING)
    denial = check_order(order(ACME, SELL, quantity, price="10"), ACME, state, RiskLimits(), None)
    assert code(denial) == expected


def test_trading_state_reducing_burst_of_closing_orders_denied_once_position_covered() -> None:
    state = make_state([ACME])
    hold(state, ACME, "10", "10")
    set_trading_state(state, TradingState.REDUCING)
    work(state, order(ACME, SELL, 6, price="11"))
    assert check_order(order(ACME, SELL, 4, price="11"), ACME, state, RiskLimits(), None) is None
    denial = check_order(order(ACME, SELL, 5, price="11"), ACME, state, RiskLimits(), None)
    assert code(denial) == "TRADING_REDUCING"


def test_trading_state_reducing_opening_buy_denied() -> None:
    state = make_state([ACME])
    set_trading_state(state, TradingState.REDUCING)
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, RiskLimits(), None)
    assert code(denial) == "TRADING_REDUCING"


@pytest.mark.parametrize(
    ("quantity", "expected"), [(9, None), (10, None), (11, "REDUCE_ONLY_VIOLATION")]
)
def test_reduce_only_sell_against_long_allowed_up_to_position(
    quantity: int, expected: str | None
) -> None:
    state = make_state([ACME])
    hold(state, ACME, "10", "10")
    init = order(ACME, SELL, quantity, reduce_only=True)
    assert code(check_order(init, ACME, state, RiskLimits(), D(10))) == expected


def test_reduce_only_with_protective_stop_working_still_allowed() -> None:
    # An emergency flatten must pass while a reduce-only stop protects the position.
    state = make_state([ACME])
    hold(state, ACME, "10", "10")
    work(state, order(ACME, SELL, 10, trigger="9", reduce_only=True))
    set_trading_state(state, TradingState.REDUCING)
    init = order(ACME, SELL, 10, reduce_only=True)
    assert check_order(init, ACME, state, RiskLimits(), D(10)) is None


def test_reduce_only_buy_against_long_denied() -> None:
    state = make_state([ACME])
    hold(state, ACME, "10", "10")
    denial = check_order(order(ACME, BUY, 1, reduce_only=True), ACME, state, RiskLimits(), D(10))
    assert code(denial) == "REDUCE_ONLY_VIOLATION"


# Restricted symbols and trading hours ---------------------------------------------------


def test_restricted_symbol_opening_order_denied() -> None:
    state = make_state([ACME])
    limits = RiskLimits(restricted_symbols=frozenset({"ACME"}))
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, None)
    assert code(denial) == "RESTRICTED_SYMBOL"


def test_restricted_symbol_closing_order_allowed() -> None:
    state = make_state([ACME])
    hold(state, ACME, "5", "10")
    limits = RiskLimits(restricted_symbols=frozenset({"ACME"}))
    assert check_order(order(ACME, SELL, 5, price="10"), ACME, state, limits, None) is None
    denial = check_order(order(ACME, SELL, 6, price="10"), ACME, state, limits, None)
    assert code(denial) == "RESTRICTED_SYMBOL"


def test_restricted_symbol_other_instrument_allowed() -> None:
    state = make_state([ACME, SPY])
    limits = RiskLimits(restricted_symbols=frozenset({"ACME"}))
    assert check_order(order(SPY, BUY, 1, price="10"), SPY, state, limits, None) is None


def _new_york_ns(hour: int, minute: int, second: int = 0, micro: int = 0) -> int:
    local = datetime(2023, 11, 14, hour, minute, second, micro, tzinfo=ZoneInfo("America/New_York"))
    return int(local.timestamp()) * 1_000_000_000 + micro * 1_000


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ((9, 29, 59), "MARKET_CLOSED"),
        ((9, 30, 0), None),
        ((15, 59, 59), None),
        ((16, 0, 0), "MARKET_CLOSED"),
    ],
)
def test_trading_hours_session_boundaries_open_inclusive_close_exclusive(
    when: tuple[int, int, int], expected: str | None
) -> None:
    state = make_state([SPY])
    limits = RiskLimits(enforce_trading_hours=True)
    ts = _new_york_ns(*when)
    context = RiskContext(now_ns=ts, prices={SPY.id: D(450)})
    denial = check_order(order(SPY, BUY, 1, price="450", ts=ts), SPY, state, limits, context)
    assert code(denial) == expected


def test_trading_hours_not_enforced_by_default_allowed() -> None:
    state = make_state([SPY])
    ts = _new_york_ns(20, 0)
    assert check_order(order(SPY, BUY, 1, price="450", ts=ts), SPY, state, RiskLimits()) is None


# Order size -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "expected"), [(99, None), (100, None), (101, "MAX_ORDER_QUANTITY")]
)
def test_max_order_quantity_threshold_inclusive(quantity: int, expected: str | None) -> None:
    state = make_state([ACME])
    limits = RiskLimits(max_order_quantity=D(100))
    denial = check_order(order(ACME, BUY, quantity, price="1"), ACME, state, limits, None)
    assert code(denial) == expected


def test_max_order_quantity_instrument_scope_overrides_account() -> None:
    state = make_state([ACME, SPY])
    limits = RiskLimits(
        max_order_quantity=D(10), instruments={"ACME": ScopeLimits(max_order_quantity=D(1000))}
    )
    assert check_order(order(ACME, BUY, 1000, price="1"), ACME, state, limits, None) is None
    assert code(check_order(order(ACME, BUY, 1001, price="1"), ACME, state, limits, None)) == (
        "MAX_ORDER_QUANTITY"
    )
    assert code(check_order(order(SPY, BUY, 11, price="1"), SPY, state, limits, None)) == (
        "MAX_ORDER_QUANTITY"
    )


def test_max_order_quantity_asset_class_scope_applies_to_its_class_only() -> None:
    state = make_state([BTCUSD, ACME])
    limits = RiskLimits(asset_classes={AssetClass.CRYPTO: ScopeLimits(max_order_quantity=D(2))})
    btc = order(BTCUSD, BUY, "2.00000001", price="30000")
    assert code(check_order(btc, BTCUSD, state, limits, None)) == "MAX_ORDER_QUANTITY"
    assert check_order(order(BTCUSD, BUY, "2", price="30000"), BTCUSD, state, limits) is None
    assert check_order(order(ACME, BUY, 50, price="1"), ACME, state, limits, None) is None


def test_max_order_quantity_instrument_scope_beats_asset_class_scope() -> None:
    state = make_state([BTCUSD])
    limits = RiskLimits(
        asset_classes={AssetClass.CRYPTO: ScopeLimits(max_order_quantity=D(2))},
        instruments={"BTCUSD": ScopeLimits(max_order_quantity=D(5))},
    )
    assert check_order(order(BTCUSD, BUY, 5, price="30000"), BTCUSD, state, limits) is None
    denial = check_order(order(BTCUSD, BUY, "5.01", price="30000"), BTCUSD, state, limits)
    assert code(denial) == "MAX_ORDER_QUANTITY"


@pytest.mark.parametrize(
    ("price", "expected"),
    [("99.99", None), ("100.00", None), ("100.01", "MAX_ORDER_NOTIONAL")],
)
def test_max_order_notional_limit_price_threshold_inclusive(
    price: str, expected: str | None
) -> None:
    state = make_state([ACME])
    limits = RiskLimits(max_order_notional=D(10_000))
    denial = check_order(order(ACME, BUY, 100, price=price), ACME, state, limits, None)
    assert code(denial) == expected


def test_max_order_notional_counts_multiplier() -> None:
    future = equity("ESZ3", multiplier=D(50))
    state = make_state([future])
    limits = RiskLimits(max_order_notional=D(225_000))
    assert check_order(order(future, BUY, 1, price="4500"), future, state, limits) is None
    denial = check_order(order(future, BUY, 1, price="4500.01"), future, state, limits)
    assert code(denial) == "MAX_ORDER_NOTIONAL"


def test_max_order_notional_market_order_uses_mark() -> None:
    state = make_state([ACME])
    limits = RiskLimits(max_order_notional=D(1000))
    assert check_order(order(ACME, BUY, 100), ACME, state, limits, D(10)) is None
    denial = check_order(order(ACME, BUY, 100), ACME, state, limits, D("10.01"))
    assert code(denial) == "MAX_ORDER_NOTIONAL"


def test_max_order_notional_market_order_without_mark_denied_price_unavailable() -> None:
    state = make_state([ACME])
    limits = RiskLimits(max_order_notional=D(1000))
    denial = check_order(order(ACME, BUY, 1), ACME, state, limits, None)
    assert code(denial) == "PRICE_UNAVAILABLE"


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [("0.00003333", "MIN_NOTIONAL"), ("0.00003334", None), ("0.1", None)],
)
def test_min_notional_crypto_minimum_one_dollar(quantity: str, expected: str | None) -> None:
    state = make_state([BTCUSD])
    denial = check_order(order(BTCUSD, BUY, quantity, price="30000"), BTCUSD, state, RiskLimits())
    assert code(denial) == expected


@pytest.mark.parametrize(
    ("quantity", "expected"), [("0.00009999", "MIN_NOTIONAL"), ("0.0001", None)]
)
def test_min_notional_exactly_minimum_allowed(quantity: str, expected: str | None) -> None:
    state = make_state([BTCUSD])
    denial = check_order(order(BTCUSD, BUY, quantity, price="10000"), BTCUSD, state, RiskLimits())
    assert code(denial) == expected


def test_min_notional_disabled_allows_dust() -> None:
    state = make_state([BTCUSD])
    limits = RiskLimits(enforce_min_notional=False)
    assert check_order(order(BTCUSD, BUY, "0.00000001", price="30000"), BTCUSD, state, limits) is (
        None
    )


# Price collar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "expected"),
    [("104.99", None), ("105.00", None), ("105.01", "PRICE_COLLAR"), ("94.99", "PRICE_COLLAR")],
)
def test_price_collar_fraction_band_inclusive(price: str, expected: str | None) -> None:
    state = make_state([ACME])
    limits = RiskLimits(price_collar=PriceCollar(max_fraction=D("0.05")))
    denial = check_order(order(ACME, BUY, 1, price=price), ACME, state, limits, D(100))
    assert code(denial) == expected


@pytest.mark.parametrize(
    ("price", "expected"), [("100.10", None), ("100.11", "PRICE_COLLAR"), ("99.90", None)]
)
def test_price_collar_tick_band_inclusive(price: str, expected: str | None) -> None:
    state = make_state([ACME])
    limits = RiskLimits(price_collar=PriceCollar(max_ticks=10))
    denial = check_order(order(ACME, SELL, 1, price=price), ACME, state, limits, D(100))
    assert code(denial) == expected


def test_price_collar_both_bands_narrower_applies() -> None:
    state = make_state([ACME])
    limits = RiskLimits(price_collar=PriceCollar(max_fraction=D("0.05"), max_ticks=10))
    assert check_order(order(ACME, BUY, 1, price="100.10"), ACME, state, limits, D(100)) is None
    denial = check_order(order(ACME, BUY, 1, price="100.11"), ACME, state, limits, D(100))
    assert code(denial) == "PRICE_COLLAR"


@pytest.mark.parametrize(("price", "expected"), [("1.10", None), ("1.11", "PRICE_COLLAR")])
def test_price_collar_min_band_widens_cheap_instrument(price: str, expected: str | None) -> None:
    state = make_state([ACME])
    collar = PriceCollar(max_fraction=D("0.05"), min_band=D("0.10"))
    limits = RiskLimits(price_collar=collar)
    denial = check_order(order(ACME, BUY, 1, price=price), ACME, state, limits, D(1))
    assert code(denial) == expected


def test_price_collar_stop_trigger_checked() -> None:
    state = make_state([ACME])
    limits = RiskLimits(price_collar=PriceCollar(max_fraction=D("0.05")))
    assert check_order(order(ACME, SELL, 1, trigger="95"), ACME, state, limits, D(100)) is None
    denial = check_order(order(ACME, SELL, 1, trigger="94.99"), ACME, state, limits, D(100))
    assert code(denial) == "PRICE_COLLAR"


def test_price_collar_without_reference_price_allowed() -> None:
    state = make_state([ACME])
    limits = RiskLimits(price_collar=PriceCollar(max_fraction=D("0.01")))
    assert check_order(order(ACME, BUY, 1, price="500"), ACME, state, limits, None) is None


def test_price_collar_market_order_not_collared() -> None:
    state = make_state([ACME])
    limits = RiskLimits(price_collar=PriceCollar(max_fraction=D("0.01")))
    assert check_order(order(ACME, BUY, 1), ACME, state, limits, D(100)) is None


# Duplicates -----------------------------------------------------------------------------

WINDOW_MS = 500


@pytest.mark.parametrize(
    ("age_ms", "expected"), [(0, "DUPLICATE_ORDER"), (499, "DUPLICATE_ORDER"), (500, None)]
)
def test_duplicate_same_order_within_window_denied(age_ms: int, expected: str | None) -> None:
    now = T0 + 10_000 * NANOS_PER_MILLI
    state = make_state([ACME])
    work(state, order(ACME, BUY, 10, price="10", ts=now - age_ms * NANOS_PER_MILLI))
    limits = RiskLimits(duplicate_window_ms=WINDOW_MS)
    init = order(ACME, BUY, 10, price="10", ts=now)
    state.apply(init)  # the engine records the order before checking it
    assert code(check_order(init, ACME, state, limits, None)) == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"quantity": 11},
        {"price": "10.01"},
        {"side": SELL},
    ],
)
def test_duplicate_differing_order_allowed(changes: dict[str, object]) -> None:
    state = make_state([ACME])
    work(state, order(ACME, BUY, 10, price="10"))
    limits = RiskLimits(duplicate_window_ms=WINDOW_MS)
    side = changes.get("side", BUY)
    assert isinstance(side, OrderSide)
    quantity = changes.get("quantity", 10)
    assert isinstance(quantity, int)
    price = changes.get("price", "10")
    assert isinstance(price, str)
    assert check_order(order(ACME, side, quantity, price=price), ACME, state, limits) is None


def test_duplicate_of_denied_order_allowed() -> None:
    state = make_state([ACME])
    first = order(ACME, BUY, 10, price="10")
    state.apply(first)
    deny(state, first)
    assert state.orders[first.client_order_id].status is OrderStatus.DENIED
    limits = RiskLimits(duplicate_window_ms=WINDOW_MS)
    assert check_order(order(ACME, BUY, 10, price="10"), ACME, state, limits) is None


def test_duplicate_reduce_only_exempt() -> None:
    state = make_state([ACME])
    hold(state, ACME, "20", "10")
    work(state, order(ACME, SELL, 10, reduce_only=True))
    limits = RiskLimits(duplicate_window_ms=WINDOW_MS)
    assert check_order(order(ACME, SELL, 10, reduce_only=True), ACME, state, limits, D(10)) is None


# Throttles ------------------------------------------------------------------------------


def _rate(*ages_ms: int, venue: str | None = "XNYS", now: int = T0) -> OrderRateWindow:
    window = OrderRateWindow.for_windows(10_000)
    for age in sorted(ages_ms, reverse=True):
        window.record_order(now - age * NANOS_PER_MILLI, VenueId(venue) if venue else None)
    return window


@pytest.mark.parametrize(
    ("recorded", "expected"), [(1, None), (2, None), (3, "ACCOUNT_ORDER_RATE")]
)
def test_account_throttle_max_orders_in_window(recorded: int, expected: str | None) -> None:
    state = make_state([ACME])
    limits = RiskLimits(account_throttle=Throttle(window_ms=1000, max_orders=3))
    context = RiskContext(now_ns=T0, order_rate=_rate(*range(recorded)))
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == expected


def test_account_throttle_order_exactly_window_old_not_counted() -> None:
    state = make_state([ACME])
    limits = RiskLimits(account_throttle=Throttle(window_ms=1000, max_orders=1))
    context = RiskContext(now_ns=T0, order_rate=_rate(1000))
    assert check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context) is None
    context = RiskContext(now_ns=T0, order_rate=_rate(999))
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == "ACCOUNT_ORDER_RATE"


def test_account_throttle_messages_count_cancels() -> None:
    state = make_state([ACME])
    limits = RiskLimits(account_throttle=Throttle(window_ms=1000, max_messages=3))
    window = _rate(10)
    window.record_message(T0 - 5 * NANOS_PER_MILLI, VenueId("XNYS"))
    context = RiskContext(now_ns=T0, order_rate=window)
    assert check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context) is None
    window.record_message(T0 - 1 * NANOS_PER_MILLI, VenueId("XNYS"))
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == "ACCOUNT_MESSAGE_RATE"


def test_venue_throttle_counts_only_that_venue() -> None:
    state = make_state([ACME, SPY])
    limits = RiskLimits(venue_throttle=Throttle(window_ms=1000, max_orders=2, max_messages=3))
    window = _rate(1, 2, venue="XNYS")
    window.record_order(T0, VenueId("OTHER"))
    context = RiskContext(now_ns=T0, order_rate=window, default_venue=VenueId("OTHER"))
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == "VENUE_ORDER_RATE"
    # SPY names no venue: the default venue, with one order so far.
    assert check_order(order(SPY, BUY, 1, price="10"), SPY, state, limits, context) is None


def test_venue_throttle_messages_denied_at_limit() -> None:
    state = make_state([ACME])
    limits = RiskLimits(venue_throttle=Throttle(window_ms=1000, max_messages=2))
    window = _rate(3)
    context = RiskContext(now_ns=T0, order_rate=window)
    assert check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context) is None
    window.record_message(T0, VenueId("XNYS"))
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, context)
    assert code(denial) == "VENUE_MESSAGE_RATE"


def test_throttle_without_rate_window_denied_unavailable() -> None:
    state = make_state([ACME])
    limits = RiskLimits(account_throttle=Throttle(window_ms=1000, max_orders=5))
    denial = check_order(order(ACME, BUY, 1, price="10"), ACME, state, limits, None)
    assert code(denial) == "ORDER_RATE_UNAVAILABLE"


def test_throttle_reduce_only_and_child_orders_exempt() -> None:
    state = make_state([ACME])
    hold(state, ACME, "10", "10")
    limits = RiskLimits(account_throttle=Throttle(window_ms=1000, max_orders=1))
    context = RiskContext(now_ns=T0, order_rate=_rate(0, 1, 2), prices={ACME.id: D(10)})
    assert check_order(order(ACME, SELL, 5, reduce_only=True), ACME, state, limits, context) is (
        None
    )
    child = order(ACME, SELL, 5, price="10", parent_id="PARENT")
    assert check_order(child, ACME, state, limits, context) is None


def test_order_rate_window_forgets_beyond_horizon() -> None:
    window = OrderRateWindow(horizon_ns=1000)
    for ts in range(0, 10_000, 100):
        window.record_order(ts, VenueId("V"))
    assert window.orders_after(9900 - 1000) == 10
    assert window.orders_after(0) == 10  # older ones were dropped at the horizon
    assert window.orders_after(9900 - 1000, VenueId("V")) == 10
    assert window.orders_after(0, VenueId("NONE")) == 0


def test_order_rate_window_clock_step_back_keeps_counts() -> None:
    window = OrderRateWindow(horizon_ns=10_000)
    window.record_order(5000, None)
    window.record_order(4000, None)  # counted at 5000
    assert window.orders_after(4500) == 2
    assert window.messages_after(4500) == 2


def test_order_rate_window_compacts_long_series() -> None:
    window = OrderRateWindow(horizon_ns=10)
    for ts in range(20_000):
        window.record_order(ts, None)
    assert window.orders_after(19_989) == 10


def test_price_collar_reduce_only_and_child_orders_exempt() -> None:
    state = make_state([ACME])
    hold(state, ACME, "10", "100")
    limits = RiskLimits(price_collar=PriceCollar(max_fraction=D("0.05")))
    stop = order(ACME, SELL, 10, trigger="80", reduce_only=True)
    assert check_order(stop, ACME, state, limits, D(100)) is None
    exit_ = order(ACME, SELL, 10, trigger="80", parent_id="ENTRY")
    assert check_order(exit_, ACME, state, limits, D(100)) is None
    plain = order(ACME, SELL, 10, trigger="80")
    assert code(check_order(plain, ACME, state, limits, D(100))) == "PRICE_COLLAR"
