"""Orders through the OANDA adapter against the fake: place, cancel, replace, query, fills."""

from __future__ import annotations

import time
from decimal import Decimal

import msgspec
import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.venues.adapter import VenueAdapter, VenueError, VenueErrorKind
from alphintra.venues.oanda import OANDA_CAPABILITIES, OANDA_RATE_LIMIT, OandaAdapter
from venues.fakes.oanda import FakeOanda

from .conftest import EURUSD, order

pytestmark = pytest.mark.asyncio


def _last_order_body(fake: FakeOanda) -> dict[str, object]:
    posted = [r for r in fake.requests if r.method in ("POST", "PUT") and r.body]
    body = posted[-1].body
    assert isinstance(body, dict)
    sent = body["order"]
    assert isinstance(sent, dict)
    return sent


async def test_adapter_protocol_is_implemented_as_data(adapter: OandaAdapter) -> None:
    assert isinstance(adapter, VenueAdapter)
    assert adapter.capabilities is OANDA_CAPABILITIES
    assert OANDA_CAPABILITIES.order_types == {
        OrderType.MARKET,
        OrderType.LIMIT,
        OrderType.STOP,
        OrderType.TAKE_PROFIT,
    }
    assert TimeInForce.DAY in OANDA_CAPABILITIES.times_in_force
    assert not OANDA_CAPABILITIES.supports_post_only
    assert adapter.rate_limit == OANDA_RATE_LIMIT
    assert (OANDA_RATE_LIMIT.capacity, OANDA_RATE_LIMIT.per_seconds) == (100, 1.0)
    assert adapter.home_currency == "USD"


async def test_place_market_buy_fills_at_ask_with_signed_units(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    state = await adapter.place_order(order("m1", OrderSide.BUY, OrderType.MARKET))

    assert state.status is OrderStatus.FILLED
    assert state.filled_quantity == Decimal(1000)
    assert state.average_price == Decimal("1.10002")
    sent = _last_order_body(fake)
    assert sent["units"] == "1000"
    assert sent["type"] == "MARKET"
    assert sent["timeInForce"] == "FOK"  # GTC market means FOK at OANDA
    assert sent["clientExtensions"] == {"id": "m1", "tag": "alphintra"}


async def test_place_market_sell_sends_negative_units(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    state = await adapter.place_order(order("m2", OrderSide.SELL, OrderType.MARKET, quantity="25"))

    assert _last_order_body(fake)["units"] == "-25"
    assert state.side is OrderSide.SELL
    assert state.average_price == Decimal("1.09998")
    assert fake.venue_record()["m2"]["status"] == "FILLED"


async def test_place_limit_rests_then_fills_when_quote_crosses(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    state = await adapter.place_order(order("l1", OrderSide.BUY, OrderType.LIMIT, price="1.09900"))
    assert state.status is OrderStatus.ACCEPTED
    assert state.venue_order_id
    assert _last_order_body(fake)["price"] == "1.09900"

    fake.set_quote("EUR_USD", Decimal("1.09880"), Decimal("1.09890"))
    filled = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("l1"))

    assert filled is not None
    assert filled.status is OrderStatus.FILLED
    assert filled.average_price == Decimal("1.09900")  # a resting limit fills at its price


async def test_place_stop_and_market_if_touched_send_trigger_as_price(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    stop = await adapter.place_order(
        order("s1", OrderSide.BUY, OrderType.STOP, trigger_price="1.10500")
    )
    assert _last_order_body(fake)["type"] == "STOP"
    touched = await adapter.place_order(
        order("t1", OrderSide.BUY, OrderType.TAKE_PROFIT, trigger_price="1.09500")
    )
    assert _last_order_body(fake)["type"] == "MARKET_IF_TOUCHED"

    assert stop.status is touched.status is OrderStatus.ACCEPTED
    found = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("s1"))
    assert found is not None
    assert found.order_type is OrderType.STOP
    assert found.trigger_price == Decimal("1.10500")

    fake.set_quote("EUR_USD", Decimal("1.10600"), Decimal("1.10610"))
    triggered = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("s1"))
    assert triggered is not None
    assert triggered.status is OrderStatus.FILLED
    assert triggered.average_price == Decimal("1.10610")


async def test_place_day_and_gtd_map_to_gfd_and_gtd_time(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    await adapter.place_order(
        order("d1", OrderSide.SELL, OrderType.LIMIT, price="1.20000", tif=TimeInForce.DAY)
    )
    assert _last_order_body(fake)["timeInForce"] == "GFD"
    gtd = order("g1", OrderSide.SELL, OrderType.LIMIT, price="1.20000", tif=TimeInForce.GTD)
    gtd = msgspec.structs.replace(gtd, expire_ts=4_000_000_000_000_000_000)
    await adapter.place_order(gtd)
    sent = _last_order_body(fake)
    assert sent["timeInForce"] == "GTD"
    assert str(sent["gtdTime"]).startswith("2096-")


async def test_place_fok_limit_that_cannot_fill_returns_expired_not_error(
    adapter: OandaAdapter,
) -> None:
    state = await adapter.place_order(
        order("f1", OrderSide.BUY, OrderType.LIMIT, price="1.09000", tif=TimeInForce.FOK)
    )

    assert state.status is OrderStatus.EXPIRED
    assert state.reason == "TIME_IN_FORCE_EXPIRED"


async def test_place_reduce_only_sends_position_fill(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    await adapter.place_order(order("r1", OrderSide.SELL, OrderType.MARKET, reduce_only=True))

    assert _last_order_body(fake)["positionFill"] == "REDUCE_ONLY"


@pytest.mark.parametrize("order_type", [OrderType.TRAILING_STOP, OrderType.STOP_LIMIT])
async def test_place_unsupported_order_type_is_definitive_without_request(
    adapter: OandaAdapter, fake: FakeOanda, order_type: OrderType
) -> None:
    sent_before = len(fake.requests)
    with pytest.raises(VenueError) as refused:
        await adapter.place_order(
            order("u1", OrderSide.BUY, order_type, price="1.1", trigger_price="1.1")
        )

    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert len(fake.requests) == sent_before


async def test_place_duplicate_client_order_id_is_definitive(adapter: OandaAdapter) -> None:
    await adapter.place_order(order("dup", OrderSide.BUY, OrderType.MARKET))
    with pytest.raises(VenueError) as refused:
        await adapter.place_order(order("dup", OrderSide.BUY, OrderType.MARKET))

    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert refused.value.code == "CLIENT_ORDER_ID_ALREADY_EXISTS"


async def test_place_rejected_by_venue_is_definitive_with_reject_reason(
    adapter: OandaAdapter,
) -> None:
    with pytest.raises(VenueError) as refused:
        await adapter.place_order(
            order("bad", OrderSide.BUY, OrderType.MARKET, instrument="ZZZUSD")
        )

    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert refused.value.code == "INSTRUMENT_UNKNOWN"


async def test_cancel_pending_order_is_confirmed_by_client_id(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    await adapter.place_order(order("c1", OrderSide.BUY, OrderType.LIMIT, price="1.05000"))

    state = await adapter.cancel_order(ClientOrderId("c1"), EURUSD)

    assert state.status is OrderStatus.CANCELLED
    assert state.reason == "CLIENT_REQUEST"
    cancel = [r for r in fake.requests if r.method == "PUT"][-1]
    assert cancel.path.endswith("/orders/@c1/cancel")


async def test_cancel_unknown_order_is_definitive(adapter: OandaAdapter) -> None:
    with pytest.raises(VenueError) as refused:
        await adapter.cancel_order(ClientOrderId("nope"), EURUSD)

    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert refused.value.code == "ORDER_DOESNT_EXIST"


async def test_modify_replaces_order_keeping_client_id(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    placed = await adapter.place_order(
        order("x1", OrderSide.SELL, OrderType.LIMIT, price="1.12000")
    )

    changed = await adapter.modify_order(
        ClientOrderId("x1"),
        EURUSD,
        quantity=Decimal(3000),
        price=Decimal("1.12500"),
        trigger_price=None,
    )

    assert changed.client_order_id == "x1"
    assert changed.venue_order_id != placed.venue_order_id
    assert (changed.quantity, changed.price) == (Decimal(3000), Decimal("1.12500"))
    assert _last_order_body(fake)["units"] == "-3000"
    found = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("x1"))
    assert found is not None
    assert (found.venue_order_id, found.status) == (changed.venue_order_id, OrderStatus.ACCEPTED)
    snapshot = await adapter.account()
    assert [o.client_order_id for o in snapshot.open_orders] == ["x1"]


async def test_modify_filled_order_is_definitive(adapter: OandaAdapter) -> None:
    await adapter.place_order(order("mf", OrderSide.BUY, OrderType.MARKET))

    with pytest.raises(VenueError) as refused:
        await adapter.modify_order(
            ClientOrderId("mf"), EURUSD, quantity=Decimal(5), price=None, trigger_price=None
        )

    assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_query_by_client_id_uses_at_specifier(adapter: OandaAdapter, fake: FakeOanda) -> None:
    placed = await adapter.place_order(order("q1", OrderSide.BUY, OrderType.MARKET))

    by_client = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("q1"))
    by_venue = await adapter.query_order(EURUSD, venue_order_id=placed.venue_order_id)

    assert by_client == by_venue
    assert by_client is not None
    assert by_client.average_price == Decimal("1.10002")
    assert any(r.path.endswith("/orders/@q1") for r in fake.requests)


async def test_query_missing_order_returns_none(adapter: OandaAdapter) -> None:
    assert await adapter.query_order(EURUSD, client_order_id=ClientOrderId("never")) is None


async def test_fills_since_reads_order_fill_transactions(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    await adapter.place_order(order("f1", OrderSide.BUY, OrderType.MARKET, quantity="1500"))
    await adapter.place_order(order("f2", OrderSide.SELL, OrderType.MARKET, quantity="500"))
    await adapter.place_order(
        order("f3", OrderSide.BUY, OrderType.MARKET, quantity="2", instrument="XAUUSD")
    )

    fills = await adapter.fills_since(0)
    eur = await adapter.fills_since(0, EURUSD)

    assert [(f.client_order_id, f.side, f.quantity) for f in fills] == [
        ("f1", OrderSide.BUY, Decimal(1500)),
        ("f2", OrderSide.SELL, Decimal(500)),
        ("f3", OrderSide.BUY, Decimal(2)),
    ]
    assert fills[2].instrument_id == "XAUUSD"
    assert fills[2].price == Decimal("2000.050")
    assert [f.client_order_id for f in eur] == ["f1", "f2"]
    assert len({f.trade_id for f in fills}) == 3
    assert await adapter.fills_since(fills[-1].ts + 1) == []
    assert any(r.path.endswith("/transactions/idrange") for r in fake.requests)


async def test_account_reports_balance_net_positions_and_pending_orders(
    adapter: OandaAdapter,
) -> None:
    await adapter.place_order(order("p1", OrderSide.SELL, OrderType.MARKET, quantity="3000"))
    await adapter.place_order(
        order("p2", OrderSide.BUY, OrderType.MARKET, quantity="1", instrument="DE30EUR")
    )
    await adapter.place_order(order("p3", OrderSide.BUY, OrderType.LIMIT, price="1.00000"))

    snapshot = await adapter.account()

    assert snapshot.balances[0].currency == "USD"
    positions = {p.instrument_id: p.quantity for p in snapshot.positions}
    assert positions == {InstrumentId("EURUSD"): Decimal(-3000), InstrumentId("DE30EUR"): 1}
    assert [o.client_order_id for o in snapshot.open_orders] == ["p3"]


async def test_quote_reads_pricing_as_exact_decimals(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    fake.set_quote("XAU_USD", Decimal("2010.125"), Decimal("2010.475"))

    tick = await adapter.quote(InstrumentId("XAUUSD"))

    assert (tick.bid, tick.ask) == (Decimal("2010.125"), Decimal("2010.475"))
    assert tick.instrument_id == "XAUUSD"


async def test_bars_returns_complete_mid_candles_in_range(adapter: OandaAdapter) -> None:
    end = (time.time_ns() // 60_000_000_000 - 1) * 60_000_000_000
    start = end - 30 * 60 * 1_000_000_000

    bars = await adapter.bars(InstrumentId("DE30EUR"), 60, start, end)

    assert len(bars) == 30
    assert bars[0].ts == start
    assert all(b.interval_ns == 60_000_000_000 and b.high >= b.low for b in bars)
    assert all(isinstance(b.close, Decimal) for b in bars)


async def test_bars_unsupported_interval_is_definitive(adapter: OandaAdapter) -> None:
    with pytest.raises(VenueError) as refused:
        await adapter.bars(EURUSD, 7, 0, 10)

    assert refused.value.kind is VenueErrorKind.DEFINITIVE
