"""`OrderQuality.venues`: the venues that filled an order, in order of first fill.

A one-fill order (most orders) takes a shortcut; it must answer as the general path does.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, TradeId, VenueId
from alphintra.domain.market import QuoteTick
from alphintra.execution.quality import Execution, OrderQuality, OrderRecord, order_quality

XYZ = InstrumentId("XYZ")
SEC = 1_000_000_000
D = Decimal


def _quality(venues: list[VenueId | None]) -> OrderQuality:
    quotes = [QuoteTick(XYZ, D("99.9"), D("100.1"), D(1), D(1), 0)]
    fills = tuple(
        Execution(SEC + i, D("100.1"), D(1), D(0), venue, TradeId(f"t{i}"))
        for i, venue in enumerate(venues)
    )
    order = OrderRecord(
        ClientOrderId("O"), XYZ, OrderSide.BUY, D(len(venues) or 1), 10, fills, "USD"
    )
    return order_quality(order, quotes, horizon_ns=60 * SEC)


def _general(quality: OrderQuality) -> tuple[VenueId, ...]:
    return tuple(dict.fromkeys(f.venue for f in quality.fills if f.venue is not None))


@pytest.mark.parametrize(
    "venues",
    [
        [VenueId("SIM")],
        [None],
        [],
        [VenueId("B"), VenueId("A"), VenueId("B"), None, VenueId("C")],
        [None, VenueId("A")],
    ],
)
def test_venues_in_order_of_first_fill(venues: list[VenueId | None]) -> None:
    quality = _quality(venues)
    assert quality.venues == _general(quality)
    expected = tuple(dict.fromkeys(v for v in venues if v is not None))
    assert quality.venues == expected
    one = dataclasses.replace(quality, fills=quality.fills[:1])
    assert one.venues == _general(one)
