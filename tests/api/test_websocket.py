"""The WebSocket stream: the same events as the REST API, in seq order, resumable."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from api.live import (
    API,
    QUANTITY,
    WAIT_S,
    Deployment,
    LiveService,
    User,
    signal_body,
)

Message = dict[str, Any]


async def _receive(socket: ClientConnection) -> Message:
    message: Message = json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))
    return message


async def _open(live: LiveService, user: User, *channels: str) -> ClientConnection:
    """Connect, authenticate with the API key and subscribe to ``channels``."""
    socket = await connect(live.ws_url)
    await socket.send(json.dumps({"action": "authenticate", "token": user.key}))
    hello = await _receive(socket)
    assert hello["event"] == "authenticated"
    assert hello["user"] == user.user_id
    for channel in channels:
        await socket.send(json.dumps({"action": "subscribe", "channel": channel}))
        assert await _receive(socket) == {"event": "subscribed", "channel": channel}
    return socket


async def _collect_until(
    socket: ClientConnection, seen: list[Message], done: Callable[[list[Message]], bool]
) -> None:
    """Append stream messages to ``seen`` until ``done(seen)``; fail on a control message."""
    while not done(seen):
        message = await _receive(socket)
        assert "seq" in message, f"unexpected control message {message}"
        seen.append(message)


def _filled(order_id: str) -> Callable[[list[Message]], bool]:
    def done(seen: list[Message]) -> bool:
        return any(
            m["channel"] == "orders"
            and m["payload"]["orderId"] == order_id
            and m["payload"]["status"] == "FILLED"
            for m in seen
        )

    return done


def _assert_increasing(messages: list[Message]) -> None:
    seqs = [m["seq"] for m in messages]
    assert all(a < b for a, b in itertools.pairwise(seqs)), seqs


async def _post_signal(live: LiveService, user: User, signal_id: str) -> str:
    async with live.async_client(user) as client:
        response = await client.post(f"{API}/signals", json=signal_body(signal_id))
    assert response.status_code == 200, response.text
    (order_id,) = response.json()["orderIds"]
    return str(order_id)


async def _get(live: LiveService, user: User, path: str) -> Any:
    async with live.async_client(user) as client:
        response = await client.get(f"{API}{path}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.asyncio
async def test_websocket_orders_trades_positions_match_rest_with_increasing_seq(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    socket = await _open(live, alice, "orders", "trades", "positions")
    try:
        order_id = await _post_signal(live, alice, "ws-flow-1")
        seen: list[Message] = []

        def complete(messages: list[Message]) -> bool:
            channels = {m["channel"] for m in messages}
            return _filled(order_id)(messages) and {"trades", "positions"} <= channels

        await _collect_until(socket, seen, complete)
    finally:
        await socket.close()

    _assert_increasing(seen)
    for message in seen:
        assert set(message) == {"channel", "payload", "seq", "accountId"}
        assert message["accountId"] == "ALICE-1"
        assert message["payload"]["accountId"] == "ALICE-1"
    orders = [m["payload"] for m in seen if m["channel"] == "orders"]
    assert {o["orderId"] for o in orders} == {order_id}
    assert orders[-1] == await _get(live, alice, f"/orders/{order_id}")
    (trade,) = [m["payload"] for m in seen if m["channel"] == "trades"]
    assert [trade] == (await _get(live, alice, "/trades"))["items"]
    (position,) = [m["payload"] for m in seen if m["channel"] == "positions"]
    (rest_position,) = await _get(live, alice, "/positions")
    assert position["symbol"] == rest_position["symbol"] == "BTCUSD"
    assert Decimal(position["quantity"]) == Decimal(rest_position["quantity"]) == QUANTITY
    assert position["averagePrice"] == rest_position["averagePrice"] == trade["price"]


@pytest.mark.asyncio
async def test_websocket_resubscribe_from_seq_replays_missed_messages_exactly(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    # The observer stays connected throughout: it is the record of what was published.
    observer = await _open(live, alice, "orders")
    first = await _open(live, alice, "orders")
    observed: list[Message] = []
    try:
        seen: list[Message] = []
        for n in (1, 2):
            order_id = await _post_signal(live, alice, f"ws-before-{n}")
            await _collect_until(first, seen, _filled(order_id))
        await first.close()
        _assert_increasing(seen)
        assert len(seen) >= 3

        missed_id = await _post_signal(live, alice, "ws-while-away")
        await _collect_until(observer, observed, _filled(missed_id))

        from_seq = seen[-3]["seq"] - 1
        again = await _open(live, alice)
        try:
            await again.send(
                json.dumps({"action": "subscribe", "channel": "orders", "fromSeq": from_seq})
            )
            assert await _receive(again) == {"event": "subscribed", "channel": "orders"}
            expected = [m for m in observed if m["seq"] > from_seq]
            replayed: list[Message] = []
            await _collect_until(again, replayed, lambda got: len(got) >= len(expected))
            assert replayed == expected
            assert replayed[:3] == seen[-3:]
            assert {m["payload"]["orderId"] for m in replayed[3:]} == {missed_id}

            live_id = await _post_signal(live, alice, "ws-after-resume")
            await _collect_until(again, replayed, _filled(live_id))
            _assert_increasing(replayed)
            assert {m["payload"]["orderId"] for m in replayed[len(expected) :]} == {live_id}
        finally:
            await again.close()
    finally:
        await observer.close()


@pytest.mark.asyncio
async def test_websocket_other_tenant_stream_and_replay_exclude_foreign_events(
    live: LiveService, deployment: Deployment
) -> None:
    alice, bob = deployment.users["alice"], deployment.users["bob"]
    bob_socket = await _open(live, bob, "orders", "trades", "positions", "signals")
    alice_socket = await _open(live, alice, "orders")
    try:
        alice_order = await _post_signal(live, alice, "ws-alice-1")
        await _collect_until(alice_socket, [], _filled(alice_order))
        bob_order = await _post_signal(live, bob, "ws-bob-1")
        bob_seen: list[Message] = []
        await _collect_until(bob_socket, bob_seen, _filled(bob_order))
        # Bob's own events come after Alice's were published: had any of hers been
        # delivered to him, it would be in the queue before his.
        assert {m["accountId"] for m in bob_seen} == {"BOB-1"}
        assert all("ALICE" not in json.dumps(m) for m in bob_seen)

        await bob_socket.send(
            json.dumps({"action": "subscribe", "channel": "orders", "fromSeq": 0})
        )
        replayed: list[Message] = []
        while True:
            message = await _receive(bob_socket)
            if "seq" not in message:
                assert message == {"event": "subscribed", "channel": "orders"}
                continue
            replayed.append(message)
            if message["channel"] == "orders" and _filled(bob_order)([message]):
                break
        assert {m["accountId"] for m in replayed} == {"BOB-1"}
        assert {m["payload"]["orderId"] for m in replayed if m["channel"] == "orders"} == {
            bob_order
        }
    finally:
        await bob_socket.close()
        await alice_socket.close()


@pytest.mark.asyncio
async def test_websocket_bad_token_closed_with_4401(
    live: LiveService, deployment: Deployment
) -> None:
    async with connect(live.ws_url) as socket:
        await socket.send(json.dumps({"action": "authenticate", "token": "alp_not-a-key"}))
        error = await _receive(socket)
        assert error["event"] == "error"
        await asyncio.wait_for(socket.wait_closed(), WAIT_S)
        assert socket.close_code == 4401


@pytest.mark.asyncio
async def test_websocket_replay_during_live_market_data_each_seq_once_in_order(
    live: LiveService, deployment: Deployment
) -> None:
    alice = deployment.users["alice"]
    async with connect(live.ws_url) as socket:
        await socket.send(json.dumps({"action": "authenticate", "token": alice.key}))
        hello = await _receive(socket)
        # Let the feed publish a backlog, then resume from before it while it keeps going.
        await asyncio.sleep(0.3)
        from_seq = hello["lastSeq"]
        await socket.send(
            json.dumps({"action": "subscribe", "channel": "market_data", "fromSeq": from_seq})
        )
        assert await _receive(socket) == {"event": "subscribed", "channel": "market_data"}
        received: list[Message] = []
        await _collect_until(socket, received, lambda got: len(got) >= 200)
    _assert_increasing(received)
    assert received[0]["seq"] > from_seq
    assert {m["channel"] for m in received} == {"market_data"}


async def _wait_filled(live: LiveService, user: User, order_id: str) -> None:
    for _ in range(int(WAIT_S / 0.05)):
        if (await _get(live, user, f"/orders/{order_id}"))["status"] == "FILLED":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"order {order_id} did not fill within {WAIT_S} s")


@pytest.mark.asyncio
async def test_websocket_replay_of_unwatched_events_shows_each_state_as_published(
    live: LiveService, deployment: Deployment
) -> None:
    # Messages nobody watched are built only on replay: they must still show the order
    # and the position as they were at each event, not as they are by then.
    alice = deployment.users["alice"]
    async with connect(live.ws_url) as socket:
        await socket.send(json.dumps({"action": "authenticate", "token": alice.key}))
        from_seq = (await _receive(socket))["lastSeq"]
    first = await _post_signal(live, alice, "ws-unwatched-1")
    await _wait_filled(live, alice, first)
    second = await _post_signal(live, alice, "ws-unwatched-2")
    await _wait_filled(live, alice, second)

    replayed: dict[str, list[Message]] = {}
    for channel in ("orders", "positions"):
        socket = await _open(live, alice)
        try:
            await socket.send(
                json.dumps({"action": "subscribe", "channel": channel, "fromSeq": from_seq})
            )
            assert await _receive(socket) == {"event": "subscribed", "channel": channel}
            seen: list[Message] = []
            if channel == "orders":
                await _collect_until(socket, seen, _filled(second))
            else:
                await _collect_until(socket, seen, lambda got: len(got) >= 2)
            replayed[channel] = seen
        finally:
            await socket.close()

    states = [
        (m["payload"]["status"], m["payload"]["filledQuantity"], m["payload"]["averagePrice"])
        for m in replayed["orders"]
        if m["payload"]["orderId"] == first
    ]
    assert len(states) >= 2
    assert states[0][0] != "FILLED"
    assert Decimal(states[0][1]) == 0 and states[0][2] is None
    assert states[-1][0] == "FILLED" and Decimal(states[-1][1]) == QUANTITY
    assert [s for s, _, _ in states].count("FILLED") == 1
    positions = [m["payload"] for m in replayed["positions"]]
    signed = [
        Decimal(p["quantity"]) * (-1 if p["side"] == "SHORT" else 1)
        for p in positions
        if p["symbol"] == "BTCUSD"
    ]
    assert signed[1] - signed[0] == QUANTITY
