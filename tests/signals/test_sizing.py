"""Tests for position sizing: hand-computed examples, errors, config loading, properties."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.enums import AssetClass, InstrumentKind, SignalAction
from alphintra.domain.identifiers import InstrumentId, ModelId, SignalId
from alphintra.domain.instruments import Instrument
from alphintra.domain.signals import TradingSignal
from alphintra.signals.sizing import (
    ConfidenceScaled,
    FixedNotional,
    FixedQuantity,
    FractionalKelly,
    PercentOfEquity,
    SizingCaps,
    SizingError,
    SizingPolicy,
    size_signal,
    sizing_policy_from_mapping,
    sizing_policy_to_mapping,
)

D = Decimal


def _instrument(
    symbol: str,
    *,
    quote: str = "USD",
    lot: str = "1",
    min_quantity: str = "0",
    min_notional: str = "0",
    multiplier: str = "1",
    asset_class: AssetClass = AssetClass.EQUITY,
    kind: InstrumentKind = InstrumentKind.STOCK,
) -> Instrument:
    return Instrument(
        id=InstrumentId(symbol),
        venue_symbol=symbol,
        asset_class=asset_class,
        kind=kind,
        base_currency=symbol[:3],
        quote_currency=quote,
        tick_size=D("0.01"),
        lot_size=D(lot),
        min_quantity=D(min_quantity),
        min_notional=D(min_notional),
        multiplier=D(multiplier),
    )


AAPL = _instrument("AAPL")
BTCUSDT = _instrument(
    "BTCUSDT",
    quote="USDT",
    lot="0.00000001",
    min_quantity="0.00001",
    min_notional="5",
    asset_class=AssetClass.CRYPTO,
    kind=InstrumentKind.SPOT,
)
EURGBP = _instrument("EURGBP", quote="GBP", asset_class=AssetClass.FX, kind=InstrumentKind.SPOT)
ES = _instrument("ES", multiplier="50", asset_class=AssetClass.INDEX, kind=InstrumentKind.FUTURE)


def _signal(
    action: SignalAction = SignalAction.BUY,
    *,
    confidence: str = "0.6",
    instrument: Instrument = AAPL,
    entry: str | None = None,
    stop: str | None = None,
    target: str | None = None,
) -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId("sig-1"),
        model_id=ModelId("model-1"),
        instrument_id=instrument.id,
        action=action,
        confidence=D(confidence),
        ts=0,
        entry_price=None if entry is None else D(entry),
        stop_loss=None if stop is None else D(stop),
        take_profit=None if target is None else D(target),
    )


def _size(
    policy: SizingPolicy,
    *,
    signal: TradingSignal | None = None,
    instrument: Instrument = AAPL,
    price: str = "100",
    equity: str = "100000",
    account_currency: str = "USD",
    fx_rate: str | None = None,
    caps: SizingCaps | None = None,
) -> Decimal:
    return size_signal(
        policy,
        signal=signal or _signal(instrument=instrument),
        instrument=instrument,
        price=D(price),
        equity=D(equity),
        account_currency=account_currency,
        fx_rate=None if fx_rate is None else D(fx_rate),
        limits=caps,
    )


def _error(policy: SizingPolicy, **kwargs: Any) -> SizingError:
    with pytest.raises(SizingError) as info:
        _size(policy, **kwargs)
    return info.value


def _assert_exact(actual: Decimal, expected: str) -> None:
    assert actual == D(expected)
    assert str(actual) == expected  # same digits, so the instrument precision is kept


# -- fixed quantity ------------------------------------------------------------------


def test_fixed_quantity_whole_shares_returns_quantity() -> None:
    _assert_exact(_size(FixedQuantity(quantity=D(7))), "7")


def test_fixed_quantity_fraction_of_share_rounds_down_to_lot() -> None:
    _assert_exact(_size(FixedQuantity(quantity=D("2.7"))), "2")


def test_fixed_quantity_other_quote_currency_needs_no_fx_rate() -> None:
    quantity = _size(FixedQuantity(quantity=D(1000)), instrument=EURGBP, price="0.85")
    _assert_exact(quantity, "1000")


# -- fixed notional ------------------------------------------------------------------


def test_fixed_notional_equity_rounds_down_to_whole_shares() -> None:
    # 10,000 / 123.45 = 81.004...
    _assert_exact(_size(FixedNotional(notional=D(10000)), price="123.45"), "81")


def test_fixed_notional_crypto_rounds_down_to_satoshi() -> None:
    # 1,000 / 30,000 = 0.0333... -> 0.03333333 at 8 decimals
    quantity = _size(
        FixedNotional(notional=D(1000)),
        instrument=BTCUSDT,
        price="30000",
        account_currency="USDT",
    )
    _assert_exact(quantity, "0.03333333")


def test_fixed_notional_futures_multiplier_divides_by_contract_value() -> None:
    # 600,000 / (5,000 x 50) = 2.4 contracts -> 2
    quantity = _size(FixedNotional(notional=D(600000)), instrument=ES, price="5000")
    _assert_exact(quantity, "2")


def test_fixed_notional_fx_rate_given_converts_to_quote_currency() -> None:
    # 10,000 USD at 1.25 USD per GBP = 8,000 GBP; 8,000 / 0.80 = 10,000 EUR
    quantity = _size(
        FixedNotional(notional=D(10000)), instrument=EURGBP, price="0.80", fx_rate="1.25"
    )
    _assert_exact(quantity, "10000")


def test_fixed_notional_fx_rate_unknown_raises_fx_rate_unknown() -> None:
    error = _error(FixedNotional(notional=D(10000)), instrument=EURGBP, price="0.80")
    assert error.code == "FX_RATE_UNKNOWN"
    assert "10000 USD" in str(error)
    assert "GBP" in str(error)


def test_fixed_notional_same_currency_fx_rate_not_one_raises_inconsistent() -> None:
    error = _error(FixedNotional(notional=D(10000)), fx_rate="1.1")
    assert error.code == "INCONSISTENT_FX_RATE"
    assert "1.1" in str(error)


def test_fixed_notional_same_currency_fx_rate_one_is_accepted() -> None:
    _assert_exact(_size(FixedNotional(notional=D(1000)), fx_rate="1"), "10")


# -- percent of equity ---------------------------------------------------------------


def test_percent_of_equity_two_percent_sizes_notional_of_equity() -> None:
    # 2 % of 250,000 = 5,000; 5,000 / 123.45 = 40.50... -> 40
    quantity = _size(PercentOfEquity(percent=D(2)), equity="250000", price="123.45")
    _assert_exact(quantity, "40")


def test_percent_of_equity_fx_rate_given_converts_to_quote_currency() -> None:
    # 10 % of 100,000 USD = 10,000 USD = 8,000 GBP; 8,000 / 0.80 = 10,000
    quantity = _size(
        PercentOfEquity(percent=D(10)), instrument=EURGBP, price="0.80", fx_rate="1.25"
    )
    _assert_exact(quantity, "10000")


@pytest.mark.parametrize("equity", ["0", "-5000"])
def test_percent_of_equity_non_positive_equity_raises(equity: str) -> None:
    error = _error(PercentOfEquity(percent=D(2)), equity=equity)
    assert error.code == "NON_POSITIVE_EQUITY"
    assert equity in str(error)


# -- confidence scaled ---------------------------------------------------------------


def test_confidence_scaled_fixed_notional_scales_by_confidence() -> None:
    # 10,000 x 0.75 = 7,500; 7,500 / 50 = 150
    policy = ConfidenceScaled(base=FixedNotional(notional=D(10000)))
    signal = _signal(confidence="0.75")
    _assert_exact(_size(policy, signal=signal, price="50"), "150")


def test_confidence_scaled_percent_of_equity_scales_by_confidence() -> None:
    # 5 % of 100,000 = 5,000; x 0.5 = 2,500; 2,500 / 25 = 100
    policy = ConfidenceScaled(base=PercentOfEquity(percent=D(5)))
    signal = _signal(confidence="0.5")
    _assert_exact(_size(policy, signal=signal, price="25"), "100")


def test_confidence_scaled_below_min_confidence_raises() -> None:
    policy = ConfidenceScaled(base=FixedNotional(notional=D(10000)), min_confidence=D("0.5"))
    error = _error(policy, signal=_signal(confidence="0.49"))
    assert error.code == "BELOW_MIN_CONFIDENCE"
    assert "0.49" in str(error)
    assert "0.5" in str(error)


def test_confidence_scaled_at_min_confidence_sizes() -> None:
    policy = ConfidenceScaled(base=FixedNotional(notional=D(10000)), min_confidence=D("0.5"))
    _assert_exact(_size(policy, signal=_signal(confidence="0.5")), "50")


def test_confidence_scaled_zero_confidence_raises_below_lot_size() -> None:
    policy = ConfidenceScaled(base=FixedNotional(notional=D(10000)))
    assert _error(policy, signal=_signal(confidence="0")).code == "BELOW_LOT_SIZE"


# -- fractional Kelly ----------------------------------------------------------------


KELLY = FractionalKelly(max_percent_of_equity=D(20))


def test_fractional_kelly_buy_hand_example_sizes_quarter_kelly() -> None:
    # b = (110 - 100) / (100 - 95) = 2; f* = 0.6 - 0.4 / 2 = 0.4; f = 0.25 x 0.4 = 0.1
    # notional = 0.1 x 100,000 = 10,000; at 100 -> 100 units
    signal = _signal(entry="100", stop="95", target="110")
    _assert_exact(_size(KELLY, signal=signal), "100")


def test_fractional_kelly_sell_mirror_sizes_same_as_buy() -> None:
    # b = (100 - 90) / (105 - 100) = 2; same f = 0.1 as the BUY example
    signal = _signal(SignalAction.SELL, entry="100", stop="105", target="90")
    _assert_exact(_size(KELLY, signal=signal), "100")


def test_fractional_kelly_high_edge_capped_at_max_percent_of_equity() -> None:
    # f* = 0.9 - 0.1 / 2 = 0.85; half Kelly 0.425 > 20 % cap -> 20,000 / 100 = 200
    policy = FractionalKelly(fraction=D("0.5"), max_percent_of_equity=D(20))
    signal = _signal(confidence="0.9", entry="100", stop="95", target="110")
    _assert_exact(_size(policy, signal=signal), "200")


def test_fractional_kelly_crypto_rounds_down_to_satoshi() -> None:
    # b = 3,000 / 1,500 = 2; f* = 0.55 - 0.45 / 2 = 0.325; f = 0.08125
    # notional = 0.08125 x 10,000 = 812.5 USDT; / 30,000 = 0.027083333... -> 0.02708333
    signal = _signal(
        confidence="0.55", instrument=BTCUSDT, entry="30000", stop="28500", target="33000"
    )
    quantity = _size(
        KELLY,
        signal=signal,
        instrument=BTCUSDT,
        price="30000",
        equity="10000",
        account_currency="USDT",
    )
    _assert_exact(quantity, "0.02708333")


def test_fractional_kelly_negative_edge_raises_with_p_b_and_f_star() -> None:
    # f* = 0.3 - 0.7 / 2 = -0.05
    signal = _signal(confidence="0.3", entry="100", stop="95", target="110")
    error = _error(KELLY, signal=signal)
    assert error.code == "NEGATIVE_EDGE"
    message = str(error)
    assert "p=0.3" in message
    assert "b=2" in message
    assert "-0.05" in message


def test_fractional_kelly_zero_edge_raises_negative_edge() -> None:
    # p = 0.5, b = 1 -> f* = 0
    signal = _signal(confidence="0.5", entry="100", stop="95", target="105")
    assert _error(KELLY, signal=signal).code == "NEGATIVE_EDGE"


@pytest.mark.parametrize(
    ("entry", "stop", "target", "missing"),
    [
        (None, "95", "110", "entryPrice"),
        ("100", None, "110", "stopLoss"),
        ("100", "95", None, "takeProfit"),
    ],
)
def test_fractional_kelly_missing_price_raises_missing_prices(
    entry: str | None, stop: str | None, target: str | None, missing: str
) -> None:
    error = _error(KELLY, signal=_signal(entry=entry, stop=stop, target=target))
    assert error.code == "MISSING_PRICES"
    assert f"'{missing}'" in str(error)


@pytest.mark.parametrize(
    ("action", "stop", "target"),
    [
        (SignalAction.BUY, "105", "110"),  # stop above entry
        (SignalAction.BUY, "95", "100"),  # target at entry
        (SignalAction.SELL, "95", "90"),  # stop below entry
        (SignalAction.SELL, "105", "110"),  # target above entry
    ],
)
def test_fractional_kelly_prices_on_wrong_side_raises_invalid_prices(
    action: SignalAction, stop: str, target: str
) -> None:
    error = _error(KELLY, signal=_signal(action, entry="100", stop=stop, target=target))
    assert error.code == "INVALID_PRICES"
    assert f"stopLoss={stop}" in str(error)


# -- caps and minimums ---------------------------------------------------------------


def test_caps_max_order_quantity_caps_quantity() -> None:
    caps = SizingCaps(max_order_quantity=D(30))
    _assert_exact(_size(FixedNotional(notional=D(10000)), caps=caps), "30")


def test_caps_max_order_notional_caps_quantity() -> None:
    # 2,550 / 100 = 25.5 -> 25
    caps = SizingCaps(max_order_notional=D(2550))
    _assert_exact(_size(FixedNotional(notional=D(10000)), caps=caps), "25")


def test_caps_max_order_notional_crypto_stays_within_cap() -> None:
    # 1,000 / 30,000 = 0.0333... -> 0.03333333, notional 999.9999 <= 1,000
    caps = SizingCaps(max_order_notional=D(1000))
    quantity = _size(
        FixedQuantity(quantity=D(1)),
        instrument=BTCUSDT,
        price="30000",
        account_currency="USDT",
        caps=caps,
    )
    _assert_exact(quantity, "0.03333333")
    assert quantity * D(30000) <= D(1000)


def test_caps_max_order_notional_futures_counts_multiplier() -> None:
    # cap 600,000 / (5,000 x 50) = 2.4 -> 2
    caps = SizingCaps(max_order_notional=D(600000))
    quantity = _size(FixedQuantity(quantity=D(10)), instrument=ES, price="5000", caps=caps)
    _assert_exact(quantity, "2")


def test_caps_looser_than_size_leave_quantity_unchanged() -> None:
    caps = SizingCaps(max_order_quantity=D(1000), max_order_notional=D(1000000))
    _assert_exact(_size(FixedNotional(notional=D(10000)), caps=caps), "100")


def test_caps_below_one_lot_after_capping_raises_below_lot_size() -> None:
    caps = SizingCaps(max_order_notional=D(50))
    error = _error(FixedQuantity(quantity=D(5)), caps=caps)
    assert error.code == "BELOW_LOT_SIZE"
    assert "capped to 0.5" in str(error)


@pytest.mark.parametrize("value", [D(0), D(-1), D("NaN")])
def test_caps_non_positive_value_raises_invalid_caps(value: Decimal) -> None:
    with pytest.raises(SizingError) as info:
        SizingCaps(max_order_quantity=value)
    assert info.value.code == "INVALID_CAPS"


def test_size_signal_below_one_lot_raises_below_lot_size() -> None:
    error = _error(FixedNotional(notional=D(50)))
    assert error.code == "BELOW_LOT_SIZE"
    assert "0.5" in str(error)


def test_size_signal_below_min_quantity_raises_below_min_quantity() -> None:
    # 0.000009 BTC (notional 9 USDT) is on the lot grid but below the 0.00001 minimum
    quantity_policy = FixedQuantity(quantity=D("0.000009"))
    error = _error(quantity_policy, instrument=BTCUSDT, price="1000000", account_currency="USDT")
    assert error.code == "BELOW_MIN_QUANTITY"
    assert "0.00001" in str(error)


def test_size_signal_below_min_notional_raises_below_min_notional() -> None:
    # 4 USDT / 40,000 = 0.0001 BTC; notional 4 < minimum 5
    error = _error(
        FixedNotional(notional=D(4)), instrument=BTCUSDT, price="40000", account_currency="USDT"
    )
    assert error.code == "BELOW_MIN_NOTIONAL"
    assert "4.0000" in str(error)


def test_size_signal_at_min_notional_sizes() -> None:
    quantity = _size(
        FixedNotional(notional=D(5)), instrument=BTCUSDT, price="40000", account_currency="USDT"
    )
    _assert_exact(quantity, "0.00012500")


# -- input validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    "action", [SignalAction.CLOSE_LONG, SignalAction.CLOSE_SHORT, SignalAction.REBALANCE]
)
def test_size_signal_non_entry_action_raises_unsupported_action(action: SignalAction) -> None:
    error = _error(FixedQuantity(quantity=D(1)), signal=_signal(action))
    assert error.code == "UNSUPPORTED_ACTION"
    assert str(action) in str(error)


@pytest.mark.parametrize("confidence", ["-0.1", "1.01"])
def test_size_signal_confidence_out_of_range_raises_invalid_confidence(confidence: str) -> None:
    error = _error(FixedQuantity(quantity=D(1)), signal=_signal(confidence=confidence))
    assert error.code == "INVALID_CONFIDENCE"
    assert confidence in str(error)


@pytest.mark.parametrize("price", ["0", "-1"])
def test_size_signal_non_positive_price_raises_invalid_price(price: str) -> None:
    error = _error(FixedQuantity(quantity=D(1)), price=price)
    assert error.code == "INVALID_PRICE"


def test_size_signal_non_positive_fx_rate_raises_invalid_fx_rate() -> None:
    error = _error(FixedQuantity(quantity=D(1)), instrument=EURGBP, fx_rate="0")
    assert error.code == "INVALID_FX_RATE"


@pytest.mark.parametrize(
    "make",
    [
        lambda: FixedQuantity(quantity=D(0)),
        lambda: FixedNotional(notional=D(-1)),
        lambda: PercentOfEquity(percent=D("Infinity")),
        lambda: FixedQuantity(quantity=0.5),  # type: ignore[arg-type]  # a float is refused
        lambda: ConfidenceScaled(base=FixedNotional(notional=D(1)), min_confidence=D("1.5")),
        lambda: ConfidenceScaled(base=FixedQuantity(quantity=D(1))),  # type: ignore[arg-type]
        lambda: FractionalKelly(max_percent_of_equity=D(20), fraction=D(0)),
        lambda: FractionalKelly(max_percent_of_equity=D(101)),
    ],
)
def test_policy_invalid_parameter_raises_invalid_policy(make: Any) -> None:
    with pytest.raises(SizingError) as info:
        make()
    assert info.value.code == "INVALID_POLICY"


# -- configuration loading -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"kind": "fixed_quantity", "quantity": "5"}, FixedQuantity(quantity=D(5))),
        ({"kind": "fixed_notional", "notional": 1000}, FixedNotional(notional=D(1000))),
        ({"kind": "percent_of_equity", "percent": "2.5"}, PercentOfEquity(percent=D("2.5"))),
        (
            {
                "kind": "confidence_scaled",
                "base": {"kind": "percent_of_equity", "percent": "5"},
                "min_confidence": "0.55",
            },
            ConfidenceScaled(base=PercentOfEquity(percent=D(5)), min_confidence=D("0.55")),
        ),
        (
            {"kind": "confidence_scaled", "base": {"kind": "fixed_notional", "notional": "1"}},
            ConfidenceScaled(base=FixedNotional(notional=D(1)), min_confidence=D(0)),
        ),
        (
            {"kind": "fractional_kelly", "max_percent_of_equity": "20"},
            FractionalKelly(max_percent_of_equity=D(20), fraction=D("0.25")),
        ),
        (
            {"kind": "fractional_kelly", "max_percent_of_equity": "10", "fraction": "0.5"},
            FractionalKelly(max_percent_of_equity=D(10), fraction=D("0.5")),
        ),
    ],
)
def test_from_mapping_valid_config_builds_policy(
    data: dict[str, Any], expected: SizingPolicy
) -> None:
    assert sizing_policy_from_mapping(data) == expected


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({"kind": "fixed_quantity", "quantity": "5", "qty": "1"}, ["unknown keys", "'qty'"]),
        (
            {
                "kind": "confidence_scaled",
                "base": {"kind": "fixed_notional", "notional": "1", "x": 1},
            },
            ["sizing.base", "unknown keys", "'x'"],
        ),
        ({"quantity": "5"}, ["sizing.kind is missing"]),
        ({"kind": "martingale"}, ["sizing.kind", "'martingale'"]),
        ({"kind": "fixed_notional"}, ["missing keys", "'notional'"]),
        ({"kind": "fixed_quantity", "quantity": 0.5}, ["sizing.quantity", "float", "0.5"]),
        ({"kind": "fixed_quantity", "quantity": "lots"}, ["sizing.quantity", "'lots'"]),
        ({"kind": "fixed_quantity", "quantity": True}, ["sizing.quantity", "True"]),
        ({"kind": "percent_of_equity", "percent": "-2"}, ["sizing", "percent", "-2"]),
        (
            {"kind": "fractional_kelly", "max_percent_of_equity": "20", "fraction": "1.5"},
            ["fraction", "1.5"],
        ),
        (
            {"kind": "confidence_scaled", "base": {"kind": "fixed_quantity", "quantity": "1"}},
            ["sizing.base.kind", "'fixed_quantity'"],
        ),
        ({"kind": "confidence_scaled", "base": "10000"}, ["sizing.base must be a mapping"]),
    ],
)
def test_from_mapping_bad_config_raises_invalid_policy_naming_key_and_value(
    data: dict[str, Any], fragments: list[str]
) -> None:
    with pytest.raises(SizingError) as info:
        sizing_policy_from_mapping(data)
    assert info.value.code == "INVALID_POLICY"
    for fragment in fragments:
        assert fragment in str(info.value)


# -- properties ----------------------------------------------------------------------


def _decimals(low: str, high: str, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=D(low), max_value=D(high), places=places, allow_nan=False, allow_infinity=False
    )


_POLICIES: st.SearchStrategy[SizingPolicy] = st.one_of(
    st.builds(FixedQuantity, quantity=_decimals("0.00000001", "100000", 8)),
    st.builds(FixedNotional, notional=_decimals("0.01", "10000000", 2)),
    st.builds(PercentOfEquity, percent=_decimals("0.01", "300", 2)),
    st.builds(
        ConfidenceScaled,
        base=st.one_of(
            st.builds(FixedNotional, notional=_decimals("0.01", "10000000", 2)),
            st.builds(PercentOfEquity, percent=_decimals("0.01", "300", 2)),
        ),
        min_confidence=_decimals("0", "1", 2),
    ),
    st.builds(
        FractionalKelly,
        max_percent_of_equity=_decimals("0.01", "100", 2),
        fraction=_decimals("0.01", "1", 2),
    ),
)

_EXPECTED_REFUSALS = {
    "BELOW_LOT_SIZE",
    "BELOW_MIN_QUANTITY",
    "BELOW_MIN_NOTIONAL",
    "BELOW_MIN_CONFIDENCE",
    "NEGATIVE_EDGE",
}


@st.composite
def _cases(draw: st.DrawFn) -> tuple[SizingPolicy, dict[str, Any], SizingCaps]:
    lot = draw(st.sampled_from(["1", "0.01", "0.00000001", "100"]))
    instrument = _instrument(
        "XYZUSD",
        lot=lot,
        min_quantity=draw(st.sampled_from(["0", lot, "0.001"])),
        min_notional=draw(st.sampled_from(["0", "5", "10"])),
        multiplier=draw(st.sampled_from(["1", "50", "0.001"])),
    )
    price = draw(_decimals("0.0001", "100000", 4))
    action = draw(st.sampled_from([SignalAction.BUY, SignalAction.SELL]))
    reward = draw(_decimals("0.01", "1000", 2))
    risk = draw(_decimals("0.01", "1000", 2))
    sign = 1 if action is SignalAction.BUY else -1
    signal = TradingSignal(
        signal_id=SignalId("sig"),
        model_id=ModelId("model"),
        instrument_id=instrument.id,
        action=action,
        confidence=draw(_decimals("0", "1", 3)),
        ts=0,
        entry_price=price,
        stop_loss=price - sign * risk,
        take_profit=price + sign * reward,
    )
    scale = draw(st.sampled_from([D("0.001"), D(1), D(1000), D(1000000)]))
    caps = SizingCaps(
        max_order_quantity=draw(st.none() | _decimals("0.001", "1000", 3).map(scale.__mul__)),
        max_order_notional=draw(st.none() | _decimals("0.01", "100000000", 2)),
    )
    kwargs: dict[str, Any] = {
        "signal": signal,
        "instrument": instrument,
        "price": price,
        "equity": draw(_decimals("0.01", "100000000", 2)),
        "account_currency": "USD",
        "fx_rate": None,
        "limits": caps,
    }
    return draw(_POLICIES), kwargs, caps


@settings(max_examples=400, deadline=None)
@given(_cases())
def test_size_signal_random_inputs_respect_caps_and_lot_grid(
    case: tuple[SizingPolicy, dict[str, Any], SizingCaps],
) -> None:
    policy, kwargs, caps = case
    instrument: Instrument = kwargs["instrument"]
    try:
        quantity = size_signal(policy, **kwargs)
    except SizingError as error:
        assert error.code in _EXPECTED_REFUSALS, str(error)
        return
    assert quantity > 0
    assert quantity % instrument.lot_size == 0
    assert quantity >= instrument.min_quantity
    notional = quantity * kwargs["price"] * instrument.multiplier
    assert notional >= instrument.min_notional
    if caps.max_order_quantity is not None:
        assert quantity <= caps.max_order_quantity
    if caps.max_order_notional is not None:
        assert notional <= caps.max_order_notional


@given(_POLICIES)
def test_to_mapping_any_policy_round_trips_through_from_mapping(policy: SizingPolicy) -> None:
    assert sizing_policy_from_mapping(sizing_policy_to_mapping(policy)) == policy
