"""The ccxt adapter against the Kraken fake: orders, cl_ord_id, amend, errors and faults."""

from __future__ import annotations

import base64
import json
import time
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.identifiers import ClientOrderId, VenueOrderId
from alphintra.venues.adapter import VenueError, VenueErrorKind
from venues.fakes.crypto_spot import Faults

from .support import BTCUSD, K_ASK, K_BID, fresh_id, kraken, order

pytestmark = pytest.mark.asyncio


async def test_place_order_market_buy_reads_the_filled_state_back() -> None:
    async with kraken() as v:
        placed = order(BTCUSD)
        state = await v.adapter.place_order(placed)
        assert state.client_order_id == placed.client_order_id
        assert state.status is OrderStatus.FILLED
        assert (state.filled_quantity, state.average_price) == (Decimal("0.001"), K_ASK)
        assert state.venue_order_id in v.fake.book.orders
        add = [p for m, p in v.fake.requests if p.endswith("/AddOrder")]
        assert len(add) == 1


async def test_place_order_sends_cl_ord_id_and_limit_fields() -> None:
    async with kraken() as v:
        placed = order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0", post_only=True)
        state = await v.adapter.place_order(placed)
        assert (state.status, state.price) == (OrderStatus.ACCEPTED, Decimal("29000.0"))
        booked = v.fake.book.orders[state.venue_order_id]
        assert booked.client_id == placed.client_order_id
        assert booked.post_only and booked.tif == "GTC"


async def test_cancel_order_by_cl_ord_id_reads_the_cancelled_state_back() -> None:
    async with kraken() as v:
        placed = order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0")
        await v.adapter.place_order(placed)
        state = await v.adapter.cancel_order(placed.client_order_id, BTCUSD)
        assert state.status is OrderStatus.CANCELLED
        assert v.fake.venue_record()[placed.client_order_id]["status"] == "canceled"


async def test_cancel_order_of_a_filled_order_is_definitive() -> None:
    async with kraken() as v:
        placed = order(BTCUSD, side=OrderSide.SELL)
        await v.adapter.place_order(placed)
        with pytest.raises(VenueError) as refused:
            await v.adapter.cancel_order(placed.client_order_id, BTCUSD)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_query_order_by_cl_ord_id_finds_open_then_closed_orders() -> None:
    async with kraken() as v:
        resting = order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0")
        filled = order(BTCUSD)
        await v.adapter.place_order(resting)
        await v.adapter.place_order(filled)
        found_open = await v.adapter.query_order(BTCUSD, client_order_id=resting.client_order_id)
        found_closed = await v.adapter.query_order(BTCUSD, client_order_id=filled.client_order_id)
        assert found_open is not None and found_open.status is OrderStatus.ACCEPTED
        assert found_closed is not None and found_closed.status is OrderStatus.FILLED
        assert await v.adapter.query_order(BTCUSD, client_order_id=fresh_id()) is None


async def test_query_order_unknown_txid_returns_none() -> None:
    async with kraken() as v:
        missing = VenueOrderId("OAAAAA-BBBBB-CCCCCC")
        assert await v.adapter.query_order(BTCUSD, venue_order_id=missing) is None


async def test_fills_since_reports_the_fill_with_our_client_id() -> None:
    async with kraken() as v:
        placed = order(BTCUSD)
        state = await v.adapter.place_order(placed)
        fills = await v.adapter.fills_since(0)
        assert len(fills) == 1
        assert fills[0].client_order_id == placed.client_order_id
        assert fills[0].venue_order_id == state.venue_order_id
        assert (fills[0].price, fills[0].fee_currency) == (K_ASK, "USD")
        assert await v.adapter.fills_since(fills[0].ts + 1_000_000, BTCUSD) == []


async def test_fills_since_pages_with_offsets() -> None:
    async with kraken() as v:
        for _ in range(60):  # Kraken pages trades 50 at a time, newest first
            v.fake.book.submit(
                symbol="XXBTZUSD", side="BUY", kind="MARKET", quantity=Decimal("0.001")
            )
        fills = await v.adapter.fills_since(0)
        assert len(fills) == 60
        offsets = [p for m, p in v.fake.requests if p.endswith("/TradesHistory")]
        assert len(offsets) == 2


async def test_modify_order_amends_price_and_quantity_in_place() -> None:
    async with kraken() as v:
        placed = order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0")
        first = await v.adapter.place_order(placed)
        state = await v.adapter.modify_order(
            placed.client_order_id,
            BTCUSD,
            quantity=Decimal("0.002"),
            price=Decimal("29100.0"),
            trigger_price=None,
        )
        assert state.venue_order_id == first.venue_order_id
        assert (state.quantity, state.price) == (Decimal("0.002"), Decimal("29100.0"))


async def test_modify_order_stop_trigger_moves() -> None:
    async with kraken() as v:
        stop = order(BTCUSD, side=OrderSide.SELL, order_type=OrderType.STOP, trigger="29000.0")
        state = await v.adapter.place_order(stop)
        assert (state.order_type, state.trigger_price) == (OrderType.STOP, Decimal("29000.0"))
        moved = await v.adapter.modify_order(
            stop.client_order_id,
            BTCUSD,
            quantity=None,
            price=None,
            trigger_price=Decimal("28500.0"),
        )
        assert moved.trigger_price == Decimal("28500.0")


async def test_modify_order_of_a_closed_order_is_definitive() -> None:
    async with kraken() as v:
        placed = order(BTCUSD)
        await v.adapter.place_order(placed)
        with pytest.raises(VenueError) as refused:
            await v.adapter.modify_order(
                placed.client_order_id,
                BTCUSD,
                quantity=Decimal("0.002"),
                price=None,
                trigger_price=None,
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_place_order_gtd_sends_expiry_and_expires() -> None:
    async with kraken() as v:
        expire_ns = (int(time.time()) + 1) * 1_000_000_000
        placed = order(
            BTCUSD,
            order_type=OrderType.LIMIT,
            price="29000.0",
            tif=TimeInForce.GTD,
            expire_ts=expire_ns,
        )
        state = await v.adapter.place_order(placed)
        assert state.status is OrderStatus.ACCEPTED
        v.fake.book.clock = lambda: expire_ns // 1_000_000 + 1
        expired = await v.adapter.query_order(BTCUSD, client_order_id=placed.client_order_id)
        assert expired is not None and expired.status is OrderStatus.EXPIRED


async def test_place_order_fok_is_definitive_unsupported() -> None:
    async with kraken() as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(
                order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0", tif=TimeInForce.FOK)
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_place_order_long_client_id_becomes_a_uuid_and_maps_back() -> None:
    async with kraken() as v:
        ours = ClientOrderId("ACCOUNT-MAIN-000000000123")
        state = await v.adapter.place_order(order(BTCUSD, client_order_id=ours))
        assert state.client_order_id == ours
        wire = v.adapter.wire_client_id(ours)
        assert len(wire) == 36 and wire.count("-") == 4
        assert v.fake.book.orders[state.venue_order_id].client_id == wire
        fills = await v.adapter.fills_since(0)
        assert [f.client_order_id for f in fills] == [ours]


async def test_place_order_duplicate_open_cl_ord_id_is_definitive() -> None:
    async with kraken() as v:
        placed = order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0")
        await v.adapter.place_order(placed)
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(placed)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert refused.value.code == "EOrder:Duplicate order"


async def test_place_order_insufficient_funds_is_definitive() -> None:
    async with kraken() as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(order(BTCUSD, side=OrderSide.SELL, quantity="500"))
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert refused.value.code == "EOrder:Insufficient funds"


async def test_connect_wrong_secret_is_definitive() -> None:
    wrong = base64.b64encode(b"another secret entirely").decode()
    async with kraken(secret=wrong, connect=False) as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.connect()
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert refused.value.code == "EAPI:Invalid signature"


async def test_place_order_stale_nonce_is_transient() -> None:
    async with kraken() as v:
        v.fake._nonces[v.fake.api_key] = 10**15  # a nonce far in the future was used
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(order(BTCUSD))
        assert refused.value.kind is VenueErrorKind.TRANSIENT
        assert v.fake.book.orders == {}


async def test_place_order_server_error_is_unknown_outcome() -> None:
    async with kraken() as v:
        for _ in range(2):  # 503 JSON and 502 HTML
            v.fake.faults.inject("5xx", path="/AddOrder")
            with pytest.raises(VenueError) as failed:
                await v.adapter.place_order(order(BTCUSD))
            assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME


async def test_place_order_dropped_response_is_unknown_outcome_and_found_by_cl_ord_id() -> None:
    async with kraken() as v:
        placed = order(BTCUSD)
        v.fake.faults.inject("drop", path="/AddOrder")
        with pytest.raises(VenueError) as failed:
            await v.adapter.place_order(placed)
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        found = await v.adapter.query_order(BTCUSD, client_order_id=placed.client_order_id)
        assert found is not None and found.status is OrderStatus.FILLED


async def test_query_order_server_error_is_transient() -> None:
    async with kraken() as v:
        v.fake.faults.inject("5xx", path="/OpenOrders")
        with pytest.raises(VenueError) as failed:
            await v.adapter.query_order(BTCUSD, client_order_id=fresh_id())
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_place_order_rate_limited_is_transient_with_retry_after() -> None:
    async with kraken(faults=Faults(retry_after_s=3)) as v:
        v.fake.faults.inject("429", path="/AddOrder")
        with pytest.raises(VenueError) as limited:
            await v.adapter.place_order(order(BTCUSD))
        assert limited.value.kind is VenueErrorKind.TRANSIENT
        assert limited.value.retry_after_s == 3
        assert v.fake.book.orders == {}


async def test_place_order_lockout_error_is_transient() -> None:
    async with kraken() as v:
        v.fake.faults.inject("418", path="/AddOrder")
        with pytest.raises(VenueError) as limited:
            await v.adapter.place_order(order(BTCUSD))
        assert limited.value.kind is VenueErrorKind.TRANSIENT
        assert limited.value.code == "EGeneral:Temporary lockout"


async def test_query_order_unknown_status_answer_is_transient() -> None:
    async with kraken() as v:
        placed = order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0")
        await v.adapter.place_order(placed)
        v.fake.faults.corrupt(
            "/OpenOrders", lambda b: b.replace('"status": "open"', '"status": "limbo"')
        )
        with pytest.raises(VenueError) as failed:
            await v.adapter.query_order(BTCUSD, client_order_id=placed.client_order_id)
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_place_order_malformed_answer_is_unknown_outcome() -> None:
    async with kraken() as v:
        v.fake.faults.corrupt("/AddOrder", lambda b: "<html>oops</html>")
        with pytest.raises(VenueError) as failed:
            await v.adapter.place_order(order(BTCUSD))
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME


async def test_fills_since_negative_fee_volume_is_transient() -> None:
    async with kraken() as v:
        await v.adapter.place_order(order(BTCUSD))

        def negative(body: str) -> str:
            data = json.loads(body)
            for trade in data["result"]["trades"].values():
                trade["vol"] = "-0.00100000"
            return json.dumps(data)

        v.fake.faults.corrupt("/TradesHistory", negative)
        with pytest.raises(VenueError) as failed:
            await v.adapter.fills_since(0)
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_quote_reads_the_ticker() -> None:
    async with kraken() as v:
        quote = await v.adapter.quote(BTCUSD)
        assert (quote.bid, quote.ask, quote.ask_size) == (K_BID, K_ASK, Decimal(10))


async def test_bars_reads_ohlc_rows() -> None:
    async with kraken() as v:
        start = 1_700_000_040
        rows = [
            [start + 60 * i, "30000.0", "30010.0", "29990.0", "30005.0", "30001.0", "1.5", 9]
            for i in range(4)
        ]
        v.fake.set_ohlc("XXBTZUSD", 1, rows)
        bars = await v.adapter.bars(BTCUSD, 60, start * 10**9, (start + 180) * 10**9)
        assert len(bars) == 3 and bars[-1].close == Decimal("30005.0")


async def test_account_reports_balances_and_open_orders() -> None:
    async with kraken() as v:
        await v.adapter.place_order(order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0"))
        snapshot = await v.adapter.account()
        cash = {b.currency: b for b in snapshot.balances}
        assert cash["BTC"].total == Decimal(100)
        assert cash["USD"].total == Decimal(10_000_000)
        assert [o.order_type for o in snapshot.open_orders] == [OrderType.LIMIT]
