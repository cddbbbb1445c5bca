"""The ccxt adapter against the Binance fake: orders, IDs, errors and faults."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.identifiers import ClientOrderId, VenueOrderId
from alphintra.venues.adapter import (
    VenueAdapter,
    VenueError,
    VenueErrorKind,
    VenueFill,
    VenueOrderState,
)
from alphintra.venues.ccxt.profiles import BINANCE
from venues.fakes.crypto_spot import Faults

from .support import ASK, BID, BTCUSDT, binance, fresh_id, order

pytestmark = pytest.mark.asyncio


async def test_place_order_market_buy_fills_at_the_ask() -> None:
    async with binance() as v:
        state = await v.adapter.place_order(order(BTCUSDT))
        assert state.status is OrderStatus.FILLED
        assert state.filled_quantity == Decimal("0.001")
        assert state.average_price == ASK
        assert state.order_type is OrderType.MARKET
        assert state.price is None
        record = v.fake.venue_record()[state.client_order_id]
        assert record["status"] == "FILLED"
        assert record["filled"] == Decimal("0.001")


async def test_place_order_limit_rests_then_fills_when_crossed() -> None:
    async with binance() as v:
        placed = order(BTCUSDT, order_type=OrderType.LIMIT, price="29990.00")
        state = await v.adapter.place_order(placed)
        assert (state.status, state.price) == (OrderStatus.ACCEPTED, Decimal("29990.00"))
        v.fake.set_quote("BTCUSDT", Decimal("29980.00"), Decimal("29989.00"))
        filled = await v.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
        assert filled is not None
        assert filled.status is OrderStatus.FILLED
        assert filled.average_price == Decimal("29990.00")


async def test_cancel_order_resting_limit_is_cancelled_at_the_venue() -> None:
    async with binance() as v:
        placed = order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00")
        await v.adapter.place_order(placed)
        state = await v.adapter.cancel_order(placed.client_order_id, BTCUSDT)
        assert state.status is OrderStatus.CANCELLED
        assert state.client_order_id == placed.client_order_id
        assert v.fake.venue_record()[placed.client_order_id]["status"] == "CANCELED"


async def test_cancel_order_unknown_client_id_is_definitive() -> None:
    async with binance() as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.cancel_order(ClientOrderId("never-sent"), BTCUSDT)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert refused.value.code == "ORDER_NOT_FOUND"


async def test_query_order_by_client_and_venue_id_agree() -> None:
    async with binance() as v:
        placed = order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00")
        state = await v.adapter.place_order(placed)
        by_client = await v.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
        by_venue = await v.adapter.query_order(BTCUSDT, venue_order_id=state.venue_order_id)
        assert by_client == by_venue
        assert by_client is not None and by_client.client_order_id == placed.client_order_id
        sent = [p for m, path, p in v.fake.sent if m == "GET" and path.endswith("/order")]
        assert sent[0]["origClientOrderId"] == placed.client_order_id
        assert sent[1]["orderId"] == state.venue_order_id


async def test_query_order_unknown_venue_id_returns_none() -> None:
    async with binance() as v:
        assert await v.adapter.query_order(BTCUSDT, venue_order_id=VenueOrderId("99999")) is None


async def test_fills_since_market_order_reports_one_fill_with_fee() -> None:
    async with binance() as v:
        placed = order(BTCUSDT, side=OrderSide.SELL)
        state = await v.adapter.place_order(placed)
        fills = await v.adapter.fills_since(0, BTCUSDT)
        assert len(fills) == 1
        fill = fills[0]
        assert (fill.client_order_id, fill.venue_order_id) == (
            placed.client_order_id,
            state.venue_order_id,
        )
        assert (fill.side, fill.price, fill.quantity) == (OrderSide.SELL, BID, Decimal("0.001"))
        assert fill.fee == Decimal("0.03") and fill.fee_currency == "USDT"
        later = await v.adapter.fills_since(fill.ts + 1)
        assert later == []
        assert await v.adapter.fills_since(0) == fills  # instruments traded are remembered


async def test_fills_since_pages_through_many_trades() -> None:
    async with binance(profile=dataclasses.replace(BINANCE, trade_page_size=3)) as v:
        for _ in range(7):
            await v.adapter.place_order(order(BTCUSDT))
        fills = await v.adapter.fills_since(0, BTCUSDT)
        assert len({f.trade_id for f in fills}) == 7
        pages = [p for m, path, p in v.fake.sent if path.endswith("/myTrades")]
        assert [p.get("fromId") for p in pages] == [None, "5004", "5007"]


async def test_connect_wrong_secret_is_definitive() -> None:
    async with binance(secret="not-the-secret", connect=False) as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.connect()
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert refused.value.code == "-1022"


async def test_place_order_wrong_secret_is_definitive_and_not_booked() -> None:
    async with binance(secret="not-the-secret", verify_credentials_on_connect=False) as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(order(BTCUSDT))
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert "Signature" in refused.value.message
        assert v.fake.book.orders == {}


async def test_place_order_clock_ahead_of_venue_is_transient() -> None:
    async with binance() as v:
        v.fake.time_offset_ms = -30_000  # the venue's clock is 30 s behind ours
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(order(BTCUSDT))
        assert refused.value.kind is VenueErrorKind.TRANSIENT
        assert refused.value.code == "-1021"


async def test_place_order_duplicate_open_client_id_is_definitive() -> None:
    async with binance() as v:
        placed = order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00")
        await v.adapter.place_order(placed)
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(placed)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert refused.value.code == "-2010"
        assert "Duplicate" in refused.value.message
        assert len(v.fake.book.orders) == 1


async def test_place_order_client_id_of_a_closed_order_is_accepted_again() -> None:
    async with binance() as v:
        first = order(BTCUSDT)
        await v.adapter.place_order(first)  # filled at once: closed
        again = order(BTCUSDT, client_order_id=first.client_order_id)
        state = await v.adapter.place_order(again)
        assert state.status is OrderStatus.FILLED
        assert len(v.fake.book.orders) == 2


async def test_place_order_server_error_is_unknown_outcome() -> None:
    async with binance() as v:
        for _ in range(3):  # 500 JSON, 502 HTML, 503 JSON
            v.fake.faults.inject("5xx", methods=("POST",), path="/order")
            with pytest.raises(VenueError) as failed:
                await v.adapter.place_order(order(BTCUSDT))
            assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        assert v.fake.book.orders == {}


async def test_place_order_applied_then_server_error_is_found_by_client_id() -> None:
    async with binance() as v:
        placed = order(BTCUSDT)
        v.fake.faults.inject("5xx_applied", methods=("POST",))
        with pytest.raises(VenueError) as failed:
            await v.adapter.place_order(placed)
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        found = await v.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
        assert found is not None and found.status is OrderStatus.FILLED


async def test_place_order_dropped_response_is_unknown_outcome_and_applied() -> None:
    async with binance() as v:
        placed = order(BTCUSDT)
        v.fake.faults.inject("drop", methods=("POST",))
        with pytest.raises(VenueError) as failed:
            await v.adapter.place_order(placed)
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        found = await v.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
        assert found is not None and found.status is OrderStatus.FILLED


async def test_place_order_timeout_is_unknown_outcome() -> None:
    async with binance(faults=Faults(hang_s=3.0), timeout_s=0.3) as v:
        v.fake.faults.inject("timeout", methods=("POST",))
        with pytest.raises(VenueError) as failed:
            await v.adapter.place_order(order(BTCUSDT))
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME


async def test_query_order_server_error_is_transient() -> None:
    async with binance() as v:
        v.fake.faults.inject("5xx", methods=("GET",), path="/order")
        with pytest.raises(VenueError) as failed:
            await v.adapter.query_order(BTCUSDT, client_order_id=fresh_id())
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_place_order_rate_limited_is_transient_with_retry_after() -> None:
    async with binance(faults=Faults(retry_after_s=7)) as v:
        v.fake.faults.inject("429", methods=("POST",))
        with pytest.raises(VenueError) as limited:
            await v.adapter.place_order(order(BTCUSDT))
        assert limited.value.kind is VenueErrorKind.TRANSIENT
        assert limited.value.retry_after_s == 7
        assert v.fake.book.orders == {}


async def test_quote_banned_ip_is_transient_with_retry_after() -> None:
    async with binance(faults=Faults(retry_after_s=120)) as v:
        v.fake.faults.inject("418")
        with pytest.raises(VenueError) as banned:
            await v.adapter.quote(BTCUSDT)
        assert banned.value.kind is VenueErrorKind.TRANSIENT
        assert banned.value.retry_after_s == 120


async def test_place_order_malformed_json_answer_is_unknown_outcome() -> None:
    async with binance() as v:
        placed = order(BTCUSDT)
        v.fake.faults.corrupt("/order", lambda body: body[: len(body) // 2], method="POST")
        with pytest.raises(VenueError) as failed:
            await v.adapter.place_order(placed)
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        found = await v.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
        assert found is not None and found.filled_quantity == Decimal("0.001")


async def test_place_order_unknown_status_answer_is_unknown_outcome() -> None:
    async with binance() as v:
        v.fake.faults.corrupt(
            "/order", lambda b: b.replace('"FILLED"', '"HALF_BAKED"'), method="POST"
        )
        with pytest.raises(VenueError) as failed:
            await v.adapter.place_order(order(BTCUSDT))
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        assert "HALF_BAKED" in failed.value.message


async def test_query_order_negative_fill_answer_is_transient() -> None:
    async with binance() as v:
        placed = order(BTCUSDT)
        await v.adapter.place_order(placed)

        def negative(body: str) -> str:
            data = json.loads(body)
            data["executedQty"] = "-0.00100000"
            return json.dumps(data)

        v.fake.faults.corrupt("/order", negative, method="GET")
        with pytest.raises(VenueError) as failed:
            await v.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
        assert failed.value.kind is VenueErrorKind.TRANSIENT
        assert "negative" in failed.value.message
        again = await v.adapter.query_order(BTCUSDT, client_order_id=placed.client_order_id)
        assert again is not None and again.filled_quantity == Decimal("0.001")


async def test_fills_since_negative_trade_quantity_is_transient() -> None:
    async with binance() as v:
        await v.adapter.place_order(order(BTCUSDT))
        v.fake.faults.corrupt("/myTrades", lambda b: b.replace('"qty": "', '"qty": "-'))
        with pytest.raises(VenueError) as failed:
            await v.adapter.fills_since(0, BTCUSDT)
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_place_order_off_lot_step_is_definitive_and_not_sent() -> None:
    async with binance() as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(order(BTCUSDT, quantity="0.0012345"))
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert "lot step" in refused.value.message
        assert not [s for s in v.fake.sent if s[0] == "POST"]


async def test_place_order_day_time_in_force_is_definitive_and_not_sent() -> None:
    async with binance() as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(
                order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00", tif=TimeInForce.DAY)
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert not [s for s in v.fake.sent if s[0] == "POST"]


async def test_place_order_post_only_that_would_take_is_definitive() -> None:
    async with binance() as v:
        crossing = order(BTCUSDT, order_type=OrderType.LIMIT, price="30001.00", post_only=True)
        with pytest.raises(VenueError) as refused:
            await v.adapter.place_order(crossing)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        resting = order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00", post_only=True)
        state = await v.adapter.place_order(resting)
        assert state.status is OrderStatus.ACCEPTED
        post = [p for m, _, p in v.fake.sent if m == "POST"]
        assert post[-1]["type"] == "LIMIT_MAKER" and "timeInForce" not in post[-1]


async def test_place_order_stop_triggers_and_fills_at_the_bid() -> None:
    async with binance() as v:
        stop = order(BTCUSDT, side=OrderSide.SELL, order_type=OrderType.STOP, trigger="29900.00")
        state = await v.adapter.place_order(stop)
        assert (state.status, state.order_type) == (OrderStatus.ACCEPTED, OrderType.STOP)
        assert state.trigger_price == Decimal("29900.00")
        v.fake.set_quote("BTCUSDT", Decimal("29899.00"), Decimal("29901.00"))
        done = await v.adapter.query_order(BTCUSDT, client_order_id=stop.client_order_id)
        assert done is not None and done.status is OrderStatus.FILLED
        assert done.average_price == Decimal("29899.00")


async def test_place_order_stop_limit_and_take_profit_map_to_binance_types() -> None:
    async with binance() as v:
        await v.adapter.place_order(
            order(
                BTCUSDT,
                side=OrderSide.SELL,
                order_type=OrderType.STOP_LIMIT,
                price="29800.00",
                trigger="29900.00",
            )
        )
        await v.adapter.place_order(
            order(
                BTCUSDT, side=OrderSide.SELL, order_type=OrderType.TAKE_PROFIT, trigger="31000.00"
            )
        )
        types = [p["type"] for m, _, p in v.fake.sent if m == "POST"]
        assert types == ["STOP_LOSS_LIMIT", "TAKE_PROFIT"]
        snapshot = await v.adapter.account()
        kinds = {o.order_type for o in snapshot.open_orders}
        assert kinds == {OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT}


async def test_place_order_iceberg_sends_iceberg_quantity() -> None:
    async with binance() as v:
        iceberg = order(
            BTCUSDT,
            order_type=OrderType.ICEBERG,
            quantity="0.01",
            price="29000.00",
            display_quantity=Decimal("0.002"),
        )
        await v.adapter.place_order(iceberg)
        post = [p for m, _, p in v.fake.sent if m == "POST"][-1]
        assert (post["type"], post["icebergQty"]) == ("LIMIT", "0.002")


async def test_modify_order_is_definitive_unsupported_on_binance_spot() -> None:
    async with binance() as v:
        with pytest.raises(VenueError) as refused:
            await v.adapter.modify_order(
                fresh_id(), BTCUSDT, quantity=None, price=Decimal(1), trigger_price=None
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert not v.adapter.capabilities.supports_modify


async def test_place_order_client_id_outside_binance_rules_is_hashed_and_found() -> None:
    async with binance() as v:
        ours = ClientOrderId("acct main #1 / order with a very long identifier")
        placed = order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00", client_order_id=ours)
        state = await v.adapter.place_order(placed)
        assert state.client_order_id == ours
        wire = v.adapter.wire_client_id(ours)
        assert wire.startswith("H") and len(wire) == 33
        assert wire in v.fake.venue_record()
        snapshot = await v.adapter.account()
        assert [o.client_order_id for o in snapshot.open_orders] == [ours]


async def test_account_reports_balances_and_open_orders() -> None:
    async with binance() as v:
        await v.adapter.place_order(order(BTCUSDT, order_type=OrderType.LIMIT, price="29000.00"))
        snapshot = await v.adapter.account()
        cash = {b.currency: b for b in snapshot.balances}
        assert cash["BTC"].total == Decimal(100)
        assert cash["USDT"].available < cash["USDT"].total  # the resting buy locks quote
        assert len(snapshot.open_orders) == 1
        assert snapshot.positions == ()


async def test_quote_reads_the_top_of_the_book() -> None:
    async with binance() as v:
        quote = await v.adapter.quote(BTCUSDT)
        assert (quote.bid, quote.ask, quote.bid_size) == (BID, ASK, Decimal(10))


async def test_bars_reads_klines_in_the_window() -> None:
    async with binance() as v:
        start = 1_700_000_000_000
        rows = [
            [
                start + i * 60_000,
                "100.0",
                "101.0",
                "99.0",
                "100.5",
                "3.0",
                start + (i + 1) * 60_000 - 1,
                "300.0",
                5,
                "1.0",
                "100.0",
                "0",
            ]
            for i in range(5)
        ]
        v.fake.set_klines("BTCUSDT", "1m", rows)
        bars = await v.adapter.bars(
            BTCUSDT, 60, (start + 60_000) * 1_000_000, (start + 240_000) * 1_000_000
        )
        assert [b.ts // 1_000_000 for b in bars] == [start + 60_000 * i for i in (1, 2, 3)]
        assert bars[0].close == Decimal("100.5") and bars[0].interval_ns == 60 * 10**9


async def test_subscribe_order_updates_delivers_fill_and_final_state() -> None:
    async with binance() as v:
        seen: list[VenueOrderState | VenueFill] = []

        async def handler(item: VenueOrderState | VenueFill) -> None:
            seen.append(item)

        await v.adapter.subscribe_order_updates(handler)
        placed = order(BTCUSDT, order_type=OrderType.LIMIT, price="29990.00")
        await v.adapter.place_order(placed)
        v.fake.set_quote("BTCUSDT", Decimal("29980.00"), Decimal("29985.00"))
        for _ in range(100):
            states = [s for s in seen if isinstance(s, VenueOrderState)]
            if states and states[-1].status is OrderStatus.FILLED:
                break
            await asyncio.sleep(0.02)
        fills = [f for f in seen if isinstance(f, VenueFill)]
        assert [f.client_order_id for f in fills] == [placed.client_order_id]
        assert states[-1].status is OrderStatus.FILLED


async def test_subscribe_quotes_survives_a_failing_poll() -> None:
    async with binance() as v:
        quotes = []

        async def handler(quote: object) -> None:
            quotes.append(quote)

        v.fake.faults.inject("5xx", methods=("GET",), path="/depth")
        await v.adapter.subscribe_quotes([BTCUSDT], handler)
        for _ in range(100):
            if quotes:
                break
            await asyncio.sleep(0.02)
        assert quotes and v.fake.faults.applied[0][0] == "5xx"


async def test_subscribe_order_updates_resolves_a_dropped_placement() -> None:
    async with binance() as v:
        seen: list[VenueOrderState | VenueFill] = []

        async def handler(item: VenueOrderState | VenueFill) -> None:
            seen.append(item)

        await v.adapter.subscribe_order_updates(handler)
        placed = order(BTCUSDT)
        v.fake.faults.inject("drop", methods=("POST",))
        with pytest.raises(VenueError):
            await v.adapter.place_order(placed)
        for _ in range(100):
            if any(isinstance(s, VenueOrderState) and s.status.is_closed for s in seen):
                break
            await asyncio.sleep(0.02)
        states = [s for s in seen if isinstance(s, VenueOrderState)]
        assert states[-1].client_order_id == placed.client_order_id
        assert states[-1].status is OrderStatus.FILLED


async def test_connect_after_disconnect_works_again() -> None:
    async with binance() as v:
        await v.adapter.disconnect()
        await v.adapter.connect()
        assert (await v.adapter.quote(BTCUSDT)).ask == ASK


async def test_adapter_satisfies_the_venue_adapter_protocol() -> None:
    async with binance(connect=False) as v:
        adapter: VenueAdapter = v.adapter  # checked by mypy
        assert isinstance(adapter, VenueAdapter)
        assert adapter.rate_limit is not None and adapter.rate_limit.capacity == 6000


async def test_fake_random_faults_are_reproducible_with_a_seed() -> None:
    draws = []
    for _ in range(2):
        async with binance(faults=Faults(seed=11, rates={"5xx": 0.3, "429": 0.2})) as v:
            outcomes = []
            for _ in range(20):
                try:
                    await v.adapter.quote(BTCUSDT)
                    outcomes.append("ok")
                except VenueError as exc:
                    outcomes.append(exc.kind.value)
            draws.append(outcomes)
    assert draws[0] == draws[1]
    assert {"ok", "TRANSIENT"} <= set(draws[0])
