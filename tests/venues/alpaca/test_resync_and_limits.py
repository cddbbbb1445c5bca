"""What the adapter polls after a stream reconnect, open-order paging, and its rate limit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderStatus, OrderType
from alphintra.domain.registry import InstrumentRegistry
from alphintra.service.rate_limit import TokenBucket
from alphintra.venues.alpaca import AlpacaAdapter
from venues.alpaca.support import SPY, AlpacaVenue, eventually, order
from venues.contract.harness_alpaca import alpaca_config
from venues.fakes.alpaca import FaultPlan

pytestmark = pytest.mark.asyncio


async def _reconnect(venue: AlpacaVenue) -> None:
    before = venue.adapter.resyncs
    await venue.fake.drop_trade_streams()
    await eventually(lambda: venue.adapter.resyncs > before)


async def test_fill_message_lost_while_connected_is_polled_after_the_next_reconnect() -> None:
    async with AlpacaVenue() as venue:
        await venue.listen()
        await venue.quote()
        await _reconnect(venue)  # from here on, polls start where a connection began
        venue.fake.configure(FaultPlan(drop_fill_updates=1.0))
        lost = order()
        await venue.adapter.place_order(lost)
        await eventually(lambda: venue.fake.dropped_fill_updates == 1)
        venue.fake.configure(FaultPlan())
        seen = order()
        await venue.adapter.place_order(seen)  # a newer event arrives after the lost one
        await eventually(lambda: len(venue.fills()) == 1)
        assert venue.fills()[0].client_order_id == seen.client_order_id
        await _reconnect(venue)
        await eventually(lambda: len({f.trade_id for f in venue.fills()}) == 2)
        assert {f.client_order_id for f in venue.fills()} == {
            lost.client_order_id,
            seen.client_order_id,
        }


async def test_resync_queries_only_the_orders_no_longer_open() -> None:
    async with AlpacaVenue() as venue:
        await venue.listen()
        await venue.quote()
        resting = [order(kind=OrderType.LIMIT, price="440.00") for _ in range(5)]
        for each in resting:
            await venue.adapter.place_order(each)
        await eventually(lambda: all(venue.states(o.client_order_id) for o in resting))
        venue.fake.streams_available = False
        await venue.fake.drop_trade_streams()
        victim = venue.fake.account.by_client_id(resting[2].client_order_id)
        venue.fake.account.cancel(victim.id)  # while disconnected: its message is lost
        sent = len(venue.fake.requests)
        venue.fake.streams_available = True
        await eventually(
            lambda: any(
                s.status is OrderStatus.CANCELLED for s in venue.states(resting[2].client_order_id)
            )
        )
        paths = [path for _, path in venue.fake.requests[sent:]]
        assert paths.count("/v2/orders:by_client_order_id") == 1
        assert paths.count("/v2/orders") == 1  # one page lists the four still open


async def test_account_lists_open_orders_beyond_one_page_of_500() -> None:
    async with AlpacaVenue(fake={"cash": Decimal(10**7)}) as venue:
        ids = {f"bulk-{i}" for i in range(501)}
        for cid in sorted(ids):
            venue.fake.account.submit(
                {
                    "symbol": "SPY",
                    "side": "buy",
                    "type": "limit",
                    "time_in_force": "gtc",
                    "qty": "1",
                    "limit_price": "400",
                    "client_order_id": cid,
                }
            )
        snapshot = await venue.adapter.account()
        assert {o.client_order_id for o in snapshot.open_orders} == ids
        assert [p for _, p in venue.fake.requests].count("/v2/orders") == 2


async def _workload(venue: AlpacaVenue) -> None:
    await venue.adapter.connect()
    await venue.quote()
    resting = order(kind=OrderType.LIMIT, price="440.00")
    await venue.adapter.place_order(resting)
    await venue.adapter.place_order(order())
    await venue.adapter.account()  # three requests at once
    await venue.adapter.cancel_order(resting.client_order_id, SPY)  # read, delete, read


@pytest.mark.parametrize("limited", [True, False])
async def test_every_request_of_the_adapter_waits_on_its_rate_limiter(limited: bool) -> None:
    venue = AlpacaVenue(connect=False)
    # Three requests per half second for us; the venue's limit is four.
    venue.adapter = AlpacaAdapter(
        alpaca_config(venue.fake),
        [InstrumentRegistry().get("SPY")],
        limiter=TokenBucket(3, 0.5, burst=1) if limited else None,
    )
    async with venue:
        await _workload(venue)
        assert len(venue.fake.requests) == 9
        busiest = venue.fake.max_requests_in_window(0.5)
    if limited:
        assert busiest <= 4
    else:
        assert busiest > 4  # the same requests, unlimited, would break the venue's limit
