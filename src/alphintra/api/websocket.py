"""The WebSocket protocol of ``/api/v1/ws``: authenticate, subscribe, stream, resume.

A client sends ``{"action": "authenticate", "token": ...}`` first (anything else closes
the connection with 4401), then ``subscribe`` / ``unsubscribe`` requests. Every request
is checked before it changes anything: a request that is not a JSON object, an unknown
action or channel, ``symbols`` that are not a list of strings, or a ``fromSeq`` that is
not a seq this server could have sent gets ``{"event": "error", "detail": ...}`` naming
the value received, and the connection stays open with its subscriptions unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from fastapi import WebSocket, WebSocketDisconnect

from alphintra.api.auth import Authenticator, AuthError
from alphintra.service.hub import CHANNELS, QUEUE_SIZE, EventHub, HubMessage, Subscription

if TYPE_CHECKING:
    from alphintra.api.portal import Portal

AUTH_TIMEOUT_S: Final = 30.0
"""How long a new connection may wait before authenticating."""
SHOWN_CHARS: Final = 200
"""How much of a bad value an error message quotes."""
UNAUTHORIZED: Final = 4401
TOO_SLOW: Final = 4008
"""Close code of a client dropped for falling ``QUEUE_SIZE`` messages behind."""
CREDENTIAL_CHECK_S: Final = 1.0
"""How often an open connection's token is checked again (revocation, expiry)."""
SLOW_CLOSE_TIMEOUT_S: Final = 30.0
"""How long a dropped client's close frame may wait for the client to read."""


class BadRequest(Exception):
    """A client request that cannot be carried out; the message names the value received."""


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    """A checked ``subscribe``: the channel, its symbols (None: all) and where to resume."""

    channel: str
    symbols: frozenset[str] | None
    from_seq: int | None


def show(value: Any) -> str:
    """Return ``value`` as JSON, cut to ``SHOWN_CHARS`` for an error message."""
    return cut(json.dumps(value, default=repr))


def cut(text: str) -> str:
    """Return ``text`` cut to ``SHOWN_CHARS``, saying how long it was."""
    if len(text) > SHOWN_CHARS:
        return f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"
    return text


async def next_request(socket: WebSocket) -> dict[str, Any]:
    """Return the client's next message as a JSON object.

    Raises ``WebSocketDisconnect`` when the client went away, and ``BadRequest`` for a
    binary frame, text that is not JSON, or JSON that is not an object.
    """
    message = await socket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if text is None:
        size = len(message.get("bytes") or b"")
        raise BadRequest(f"send JSON text frames; received a binary frame of {size} bytes")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"message is not JSON ({exc.msg} at character {exc.pos}): {cut(text)}"
        ) from None
    if not isinstance(value, dict):
        raise BadRequest(f"messages must be JSON objects; received {cut(text)}")
    return value


def channel_of(request: dict[str, Any]) -> str:
    """Return the request's ``channel``, or raise ``BadRequest`` naming what was sent."""
    channel = request.get("channel")
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise BadRequest(f"unknown channel {show(channel)}; known: {sorted(CHANNELS)}")
    return channel


def parse_subscribe(request: dict[str, Any], last_seq: int) -> SubscribeRequest:
    """Check a ``subscribe`` request against the hub's newest seq ``last_seq``."""
    channel = channel_of(request)
    symbols = request.get("symbols")
    chosen: frozenset[str] | None = None
    if symbols is not None:
        if not isinstance(symbols, list) or not all(
            isinstance(s, str) and s.strip() for s in symbols
        ):
            raise BadRequest(
                f'symbols must be a list of symbol strings, like ["BTCUSD"]; '
                f"received {show(symbols)}"
            )
        chosen = frozenset(s.strip().upper() for s in symbols) or None
    from_seq = request.get("fromSeq")
    if from_seq is not None:
        if isinstance(from_seq, bool) or not isinstance(from_seq, int) or from_seq < 0:
            raise BadRequest(
                f"fromSeq must be a whole number >= 0 (the last seq seen); "
                f"received {show(from_seq)}"
            )
        if from_seq > last_seq:
            raise BadRequest(
                f"fromSeq {from_seq} is after the newest seq {last_seq}: it was not sent "
                "by this server (seqs start again from 1 when the server restarts); "
                "subscribe with fromSeq 0 to get every message still kept, and reload "
                "the rest over REST"
            )
    return SubscribeRequest(channel, chosen, from_seq)


async def serve_websocket(socket: WebSocket, auth: Authenticator, portal: Portal) -> None:
    """Speak the WebSocket protocol: authenticate, subscribe, stream, resume."""
    hub = portal.hub
    await socket.accept()
    subscription: Subscription | None = None
    try:
        try:
            first = await asyncio.wait_for(next_request(socket), timeout=AUTH_TIMEOUT_S)
        except TimeoutError:
            await _close(
                socket,
                UNAUTHORIZED,
                f"no authenticate message within {AUTH_TIMEOUT_S:g} s of connecting",
            )
            return
        except BadRequest as exc:
            await _close(socket, UNAUTHORIZED, f"first message must authenticate: {exc}")
            return
        if first.get("action") != "authenticate":
            await _close(
                socket,
                UNAUTHORIZED,
                "first message must be {action: authenticate, token}; "
                f"received action {show(first.get('action'))}",
            )
            return
        token = first.get("token")
        if not isinstance(token, str) or not token:
            await _close(socket, UNAUTHORIZED, f"token must be a string; received {show(token)}")
            return
        try:
            who = await auth.authenticate({"authorization": f"Bearer {token}"}, portal)
        except AuthError as exc:
            await _close(socket, UNAUTHORIZED, exc.detail)
            return
        allowed = (
            who.accounts if who.accounts is not None else frozenset(portal.service.accounts) | {"*"}
        )
        subscription = hub.subscribe(allowed | {"*"})
        await socket.send_json(
            {"event": "authenticated", "user": who.user_id, "lastSeq": hub.last_seq}
        )
        send_lock = asyncio.Lock()
        watermarks: dict[str, int] = {}
        sender = asyncio.create_task(_pump(socket, subscription, send_lock, watermarks))
        reader = asyncio.create_task(_read(socket, hub, subscription, send_lock, watermarks))
        dropped = asyncio.create_task(subscription.dropped.wait())
        guard = asyncio.create_task(_watch_credentials(auth, portal, token))
        tasks = (sender, reader, dropped, guard)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if subscription.dropped.is_set():
            await _drop_slow(socket, subscription)
            return
        refused = None if guard.cancelled() or guard.exception() else guard.result()
        if refused is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    _close(socket, UNAUTHORIZED, f"credentials no longer valid: {refused}"),
                    SLOW_CLOSE_TIMEOUT_S,
                )
            return
        for task in (reader, guard):
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
    except (TimeoutError, WebSocketDisconnect, RuntimeError):
        return
    finally:
        if subscription is not None:
            hub.unsubscribe(subscription)


async def _watch_credentials(auth: Authenticator, portal: Portal, token: str) -> str:
    """Check the connection's token every ``CREDENTIAL_CHECK_S``; return why it failed.

    An API key revoked or a JWT expired after the connection authenticated ends the
    stream (the caller closes it with 4401) instead of streaming on indefinitely.
    """
    while True:
        await asyncio.sleep(CREDENTIAL_CHECK_S)
        try:
            await auth.authenticate({"authorization": f"Bearer {token}"}, portal)
        except AuthError as exc:
            return exc.detail


async def _read(
    socket: WebSocket,
    hub: EventHub,
    subscription: Subscription,
    send_lock: asyncio.Lock,
    watermarks: dict[str, int],
) -> None:
    """Carry out the client's requests until it goes away."""
    while True:
        try:
            request = await next_request(socket)
            await _handle(socket, hub, subscription, request, send_lock, watermarks)
        except BadRequest as exc:
            async with send_lock:
                await socket.send_json({"event": "error", "detail": str(exc)})


async def _drop_slow(socket: WebSocket, subscription: Subscription) -> None:
    """Close the connection of a client the hub dropped for falling too far behind.

    The close frame waits behind what the client has not read yet; when it does not
    read within ``SLOW_CLOSE_TIMEOUT_S``, the connection is given up without it.
    """
    reason = (
        f"too slow: {QUEUE_SIZE} messages pending, lost from seq {subscription.lost_from}; "
        "reconnect with fromSeq"
    )
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            socket.close(code=TOO_SLOW, reason=_close_reason(reason)), SLOW_CLOSE_TIMEOUT_S
        )


async def _handle(
    socket: WebSocket,
    hub: EventHub,
    subscription: Subscription,
    request: dict[str, Any],
    send_lock: asyncio.Lock,
    watermarks: dict[str, int],
) -> None:
    """Carry out one request after authentication (raise ``BadRequest`` to refuse it)."""
    action = request.get("action")
    if action == "subscribe":
        wanted = parse_subscribe(request, hub.last_seq)
        channel = wanted.channel
        # No await between setting the filter and reading the backlog: every message
        # is then either in the backlog or queued for the pump, once.
        subscription.channels[channel] = wanted.symbols
        backlog: list[HubMessage] = []
        lost_from = 0
        if wanted.from_seq is not None:
            replayed, lost_from = hub.replay(subscription, wanted.from_seq)
            backlog = [m for m in replayed if m.channel == channel]
        async with send_lock:
            await socket.send_json({"event": "subscribed", "channel": channel})
            if lost_from:
                await socket.send_json({"event": "resume_gap", "fromSeq": lost_from})
            for item in backlog:
                await socket.send_json(item.wire())
            if backlog:
                watermarks[channel] = backlog[-1].seq
    elif action == "unsubscribe":
        channel = channel_of(request)
        subscription.channels.pop(channel, None)
        async with send_lock:
            await socket.send_json({"event": "unsubscribed", "channel": channel})
    else:
        raise BadRequest(
            f"unknown action {show(action)}; known: authenticate (first), subscribe, unsubscribe"
        )


async def _pump(
    socket: WebSocket,
    subscription: Subscription,
    send_lock: asyncio.Lock,
    watermarks: dict[str, int],
) -> None:
    """Send live messages in seq order, skipping any a replay has already sent.

    A message is checked against the client's filters again when it is sent: one queued
    before an ``unsubscribe`` (or a subscribe with other symbols) is not sent after it.
    """
    while True:
        message = await subscription.queue.get()
        async with send_lock:
            if message.seq > watermarks.get(message.channel, 0) and subscription.wants(message):
                await socket.send_json(message.wire())


async def _close(socket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await socket.send_json({"event": "error", "detail": reason})
        await socket.close(code=code, reason=_close_reason(reason))


def _close_reason(reason: str) -> str:
    """Cut ``reason`` to fit a close frame (123 bytes of UTF-8)."""
    encoded = reason.encode()
    if len(encoded) <= 123:
        return reason
    return encoded[:120].decode(errors="ignore") + "..."
