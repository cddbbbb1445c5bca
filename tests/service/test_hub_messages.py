"""Hub messages: lazily built payloads, identity, and no work for the cyclic collector.

The hub buffers up to ``buffer_size`` messages, several per signal. They are msgspec
structs with ``gc=False``, so the garbage collector never walks them; what they capture
must still be freed as soon as a message leaves the buffer.
"""

from __future__ import annotations

import gc
import time
import weakref
from functools import partial
from typing import Any

import pytest

from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.service.hub import EventHub, HubMessage
from alphintra.service.trading import TradingService
from alphintra.store.memory import MemoryJournal


class _Captured:
    """Something a payload builder captured (weak-referenceable)."""

    def __init__(self, value: int) -> None:
        self.value = value


def _payload_of(captured: _Captured) -> dict[str, Any]:
    return {"value": captured.value}


def test_messages_are_not_tracked_by_the_collector() -> None:
    hub = EventHub()
    direct = hub.publish("signals", "A", {"signalId": "s1"})
    built = hub.publish("orders", "A", lambda: {"orderId": "o1"}, symbol="XYZ")
    assert not gc.is_tracked(direct)
    assert not gc.is_tracked(built)


def test_payload_is_built_once_and_only_when_needed() -> None:
    hub = EventHub()
    calls: list[int] = []

    def build() -> dict[str, Any]:
        calls.append(1)
        return {"orderId": "o1"}

    message = hub.publish("orders", "A", build, symbol="XYZ")
    assert calls == []
    assert message.payload == {"orderId": "o1"}
    assert message.payload is message.payload
    assert calls == [1]
    assert message.wire() == {
        "channel": "orders",
        "payload": {"orderId": "o1"},
        "seq": 1,
        "accountId": "A",
    }
    given = {"signalId": "s1"}
    assert hub.publish("signals", "A", given).payload is given


def test_messages_compare_by_identity() -> None:
    first = HubMessage.of(1, "signals", "A", None, {"signalId": "s1"})
    twin = HubMessage.of(1, "signals", "A", None, {"signalId": "s1"})
    assert first != twin
    assert first == first  # noqa: PLR0124
    assert len({first, twin}) == 2
    assert repr(first) == "HubMessage(seq=1, channel='signals', account_id='A', symbol=None)"


def test_what_a_message_captured_is_freed_when_it_leaves_the_buffer() -> None:
    hub = EventHub(buffer_size=2)
    captured = _Captured(7)
    alive = weakref.ref(captured)
    hub.publish("orders", "A", partial(_payload_of, captured))
    del captured
    assert alive() is not None  # held by the buffered message's builder
    hub.publish("signals", "A", {"signalId": "s1"})
    hub.publish("signals", "A", {"signalId": "s2"})
    assert alive() is None  # freed by reference counting, no collection needed


def test_replay_returns_the_buffered_messages_after_a_seq() -> None:
    hub = EventHub(buffer_size=3)
    subscription = hub.subscribe(["A"])
    subscription.channels["signals"] = None
    for index in range(5):
        hub.publish("signals", "A", {"signalId": f"s{index}"})
    replayed, lost_from = hub.replay(subscription, 1)
    assert [m.seq for m in replayed] == [3, 4, 5]
    assert lost_from == 2
    assert subscription.queue.qsize() == 5


def test_a_seq_from_before_a_restart_reads_as_a_gap_not_as_this_runs_messages() -> None:
    """A restarted service's hub starts above every seq of the run before it: a client
    resuming from a seq it saw then is told what it lost from, and gets this run's
    messages, instead of taking them for ones after its seq."""
    hub = EventHub(first_seq=1_000_000)
    subscription = hub.subscribe(["A"])
    subscription.channels["signals"] = None
    for index in range(3):
        hub.publish("signals", "A", {"signalId": f"s{index}"})
    replayed, lost_from = hub.replay(subscription, 500)  # the last seq of the earlier run
    assert [m.seq for m in replayed] == [1_000_000, 1_000_001, 1_000_002]
    assert lost_from == 501
    replayed, lost_from = hub.replay(subscription, 0)  # everything kept, from the start
    assert ([m.seq for m in replayed], lost_from) == ([1_000_000, 1_000_001, 1_000_002], 0)
    replayed, lost_from = hub.replay(subscription, 1_000_000)
    assert ([m.seq for m in replayed], lost_from) == ([1_000_001, 1_000_002], 0)


def test_a_services_hub_starts_from_the_clock_in_microseconds() -> None:
    before = time.time_ns() // 1_000
    service = TradingService(
        journal=MemoryJournal(), registry=InstrumentRegistry(), clock=SimulatedClock(0)
    )
    assert before <= service.hub.first_seq == service.hub.last_seq + 1
    assert service.hub.first_seq <= time.time_ns() // 1_000
    with pytest.raises(ValueError, match="first_seq must be at least 1, got 0"):
        EventHub(first_seq=0)
