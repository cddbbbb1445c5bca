"""A client that stops reading is dropped with a close code, never given a silent gap."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from alphintra.service.hub import QUEUE_SIZE
from api.live import WAIT_S, Deployment, LiveService, User

Message = dict[str, Any]
SYMBOL = "SLOWTEST"
"""A symbol the replayed feed does not have: only this test publishes it."""
BATCH = 1_000
PAYLOAD = {"filler": "x" * 2_000}


async def _receive(socket: ClientConnection) -> Message:
    message: Message = json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))
    return message


async def _subscribed(live: LiveService, user: User, **options: Any) -> ClientConnection:
    socket = await connect(live.ws_url, **options)
    await socket.send(json.dumps({"action": "authenticate", "token": user.key}))
    assert (await _receive(socket))["event"] == "authenticated"
    await socket.send(
        json.dumps({"action": "subscribe", "channel": "market_data", "symbols": [SYMBOL]})
    )
    assert await _receive(socket) == {"event": "subscribed", "channel": "market_data"}
    return socket


def _server_loop(live: LiveService) -> asyncio.AbstractEventLoop:
    return live._server.servers[0].get_loop()


async def _publish_batch(live: LiveService) -> list[int]:
    """Publish BATCH messages on the service's own loop (the hub is not thread-safe)."""
    hub = live.runtime.service.hub

    def publish() -> list[int]:
        return [hub.publish("market_data", "*", PAYLOAD, symbol=SYMBOL).seq for _ in range(BATCH)]

    async def on_server_loop() -> list[int]:
        return publish()

    future = asyncio.run_coroutine_threadsafe(on_server_loop(), _server_loop(live))
    return await asyncio.wrap_future(future)


@pytest.mark.asyncio
async def test_websocket_client_that_stops_reading_is_closed_4008_others_get_everything(
    live: LiveService, deployment: Deployment
) -> None:
    # Before: once the slow client had QUEUE_SIZE messages pending, the hub dropped
    # every further message for it without a word (an ``overflowed`` flag nobody read):
    # when it read again its stream had a silent gap in seq.
    alice = deployment.users["alice"]
    # It stops reading from the socket; uncompressed, so its buffers fill.
    slow = await _subscribed(live, alice, max_queue=1, compression=None)
    fast = await _subscribed(live, alice)
    published: list[int] = []
    try:
        for _ in range(QUEUE_SIZE // BATCH + 20):
            batch = await _publish_batch(live)
            published += batch
            # The fast client keeps up: it reads each batch before the next is sent.
            for seq in batch:
                message = await _receive(fast)
                assert message["seq"] == seq
        # The slow client reads again, until it is closed: what it gets must be a
        # gapless prefix of what was published (it can then resume from its last seq).
        seqs: list[int] = []
        with contextlib.suppress(ConnectionClosed):
            while len(seqs) < len(published):
                expected = published[len(seqs)]
                try:
                    seq = (await _receive(slow))["seq"]
                except TimeoutError:
                    pytest.fail(f"slow client neither closed nor sent seq {expected}: dropped")
                assert seq == expected, f"silent gap: seq {seq} after {seqs[-1:]}, not {expected}"
                seqs.append(seq)
        assert len(seqs) < len(published)
        await asyncio.wait_for(slow.wait_closed(), WAIT_S)
        assert slow.close_code == 4008, (slow.close_code, slow.close_reason)
        assert "too slow" in (slow.close_reason or "")
        # The hub no longer holds the slow client; the fast one is still served.
        more = await _publish_batch(live)
        assert [(await _receive(fast))["seq"] for _ in more] == more
    finally:
        await slow.close()
        await fast.close()
