"""The Alpaca adapter against the fake Alpaca: orders, queries, fills and the account."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.identifiers import ClientOrderId, VenueOrderId
from alphintra.venues.adapter import VenueError, VenueErrorKind
from venues.alpaca.support import ASK, BID, QQQ, SPY, AlpacaVenue, new_id, order, trailing

pytestmark = pytest.mark.asyncio


async def test_place_order_market_buy_fills_at_the_ask() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        placed = await venue.adapter.place_order(market := order())
        assert placed.status is OrderStatus.ACCEPTED
        assert placed.client_order_id == market.client_order_id
        assert placed.venue_order_id == venue.fake.record()[market.client_order_id]["id"]
        state = await venue.adapter.query_order(SPY, client_order_id=market.client_order_id)
        assert state is not None
        assert state.status is OrderStatus.FILLED
        assert (state.filled_quantity, state.average_price) == (Decimal(1), ASK)


async def test_place_order_limit_rests_then_fills_at_its_limit_when_crossed() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        limit = order(kind=OrderType.LIMIT, price="449.50")
        await venue.adapter.place_order(limit)
        resting = await venue.adapter.query_order(SPY, client_order_id=limit.client_order_id)
        assert resting is not None and resting.status is OrderStatus.ACCEPTED
        assert resting.price == Decimal("449.50")
        await venue.quote(Decimal("449.00"), Decimal("449.10"))
        filled = await venue.adapter.query_order(SPY, client_order_id=limit.client_order_id)
        assert filled is not None and filled.status is OrderStatus.FILLED
        assert filled.average_price == Decimal("449.50")


async def test_place_order_stop_triggers_when_the_ask_reaches_the_stop() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        stop = order(kind=OrderType.STOP, trigger="451.00", tif=TimeInForce.DAY)
        placed = await venue.adapter.place_order(stop)
        assert placed.trigger_price == Decimal("451.00")
        await venue.quote(Decimal("450.50"), Decimal("450.60"))
        waiting = await venue.adapter.query_order(SPY, client_order_id=stop.client_order_id)
        assert waiting is not None and waiting.status is OrderStatus.ACCEPTED
        await venue.quote(Decimal("451.00"), Decimal("451.10"))
        state = await venue.adapter.query_order(SPY, client_order_id=stop.client_order_id)
        assert state is not None and state.status is OrderStatus.FILLED
        assert state.average_price == Decimal("451.10")


async def test_place_order_stop_limit_and_trailing_stop_go_out_as_native_types() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        stop_limit = order(
            side=OrderSide.SELL, kind=OrderType.STOP_LIMIT, trigger="445.00", price="444.50"
        )
        trail = trailing("1.5", side=OrderSide.SELL)
        await venue.adapter.place_order(stop_limit)
        state = await venue.adapter.place_order(trail)
        orders = {o.client_order_id: o for o in venue.fake.account.orders.values()}
        sent = orders[stop_limit.client_order_id]
        assert (sent.type, sent.stop_price, sent.limit_price) == (
            "stop_limit",
            Decimal("445.00"),
            Decimal("444.50"),
        )
        assert orders[trail.client_order_id].type == "trailing_stop"
        assert orders[trail.client_order_id].trail_percent == Decimal("1.5")
        # 1.5% under the bid 450.10 is 443.3485, which Alpaca rounds to the cent
        assert state.order_type is OrderType.TRAILING_STOP
        assert state.trigger_price == Decimal("443.35")


async def test_place_order_extended_hours_flag_only_on_day_limit_orders() -> None:
    async with AlpacaVenue(extended_hours=True) as venue:
        await venue.quote()
        day_limit = order(kind=OrderType.LIMIT, price="440.00", tif=TimeInForce.DAY)
        gtc_limit = order(kind=OrderType.LIMIT, price="440.00", tif=TimeInForce.GTC)
        day_market = order(tif=TimeInForce.DAY)
        for each in (day_limit, gtc_limit, day_market):
            await venue.adapter.place_order(each)
        orders = {o.client_order_id: o for o in venue.fake.account.orders.values()}
        assert orders[day_limit.client_order_id].extended_hours is True
        assert orders[day_limit.client_order_id].time_in_force == "day"
        assert orders[gtc_limit.client_order_id].extended_hours is False
        assert orders[gtc_limit.client_order_id].time_in_force == "gtc"
        assert orders[day_market.client_order_id].extended_hours is False


async def test_place_order_ioc_limit_not_marketable_is_cancelled() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        ioc = order(kind=OrderType.LIMIT, price="449.00", tif=TimeInForce.IOC)
        await venue.adapter.place_order(ioc)
        state = await venue.adapter.query_order(SPY, client_order_id=ioc.client_order_id)
        assert state is not None and state.status is OrderStatus.CANCELLED


@pytest.mark.parametrize(
    ("unsupported", "reason"),
    [
        (order(tif=TimeInForce.GTD), "time in force GTD"),
        (order(kind=OrderType.LIMIT, price="440.00", post_only=True), "post-only"),
        (order(kind=OrderType.TAKE_PROFIT, trigger="460.00"), "not native"),
        (order(kind=OrderType.LIMIT, price="440.00", quantity="0.1234567890123456789"), "exactly"),
    ],
)
async def test_place_order_unsupported_request_is_definitive_and_never_sent(
    unsupported: object, reason: str
) -> None:
    async with AlpacaVenue() as venue:
        sent_before = len(venue.fake.requests)
        with pytest.raises(VenueError) as refused:
            await venue.adapter.place_order(unsupported)  # type: ignore[arg-type]
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert reason in refused.value.message
        assert len(venue.fake.requests) == sent_before


async def test_place_order_client_order_id_reused_after_close_is_definitive() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        first = order()
        await venue.adapter.place_order(first)
        closed = await venue.adapter.query_order(SPY, client_order_id=first.client_order_id)
        assert closed is not None and closed.status is OrderStatus.FILLED
        again = order(kind=OrderType.LIMIT, price="440.00", client_order_id=first.client_order_id)
        with pytest.raises(VenueError) as refused:
            await venue.adapter.place_order(again)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert "client_order_id must be unique" in refused.value.message
        assert len(venue.fake.account.orders) == 1


async def test_place_order_beyond_buying_power_is_definitive() -> None:
    async with AlpacaVenue(fake={"cash": Decimal(1000)}) as venue:
        await venue.quote()
        with pytest.raises(VenueError) as refused:
            await venue.adapter.place_order(order(quantity="10"))
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert refused.value.code == "40310000"
        assert "insufficient buying power" in refused.value.message


async def test_cancel_order_resting_limit_is_cancelled() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        limit = order(kind=OrderType.LIMIT, price="440.00")
        await venue.adapter.place_order(limit)
        state = await venue.adapter.cancel_order(limit.client_order_id, SPY)
        assert state.status is OrderStatus.CANCELLED
        assert venue.fake.record()[limit.client_order_id]["status"] == "canceled"


async def test_cancel_order_unknown_client_order_id_is_definitive() -> None:
    async with AlpacaVenue() as venue:
        with pytest.raises(VenueError) as refused:
            await venue.adapter.cancel_order(ClientOrderId("never-placed"), SPY)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_modify_order_replace_keeps_the_engine_client_order_id() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        limit = order(kind=OrderType.LIMIT, price="440.00", quantity="2")
        placed = await venue.adapter.place_order(limit)
        cid = limit.client_order_id
        modified = await venue.adapter.modify_order(
            cid, SPY, quantity=Decimal(3), price=Decimal("441.00"), trigger_price=None
        )
        assert modified.client_order_id == cid
        assert (modified.quantity, modified.price) == (Decimal(3), Decimal("441.00"))
        assert modified.venue_order_id != placed.venue_order_id
        again = await venue.adapter.modify_order(
            cid, SPY, quantity=None, price=Decimal("442.00"), trigger_price=None
        )
        assert (again.quantity, again.price) == (Decimal(3), Decimal("442.00"))
        record = venue.fake.record()
        assert record[cid]["status"] == "replaced"
        assert record[f"{cid}~r1"]["status"] == "replaced"
        assert record[f"{cid}~r2"]["status"] == "new"
        queried = await venue.adapter.query_order(SPY, client_order_id=cid)
        assert queried == again
        by_venue_id = await venue.adapter.query_order(SPY, venue_order_id=placed.venue_order_id)
        assert by_venue_id == again
        cancelled = await venue.adapter.cancel_order(cid, SPY)
        assert cancelled.status is OrderStatus.CANCELLED
        assert venue.fake.record()[f"{cid}~r2"]["status"] == "canceled"


async def test_modify_order_after_partial_fill_reports_totals_across_replacements() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        limit = order(kind=OrderType.LIMIT, price="449.00", quantity="5")
        cid = limit.client_order_id
        await venue.adapter.place_order(limit)
        await venue.quote(Decimal("448.80"), Decimal("448.90"), ask_size=Decimal(2))
        partial = await venue.adapter.query_order(SPY, client_order_id=cid)
        assert partial is not None and partial.status is OrderStatus.PARTIALLY_FILLED
        modified = await venue.adapter.modify_order(
            cid, SPY, quantity=Decimal(6), price=Decimal("448.00"), trigger_price=None
        )
        assert (modified.quantity, modified.filled_quantity) == (Decimal(6), Decimal(2))
        assert venue.fake.account.by_client_id(f"{cid}~r1").qty == Decimal(4)
        await venue.quote(Decimal("447.80"), Decimal("447.90"))
        done = await venue.adapter.query_order(SPY, client_order_id=cid)
        assert done is not None and done.status is OrderStatus.FILLED
        assert done.filled_quantity == Decimal(6)
        assert done.average_price == (2 * Decimal("449.00") + 4 * Decimal("448.00")) / 6
        fills = await venue.adapter.fills_since(0, SPY)
        assert {f.client_order_id for f in fills} == {cid}
        assert sum(f.quantity for f in fills) == Decimal(6)
        assert len({f.trade_id for f in fills}) == len(fills) == 2


async def test_modify_order_price_of_a_market_order_is_definitive() -> None:
    async with AlpacaVenue() as venue:
        stop = order(kind=OrderType.STOP, trigger="470.00")
        await venue.adapter.place_order(stop)
        with pytest.raises(VenueError) as refused:
            await venue.adapter.modify_order(
                stop.client_order_id, SPY, quantity=None, price=Decimal(1), trigger_price=None
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_modify_order_of_a_filled_order_is_definitive() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        market = order()
        await venue.adapter.place_order(market)
        with pytest.raises(VenueError) as refused:
            await venue.adapter.modify_order(
                market.client_order_id, SPY, quantity=Decimal(2), price=None, trigger_price=None
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_query_order_unknown_ids_return_none() -> None:
    async with AlpacaVenue() as venue:
        assert await venue.adapter.query_order(SPY, client_order_id=ClientOrderId("nope")) is None
        unknown_uuid = VenueOrderId("4b4a6a43-7a4a-4b4e-9d0e-5d8f5f0f2a11")
        assert await venue.adapter.query_order(SPY, venue_order_id=unknown_uuid) is None
        assert await venue.adapter.query_order(SPY, venue_order_id=VenueOrderId("x")) is None


async def test_query_order_expired_day_order_is_expired() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        day = order(kind=OrderType.LIMIT, price="440.00", tif=TimeInForce.DAY)
        await venue.adapter.place_order(day)
        venue.fake.account.expire_day_orders()
        state = await venue.adapter.query_order(SPY, client_order_id=day.client_order_id)
        assert state is not None and state.status is OrderStatus.EXPIRED


async def test_fills_since_filters_by_time_and_instrument_across_pages() -> None:
    async with AlpacaVenue(fills_page_size=2) as venue:
        await venue.quote()
        await venue.fake.set_quote("QQQ", Decimal("380.00"), Decimal("380.05"))
        first = order()
        await venue.adapter.place_order(first)
        later = [order(), order(instrument_id=QQQ), order(side=OrderSide.SELL), order()]
        for each in later:
            await venue.adapter.place_order(each)
        everything = await venue.adapter.fills_since(0)
        assert [f.client_order_id for f in everything] == [
            first.client_order_id,
            *[o.client_order_id for o in later],
        ]
        after_first = await venue.adapter.fills_since(everything[1].ts)
        assert [f.trade_id for f in after_first] == [f.trade_id for f in everything[1:]]
        qqq = await venue.adapter.fills_since(0, QQQ)
        assert [(f.instrument_id, f.price) for f in qqq] == [(QQQ, Decimal("380.05"))]
        sell = everything[3]
        assert (sell.side, sell.price, sell.fee) == (OrderSide.SELL, BID, Decimal(0))


async def test_fills_since_resolves_orders_placed_by_another_session() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        body = {
            "symbol": "SPY",
            "qty": "2",
            "side": "buy",
            "type": "market",
            "time_in_force": "day",
            "client_order_id": "elsewhere-1",
        }
        venue.fake.account.work(venue.fake.account.submit(body))
        (fill,) = await venue.adapter.fills_since(0)
        assert fill.client_order_id == "elsewhere-1"
        assert fill.quantity == Decimal(2)


async def test_account_reports_cash_positions_and_open_orders() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        await venue.fake.set_quote("QQQ", Decimal("380.00"), Decimal("380.05"))
        await venue.adapter.place_order(order(quantity="3"))
        await venue.adapter.place_order(order(side=OrderSide.SELL, instrument_id=QQQ))
        resting = order(kind=OrderType.LIMIT, price="440.00", client_order_id=new_id("rest"))
        await venue.adapter.place_order(resting)
        snapshot = await venue.adapter.account()
        (cash,) = snapshot.balances
        expected = Decimal(100_000) - 3 * ASK + Decimal("380.00")
        assert (cash.currency, cash.total, cash.available) == ("USD", expected, expected)
        positions = {p.instrument_id: p for p in snapshot.positions}
        assert positions[SPY].quantity == Decimal(3)
        assert positions[SPY].average_price == ASK
        assert positions[QQQ].quantity == Decimal(-1)
        assert [o.client_order_id for o in snapshot.open_orders] == [resting.client_order_id]


async def test_account_open_replaced_order_is_reported_under_its_first_client_order_id() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        limit = order(kind=OrderType.LIMIT, price="440.00")
        await venue.adapter.place_order(limit)
        await venue.adapter.modify_order(
            limit.client_order_id, SPY, quantity=None, price=Decimal("441.00"), trigger_price=None
        )
        snapshot = await venue.adapter.account()
        (open_order,) = snapshot.open_orders
        assert open_order.client_order_id == limit.client_order_id
        assert open_order.price == Decimal("441.00")
