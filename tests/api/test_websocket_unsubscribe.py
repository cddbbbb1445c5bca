"""After ``unsubscribed`` a client gets nothing more of that channel, even what was queued."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from api.live import WAIT_S, Deployment, LiveService

Message = dict[str, Any]
SYMBOL = "UNSUBTEST"
"""A symbol the replayed feed does not have: only this test publishes it."""
PENDING = 3_000
PAYLOAD = {"filler": "y" * 2_000}


async def _receive(socket: ClientConnection) -> Message:
    message: Message = json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))
    return message


async def _publish(live: LiveService, count: int) -> list[int]:
    """Publish ``count`` messages on the service's own loop (the hub is not thread-safe)."""
    hub = live.runtime.service.hub

    async def on_server_loop() -> list[int]:
        return [hub.publish("market_data", "*", PAYLOAD, symbol=SYMBOL).seq for _ in range(count)]

    loop = live._server.servers[0].get_loop()
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(on_server_loop(), loop))


@pytest.mark.asyncio
@pytest.mark.parametrize("change", ["unsubscribe", "other_symbols"])
async def test_websocket_messages_queued_before_unsubscribe_are_not_sent_after_it(
    live: LiveService, deployment: Deployment, change: str
) -> None:
    # Before: messages already queued for the connection were still sent after the
    # "unsubscribed" reply (or, after a subscribe with other symbols, for the old ones).
    alice = deployment.users["alice"]
    # It does not read while messages pile up: uncompressed, so its buffers fill and the
    # rest stay queued on the server.
    socket = await connect(live.ws_url, max_queue=1, compression=None)
    try:
        await socket.send(json.dumps({"action": "authenticate", "token": alice.key}))
        assert (await _receive(socket))["event"] == "authenticated"
        subscribe = {"action": "subscribe", "channel": "market_data", "symbols": [SYMBOL]}
        await socket.send(json.dumps(subscribe))
        assert await _receive(socket) == {"event": "subscribed", "channel": "market_data"}
        await _publish(live, PENDING)
        if change == "unsubscribe":
            request: Message = {"action": "unsubscribe", "channel": "market_data"}
            reply: Message = {"event": "unsubscribed", "channel": "market_data"}
        else:
            request = {**subscribe, "symbols": ["NOTPUBLISHED"]}
            reply = {"event": "subscribed", "channel": "market_data"}
        await socket.send(json.dumps(request))
        # A marker after the change: everything before it is the answer to the change.
        await socket.send(json.dumps({"action": "subscribe", "channel": "orders"}))
        before = 0
        while (message := await _receive(socket)) != reply:
            assert message["channel"] == "market_data" and message["payload"] == PAYLOAD
            before += 1
        assert before < PENDING, "the server queued nothing: the test proves nothing"
        after: list[Message] = []
        while (message := await _receive(socket)) != {"event": "subscribed", "channel": "orders"}:
            after.append(message)
        assert not after, f"{len(after)} {SYMBOL} messages after {reply}"
    finally:
        await socket.close()
