"""Pure parts of the ccxt adapter: IDs, numbers, requests, responses, error kinds, config."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]
import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.venues.adapter import VenueErrorKind
from alphintra.venues.ccxt import CcxtAdapter
from alphintra.venues.ccxt.client_ids import ClientIdCodec
from alphintra.venues.ccxt.config import CcxtConfig, CcxtConfigError, MarketType
from alphintra.venues.ccxt.errors import HttpExchange, classify, retry_after_s, vendor_detail
from alphintra.venues.ccxt.profiles import BINANCE, KRAKEN, profile_for
from alphintra.venues.ccxt.translation import (
    SymbolMap,
    TranslationError,
    Unsupported,
    build_order_request,
    number,
    order_state,
    timeframe,
)

from .support import BTCUSDT, order

MARKETS: dict[str, dict[str, Any]] = {
    "BTC/USDT": {"symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "spot": True},
    "ETH/USDT": {"symbol": "ETH/USDT", "base": "ETH", "quote": "USDT", "spot": True},
    "BTC/USDT:USDT": {"base": "BTC", "quote": "USDT", "swap": True, "linear": True},
    "OLD/USDT": {"base": "OLD", "quote": "USDT", "spot": True, "active": False},
}


def _http(status: int, body: str = "", **headers: str) -> HttpExchange:
    return HttpExchange(status=status, headers=headers, body=body, json_ok=True)


def test_client_id_binance_valid_id_is_sent_verbatim() -> None:
    codec = ClientIdCodec(BINANCE.client_id)
    assert codec.wire(ClientOrderId("O-ACC1-42")) == "O-ACC1-42"
    assert codec.ours("O-ACC1-42") == "O-ACC1-42"


def test_client_id_binance_invalid_id_maps_to_a_stable_hash() -> None:
    first = ClientIdCodec(BINANCE.client_id).wire(ClientOrderId("has spaces and #"))
    again = ClientIdCodec(BINANCE.client_id).wire(ClientOrderId("has spaces and #"))
    assert first == again  # deterministic across restarts
    assert BINANCE.client_id.accepts.fullmatch(first)


def test_client_id_kraken_long_id_maps_to_a_uuid() -> None:
    codec = ClientIdCodec(KRAKEN.client_id)
    long_id = ClientOrderId("O-ACCOUNT-MAIN-000001")
    wire = codec.wire(long_id)
    assert len(wire) == 36 and codec.ours(wire) == long_id
    assert codec.wire(ClientOrderId("short-1")) == "short-1"


def test_client_id_unknown_wire_id_is_reported_as_itself() -> None:
    assert ClientIdCodec(KRAKEN.client_id).ours("foreign") == "foreign"


def test_number_float_is_read_through_its_repr_exactly() -> None:
    assert number(0.1, "x") == Decimal("0.1")
    assert number(30000.02, "x") == Decimal("30000.02")
    assert number("0.00100000", "x") == Decimal("0.00100000")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "abc", True, [1]])
def test_number_non_numbers_are_translation_errors(bad: object) -> None:
    with pytest.raises(TranslationError):
        number(bad, "x")


def test_symbol_map_maps_spot_markets_both_ways() -> None:
    symbols = SymbolMap(MARKETS, MarketType.SPOT)
    assert symbols.to_ccxt(InstrumentId("BTCUSDT")) == "BTC/USDT"
    assert symbols.to_instrument("ETH/USDT") == "ETHUSDT"
    assert InstrumentId("OLDUSDT") not in symbols
    with pytest.raises(Unsupported):
        symbols.to_ccxt(InstrumentId("XRPUSDT"))


def test_symbol_map_swap_uses_linear_swaps_and_overrides() -> None:
    symbols = SymbolMap(MARKETS, MarketType.SWAP, {"BTCPERP": "BTC/USDT:USDT"})
    assert symbols.to_ccxt(InstrumentId("BTCUSDT")) == "BTC/USDT:USDT"
    assert symbols.to_ccxt(InstrumentId("BTCPERP")) == "BTC/USDT:USDT"


def _request(**kwargs: Any) -> Any:
    capabilities = BINANCE.capabilities_for(MarketType.SPOT)
    return build_order_request(order(BTCUSDT, **kwargs), "BTC/USDT", "cid", capabilities, BINANCE)


def test_build_order_request_limit_carries_price_and_tif() -> None:
    request = _request(order_type=OrderType.LIMIT, price="29000.00", tif=TimeInForce.IOC)
    assert (request.type_, request.side, request.amount, request.price) == (
        "limit",
        "buy",
        "0.001",
        "29000",
    )
    assert request.params == {"clientOrderId": "cid", "timeInForce": "IOC"}


def test_build_order_request_market_sends_no_price_and_no_tif() -> None:
    request = _request(side=OrderSide.SELL)
    assert (request.type_, request.price, request.params) == (
        "market",
        None,
        {"clientOrderId": "cid"},
    )


def test_build_order_request_stop_limit_uses_stop_loss_price() -> None:
    request = _request(order_type=OrderType.STOP_LIMIT, price="29000.00", trigger="29100.00")
    assert request.type_ == "limit"
    assert request.params["stopLossPrice"] == "29100"


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"order_type": OrderType.TRAILING_STOP}, "not native"),
        ({"order_type": OrderType.LIMIT}, "needs a limit price"),
        ({"order_type": OrderType.STOP}, "needs a trigger"),
        ({"order_type": OrderType.LIMIT, "price": "1", "tif": TimeInForce.GTD}, "GTD"),
        ({"reduce_only": True}, "reduce-only"),
        ({"post_only": True}, "post-only"),
    ],
)
def test_build_order_request_unsupported_orders_are_refused(
    kwargs: dict[str, Any], why: str
) -> None:
    with pytest.raises(Unsupported, match=why):
        _request(**kwargs)


def _state(**fields: Any) -> Any:
    raw: dict[str, Any] = {
        "id": "1",
        "clientOrderId": "cid",
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "limit",
        "status": "open",
        "amount": 1.0,
        "filled": 0.0,
        "price": 100.0,
    }
    raw.update(fields)
    return order_state(
        raw, symbols=SymbolMap(MARKETS, MarketType.SPOT), codec=ClientIdCodec(BINANCE.client_id)
    )


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        ("open", 0.0, OrderStatus.ACCEPTED),
        ("open", 0.5, OrderStatus.PARTIALLY_FILLED),
        ("closed", 1.0, OrderStatus.FILLED),
        ("closed", 0.5, OrderStatus.CANCELLED),
        ("canceled", 0.0, OrderStatus.CANCELLED),
        ("expired", 0.0, OrderStatus.EXPIRED),
        ("rejected", 0.0, OrderStatus.REJECTED),
    ],
)
def test_order_state_statuses_map_to_ours(
    status: str, filled: float, expected: OrderStatus
) -> None:
    assert _state(status=status, filled=filled).status is expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "weird"}, "unknown order status"),
        ({"side": "short"}, "unknown order side"),
        ({"type": "iceberg-ish"}, "unknown order type"),
        ({"filled": -0.1}, "negative"),
        ({"filled": 2.0}, "exceeds"),
        ({"amount": 0}, "above zero"),
        ({"id": None}, "order id"),
    ],
)
def test_order_state_nonsense_is_a_translation_error(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(TranslationError, match=message):
        _state(**fields)


def test_order_state_average_falls_back_to_cost_over_filled() -> None:
    state = _state(status="closed", filled=1.0, cost=101.5)
    assert state.average_price == Decimal("101.5")


def test_classify_rate_limit_is_transient_and_reads_retry_after() -> None:
    http = _http(429, '{"code": -1003, "msg": "Too many requests"}', **{"Retry-After": "12"})
    exc = ccxt_async.DDoSProtection("binance 429")
    assert classify(exc, write=True, http=http, profile=BINANCE) is VenueErrorKind.TRANSIENT
    assert retry_after_s(http.headers) == 12


def test_retry_after_http_date_is_read() -> None:
    assert retry_after_s({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_s({}) is None


@pytest.mark.parametrize(
    ("exc", "status", "write", "kind"),
    [
        (ccxt_async.ExchangeNotAvailable("x"), 503, True, VenueErrorKind.UNKNOWN_OUTCOME),
        (ccxt_async.ExchangeNotAvailable("x"), 503, False, VenueErrorKind.TRANSIENT),
        (ccxt_async.OperationFailed("x"), 500, True, VenueErrorKind.UNKNOWN_OUTCOME),
        (ccxt_async.RequestTimeout("x"), None, True, VenueErrorKind.UNKNOWN_OUTCOME),
        (ccxt_async.NetworkError("x"), None, False, VenueErrorKind.TRANSIENT),
        (ccxt_async.InvalidNonce("x"), 400, True, VenueErrorKind.TRANSIENT),
        (ccxt_async.InsufficientFunds("x"), 400, True, VenueErrorKind.DEFINITIVE),
        (ccxt_async.AuthenticationError("x"), 401, False, VenueErrorKind.DEFINITIVE),
        (ccxt_async.BadSymbol("x"), 400, True, VenueErrorKind.DEFINITIVE),
        (ccxt_async.PermissionDenied("x"), 403, True, VenueErrorKind.DEFINITIVE),
        (ccxt_async.ExchangeNotAvailable("x"), 404, True, VenueErrorKind.DEFINITIVE),
        (ccxt_async.OperationFailed("-1000"), 400, True, VenueErrorKind.UNKNOWN_OUTCOME),
        (ValueError("parser blew up"), 200, True, VenueErrorKind.UNKNOWN_OUTCOME),
        (ccxt_async.DDoSProtection("cloudflare"), None, True, VenueErrorKind.UNKNOWN_OUTCOME),
    ],
)
def test_classify_follows_the_documented_rules(
    exc: Exception, status: int | None, write: bool, kind: VenueErrorKind
) -> None:
    http = _http(status) if status is not None else None
    assert classify(exc, write=write, http=http, profile=BINANCE) is kind


def test_classify_kraken_throttle_text_is_transient() -> None:
    exc = ccxt_async.DDoSProtection('kraken {"error":["EAPI:Rate limit exceeded"]}')
    assert classify(exc, write=True, http=None, profile=KRAKEN) is VenueErrorKind.TRANSIENT


def test_vendor_detail_reads_binance_and_kraken_shapes() -> None:
    assert vendor_detail('{"code": -2010, "msg": "Duplicate order sent."}') == (
        "-2010",
        "Duplicate order sent.",
    )
    assert vendor_detail('{"error": ["EOrder:Insufficient funds"]}') == (
        "EOrder:Insufficient funds",
        "EOrder:Insufficient funds",
    )
    assert vendor_detail("<html>") == (None, None)


def test_timeframe_picks_the_exchange_name() -> None:
    frames = {"1m": 1, "1h": 60, "1d": 1440}
    assert timeframe(60, frames) == "1m"
    assert timeframe(3600, frames) == "1h"
    with pytest.raises(Unsupported):
        timeframe(7, frames)


def test_config_unknown_keys_are_errors() -> None:
    with pytest.raises(CcxtConfigError, match="unknown keys"):
        CcxtConfig.from_mapping({"exchange_id": "binance", "apikey": "x"})


def test_config_from_mapping_builds_a_frozen_config() -> None:
    config = CcxtConfig.from_mapping(
        {"exchange_id": "kraken", "market_type": "spot", "instruments": ["BTCUSD"]}
    )
    assert config.venue == "KRAKEN" and config.instruments == ("BTCUSD",)
    assert "secret" not in repr(CcxtConfig(exchange_id="binance", api_key="k", secret="s3"))


@pytest.mark.parametrize(
    "values",
    [
        {"exchange_id": ""},
        {"exchange_id": "binance", "base_url": "ftp://x"},
        {"exchange_id": "binance", "timeout_s": 0},
        {"exchange_id": "binance", "api_key": "k"},
        {"exchange_id": "binance", "market_type": "options"},
    ],
)
def test_config_invalid_values_are_refused(values: dict[str, Any]) -> None:
    with pytest.raises(CcxtConfigError):
        CcxtConfig(**values)


def test_profile_for_unknown_exchange_is_conservative() -> None:
    profile = profile_for(
        "someexchange", {"createStopLimitOrder": True, "editOrder": True}, MarketType.SPOT
    )
    capabilities = profile.capabilities_for(MarketType.SPOT)
    assert capabilities.order_types == {OrderType.MARKET, OrderType.LIMIT, OrderType.STOP_LIMIT}
    assert capabilities.times_in_force == {TimeInForce.GTC}
    assert not capabilities.supports_modify


def test_adapter_swap_config_uses_swap_capabilities_without_network() -> None:
    adapter = CcxtAdapter(
        CcxtConfig(exchange_id="binance", market_type=MarketType.SWAP, base_url="http://h:1")
    )
    assert adapter.capabilities.supports_reduce_only
    assert TimeInForce.GTD in adapter.capabilities.times_in_force
    api = adapter.client.exchange.urls["api"]
    assert api["fapiPrivate"] == "http://h:1/fapi/v1" and api["public"] == "http://h:1/api/v3"


def test_adapter_sandbox_without_a_testnet_is_a_config_error() -> None:
    with pytest.raises(CcxtConfigError, match="testnet"):
        CcxtAdapter(CcxtConfig(exchange_id="kraken", sandbox=True))
    sandboxed = CcxtAdapter(CcxtConfig(exchange_id="binance", sandbox=True))
    assert "testnet" in sandboxed.client.exchange.urls["api"]["private"]


def test_adapter_unknown_exchange_id_is_a_config_error() -> None:
    with pytest.raises(CcxtConfigError, match="not a ccxt exchange"):
        CcxtAdapter(CcxtConfig(exchange_id="nosuchexchange"))


def test_build_order_request_gtd_expiry_uses_the_venue_unit() -> None:
    kraken_spot = KRAKEN.capabilities_for(MarketType.SPOT)
    binance_swap = BINANCE.capabilities_for(MarketType.SWAP)
    gtd = order(
        BTCUSDT,
        order_type=OrderType.LIMIT,
        price="1",
        tif=TimeInForce.GTD,
        expire_ts=1_700_000_000_123_456_789,
    )
    k = build_order_request(gtd, "BTC/USD", "cid", kraken_spot, KRAKEN)
    b = build_order_request(gtd, "BTC/USDT:USDT", "cid", binance_swap, BINANCE)
    assert (k.params["expiretm"], k.params["timeInForce"]) == ("1700000000", "GTD")
    assert b.params["goodTillDate"] == "1700000000123"
