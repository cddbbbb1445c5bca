"""A connection whose credentials stop being valid is closed, not left streaming."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from alphintra.api import websocket as websocket_api
from alphintra.security import Role, issue_token
from api.live import WAIT_S, Deployment, LiveService


async def _streaming(live: LiveService, token: str) -> ClientConnection:
    """Connect with ``token`` and subscribe to market data (a message every few ms)."""
    socket = await connect(live.ws_url)
    await socket.send(json.dumps({"action": "authenticate", "token": token}))
    hello = json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))
    assert hello["event"] == "authenticated", hello
    await socket.send(json.dumps({"action": "subscribe", "channel": "market_data"}))
    return socket


async def _closed_within_wait(socket: ClientConnection) -> list[str]:
    """Read until the server closes the connection (at most WAIT_S); return the frames."""

    async def drain(frames: list[str]) -> None:
        with pytest.raises(ConnectionClosed):
            while True:
                frames.append(str(await socket.recv()))

    frames: list[str] = []
    try:
        await asyncio.wait_for(drain(frames), WAIT_S)
    except TimeoutError:
        pytest.fail(f"still streaming {WAIT_S} s after the credentials stopped being valid")
    return frames


@pytest.mark.asyncio
async def test_websocket_api_key_revoked_mid_connection_closes_4401(
    live: LiveService, deployment: Deployment
) -> None:
    # Before: the key was checked once, at authentication; a revoked key streamed on.
    alice = deployment.users["alice"]
    socket = await _streaming(live, alice.key)
    try:
        assert json.loads(await asyncio.wait_for(socket.recv(), WAIT_S))["event"] == "subscribed"
        assert live.runtime.directory.revoke_key(alice.key[4:16])
        frames = await _closed_within_wait(socket)
        assert socket.close_code == 4401, (socket.close_code, socket.close_reason)
        assert "revoked" in (socket.close_reason or "")
        assert json.loads(frames[-1])["event"] == "error"
    finally:
        await socket.close()


@pytest.mark.asyncio
async def test_websocket_jwt_expiring_mid_connection_closes_4401(
    live: LiveService, deployment: Deployment
) -> None:
    # A token with five seconds left: valid when the connection authenticates.
    issued = int(time.time()) - 3600 + 5
    token = issue_token("alice", Role.TRADER, deployment.settings.jwt_secret, now=issued)
    socket = await _streaming(live, token)
    try:
        frames = await _closed_within_wait(socket)
        assert socket.close_code == 4401, (socket.close_code, socket.close_reason)
        assert "expired" in (socket.close_reason or "")
        assert any(json.loads(f).get("event") == "subscribed" for f in frames)
    finally:
        await socket.close()


@pytest.mark.asyncio
async def test_websocket_silent_client_is_closed_4401_at_the_auth_timeout(
    live: LiveService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: the handler returned on the timeout without a close frame or a reason.
    monkeypatch.setattr(websocket_api, "AUTH_TIMEOUT_S", 0.2)
    socket = await connect(live.ws_url)
    try:
        frames = await _closed_within_wait(socket)
        assert socket.close_code == 4401, (socket.close_code, socket.close_reason)
        assert "no authenticate message within 0.2 s" in (socket.close_reason or "")
        assert json.loads(frames[-1])["event"] == "error"
    finally:
        await socket.close()
