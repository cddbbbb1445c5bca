"""Translation between domain values and Alpaca's wire format, without a venue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.venues.adapter import RateLimit, VenueAdapter
from alphintra.venues.alpaca import (
    ALPACA_CAPABILITIES,
    ALPACA_RATE_LIMIT,
    AlpacaAdapter,
    AlpacaConfig,
)
from alphintra.venues.alpaca.parsing import MalformedPayload, format_timestamp, timestamp_ns
from alphintra.venues.alpaca.translation import (
    KNOWN_STATUSES,
    UnsupportedRequest,
    order_request,
    order_state,
    read_order,
    read_trade_update,
    replacement_client_order_id,
    root_client_order_id,
    timeframe,
    trade_id,
)
from venues.alpaca.support import order, trailing

SPY = InstrumentId("SPY")


def _raw(**fields: Any) -> dict[str, Any]:
    raw = {
        "id": "61e69015-8549-4bfd-b9c3-01e75843f47d",
        "client_order_id": "c-1",
        "updated_at": "2024-01-02T15:30:00.123456789Z",
        "symbol": "SPY",
        "side": "buy",
        "type": "limit",
        "status": "new",
        "qty": "10",
        "filled_qty": "0",
        "filled_avg_price": None,
        "limit_price": "450.5",
        "stop_price": None,
    }
    raw.update(fields)
    return raw


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        ("pending_new", "0", OrderStatus.SUBMITTED),
        ("new", "0", OrderStatus.ACCEPTED),
        ("accepted", "0", OrderStatus.ACCEPTED),
        ("accepted_for_bidding", "0", OrderStatus.ACCEPTED),
        ("partially_filled", "4", OrderStatus.PARTIALLY_FILLED),
        ("filled", "10", OrderStatus.FILLED),
        ("done_for_day", "4", OrderStatus.PARTIALLY_FILLED),
        ("pending_cancel", "0", OrderStatus.ACCEPTED),
        ("pending_replace", "4", OrderStatus.PARTIALLY_FILLED),
        ("held", "0", OrderStatus.ACCEPTED),
        ("calculated", "10", OrderStatus.FILLED),
        ("canceled", "4", OrderStatus.CANCELLED),
        ("expired", "0", OrderStatus.EXPIRED),
        ("rejected", "0", OrderStatus.REJECTED),
        ("replaced", "0", OrderStatus.ACCEPTED),
    ],
)
def test_order_state_alpaca_status_maps_to_the_domain_status(
    status: str, filled: str, expected: OrderStatus
) -> None:
    average = "450.5" if filled != "0" else None
    raw = _raw(status=status, filled_qty=filled, filled_avg_price=average)
    state = order_state([read_order(raw)], ClientOrderId("c-1"), SPY)
    assert state.status is expected
    assert state.filled_quantity == Decimal(filled)
    assert state.ts == 1_704_209_400_123_456_789


def test_order_state_every_status_of_the_sdk_enum_is_known() -> None:
    from alpaca.trading.enums import OrderStatus as SdkStatus

    assert {s.value for s in SdkStatus} <= KNOWN_STATUSES


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"status": "teleported"}, "unknown Alpaca order status"),
        ({"filled_qty": "-1"}, "must not be negative"),
        ({"filled_qty": "11", "filled_avg_price": "1"}, "exceeds qty"),
        ({"qty": "0"}, "must be positive"),
        ({"qty": "NaN"}, "must be finite"),
        ({"qty": True}, "must be a number"),
        ({"filled_qty": "2"}, "no filled_avg_price"),
        ({"side": "sideways"}, "unknown Alpaca order side"),
        ({"type": "moonshot"}, "unknown Alpaca order type"),
        ({"updated_at": "yesterday"}, "RFC 3339"),
        ({"id": None}, "'id'"),
    ],
)
def test_read_order_invalid_field_is_malformed_payload(
    fields: dict[str, Any], problem: str
) -> None:
    with pytest.raises(MalformedPayload, match=problem):
        read_order(_raw(**fields))


def test_read_trade_update_fill_carries_the_cumulative_quantity_trade_id() -> None:
    update = read_trade_update(
        {
            "event": "partial_fill",
            "timestamp": "2024-01-02T15:30:00.5Z",
            "price": "450.25",
            "qty": "4",
            "order": _raw(status="partially_filled", filled_qty="4", filled_avg_price="450.25"),
        }
    )
    assert update.execution is not None
    assert update.execution.quantity == Decimal(4)
    assert trade_id(update.order.id, update.execution.cumulative_quantity) == (
        "61e69015-8549-4bfd-b9c3-01e75843f47d:4"
    )
    assert trade_id("x", Decimal("4.000")) == trade_id("x", Decimal(4))


def test_order_state_chain_sums_fills_and_quantities_across_replacements() -> None:
    first = read_order(
        _raw(status="replaced", qty="10", filled_qty="4", filled_avg_price="100", replaced_by="b")
    )
    second = read_order(
        _raw(
            id="b",
            client_order_id="c-1~r1",
            qty="8",
            filled_qty="2",
            filled_avg_price="103",
            status="partially_filled",
            replaces="a",
        )
    )
    state = order_state([first, second], ClientOrderId("c-1"), SPY)
    assert (state.quantity, state.filled_quantity) == (Decimal(12), Decimal(6))
    assert state.average_price == Decimal(101)
    assert state.venue_order_id == "b"
    assert state.status is OrderStatus.PARTIALLY_FILLED


def test_replacement_client_order_id_round_trips_to_the_root() -> None:
    root = ClientOrderId("ord-7")
    assert replacement_client_order_id(root, 3) == "ord-7~r3"
    assert root_client_order_id("ord-7~r3") == root
    assert root_client_order_id("ord-7") == root
    assert root_client_order_id("a~r0") == "a~r0"
    with pytest.raises(UnsupportedRequest):
        replacement_client_order_id(ClientOrderId("x" * 127), 1)


@pytest.mark.parametrize(
    ("tif", "wire"),
    [
        (TimeInForce.DAY, "day"),
        (TimeInForce.GTC, "gtc"),
        (TimeInForce.IOC, "ioc"),
        (TimeInForce.FOK, "fok"),
    ],
)
def test_order_request_time_in_force_maps_to_alpaca(tif: TimeInForce, wire: str) -> None:
    fields = order_request(order(tif=tif), "SPY", extended_hours=False).to_request_fields()
    assert fields["time_in_force"] == wire


def test_order_request_fields_per_order_type() -> None:
    cid = ClientOrderId("c-9")
    cases = {
        OrderType.MARKET: order(client_order_id=cid, side=OrderSide.SELL, quantity="3"),
        OrderType.LIMIT: order(kind=OrderType.LIMIT, price="450.25", client_order_id=cid),
        OrderType.STOP: order(kind=OrderType.STOP, trigger="455.5", client_order_id=cid),
        OrderType.STOP_LIMIT: order(
            kind=OrderType.STOP_LIMIT, trigger="455.5", price="456", client_order_id=cid
        ),
        OrderType.TRAILING_STOP: trailing("2.5", client_order_id=cid),
    }
    fields = {
        kind: order_request(each, "SPY", extended_hours=False).to_request_fields()
        for kind, each in cases.items()
    }
    assert fields[OrderType.MARKET] == {
        "symbol": "SPY",
        "qty": 3.0,
        "side": "sell",
        "type": "market",
        "time_in_force": "gtc",
        "client_order_id": "c-9",
    }
    assert fields[OrderType.LIMIT]["limit_price"] == 450.25
    assert fields[OrderType.STOP]["stop_price"] == 455.5
    assert (
        fields[OrderType.STOP_LIMIT]["stop_price"],
        fields[OrderType.STOP_LIMIT]["limit_price"],
    ) == (455.5, 456.0)
    assert fields[OrderType.TRAILING_STOP]["trail_percent"] == 2.5
    assert all(f["client_order_id"] == "c-9" for f in fields.values())


def test_order_request_limit_without_a_price_is_unsupported() -> None:
    broken = order(kind=OrderType.STOP)
    with pytest.raises(UnsupportedRequest, match="stop price"):
        order_request(broken, "SPY", extended_hours=False)


def test_timestamp_parsing_keeps_nanoseconds_and_offsets() -> None:
    assert timestamp_ns("1970-01-01T00:00:01.000000001Z") == 1_000_000_001
    assert timestamp_ns("1970-01-01T01:00:00+01:00") == 0
    assert timestamp_ns("2024-01-02T15:30:00Z") == 1_704_209_400_000_000_000
    ts = 1_704_209_400_123_456_789
    assert timestamp_ns(format_timestamp(ts)) == ts


@pytest.mark.parametrize(
    ("seconds", "wire"),
    [
        (60, "1Min"),
        (300, "5Min"),
        (3600, "1Hour"),
        (14400, "4Hour"),
        (86400, "1Day"),
        (604800, "1Week"),
    ],
)
def test_timeframe_interval_maps_to_alpaca(seconds: int, wire: str) -> None:
    assert timeframe(seconds).value == wire


@pytest.mark.parametrize("seconds", [0, 30, 90, 3600 * 25, 86400 * 2])
def test_timeframe_interval_alpaca_lacks_is_unsupported(seconds: int) -> None:
    with pytest.raises(UnsupportedRequest):
        timeframe(seconds)


def test_capabilities_declare_alpaca_equity_trading() -> None:
    assert ALPACA_CAPABILITIES.order_types == frozenset(
        {
            OrderType.MARKET,
            OrderType.LIMIT,
            OrderType.STOP,
            OrderType.STOP_LIMIT,
            OrderType.TRAILING_STOP,
        }
    )
    assert ALPACA_CAPABILITIES.times_in_force == frozenset(
        {TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}
    )
    assert ALPACA_CAPABILITIES.supports_modify
    assert not ALPACA_CAPABILITIES.supports_reduce_only
    assert not ALPACA_CAPABILITIES.supports_post_only
    assert not ALPACA_CAPABILITIES.native_oco
    assert RateLimit(200, 60) == ALPACA_RATE_LIMIT


def test_config_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret_key"):
        AlpacaConfig(api_key="key", secret_key="")


def test_config_secret_is_not_in_its_repr() -> None:
    assert "hunter2" not in repr(AlpacaConfig(api_key="key", secret_key="hunter2"))


def test_adapter_implements_the_venue_adapter_protocol() -> None:
    adapter: VenueAdapter = AlpacaAdapter(AlpacaConfig(api_key="key", secret_key="secret"))
    assert isinstance(adapter, VenueAdapter)
    assert adapter.venue_id == "ALPACA"
    assert adapter.rate_limit == ALPACA_RATE_LIMIT
