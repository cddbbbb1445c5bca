"""The adapter's requests against the fake TWS: connection, writes, queries, market data."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.venues.adapter import VenueError, VenueErrorKind, VenueFill, VenueOrderState
from alphintra.venues.ib import IbAdapter

from . import tws_messages as m
from .contract_harness import free_port
from .fake_tws import FakeTws, Fields
from .fake_venue import FakeIbVenue
from .session import fake_config, ib_session, order, registry, wait_until

D = Decimal
AAPL = InstrumentId("AAPL")
pytestmark = pytest.mark.asyncio


async def test_connect_with_nothing_listening_raises_transient() -> None:
    adapter = IbAdapter(fake_config(free_port()), registry())
    with pytest.raises(VenueError) as refused:
        await adapter.connect()
    assert refused.value.kind is VenueErrorKind.TRANSIENT
    assert "cannot open an API session" in refused.value.message
    await adapter.disconnect()


async def test_place_order_before_connect_raises_transient() -> None:
    adapter = IbAdapter(fake_config(free_port()), registry())
    with pytest.raises(VenueError) as refused:
        await adapter.place_order(order("c1", "AAPL", OrderSide.BUY, OrderType.MARKET, "1"))
    assert refused.value.kind is VenueErrorKind.TRANSIENT


async def test_place_order_unknown_instrument_raises_definitive() -> None:
    async with ib_session() as s:
        with pytest.raises(VenueError) as refused:
            await s.adapter.place_order(
                order("c1", "NOT/LISTED", OrderSide.BUY, OrderType.MARKET, "1")
            )
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert not s.fake.requests("placeOrder")


async def test_place_order_contract_ib_does_not_know_raises_definitive_200() -> None:
    async with ib_session() as s:
        with pytest.raises(VenueError) as refused:
            await s.adapter.place_order(order("c1", "MSFT", OrderSide.BUY, OrderType.MARKET, "1"))
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert refused.value.code == "200"
        assert not s.fake.requests("placeOrder")


async def test_place_order_duplicate_client_order_id_raises_definitive_without_sending() -> None:
    fake = FakeTws()
    FakeIbVenue(fake)
    async with ib_session(fake=fake) as s:
        first = order("dup-1", "AAPL", OrderSide.BUY, OrderType.LIMIT, "5", price="100")
        assert (await s.adapter.place_order(first)).status is OrderStatus.ACCEPTED
        with pytest.raises(VenueError) as refused:
            await s.adapter.place_order(first)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert len(s.fake.requests("placeOrder")) == 1


async def test_place_order_without_answer_raises_unknown_outcome() -> None:
    async with ib_session(ack_timeout_s=0.2) as s:
        with pytest.raises(VenueError) as unknown:
            await s.adapter.place_order(order("c1", "AAPL", OrderSide.BUY, OrderType.MARKET, "1"))
        assert unknown.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        assert len(s.fake.requests("placeOrder")) == 1


async def test_place_order_socket_dropped_while_waiting_raises_unknown_outcome() -> None:
    fake = FakeTws()

    def drop(_: Fields) -> list[Fields]:
        asyncio.get_running_loop().call_soon(fake.drop)
        return []

    fake.on_place = drop
    async with ib_session(fake=fake) as s:
        with pytest.raises(VenueError) as unknown:
            await s.adapter.place_order(order("c1", "AAPL", OrderSide.BUY, OrderType.MARKET, "1"))
        assert unknown.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        await wait_until(lambda: s.adapter.reconnects == 1)


async def test_modify_order_resends_under_the_same_ib_order_id() -> None:
    fake = FakeTws()
    FakeIbVenue(fake)
    async with ib_session(fake=fake) as s:
        placed = order("mod-1", "AAPL", OrderSide.BUY, OrderType.LIMIT, "5", price="100")
        await s.adapter.place_order(placed)
        modified = await s.adapter.modify_order(
            ClientOrderId("mod-1"), AAPL, quantity=D(7), price=D("100.5"), trigger_price=None
        )
        first, second = s.fake.requests("placeOrder")
    assert second[1] == first[1]  # the IB order ID: a modification, not a new order
    assert (second[17], second[19]) == ("7", "100.5")
    assert (modified.status, modified.quantity, modified.price) == (
        OrderStatus.ACCEPTED,
        D(7),
        D("100.5"),
    )


async def test_cancel_order_unknown_to_ib_raises_definitive() -> None:
    async with ib_session() as s:
        with pytest.raises(VenueError) as refused:
            await s.adapter.cancel_order(ClientOrderId("ghost"), AAPL)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert "IB does not know it" in refused.value.message


async def test_query_order_never_sent_returns_none_after_asking_every_list() -> None:
    async with ib_session() as s:
        found = await s.adapter.query_order(AAPL, client_order_id=ClientOrderId("never-sent"))
        assert found is None
        assert s.fake.requests("reqOpenOrders")[1:]  # startup, then the query
        assert s.fake.requests("reqCompletedOrders")[1:]
        assert s.fake.requests("reqExecutions")


async def test_query_order_from_an_earlier_session_is_found_in_completed_orders() -> None:
    fake = FakeTws()
    fake.completed_orders = [
        m.completed_order(
            m.AAPL, action="SELL", quantity="30", order_type="LMT", status="Cancelled",
            perm_id=4242, order_ref="old-1", filled="10", lmt_price="190.0",
        )
    ]  # fmt: skip
    async with ib_session(fake=fake) as s:
        found = await s.adapter.query_order(AAPL, client_order_id=ClientOrderId("old-1"))
    assert found is not None
    assert (found.status, found.filled_quantity, found.quantity, found.venue_order_id) == (
        OrderStatus.CANCELLED,
        D(10),
        D(30),
        "4242",
    )


def _execution(exec_id: str, time: str, shares: str, ref: str) -> tuple[Fields, Fields]:
    details = m.exec_details(
        m.AAPL, req_id="$REQ_ID", order_id=0, exec_id=exec_id, time=time, side="SLD",
        shares=shares, price="185.0", perm_id=31, cum_qty=shares, avg_price="185.0",
        order_ref=ref,
    )  # fmt: skip
    return details, m.commission_report(exec_id, "0.5", "USD")


async def test_query_order_only_in_executions_is_rebuilt_as_filled() -> None:
    fake = FakeTws()
    fake.executions = [_execution("e1", "20250115 09:40:00 America/New_York", "3", "gone-1")]
    async with ib_session(fake=fake) as s:
        found = await s.adapter.query_order(AAPL, client_order_id=ClientOrderId("gone-1"))
    assert found is not None
    assert (found.status, found.filled_quantity, found.average_price) == (
        OrderStatus.FILLED,
        D(3),
        D("185.0"),
    )


async def test_fills_since_returns_executions_at_or_after_the_time_with_fees() -> None:
    fake = FakeTws()
    fake.executions = [
        _execution("early", "20250115 09:31:00 America/New_York", "1", "a"),
        _execution("late", "20250115 10:31:00 America/New_York", "2", "b"),
    ]
    async with ib_session(fake=fake) as s:
        since = 1_736_953_200_000_000_000  # 10:00 New York
        fills = await s.adapter.fills_since(since)
        other = await s.adapter.fills_since(since, InstrumentId("EURUSD"))
        request = s.fake.requests("reqExecutions")[0]
    assert [(f.trade_id, f.quantity, f.fee, f.client_order_id) for f in fills] == [
        ("late", D(2), D("0.5"), "b")
    ]
    assert all(isinstance(f, VenueFill) and f.instrument_id == AAPL for f in fills)
    assert other == []
    assert request[5] == "20250115-15:00:00"


async def test_account_reports_cash_positions_and_open_orders() -> None:
    fake = FakeTws()
    fake.positions = [
        m.position(m.AAPL, "100", "185.2"),
        m.position(m.ESZ5, "2", "302512.5"),
        m.position(m.EURUSD, "0", "0"),
    ]
    fake.open_orders = [
        m.open_order(
            3, m.AAPL, action="SELL", quantity="100", order_type="LMT", status="Submitted",
            perm_id=71, order_ref="ours-1", lmt_price="190.0", tif="GTC",
        ),
        m.order_status(3, "Submitted", remaining="100", perm_id=71),
        m.open_order(
            0, m.EURUSD, action="BUY", quantity="10000", order_type="LMT", status="Submitted",
            perm_id=999, order_ref="", lmt_price="1.01", client_id=0,
        ),
    ]  # fmt: skip
    async with ib_session(fake=fake) as s:
        snapshot = await s.adapter.account()
    assert [(b.currency, b.total) for b in snapshot.balances] == [("USD", D("100000.00"))]
    assert {(p.instrument_id, p.quantity, p.average_price) for p in snapshot.positions} == {
        (AAPL, D(100), D("185.2")),
        (InstrumentId("ESZ5"), D(2), D("6050.25")),
    }
    assert {(o.client_order_id, o.status, o.price) for o in snapshot.open_orders} == {
        ("ours-1", OrderStatus.ACCEPTED, D("190.0")),
        ("ib-perm-999", OrderStatus.ACCEPTED, D("1.01")),
    }


async def test_quote_snapshot_returns_exact_bid_and_ask() -> None:
    fake = FakeTws()
    fake.quotes[m.AAPL.con_id] = ("185.26", "185.28", "300", "500")
    async with ib_session(fake=fake) as s:
        quote = await s.adapter.quote(AAPL)
        snapshot_request = s.fake.requests("reqMktData")[0]
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (
        D("185.26"),
        D("185.28"),
        D(300),
        D(500),
    )
    assert snapshot_request[17] == "1"  # a snapshot, not a subscription


async def test_quote_without_two_sides_raises_transient() -> None:
    async with ib_session() as s:
        with pytest.raises(VenueError) as missing:
            await s.adapter.quote(AAPL)
        assert missing.value.kind is VenueErrorKind.TRANSIENT


async def test_subscribe_quotes_streams_every_change_to_the_handler() -> None:
    fake = FakeTws()
    fake.quotes[m.EURUSD.con_id] = ("1.0342", "1.03425", "1000000", "1000000")
    quotes: list[QuoteTick] = []

    async def on_quote(quote: QuoteTick) -> None:
        quotes.append(quote)

    async with ib_session(fake=fake) as s:
        await s.adapter.subscribe_quotes([InstrumentId("EURUSD")], on_quote)
        await wait_until(lambda: len(quotes) >= 1)
        req_id = s.fake.requests("reqMktData")[0][2]
        s.fake.send(m.tick_price(req_id, 2, "1.0343", "2000000"))
        await wait_until(lambda: quotes[-1].ask == D("1.0343"))
    assert (quotes[0].instrument_id, quotes[0].bid, quotes[0].ask) == (
        "EURUSD",
        D("1.0342"),
        D("1.03425"),
    )


async def test_bars_requests_trades_and_returns_bars_inside_the_window() -> None:
    fake = FakeTws()
    fake.bars[m.AAPL.con_id] = [
        ("1736951340", "185.0", "185.2", "184.9", "185.1", "1000", "185.05", "10"),
        ("1736951400", "185.1", "185.5", "185.0", "185.4", "1200", "185.3", "12"),
        ("1736951460", "185.4", "185.6", "185.3", "185.5", "900", "185.45", "9"),
    ]
    start, end = 1_736_951_400_000_000_000, 1_736_951_460_000_000_000
    async with ib_session(fake=fake) as s:
        bars = await s.adapter.bars(AAPL, 60, start, end)
        request = s.fake.requests("reqHistoricalData")[0]
    assert [(b.ts, b.close, b.volume) for b in bars] == [(start, D("185.4"), D(1200))]
    assert request[15:21] == ["20250115 14:31:00 UTC", "1 min", "60 S", "0", "TRADES", "2"]


async def test_bars_with_an_interval_ib_lacks_raises_definitive() -> None:
    async with ib_session() as s:
        with pytest.raises(VenueError) as refused:
            await s.adapter.bars(AAPL, 7, 0, 10**9)
        assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_resting_order_fills_when_the_quote_crosses_and_stream_reports_it() -> None:
    fake = FakeTws()
    venue = FakeIbVenue(fake)
    async with ib_session(fake=fake) as s:
        await s.adapter.place_order(
            order("rest-1", "AAPL", OrderSide.BUY, OrderType.LIMIT, "5", price="184")
        )
        venue.set_quote(m.AAPL.con_id, D("183.9"), D("183.95"))
        await s.settle(3)
        found = await s.adapter.query_order(AAPL, client_order_id=ClientOrderId("rest-1"))
    kinds = [type(u).__name__ for u in s.updates]
    assert kinds == ["VenueOrderState", "VenueFill", "VenueOrderState"]
    assert isinstance(found, VenueOrderState)
    assert (found.status, found.average_price) == (OrderStatus.FILLED, D(184))


async def test_tws_down_for_a_while_is_retried_with_backoff_until_it_returns() -> None:
    fake = FakeTws()
    async with ib_session(fake=fake) as s:
        port = fake.port
        await fake.stop()  # TWS goes away: the socket drops and nothing listens
        await asyncio.sleep(0.3)  # attempts at 0.05, 0.1 (then 0.2) s fail
        assert s.adapter.reconnects == 0
        await fake.start(port)
        await wait_until(lambda: s.adapter.reconnects == 1)
        assert s.adapter.connected
        assert fake.sessions == 2


async def test_link_restored_with_data_lost_1101_resubscribes_quotes_and_polls() -> None:
    fake = FakeTws()
    fake.quotes[m.EURUSD.con_id] = ("1.0342", "1.03425", "1000000", "1000000")
    quotes: list[QuoteTick] = []

    async def on_quote(quote: QuoteTick) -> None:
        quotes.append(quote)

    async with ib_session(fake=fake) as s:
        await s.adapter.subscribe_quotes([InstrumentId("EURUSD")], on_quote)
        await wait_until(lambda: len(quotes) >= 1)
        fake.send(
            m.error(-1, 1100, "Connectivity between IB and Trader Workstation has been lost.")
        )
        await wait_until(lambda: not s.adapter.connected)
        fake.send(
            m.error(
                -1, 1101,
                "Connectivity between IB and Trader Workstation has been restored - data lost.",
            )
        )  # fmt: skip
        await wait_until(lambda: len(fake.requests("reqMktData")) == 2)
        await wait_until(lambda: len(fake.requests("reqExecutions")) == 1)
        assert fake.requests("cancelMktData")
        assert s.adapter.connected
