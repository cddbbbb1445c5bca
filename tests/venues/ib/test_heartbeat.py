"""A TWS or IB Gateway that hangs with its socket open is found by the adapter's
heartbeat (``reqCurrentTime``), and the session is re-opened and resynced. Real
ib_async client against the fake TWS over a local socket; no mocks."""

from __future__ import annotations

import asyncio

import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType

from . import tws_messages as m
from .fake_tws import FakeTws, Fields
from .fake_venue import FakeIbVenue
from .session import ib_session, order, wait_until

pytestmark = pytest.mark.asyncio


async def test_an_answered_heartbeat_keeps_the_session() -> None:
    async with ib_session(heartbeat_interval_s=0.1, heartbeat_timeout_s=0.3) as s:
        await s.fake.wait_for("reqCurrentTime", count=3, timeout=3.0)
        assert (s.adapter.heartbeats_missed, s.adapter.reconnects) == (0, 0)
        assert s.fake.sessions == 1 and s.adapter.connected


async def test_a_hung_tws_is_found_closed_and_reopened_and_orders_flow_again() -> None:
    """The fake stops answering (socket open). No socket error comes; the heartbeat goes
    unanswered, the adapter closes the session and opens a new one, and the next order
    is acknowledged on it."""
    fake = FakeTws()
    venue = FakeIbVenue(fake)
    async with ib_session(fake=fake, heartbeat_interval_s=0.1, heartbeat_timeout_s=0.3) as s:
        s.fake.hung = True
        await wait_until(lambda: s.adapter.reconnects == 1, timeout=5.0)
        assert s.adapter.heartbeats_missed == 1
        assert s.fake.sessions == 2
        await wait_until(lambda: s.adapter.connected, timeout=2.0)
        state = await s.adapter.place_order(
            order("hb-1", "AAPL", OrderSide.BUY, OrderType.LIMIT, "10", price="185.0")
        )
        assert state.status is OrderStatus.ACCEPTED
        assert [o.order_ref for o in venue.orders.values()] == ["hb-1"]


async def test_a_slow_but_answering_tws_is_not_cut_off() -> None:
    """Answers slower than the interval but inside the timeout keep the session."""
    async with ib_session(heartbeat_interval_s=0.05, heartbeat_timeout_s=1.0) as s:
        real_answer = s.fake._answer

        def slow(name: str, fields: Fields) -> list[Fields]:
            if name == "reqCurrentTime":
                loop = asyncio.get_running_loop()
                loop.call_later(0.2, s.fake.send, m.current_time(1_736_951_400))
                return []
            return real_answer(name, fields)

        s.fake._answer = slow  # type: ignore[method-assign]
        await s.fake.wait_for("reqCurrentTime", count=4, timeout=5.0)
        assert (s.adapter.heartbeats_missed, s.adapter.reconnects) == (0, 0)
