"""Fan-out of account events to WebSocket clients, with resumable sequence numbers.

Every message gets a global, strictly increasing ``seq``, which a service starts from the
clock (`run_first_seq`) so that seqs never repeat across restarts. The hub keeps the latest
messages in a ring buffer, so a client that reconnects with the last ``seq`` it saw
receives everything after it, provided it is still buffered; when it is not, the
client is told exactly which range it lost (``resume_gap``) instead of silently
missing events. A client that falls ``QUEUE_SIZE`` messages behind is dropped (its
subscription is removed and ``dropped`` set) rather than given a stream with a gap.

A payload may be given as a function that builds it: it is then built once, when a
client first needs the message (live or on resume), and never when nobody does. The
function must depend only on values captured when it was published (a snapshot of
mutable state), so that the payload is the same whenever it is built.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

CHANNELS = frozenset(
    {"orders", "trades", "positions", "portfolio", "signals", "market_data", "alerts"}
)


Payload = dict[str, Any]
PayloadSource = Payload | Callable[[], Payload]
"""A payload, or a function that builds it from values captured at publication."""


class HubMessage(msgspec.Struct, gc=False, eq=False):
    """One message for subscribers of ``channel`` on ``account_id`` (build with `of`).

    Compared by identity. Not tracked by Python's cyclic garbage collector (``gc=False``):
    the hub holds up to ``buffer_size`` of them, several per signal, which every young
    collection would otherwise walk. A message can be in no reference cycle: nothing it
    refers to (its payload, or the function that builds it from values captured at
    publication) refers back to it.
    """

    seq: int
    channel: str
    account_id: str
    symbol: str | None
    _payload: Payload | None = None
    _build: Callable[[], Payload] | None = None

    @classmethod
    def of(
        cls, seq: int, channel: str, account_id: str, symbol: str | None, payload: PayloadSource
    ) -> HubMessage:
        """Return a message of ``payload``, or of the function that builds it."""
        if callable(payload):
            return cls(seq, channel, account_id, symbol, None, payload)
        return cls(seq, channel, account_id, symbol, payload)

    @property
    def payload(self) -> Payload:
        """Return the payload, building it on first use."""
        payload = self._payload
        if payload is None:
            assert self._build is not None
            payload = self._payload = self._build()
            self._build = None
        return payload

    def __repr__(self) -> str:
        return (
            f"HubMessage(seq={self.seq}, channel={self.channel!r}, "
            f"account_id={self.account_id!r}, symbol={self.symbol!r})"
        )

    def wire(self) -> dict[str, Any]:
        """Return the JSON shape sent to clients: ``{channel, payload, seq}``."""
        return {
            "channel": self.channel,
            "payload": self.payload,
            "seq": self.seq,
            "accountId": self.account_id,
        }


QUEUE_SIZE = 10_000
"""How many messages a client may have pending before the hub drops it."""


@dataclass(slots=True, eq=False)  # identity: subscriptions live in a set
class Subscription:
    """One client's filters and its queue of pending messages."""

    account_ids: frozenset[str]
    queue: asyncio.Queue[HubMessage] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    channels: dict[str, frozenset[str] | None] = field(default_factory=dict)
    """Channel -> symbols (None: every symbol)."""
    lost_from: int = 0
    """The seq of the first message this client missed (0 while it missed none)."""
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a message did not fit in the queue: the hub then stops feeding this
    client (its stream has a gap from ``lost_from``)."""

    def wants(self, message: HubMessage) -> bool:
        """Return True when this client subscribed to the message's channel and symbol."""
        if message.account_id not in self.account_ids:
            return False
        if message.channel not in self.channels:
            return False
        symbols = self.channels[message.channel]
        return symbols is None or message.symbol is None or message.symbol in symbols


class EventHub:
    """Numbers, buffers and delivers messages to subscriptions."""

    def __init__(self, buffer_size: int = 100_000, first_seq: int = 1) -> None:
        if first_seq < 1:
            raise ValueError(f"EventHub: first_seq must be at least 1, got {first_seq}")
        self.first_seq = first_seq
        """The seq of this hub's first message; `run_first_seq` for a service."""
        self._seq = first_seq - 1
        self._buffer: deque[HubMessage] = deque(maxlen=buffer_size)
        self._subscriptions: set[Subscription] = set()

    @property
    def last_seq(self) -> int:
        """Return the seq of the newest message (``first_seq - 1`` before any)."""
        return self._seq

    def publish(
        self, channel: str, account_id: str, payload: PayloadSource, symbol: str | None = None
    ) -> HubMessage:
        """Number and buffer one message, and queue it for every interested client.

        A client whose queue is full is unsubscribed and its ``dropped`` set.

        ``payload`` may be a function that builds it (see the module docstring).
        """
        self._seq += 1
        message = HubMessage.of(self._seq, channel, account_id, symbol, payload)
        self._buffer.append(message)
        overflowed: list[Subscription] = []
        for subscription in self._subscriptions:
            if subscription.wants(message):
                try:
                    subscription.queue.put_nowait(message)
                except asyncio.QueueFull:
                    overflowed.append(subscription)
        for subscription in overflowed:
            # A client that fell QUEUE_SIZE messages behind is dropped rather than given
            # a stream with a silent gap; its owner closes the connection (`dropped`).
            subscription.lost_from = message.seq
            self._subscriptions.discard(subscription)
            subscription.dropped.set()
        return message

    def subscribe(self, account_ids: Iterable[str]) -> Subscription:
        """Register a client allowed to see ``account_ids``."""
        subscription = Subscription(frozenset(account_ids))
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a client."""
        self._subscriptions.discard(subscription)

    def replay(self, subscription: Subscription, after_seq: int) -> tuple[list[HubMessage], int]:
        """Return buffered messages after ``after_seq`` for this client, and the first seq
        that is no longer buffered (0 when nothing was lost).

        ``after_seq`` 0 asks for everything from this hub's first message. A seq below
        ``first_seq`` is from an earlier run (before a restart): what followed it then is
        gone, so it reads as a gap from the seq after it.
        """
        after = self.first_seq - 1 if after_seq == 0 else after_seq
        oldest = self._buffer[0].seq if self._buffer else self._seq + 1
        lost_from = after + 1 if after + 1 < oldest else 0
        return [m for m in self._buffer if m.seq > after and subscription.wants(m)], lost_from


def run_first_seq() -> int:
    """Return the first seq of a service run: the microseconds since the epoch now.

    Seqs then never repeat across restarts (an earlier run would have had to publish
    more than a message a microsecond to reach it), so a client resuming from a seq
    of an earlier run is told of the gap rather than given this run's messages under
    seqs it thinks it has seen. It stays below 2**53, exact in JavaScript, until 2255.
    """
    return time.time_ns() // 1_000
