"""Wire details: decimal strings, RFC 3339 nanoseconds, instrument names, specifiers, config."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from alphintra.venues.oanda import OandaConfig
from alphintra.venues.oanda.client import order_specifier, page_range
from alphintra.venues.oanda.wire import (
    AccountSummaryResponse,
    Transaction,
    decimal_text,
    engine_symbol,
    format_time,
    oanda_instrument,
    parse_time_ns,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [("1000", "1000"), ("-1E+3", "-1000"), ("0.000010", "0.000010"), ("-0", "0"),
     ("1.5E-7", "0.00000015")],
)  # fmt: skip
def test_decimal_text_never_sends_an_exponent(value: str, text: str) -> None:
    assert decimal_text(Decimal(value)) == text


def test_decimal_text_non_finite_is_refused() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        decimal_text(Decimal("NaN"))


def test_response_numbers_parse_exactly_as_decimal() -> None:
    body = b'{"account": {"id": "1", "currency": "USD", "balance": "100000.1234", "NAV": "0.1"}}'

    summary = msgspec.json.decode(body, type=AccountSummaryResponse).account

    assert summary.balance == Decimal("100000.1234")
    assert summary.nav == Decimal("0.1")  # not 0.1000000000000000055...


def test_transaction_field_names_follow_the_spec() -> None:
    tx = msgspec.json.decode(
        b'{"id": "9", "type": "ORDER_FILL", "time": "2024-05-01T12:00:00.123456789Z",'
        b' "orderID": "8", "clientOrderID": "c", "fullVWAP": "1.1", "units": "-5",'
        b' "tradesClosed": [{"tradeID": "3", "units": "-5", "price": "1.1", "realizedPL": "2"}]}',
        type=Transaction,
    )

    assert (tx.order_id, tx.client_order_id, tx.full_vwap) == ("8", "c", Decimal("1.1"))
    assert tx.trades_closed is not None and tx.trades_closed[0].realized_pl == Decimal(2)


def test_time_round_trips_at_nanosecond_precision() -> None:
    text = "2016-06-22T18:41:29.285982286Z"

    assert format_time(parse_time_ns(text)) == text
    assert parse_time_ns("2016-06-22T18:41:29Z") == 1_466_620_889_000_000_000
    assert parse_time_ns("2016-06-22T20:41:29.5+02:00") == 1_466_620_889_500_000_000
    assert parse_time_ns("1466620889.285982286") == parse_time_ns(text)  # UNIX format


def test_time_garbage_is_refused() -> None:
    with pytest.raises(ValueError, match="DateTime"):
        parse_time_ns("yesterday")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [("EURUSD", "EUR_USD"), ("XAUUSD", "XAU_USD"), ("DE30EUR", "DE30_EUR"),
     ("SPX500USD", "SPX500_USD"), ("USDJPY", "USD_JPY")],
)  # fmt: skip
def test_instrument_names_map_both_ways(ours: str, theirs: str) -> None:
    assert oanda_instrument(ours) == theirs
    assert engine_symbol(theirs) == ours


def test_order_specifier_uses_at_prefix_for_client_ids() -> None:
    assert order_specifier(client_order_id="abc-1") == "@abc-1"
    assert order_specifier(client_order_id="a/b") == "@a%2Fb"
    assert order_specifier(order_id="1234") == "1234"
    with pytest.raises(ValueError, match="specifier"):
        order_specifier()


def test_page_range_reads_idrange_urls() -> None:
    url = "https://api-fxtrade.oanda.com/v3/accounts/1/transactions/idrange?from=5&to=104"

    assert page_range(url) == ("5", "104")
    with pytest.raises(ValueError, match="idrange"):
        page_range("https://example.invalid/")


def test_config_defaults_to_practice_hosts_and_hides_token() -> None:
    config = OandaConfig(account_id="101-1", token="secret-token")

    assert config.rest_base == "https://api-fxpractice.oanda.com"
    assert config.stream_base == "https://stream-fxpractice.oanda.com"
    assert "secret-token" not in repr(config)
    live = OandaConfig(account_id="1", token="t", environment="live")
    assert live.rest_base == "https://api-fxtrade.oanda.com"
    assert live.stream_base == "https://stream-fxtrade.oanda.com"


@pytest.mark.parametrize(
    "values",
    [{"account_id": "1", "token": "t", "colour": "red"}, {"account_id": "1", "token": " "},
     {"account_id": "1", "token": "t", "environment": "demo"},
     {"account_id": "1", "token": "t", "rest_url": "ftp://x"}],
)  # fmt: skip
def test_config_invalid_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        OandaConfig.from_mapping(values)
