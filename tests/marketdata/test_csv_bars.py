"""Tests for loading bar CSV files: format detection, validation, intervals, merging."""

from __future__ import annotations

import pickle
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.market import MarketData, QuoteBar, TradeBar
from alphintra.marketdata.csv_bars import (
    QUOTE_COLUMNS,
    TRADE_COLUMNS,
    MarketDataFileError,
    detect_format,
    iter_merge,
    load_bars,
)

EURUSD = InstrumentId("EURUSD")
SPY = InstrumentId("SPY")
TRADE_HEADER = "timestamp,open,high,low,close,volume"
QUOTE_HEADER = "timestamp," + ",".join(QUOTE_COLUMNS)
MINUTE_NS = 60 * 10**9
HOUR_NS = 3600 * 10**9
DAY_NS = 86_400 * 10**9


def _ns(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) * 10**9


def _csv_values(bar: MarketData) -> list[Decimal]:
    if isinstance(bar, TradeBar):
        return [bar.open, bar.high, bar.low, bar.close, bar.volume]
    assert isinstance(bar, QuoteBar)
    return [
        *(bar.bid_open, bar.bid_high, bar.bid_low, bar.bid_close, bar.bid_size),
        *(bar.ask_open, bar.ask_high, bar.ask_low, bar.ask_close, bar.ask_size),
    ]


def _write(tmp_path: Path, *lines: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _load_error(path: Path, interval_ns: int | None = None) -> MarketDataFileError:
    with pytest.raises(MarketDataFileError) as info:
        load_bars(path, EURUSD, interval_ns)
    return info.value


def _assert_error(error: MarketDataFileError, path: Path, line: int, *fragments: str) -> None:
    assert error.path == path
    assert error.line == line
    text = str(error)
    assert text.startswith(f"{path}:{line}: ")
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


# --- format detection -------------------------------------------------------------


def test_detect_format_trade_header_returns_trade() -> None:
    assert detect_format(["timestamp", *TRADE_COLUMNS]) == "trade"
    assert detect_format(["date", *TRADE_COLUMNS]) == "trade"


def test_detect_format_quote_header_returns_quote() -> None:
    assert detect_format(["timestamp", *QUOTE_COLUMNS]) == "quote"
    assert detect_format(["date", *QUOTE_COLUMNS]) == "quote"


def test_detect_format_unknown_time_column_raises_naming_columns() -> None:
    with pytest.raises(ValueError, match=r"first column is 'time'.*got time,open"):
        detect_format(["time", *TRADE_COLUMNS])


def test_detect_format_missing_column_raises_naming_missing() -> None:
    with pytest.raises(ValueError, match="missing volume") as info:
        detect_format(["timestamp", "open", "high", "low", "close"])
    assert "open,high,low,close,volume (trade bars)" in str(info.value)


def test_detect_format_extra_column_raises_naming_extra() -> None:
    with pytest.raises(ValueError, match="unexpected vwap"):
        detect_format(["timestamp", *TRADE_COLUMNS, "vwap"])


def test_detect_format_reordered_columns_raises_out_of_order() -> None:
    columns = ["timestamp", *QUOTE_COLUMNS]
    columns[1], columns[2] = columns[2], columns[1]
    with pytest.raises(ValueError, match="out of order"):
        detect_format(columns)


def test_load_bars_bad_header_raises_on_line_1_naming_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,o,h,l,c,v", "2014-05-01T00:00:00Z,1,1,1,1,1")
    error = _load_error(path)
    _assert_error(error, path, 1, "unrecognised header", "got timestamp,o,h,l,c,v", "expected")


# --- valid files --------------------------------------------------------------------


def test_load_bars_trade_file_returns_exact_trade_bars(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        TRADE_HEADER,
        "2014-05-01T00:00:00Z,1.10,1.30,1.05,1.2000,100",
        "2014-05-01T00:01:00Z,1.2,1.2,1.2,1.2,0",
    )
    bars = load_bars(path, SPY)
    assert bars == [
        TradeBar(
            SPY,
            Decimal("1.10"),
            Decimal("1.30"),
            Decimal("1.05"),
            Decimal("1.2000"),
            Decimal(100),
            _ns(2014, 5, 1),
            MINUTE_NS,
        ),
        TradeBar(
            SPY,
            Decimal("1.2"),
            Decimal("1.2"),
            Decimal("1.2"),
            Decimal("1.2"),
            Decimal(0),
            _ns(2014, 5, 1, 0, 1),
            MINUTE_NS,
        ),
    ]
    assert [str(value) for value in _csv_values(bars[0])] == [
        "1.10",
        "1.30",
        "1.05",
        "1.2000",
        "100",
    ]


def test_load_bars_quote_file_maps_sizes_to_the_right_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        QUOTE_HEADER,
        "2014-05-01T00:00:00Z,1.1,1.4,1.0,1.2,5,1.2,1.5,1.1,1.3,33.35399601000002",
    )
    (bar,) = load_bars(path, EURUSD, interval_ns=MINUTE_NS)
    assert isinstance(bar, QuoteBar)
    assert (bar.bid_open, bar.bid_high, bar.bid_low, bar.bid_close) == tuple(
        map(Decimal, ("1.1", "1.4", "1.0", "1.2"))
    )
    assert (bar.ask_open, bar.ask_high, bar.ask_low, bar.ask_close) == tuple(
        map(Decimal, ("1.2", "1.5", "1.1", "1.3"))
    )
    assert bar.bid_size == Decimal(5)
    assert bar.ask_size == Decimal("33.35399601000002")


def test_load_bars_crossed_quote_is_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, QUOTE_HEADER, "2014-05-01T00:00:00Z,2,2,2,2,0,1,1,1,1,0")
    (bar,) = load_bars(path, EURUSD, interval_ns=MINUTE_NS)
    assert isinstance(bar, QuoteBar)
    assert bar.bid_close > bar.ask_close


def test_load_bars_date_column_means_midnight_utc(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "date,open,high,low,close,volume",
        "2014-05-01,1,1,1,1,1",
        "2014-05-02,1,1,1,1,1",
        "2014-05-05,1,1,1,1,1",
    )
    bars = load_bars(path, SPY)
    assert [bar.ts for bar in bars] == [_ns(2014, 5, 1), _ns(2014, 5, 2), _ns(2014, 5, 5)]
    assert {bar.interval_ns for bar in bars} == {DAY_NS}


def test_load_bars_fractional_seconds_keep_nanoseconds(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        TRADE_HEADER,
        "2014-05-01T00:00:00.000000001Z,1,1,1,1,1",
        "2014-05-01T00:00:00.5+00:00,1,1,1,1,1",
    )
    bars = load_bars(path, SPY, interval_ns=1)
    assert [bar.ts for bar in bars] == [_ns(2014, 5, 1) + 1, _ns(2014, 5, 1) + 500_000_000]


def test_load_bars_crlf_line_endings_are_read(tmp_path: Path) -> None:
    path = tmp_path / "crlf.csv"
    path.write_bytes(
        b"timestamp,open,high,low,close,volume\r\n"
        b"2014-05-01T00:00:00Z,1,1,1,1,1\r\n"
        b"2014-05-01T00:00:00Z,1,1,1,1,1\r\n"
    )
    _assert_error(_load_error(path, MINUTE_NS), path, 3, "duplicate timestamp")


# --- interval inference -------------------------------------------------------------


def test_load_bars_interval_is_the_most_common_gap(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        TRADE_HEADER,
        "2014-05-01T00:00:00Z,1,1,1,1,1",
        "2014-05-01T01:00:00Z,1,1,1,1,1",
        "2014-05-01T02:00:00Z,1,1,1,1,1",
        "2014-05-01T05:00:00Z,1,1,1,1,1",
    )
    assert {bar.interval_ns for bar in load_bars(path, SPY)} == {HOUR_NS}


def test_load_bars_interval_tie_picks_the_smallest_gap(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        TRADE_HEADER,
        "2014-05-01T00:00:00Z,1,1,1,1,1",
        "2014-05-01T01:00:00Z,1,1,1,1,1",
        "2014-05-01T01:01:00Z,1,1,1,1,1",
    )
    assert load_bars(path, SPY)[0].interval_ns == MINUTE_NS


def test_load_bars_explicit_interval_overrides_inference(tmp_path: Path) -> None:
    path = _write(
        tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1,1,1,1,1", "2014-05-01T00:01:00Z,1,1,1,1,1"
    )
    assert load_bars(path, SPY, interval_ns=HOUR_NS)[0].interval_ns == HOUR_NS


def test_load_bars_single_timestamp_row_without_interval_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1,1,1,1,1")
    _assert_error(_load_error(path), path, 2, "cannot infer the bar interval", "interval_ns")


def test_load_bars_single_date_row_defaults_to_one_day(tmp_path: Path) -> None:
    path = _write(tmp_path, "date,open,high,low,close,volume", "2014-05-01,1,1,1,1,1")
    assert load_bars(path, SPY)[0].interval_ns == DAY_NS


@pytest.mark.parametrize("interval", [0, -60, True])
def test_load_bars_invalid_interval_override_raises(tmp_path: Path, interval: int) -> None:
    path = _write(tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1,1,1,1,1")
    with pytest.raises(ValueError, match=f"positive integer, got {interval!r}"):
        load_bars(path, SPY, interval_ns=interval)


# --- file-level errors --------------------------------------------------------------


def test_load_bars_empty_file_raises_expected_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    _assert_error(_load_error(path), path, 1, "empty file")


def test_load_bars_header_only_raises_no_data_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER)
    _assert_error(_load_error(path), path, 1, "no data rows")


# --- row errors ---------------------------------------------------------------------


def test_load_bars_row_with_too_few_fields_raises_malformed(tmp_path: Path) -> None:
    path = _write(
        tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1,1,1,1,1", "2014-05-01T00:01:00Z,1,1,1"
    )
    _assert_error(_load_error(path), path, 3, "malformed row", "expected 6 fields, got 4", "1,1,1")


def test_load_bars_row_with_too_many_fields_raises_malformed(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1,1,1,1,1,7")
    _assert_error(_load_error(path), path, 2, "expected 6 fields, got 7", "1,1,1,1,1,7")


def test_load_bars_blank_line_raises_malformed(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER, "", "2014-05-01T00:00:00Z,1,1,1,1,1")
    _assert_error(_load_error(path), path, 2, "expected 6 fields, got 0")


def test_load_bars_non_numeric_price_raises_naming_column(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1,1.2.3,1,1,1")
    _assert_error(_load_error(path), path, 2, "high is not a number", "'1.2.3'")


def test_load_bars_empty_number_raises_not_a_number(tmp_path: Path) -> None:
    path = _write(tmp_path, QUOTE_HEADER, "2014-05-01T00:00:00Z,1,1,1,1,,1,1,1,1,0")
    _assert_error(_load_error(path), path, 2, "bid_size is not a number", "(got '')")


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "sNaN"])
def test_load_bars_non_finite_number_raises_must_be_finite(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, TRADE_HEADER, f"2014-05-01T00:00:00Z,1,1,1,1,{text}")
    _assert_error(_load_error(path), path, 2, "volume must be finite", repr(text))


def test_load_bars_negative_price_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,-1,1,-1,1,1")
    _assert_error(_load_error(path), path, 2, "open must not be negative", "-1")


def test_load_bars_negative_size_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, QUOTE_HEADER, "2014-05-01T00:00:00Z,1,1,1,1,0,1,1,1,1,-0.5")
    _assert_error(_load_error(path), path, 2, "ask_size must not be negative", "-0.5")


def test_load_bars_high_below_low_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1.5,1.0,2.0,1.5,1")
    _assert_error(_load_error(path), path, 2, "high is below low", "high 1.0", "low 2.0")


def test_load_bars_trade_open_above_high_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,2.5,2.0,1.0,1.5,1")
    _assert_error(_load_error(path), path, 2, "open is outside [low, high]", "open 2.5")


def test_load_bars_trade_close_below_low_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1.5,2.0,1.0,0.99,1")
    _assert_error(_load_error(path), path, 2, "close is outside [low, high]", "close 0.99")


def test_load_bars_quote_bid_open_outside_range_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, QUOTE_HEADER, "2014-05-01T00:00:00Z,3,2,1,1.5,0,1,2,1,1.5,0")
    _assert_error(
        _load_error(path), path, 2, "bid_open is outside [bid_low, bid_high]", "bid_open 3"
    )


def test_load_bars_quote_ask_close_outside_range_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, QUOTE_HEADER, "2014-05-01T00:00:00Z,1,2,1,1.5,0,1,2,1,0.5,0")
    _assert_error(
        _load_error(path), path, 2, "ask_close is outside [ask_low, ask_high]", "ask_close 0.5"
    )


def test_load_bars_quote_ask_high_below_ask_low_raises(tmp_path: Path) -> None:
    path = _write(tmp_path, QUOTE_HEADER, "2014-05-01T00:00:00Z,1,2,1,1.5,0,1,1,2,1,0")
    _assert_error(_load_error(path), path, 2, "ask_high is below ask_low", "ask_high 1")


def test_load_bars_duplicate_timestamp_raises_naming_both_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path, TRADE_HEADER, "2014-05-01T00:00:00Z,1,1,1,1,1", "2014-05-01T00:00:00Z,1,1,1,1,1"
    )
    _assert_error(
        _load_error(path, MINUTE_NS), path, 3, "duplicate timestamp", "line 2", "00:00:00Z"
    )


def test_load_bars_backward_timestamp_raises(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        TRADE_HEADER,
        "2014-05-01T00:01:00Z,1,1,1,1,1",
        "2014-05-01T00:02:00Z,1,1,1,1,1",
        "2014-05-01T00:00:00Z,1,1,1,1,1",
    )
    _assert_error(
        _load_error(path), path, 4, "timestamp goes backwards", "line 3", "2014-05-01T00:00:00Z"
    )


@pytest.mark.parametrize(
    "text",
    [
        "2014-05-01 00:00:00Z",
        "2014-05-01T00:00:00",
        "2014-05-01T00:00:00+01:00",
        "2014-05-01",
        "2014-13-01T00:00:00Z",
        "2014-05-01T00:00:00.Z",
        "2014-05-01T00:00:00.1234567890Z",
        "20140501T000000Z",
    ],
)
def test_load_bars_bad_timestamp_raises_naming_value(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, TRADE_HEADER, f"{text},1,1,1,1,1")
    _assert_error(_load_error(path, MINUTE_NS), path, 2, "bad timestamp", repr(text))


@pytest.mark.parametrize("text", ["2014-5-1", "2014-02-30", "2014-05-01T00:00:00Z", "20140501"])
def test_load_bars_bad_date_raises_naming_value(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, "date,open,high,low,close,volume", f"{text},1,1,1,1,1")
    _assert_error(_load_error(path), path, 2, "bad timestamp", "2014-05-01", repr(text))


def test_market_data_file_error_attributes_survive_pickle(tmp_path: Path) -> None:
    error = MarketDataFileError(tmp_path / "x.csv", 7, "bad thing (got 'x')")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.line, copy.message) == (error.path, 7, "bad thing (got 'x')")
    assert str(copy) == str(error)


# --- merging ------------------------------------------------------------------------


def _trade(instrument: str, ts: int) -> TradeBar:
    one = Decimal(1)
    return TradeBar(InstrumentId(instrument), one, one, one, one, one, ts, MINUTE_NS)


def test_iter_merge_equal_timestamps_follow_series_order() -> None:
    a = [_trade("A", 1), _trade("A", 3)]
    b = [_trade("B", 1), _trade("B", 2), _trade("B", 3)]
    merged = list(iter_merge([b, a]))
    assert [(bar.instrument_id, bar.ts) for bar in merged if isinstance(bar, TradeBar)] == [
        ("B", 1),
        ("A", 1),
        ("B", 2),
        ("B", 3),
        ("A", 3),
    ]


def test_iter_merge_mixed_kinds_sorted_by_timestamp() -> None:
    zero = Decimal(0)
    quote = QuoteBar(
        InstrumentId("Q"), zero, zero, zero, zero, zero, zero, zero, zero, zero, zero, 2, 1
    )
    series: list[list[MarketData]] = [[_trade("A", 1), _trade("A", 3)], [quote]]
    assert [data.ts for data in iter_merge(series)] == [1, 2, 3]


def test_iter_merge_unsorted_series_raises_naming_series() -> None:
    with pytest.raises(ValueError, match="series 1 is not in timestamp order: item 1"):
        list(iter_merge([[_trade("A", 1)], [_trade("B", 5), _trade("B", 4)]]))


# --- property: round trip -----------------------------------------------------------

_prices = st.decimals(
    min_value=0, max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False, places=8
)
_sizes = st.decimals(min_value=0, max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False)


@st.composite
def _side(draw: st.DrawFn) -> list[Decimal]:
    """Draw open, high, low, close and size for one side of a valid quote bar."""
    points = sorted(draw(st.lists(_prices, min_size=4, max_size=4)))
    low, middle_a, middle_b, high = points
    open_, close = draw(st.permutations([middle_a, middle_b]))
    return [open_, high, low, close, draw(_sizes)]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(_side(), _side()), min_size=1, max_size=20),
    gaps=st.lists(st.integers(min_value=1, max_value=10**6), min_size=20, max_size=20),
)
def test_load_bars_random_valid_quote_file_round_trips_exact_decimals(
    tmp_path: Path, rows: list[tuple[list[Decimal], list[Decimal]]], gaps: list[int]
) -> None:
    lines = [QUOTE_HEADER]
    stamps: list[int] = []
    seconds = 1_400_000_000
    for (bid, ask), gap in zip(rows, gaps, strict=False):
        seconds += gap
        stamps.append(seconds * 10**9)
        moment = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(",".join([moment, *map(str, bid), *map(str, ask)]))
    path = _write(tmp_path, *lines, name="roundtrip.csv")
    bars = load_bars(path, EURUSD, interval_ns=MINUTE_NS)
    assert [bar.ts for bar in bars] == stamps
    for bar, (bid, ask) in zip(bars, rows, strict=True):
        assert isinstance(bar, QuoteBar)
        loaded = _csv_values(bar)
        assert [value.as_tuple() for value in loaded] == [v.as_tuple() for v in bid + ask]


# --- the real data pack -------------------------------------------------------------


def _manifest_rows(directory: Path) -> dict[str, int]:
    text = (directory / "MANIFEST.md").read_text(encoding="utf-8")
    return {
        name: int(rows)
        for name, rows in re.findall(r"^\| (\S+\.csv) \| (\d+) \|", text, flags=re.MULTILINE)
    }


def test_market_data_every_csv_is_listed_in_manifest(market_data_dir: Path) -> None:
    files = {str(path.relative_to(market_data_dir)) for path in market_data_dir.rglob("*.csv")}
    assert files == set(_manifest_rows(market_data_dir))


def test_market_data_every_file_loads_with_manifest_row_count(market_data_dir: Path) -> None:
    for name, rows in sorted(_manifest_rows(market_data_dir).items()):
        bars = load_bars(market_data_dir / name, InstrumentId(name))
        assert len(bars) == rows, name
        expected_interval = DAY_NS if "/daily/" in name else HOUR_NS if "/hour/" in name else None
        assert bars[0].interval_ns == (expected_interval or MINUTE_NS), name


_FIRST_ROWS: dict[str, tuple[type, int, str]] = {
    "equity/minute/SPY_quote.csv": (
        QuoteBar,
        _ns(2013, 10, 4, 8, 0),
        "167.42,167.58,167.42,167.56,20000,167.87,167.87,167.6,167.6,20000",
    ),
    "equity/minute/SPY_trade.csv": (
        TradeBar,
        _ns(2013, 10, 4, 8, 6),
        "167.65,167.65,167.65,167.65,20000",
    ),
    "fx/minute/EURUSD_quote.csv": (
        QuoteBar,
        _ns(2014, 5, 1),
        "1.38676,1.38686,1.38669,1.38686,0,1.38686,1.38697,1.38680,1.38697,0",
    ),
    "crypto/minute/BTCUSD_quote.csv": (
        QuoteBar,
        _ns(2018, 4, 4),
        "7424.9,7424.9,7424.9,7424.9,1.88483821,7424.91,7424.91,7424.91,7424.91,33.35399601000002",
    ),
    "crypto/minute/BTCUSD_trade.csv": (
        TradeBar,
        _ns(2018, 4, 4),
        "7424.91,7424.91,7422,7422,7.14319709",
    ),
    "commodity/minute/XAUUSD_quote.csv": (
        QuoteBar,
        _ns(2014, 5, 1),
        "1291.677,1291.955,1291.376,1291.464,0,1292.033,1292.423,1291.698,1291.741,0",
    ),
    "index/minute/DE30EUR_quote.csv": (
        QuoteBar,
        _ns(2019, 2, 20, 0, 15),
        "11313.5,11313.6,11313.4,11313.4,0,11320,11320,11319.1,11319.4,0",
    ),
    "equity/daily/SPY.csv": (
        TradeBar,
        _ns(1998, 1, 2),
        "97.31,97.53,96.53,97.36,2150000",
    ),
    "fx/daily/EURUSD.csv": (
        QuoteBar,
        _ns(2007, 1, 1),
        "1.31927,1.32125,1.3187,1.32095,0,1.32027,1.32225,1.3197,1.32195,0",
    ),
}
"""First data row of each file: bar type, bar start, and the value columns as written."""


@pytest.mark.parametrize("name", sorted(_FIRST_ROWS))
def test_market_data_file_first_row_loads_exactly(market_data_dir: Path, name: str) -> None:
    kind, ts, texts = _FIRST_ROWS[name]
    bars = load_bars(market_data_dir / name, InstrumentId("X"))
    first = bars[0]
    assert type(first) is kind
    assert first.ts == ts
    assert first.instrument_id == "X"
    assert [str(value) for value in _csv_values(first)] == texts.split(",")  # same digits
    assert len(bars) == _manifest_rows(market_data_dir)[name]


def test_market_data_largest_file_loads_in_under_a_second(market_data_dir: Path) -> None:
    path = market_data_dir / "fx/minute/EURUSD_quote.csv"
    started = time.perf_counter()
    bars = load_bars(path, EURUSD)
    elapsed = time.perf_counter() - started
    assert len(bars) == 15366
    assert elapsed < 1.0, f"loading {path} took {elapsed:.3f} s"
