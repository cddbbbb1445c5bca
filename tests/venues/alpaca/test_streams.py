"""The trade_updates and market data streams, and market data over REST."""

from __future__ import annotations

from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderStatus, OrderType
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.venues.adapter import VenueError, VenueErrorKind
from helpers.csv_rows import SPY_TRADE, read_rows, ts_ns
from venues.alpaca.support import ASK, BID, SPY, AlpacaVenue, eventually, order
from venues.fakes.alpaca import FakeBar, Fault

pytestmark = pytest.mark.asyncio


async def test_subscribe_order_updates_delivers_the_fill_of_a_market_order() -> None:
    async with AlpacaVenue() as venue:
        await venue.listen()
        assert venue.fake.listening_connections() == 1
        await venue.quote()
        market = order()
        await venue.adapter.place_order(market)
        await eventually(lambda: bool(venue.fills()))
        (fill,) = venue.fills()
        assert (fill.client_order_id, fill.quantity, fill.price) == (
            market.client_order_id,
            Decimal(1),
            ASK,
        )
        polled = await venue.adapter.fills_since(0)
        assert [f.trade_id for f in polled] == [fill.trade_id]  # one execution, one trade ID
        assert polled[0].ts == fill.ts
        await eventually(lambda: len(venue.states(market.client_order_id)) == 2)
        accepted, filled = venue.states(market.client_order_id)
        assert (accepted.status, filled.status) == (OrderStatus.ACCEPTED, OrderStatus.FILLED)


async def test_subscribe_order_updates_delivers_partial_fills_then_the_last_fill() -> None:
    async with AlpacaVenue() as venue:
        await venue.listen()
        await venue.quote(ask_size=Decimal(2))
        market = order(quantity="5")
        await venue.adapter.place_order(market)
        await venue.quote(Decimal("450.20"), Decimal("450.30"))
        await eventually(lambda: sum(f.quantity for f in venue.fills()) == 5)
        assert [(f.quantity, f.price) for f in venue.fills()] == [
            (Decimal(2), ASK),
            (Decimal(3), Decimal("450.30")),
        ]
        assert len({f.trade_id for f in venue.fills()}) == 2


async def test_subscribe_order_updates_cancel_arrives_as_a_cancelled_state() -> None:
    async with AlpacaVenue() as venue:
        await venue.listen()
        limit = order(kind=OrderType.LIMIT, price="440.00")
        await venue.adapter.place_order(limit)
        await venue.adapter.cancel_order(limit.client_order_id, SPY)
        await eventually(
            lambda: any(
                s.status is OrderStatus.CANCELLED for s in venue.states(limit.client_order_id)
            )
        )


async def test_subscribe_order_updates_replacement_arrives_under_the_first_client_order_id() -> (
    None
):
    async with AlpacaVenue() as venue:
        await venue.listen()
        await venue.quote()
        limit = order(kind=OrderType.LIMIT, price="440.00", quantity="2")
        cid = limit.client_order_id
        await venue.adapter.place_order(limit)
        await venue.adapter.modify_order(
            cid, SPY, quantity=Decimal(4), price=Decimal("449.00"), trigger_price=None
        )
        await eventually(lambda: any(s.price == Decimal("449.00") for s in venue.states(cid)))
        await venue.quote(Decimal("448.00"), Decimal("448.10"))
        await eventually(lambda: sum(f.quantity for f in venue.fills()) == 4)
        assert {f.client_order_id for f in venue.fills()} == {cid}
        assert all(u.client_order_id == cid for u in venue.updates)


async def test_subscribe_order_updates_unreadable_messages_are_recorded_and_skipped() -> None:
    async with AlpacaVenue() as venue:
        await venue.listen()
        await venue.quote()
        venue.fake.corrupt_next_trade_update(Fault.UNKNOWN_STATUS)  # "new"
        venue.fake.corrupt_next_trade_update(Fault.MALFORMED_JSON)  # "fill"
        await venue.adapter.place_order(order())
        venue.fake.corrupt_next_trade_update(Fault.NEGATIVE_FILLED)  # "new"
        later = order()
        await venue.adapter.place_order(later)
        await eventually(
            lambda: any(f.client_order_id == later.client_order_id for f in venue.fills())
        )
        errors = venue.adapter.stream_errors
        assert len(errors) == 2
        assert "teleported" in errors[0]
        assert "filled_qty" in errors[1]
        assert [f.client_order_id for f in venue.fills()] == [later.client_order_id]


async def test_subscribe_order_updates_after_reconnect_polls_what_was_missed() -> None:
    async with AlpacaVenue() as venue:
        await venue.listen()
        await venue.quote()
        limit = order(kind=OrderType.LIMIT, price="449.00")
        await venue.adapter.place_order(limit)
        await eventually(lambda: bool(venue.states(limit.client_order_id)))
        venue.fake.streams_available = False
        await venue.fake.drop_streams()
        await venue.quote(Decimal("448.50"), Decimal("448.60"))  # fills while disconnected
        assert venue.fills() == []
        venue.fake.streams_available = True
        await eventually(lambda: bool(venue.fills()))
        (fill,) = venue.fills()
        assert (fill.client_order_id, fill.price) == (limit.client_order_id, Decimal("449.00"))
        await eventually(
            lambda: any(s.status is OrderStatus.FILLED for s in venue.states(limit.client_order_id))
        )
        assert venue.fake.listening_connections() == 1


async def test_subscribe_quotes_delivers_quotes_from_the_msgpack_stream() -> None:
    async with AlpacaVenue() as venue:
        ticks: list[QuoteTick] = []

        async def collect(tick: QuoteTick) -> None:
            ticks.append(tick)

        await venue.adapter.subscribe_quotes([SPY], collect)
        await eventually(lambda: venue.fake.quote_subscribers("SPY") == 1)
        await venue.quote(bid_size=Decimal(300), ask_size=Decimal(200))
        await eventually(lambda: bool(ticks))
        (tick,) = ticks
        assert (tick.instrument_id, tick.bid, tick.ask) == (SPY, BID, ASK)
        assert (tick.bid_size, tick.ask_size) == (Decimal(300), Decimal(200))
        assert tick.ts == venue.fake.account.quotes["SPY"].ts


async def test_quote_returns_the_latest_quote_exactly() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote(Decimal("450.07"), Decimal("450.13"))
        tick = await venue.adapter.quote(SPY)
        assert (tick.bid, tick.ask) == (Decimal("450.07"), Decimal("450.13"))
        assert tick.ts == venue.fake.account.quotes["SPY"].ts


async def test_quote_before_any_quote_is_transient() -> None:
    async with AlpacaVenue() as venue:
        with pytest.raises(VenueError) as missing:
            await venue.adapter.quote(SPY)
        assert missing.value.kind is VenueErrorKind.TRANSIENT


def _spy_minute_bars(count: int) -> list[FakeBar]:
    rows = read_rows(SPY_TRADE)
    start = next(i for i, row in enumerate(rows) if row["timestamp"] >= "2013-10-07T13:30:00Z")
    return [
        FakeBar(
            ts_ns(row["timestamp"]),
            Decimal(row["open"]),
            Decimal(row["high"]),
            Decimal(row["low"]),
            Decimal(row["close"]),
            Decimal(row["volume"]),
        )
        for row in rows[start : start + count]
    ]


async def test_bars_real_spy_minutes_round_trip_exactly_across_pages() -> None:
    minutes = _spy_minute_bars(30)
    async with AlpacaVenue(fake={"bars_page_limit": 7}) as venue:
        venue.fake.add_bars("SPY", minutes)
        bars = await venue.adapter.bars(SPY, 60, minutes[0].ts_ns, minutes[-1].ts_ns)
        assert [(b.ts, b.open, b.high, b.low, b.close, b.volume) for b in bars] == [
            (m.ts_ns, m.open, m.high, m.low, m.close, m.volume) for m in minutes
        ]
        assert {b.interval_ns for b in bars} == {60_000_000_000}


async def test_bars_five_minutes_aggregate_the_real_minutes() -> None:
    minutes = _spy_minute_bars(30)
    async with AlpacaVenue() as venue:
        venue.fake.add_bars("SPY", minutes)
        bars = await venue.adapter.bars(SPY, 300, minutes[0].ts_ns, minutes[-1].ts_ns)
        width = 300_000_000_000
        groups: dict[int, list[FakeBar]] = {}
        for minute in minutes:
            groups.setdefault(minute.ts_ns - minute.ts_ns % width, []).append(minute)
        expected = [
            (
                ts,
                g[0].open,
                max(m.high for m in g),
                min(m.low for m in g),
                g[-1].close,
                sum((m.volume for m in g), Decimal(0)),
            )
            for ts, g in sorted(groups.items())
        ]
        assert [(b.ts, b.open, b.high, b.low, b.close, b.volume) for b in bars] == expected


async def test_bars_interval_alpaca_does_not_offer_is_definitive() -> None:
    async with AlpacaVenue() as venue:
        with pytest.raises(VenueError) as refused:
            await venue.adapter.bars(InstrumentId("SPY"), 90, 0, 1)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_bars_without_data_are_empty() -> None:
    async with AlpacaVenue() as venue:
        assert await venue.adapter.bars(SPY, 60, 0, 10**18) == []
