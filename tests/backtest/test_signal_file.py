"""Tests for reading the backtest's JSON Lines signal file."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphintra.backtest.signal_file import (
    NumberedSignal,
    SignalFileError,
    load_signals,
    parse_signal,
    parse_utc_ns,
)
from alphintra.domain.enums import OrderType, SignalAction, TimeInForce

EXAMPLE = (
    '{"signalId": "uuid", "modelId": "model-123", "timestamp": "2024-01-01T10:00:00Z", '
    '"symbol": "BTCUSD", "action": "BUY", "confidence": 0.85, "quantity": 1000, '
    '"entryPrice": 45000, "priceTarget": 45000, "stopLoss": 43000, "takeProfit": 47000, '
    '"orderType": "MARKET", "metadata": {"strategy": "momentum", "timeframe": "1H"}}'
)
TEN_O_CLOCK_NS = int(datetime(2024, 1, 1, 10, tzinfo=UTC).timestamp()) * 10**9
_BASE: dict[str, object] = {
    "signalId": "s-1",
    "modelId": "model-123",
    "timestamp": "2024-01-01T10:00:00Z",
    "symbol": "BTCUSD",
    "action": "BUY",
    "confidence": Decimal("0.5"),
    "quantity": Decimal(1),
}
_DROP = object()


def _line(**changes: object) -> str:
    """Return a signal line: the base signal with ``changes``; ``_DROP`` removes a field.

    Decimal values are written as raw JSON numbers, exactly as their text.
    """
    fields = {**_BASE, **changes}
    parts = [
        f"{json.dumps(key)}: {value if isinstance(value, Decimal) else json.dumps(value)}"
        for key, value in fields.items()
        if value is not _DROP
    ]
    return "{" + ", ".join(parts) + "}"


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "signals.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _error(tmp_path: Path, *lines: str) -> SignalFileError:
    path = _write(tmp_path, *lines)
    with pytest.raises(SignalFileError) as info:
        load_signals(path)
    return info.value


def _assert_error(error: SignalFileError, line: int, *fragments: str) -> None:
    assert error.line == line
    text = str(error)
    assert text.startswith(f"{error.path}:{line}: ")
    assert text == f"{error.path}:{line}: {error.message}"
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


# --- valid files --------------------------------------------------------------------


def test_load_signals_example_line_returns_exact_signal(tmp_path: Path) -> None:
    (numbered,) = load_signals(_write(tmp_path, EXAMPLE))
    assert numbered.line == 1
    signal = numbered.signal
    assert signal.signal_id == "uuid"
    assert signal.model_id == "model-123"
    assert signal.instrument_id == "BTCUSD"
    assert signal.action is SignalAction.BUY
    assert signal.ts == TEN_O_CLOCK_NS
    assert signal.confidence == Decimal("0.85")
    assert isinstance(signal.confidence, Decimal)
    assert signal.quantity == Decimal(1000)
    assert signal.entry_price == Decimal(45000)
    assert signal.price_target == Decimal(45000)
    assert signal.stop_loss == Decimal(43000)
    assert signal.take_profit == Decimal(47000)
    assert signal.order_type is OrderType.MARKET
    assert signal.time_in_force is TimeInForce.GTC
    assert signal.metadata == {"strategy": "momentum", "timeframe": "1H"}


def test_load_signals_result_unpacks_as_line_and_signal(tmp_path: Path) -> None:
    line, signal = load_signals(_write(tmp_path, EXAMPLE))[0]
    assert line == 1
    assert signal.signal_id == "uuid"


def test_load_signals_blank_lines_are_skipped_and_lines_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, "", _line(signalId="a"), "   ", _line(signalId="b"))
    assert [(item.line, item.signal.signal_id) for item in load_signals(path)] == [
        (2, "a"),
        (4, "b"),
    ]


def test_load_signals_empty_file_returns_no_signals(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    assert load_signals(path) == []


def test_load_signals_decimal_text_is_kept_exactly(tmp_path: Path) -> None:
    line = _line(quantity=Decimal("0.10000000000000000001"), confidence=Decimal("1.0"))
    signal = load_signals(_write(tmp_path, line))[0].signal
    assert str(signal.quantity) == "0.10000000000000000001"
    assert str(signal.confidence) == "1.0"


def test_load_signals_numeric_strings_are_accepted_exactly(tmp_path: Path) -> None:
    line = _line(quantity="2.50", entryPrice="45000.125", confidence="0.3")
    signal = load_signals(_write(tmp_path, line))[0].signal
    assert str(signal.quantity) == "2.50"
    assert signal.entry_price == Decimal("45000.125")
    assert signal.confidence == Decimal("0.3")


def test_load_signals_offset_timestamp_is_converted_to_utc(tmp_path: Path) -> None:
    line = _line(timestamp="2024-01-01T12:30:00+02:30")
    assert load_signals(_write(tmp_path, line))[0].signal.ts == TEN_O_CLOCK_NS


def test_load_signals_close_without_quantity_means_close_all(tmp_path: Path) -> None:
    line = _line(action="CLOSE_SHORT", quantity=_DROP)
    signal = load_signals(_write(tmp_path, line))[0].signal
    assert signal.action is SignalAction.CLOSE_SHORT
    assert signal.quantity is None


def test_load_signals_limit_ioc_with_entry_price_is_accepted(tmp_path: Path) -> None:
    line = _line(orderType="LIMIT", timeInForce="IOC", entryPrice=Decimal("99.5"))
    signal = load_signals(_write(tmp_path, line))[0].signal
    assert signal.order_type is OrderType.LIMIT
    assert signal.time_in_force is TimeInForce.IOC
    assert signal.entry_price == Decimal("99.5")


def test_load_signals_null_optional_field_means_absent(tmp_path: Path) -> None:
    signal = load_signals(_write(tmp_path, _line(stopLoss=None, metadata=None)))[0].signal
    assert signal.stop_loss is None
    assert signal.metadata == {}


def test_load_signals_equal_timestamps_are_in_order(tmp_path: Path) -> None:
    path = _write(tmp_path, _line(signalId="a"), _line(signalId="b"))
    assert len(load_signals(path)) == 2


def test_parse_utc_ns_nanosecond_fraction_is_exact() -> None:
    assert parse_utc_ns("2024-01-01T10:00:00.000000001Z") == TEN_O_CLOCK_NS + 1
    assert parse_utc_ns("2024-01-01T05:00:00.5-05:00") == TEN_O_CLOCK_NS + 500_000_000


def test_parse_signal_invalid_line_raises_value_error() -> None:
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        parse_signal(_line(confidence=Decimal(2)))


# --- format errors ------------------------------------------------------------------


def test_load_signals_invalid_json_raises_with_line(tmp_path: Path) -> None:
    error = _error(tmp_path, EXAMPLE, '{"signalId": "x",,}')
    _assert_error(error, 2, "invalid JSON", "column", '{\\"signalId\\": \\"x\\",,}')


def test_load_signals_bytes_not_utf8_raise_with_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "signals.jsonl"
    second = _line(signalId="s-2", modelId="model-?").encode().replace(b"-?", b"-\xe9")
    path.write_bytes(
        (_line() + "\n").encode() + second + b"\n" + (_line(signalId="s-3") + "\n").encode()
    )
    with pytest.raises(SignalFileError) as info:
        load_signals(path)
    column = second.index(b"\xe9") + 1
    shown = "model-\\\\xe9"  # the byte as a backslash escape, inside the JSON-quoted line
    _assert_error(info.value, 2, "not valid UTF-8", f"byte 0xe9 at column {column}", shown)


def test_load_signals_non_object_line_raises(tmp_path: Path) -> None:
    _assert_error(_error(tmp_path, "[1, 2]"), 1, "one JSON object", "(got [1, 2])")


def test_load_signals_unknown_key_raises_with_suggestion(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(stoploss=Decimal(1)))
    _assert_error(error, 1, 'unknown field "stoploss"', 'did you mean "stopLoss"?', "allowed")


def test_load_signals_several_unknown_keys_are_all_listed(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(foo=1, account="x"))
    _assert_error(error, 1, "unknown fields", '(got "foo", "account")')


def test_load_signals_duplicate_key_raises(tmp_path: Path) -> None:
    error = _error(tmp_path, _line()[:-1] + ', "quantity": 2}')
    _assert_error(error, 1, 'field "quantity" appears twice')


@pytest.mark.parametrize(
    "field", ["signalId", "modelId", "timestamp", "symbol", "action", "confidence"]
)
def test_load_signals_missing_required_field_raises(tmp_path: Path, field: str) -> None:
    error = _error(tmp_path, _line(**{field: _DROP}))
    _assert_error(error, 1, f"missing required field {field}")


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [("signalId", "", '""'), ("modelId", "  ", '"  "'), ("symbol", 7, "7")],
)
def test_load_signals_bad_text_field_raises(
    tmp_path: Path, field: str, value: object, shown: str
) -> None:
    error = _error(tmp_path, _line(**{field: value}))
    _assert_error(error, 1, f"{field} must be a non-empty string", f"(got {shown})")


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T10:00:00",
        "2024-01-01 10:00:00Z",
        "2024-01-01",
        "2024-02-30T10:00:00Z",
        "2024-01-01T10:00:00+24:00",
        "2024-01-01T10:00:00.1234567891Z",
    ],
)
def test_load_signals_bad_timestamp_raises(tmp_path: Path, text: str) -> None:
    error = _error(tmp_path, _line(timestamp=text))
    _assert_error(error, 1, "timestamp", f'(got "{text}")')


def test_load_signals_rebalance_action_raises_not_supported(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(action="REBALANCE"))
    _assert_error(error, 1, "REBALANCE is not supported", "CLOSE_SHORT", '(got "REBALANCE")')


def test_load_signals_unknown_action_raises_listing_allowed(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(action="buy"))
    _assert_error(error, 1, "action must be one of BUY, SELL, CLOSE_LONG, CLOSE_SHORT", '"buy"')


@pytest.mark.parametrize(("value", "shown"), [(Decimal("1.01"), "1.01"), (Decimal("-0.5"), "-0.5")])
def test_load_signals_confidence_outside_unit_interval_raises(
    tmp_path: Path, value: Decimal, shown: str
) -> None:
    error = _error(tmp_path, _line(confidence=value))
    _assert_error(error, 1, "confidence must be between 0 and 1", f"(got {shown})")


def test_load_signals_boolean_number_raises(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(confidence=True))
    _assert_error(error, 1, "confidence must be a number, not a boolean", "(got true)")


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_load_signals_non_finite_number_raises(tmp_path: Path, text: str) -> None:
    error = _error(tmp_path, _line()[:-1] + f', "entryPrice": {text}}}')
    _assert_error(error, 1, "must be finite", f"(got {text})")


@pytest.mark.parametrize("text", ["abc", "1_000", " 5", "NaN", "0x10", ""])
def test_load_signals_non_numeric_string_raises(tmp_path: Path, text: str) -> None:
    error = _error(tmp_path, _line(quantity=text))
    _assert_error(error, 1, "quantity must be a number or a numeric string", f'(got "{text}")')


def test_load_signals_buy_without_quantity_raises(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(quantity=_DROP))
    _assert_error(error, 1, "quantity is required for BUY", "(got BUY)")


@pytest.mark.parametrize("field", ["quantity", "entryPrice", "priceTarget", "stopLoss"])
@pytest.mark.parametrize("value", [Decimal(0), Decimal("-2.5")])
def test_load_signals_non_positive_amount_raises(
    tmp_path: Path, field: str, value: Decimal
) -> None:
    error = _error(tmp_path, _line(**{field: value}))
    _assert_error(error, 1, f"{field} must be greater than 0", f"(got {value})")


def test_load_signals_unsupported_order_type_raises_listing_allowed(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(orderType="STOP"))
    _assert_error(error, 1, "orderType must be one of MARKET, LIMIT", '(got "STOP")')


def test_load_signals_limit_without_entry_price_raises(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(orderType="LIMIT"))
    _assert_error(error, 1, "LIMIT signal needs entryPrice", "(got LIMIT)")


def test_load_signals_unsupported_time_in_force_raises_listing_allowed(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(timeInForce="GTD"))
    _assert_error(error, 1, "timeInForce must be one of GTC, DAY, IOC, FOK", '(got "GTD")')


def test_load_signals_metadata_not_object_raises(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(metadata=["momentum"]))
    _assert_error(error, 1, "metadata must be a JSON object", '(got ["momentum"])')


# --- bracket checks -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "changes", "fragments"),
    [
        (
            "BUY",
            {"stopLoss": Decimal(45000)},
            ("stopLoss of a BUY must be below entryPrice", "stopLoss 45000, entryPrice 45000"),
        ),
        (
            "BUY",
            {"takeProfit": Decimal(44000)},
            ("takeProfit of a BUY must be above entryPrice", "takeProfit 44000"),
        ),
        (
            "SELL",
            {"stopLoss": Decimal(44000)},
            ("stopLoss of a SELL must be above entryPrice", "stopLoss 44000"),
        ),
        (
            "SELL",
            {"takeProfit": Decimal(46000)},
            ("takeProfit of a SELL must be below entryPrice", "takeProfit 46000"),
        ),
    ],
)
def test_load_signals_bracket_on_wrong_side_of_entry_raises(
    tmp_path: Path, action: str, changes: dict[str, object], fragments: tuple[str, ...]
) -> None:
    line = _line(action=action, entryPrice=Decimal(45000), **changes)
    _assert_error(_error(tmp_path, line), 1, *fragments)


def test_load_signals_buy_stop_above_take_profit_without_entry_raises(tmp_path: Path) -> None:
    line = _line(stopLoss=Decimal(47000), takeProfit=Decimal(43000))
    error = _error(tmp_path, line)
    _assert_error(error, 1, "stopLoss of a BUY must be below takeProfit", "stopLoss 47000")


def test_load_signals_sell_bracket_on_right_side_is_accepted(tmp_path: Path) -> None:
    line = _line(
        action="SELL",
        entryPrice=Decimal(45000),
        stopLoss=Decimal(47000),
        takeProfit=Decimal(43000),
    )
    signal = load_signals(_write(tmp_path, line))[0].signal
    assert (signal.stop_loss, signal.take_profit) == (Decimal(47000), Decimal(43000))


# --- file-wide checks ---------------------------------------------------------------


def test_load_signals_duplicate_signal_id_raises_naming_both_lines(tmp_path: Path) -> None:
    error = _error(tmp_path, _line(signalId="dup"), "", _line(signalId="dup"))
    _assert_error(error, 3, "duplicate signalId", "line 1", '(got "dup")')


def test_load_signals_timestamp_going_back_raises_naming_previous(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        _line(signalId="a", timestamp="2024-01-01T10:00:00Z"),
        _line(signalId="b", timestamp="2024-01-01T10:30:00+01:00"),
    )
    _assert_error(error, 2, "timestamp out of order", "line 1 has 2024-01-01T10:00:00Z", "+01:00")


def test_signal_file_error_survives_pickle(tmp_path: Path) -> None:
    error = SignalFileError(tmp_path / "s.jsonl", 3, "bad (got 1)")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.line, copy.message, str(copy)) == (
        error.path,
        3,
        "bad (got 1)",
        str(error),
    )


# --- property: exact numbers --------------------------------------------------------

_amounts = st.decimals(
    min_value=Decimal("1e-12"),
    max_value=Decimal("1e15"),
    allow_nan=False,
    allow_infinity=False,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(quantity=_amounts, entry=_amounts, confidence=st.decimals(min_value=0, max_value=1))
def test_load_signals_random_decimals_round_trip_exactly(
    tmp_path: Path, quantity: Decimal, entry: Decimal, confidence: Decimal
) -> None:
    line = _line(quantity=quantity, entryPrice=entry, confidence=confidence)
    (numbered,) = load_signals(_write(tmp_path, line))
    assert isinstance(numbered, NumberedSignal)
    signal = numbered.signal
    assert signal.quantity is not None
    assert signal.entry_price is not None
    assert signal.quantity.as_tuple() == quantity.as_tuple()
    assert signal.entry_price.as_tuple() == entry.as_tuple()
    assert signal.confidence == confidence
