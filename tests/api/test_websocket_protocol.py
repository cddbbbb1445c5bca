"""The WebSocket protocol refuses bad requests precisely and keeps the connection usable."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from api.live import WAIT_S, Deployment, LiveService, User

Message = dict[str, Any]


async def _receive(socket: ClientConnection) -> Message:
    message: Message = json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))
    return message


async def _control(socket: ClientConnection) -> Message:
    """Return the next message that is not a stream message (those carry a ``seq``)."""
    while True:
        message = await _receive(socket)
        if "seq" not in message:
            return message


async def _authenticated(live: LiveService, user: User) -> tuple[ClientConnection, int]:
    socket = await connect(live.ws_url)
    await socket.send(json.dumps({"action": "authenticate", "token": user.key}))
    hello = await _receive(socket)
    assert hello["event"] == "authenticated", hello
    return socket, int(hello["lastSeq"])


BAD_REQUESTS: list[tuple[str | bytes, str]] = [
    # (frame sent, text the error must contain)
    ('{"action":"subscribe","channel":["orders"]}', '["orders"]'),
    ('{"action":"subscribe","channel":{"a":1}}', '{"a": 1}'),
    (b'{"action":"subscribe","channel":"orders"}', "binary frame of 41 bytes"),
    ('{"action":"subscribe", channel:', '{"action":"subscribe", channel:'),
    ("[1, 2]", "[1, 2]"),
    ('{"action":"subscribe","channel":"market_data","symbols":"BTCUSD"}', '"BTCUSD"'),
    ('{"action":"subscribe","channel":"market_data","symbols":[1]}', "[1]"),
    ('{"action":"subscribe","channel":"orders","fromSeq":"3"}', '"3"'),
    ('{"action":"subscribe","channel":"orders","fromSeq":-1}', "-1"),
    ('{"action":"subscribe","channel":"orders","fromSeq":true}', "true"),
    ('{"action":"subscribe","channel":"orders","fromSeq":2.5}', "2.5"),
    ('{"action":"unsubscribe","channel":"nope"}', '"nope"'),
    ('{"action":"subscribe","channel":"' + "x" * 100_000 + '"}', "100002 characters"),
    ('{"action":"dance"}', '"dance"'),
]


@pytest.mark.asyncio
async def test_websocket_bad_requests_get_an_error_naming_the_value_and_the_socket_stays_open(
    live: LiveService, deployment: Deployment
) -> None:
    # Before: an unhashable channel (TypeError) or a binary frame (KeyError) crashed the
    # handler (close 1006), text that was not JSON dropped the connection without a
    # word, and bad symbols / fromSeq / unsubscribe channels were accepted silently.
    socket, _ = await _authenticated(live, deployment.users["alice"])
    try:
        for sent, named in BAD_REQUESTS:
            await socket.send(sent)
            reply = await _control(socket)
            assert reply["event"] == "error", (sent[:80], reply)
            assert named in reply["detail"], (sent[:80], reply)
            assert len(reply["detail"]) < 1_000
        # The connection is still open and the refused requests changed nothing.
        await socket.send(json.dumps({"action": "subscribe", "channel": "orders"}))
        assert await _control(socket) == {"event": "subscribed", "channel": "orders"}
    finally:
        await socket.close()


@pytest.mark.asyncio
async def test_websocket_from_seq_after_the_newest_seq_is_refused_not_silently_resumed(
    live: LiveService, deployment: Deployment
) -> None:
    # A seq from before a restart (seqs start again from 1) or a made-up one: resuming
    # "after" it would silently skip every message up to it. The client must be told.
    socket, last_seq = await _authenticated(live, deployment.users["alice"])
    try:
        ahead = last_seq + 1_000_000
        await socket.send(
            json.dumps({"action": "subscribe", "channel": "market_data", "fromSeq": ahead})
        )
        reply = await _control(socket)
        assert reply["event"] == "error", reply
        assert str(ahead) in reply["detail"]
        # A seq the server did send still resumes.
        await socket.send(
            json.dumps({"action": "subscribe", "channel": "market_data", "fromSeq": last_seq})
        )
        assert await _control(socket) == {"event": "subscribed", "channel": "market_data"}
        message = await _receive(socket)
        assert message["channel"] == "market_data" and message["seq"] > last_seq
    finally:
        await socket.close()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("first", "named"),
    [
        (b'{"action":"authenticate"}', "binary frame"),
        ("not json", "not json"),
        ('{"action":"subscribe","channel":"orders"}', '"subscribe"'),
        ('{"action":"authenticate","token":["alp_x"]}', '["alp_x"]'),
    ],
)
async def test_websocket_bad_first_message_is_closed_4401_with_the_reason(
    live: LiveService, deployment: Deployment, first: str | bytes, named: str
) -> None:
    # Before: a binary or non-JSON first frame ended the connection with 1006 and no
    # error message.
    async with connect(live.ws_url) as socket:
        await socket.send(first)
        error = await _receive(socket)
        assert error["event"] == "error"
        assert named in error["detail"]
        await asyncio.wait_for(socket.wait_closed(), WAIT_S)
        assert socket.close_code == 4401
