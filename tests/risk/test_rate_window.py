"""Property: the order-rate window counts exactly the stamps within its horizon, though
it forgets the older ones only now and then."""

from __future__ import annotations

import random
from bisect import bisect_right

from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.domain.identifiers import VenueId
from alphintra.risk.context import OrderRateWindow

VENUES = (VenueId("A"), VenueId("B"))
Event = tuple[int, bool, VenueId | None, int]
_EVENTS = st.lists(
    st.tuples(
        st.integers(-50, 400),  # time step (negative: the clock stepped back)
        st.booleans(),  # an order (else another message)
        st.none() | st.sampled_from(VENUES),
        st.integers(-2_000, 500),  # query: how far back from now
    ),
    min_size=1,
    max_size=300,
)


def _replay(horizon: int, events: list[Event]) -> int:
    """Feed ``events`` to a window and to a plain list of every stamp; compare counts."""
    window = OrderRateWindow(horizon)
    kept: dict[tuple[bool, VenueId | None], list[int]] = {}
    now = compared = 0
    for step, is_order, venue, back in events:
        now += step
        scopes = [(False, None)] + ([(False, venue)] if venue is not None else [])
        if is_order:
            scopes += [(True, None)] + ([(True, venue)] if venue is not None else [])
            window.record_order(now, venue)
        else:
            window.record_message(now, venue)
        for scope in scopes:
            stamps = kept.setdefault(scope, [])
            stamps.append(max(now, stamps[-1]) if stamps else now)
        after = now - back
        for (orders, where), stamps in kept.items():
            cutoff = max(after, stamps[-1] - horizon)  # beyond the horizon: forgotten
            expected = len(stamps) - bisect_right(stamps, cutoff)
            counted = (
                window.orders_after(after, where) if orders else window.messages_after(after, where)
            )
            assert counted == expected
            compared += 1
        for where in (None, *VENUES):
            sent = window.sent_after(after, where)
            assert sent == (
                window.orders_after(after, where),
                window.messages_after(after, where),
            )
            for most_orders, most_messages in ((1, None), (None, 2), (3, 5), (40, 60)):
                assert window.below(after, where, most_orders, most_messages) == (
                    (most_orders is None or sent[0] < most_orders)
                    and (most_messages is None or sent[1] < most_messages)
                )
    return compared


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 3_000), _EVENTS)
def test_order_rate_window_random_flows_counts_equal_every_stamp_kept(
    horizon: int, events: list[Event]
) -> None:
    assert _replay(horizon, events) >= len(events)


_ONE_VENUE_FIRST = st.tuples(
    st.lists(
        st.tuples(
            st.integers(-50, 400),
            st.booleans(),
            st.just(VENUES[0]),
            st.integers(-2_000, 500),
        ),
        min_size=1,
        max_size=100,
    ),
    _EVENTS,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 3_000), _ONE_VENUE_FIRST)
def test_order_rate_window_one_venue_then_others_counts_equal_every_stamp_kept(
    horizon: int, flows: tuple[list[Event], list[Event]]
) -> None:
    """While every record names one venue its counts are the account's (kept once);
    the first record naming another venue, or none, parts them."""
    first, then = flows
    assert _replay(horizon, first + then) >= len(first) + len(then)


def test_order_rate_window_long_flows_past_compaction_counts_equal_every_stamp_kept() -> None:
    rnd = random.Random(7)
    for horizon in (0, 500, 40_000, 10**9):
        events = [
            (
                rnd.randint(-5, 40),
                rnd.random() < 0.7,
                rnd.choice((None, *VENUES)) if k > 10_000 else VENUES[0],
                rnd.randint(-60_000, 100),
            )
            for k in range(20_000)
        ]
        assert _replay(horizon, events) >= 20_000
