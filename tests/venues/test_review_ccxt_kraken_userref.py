"""ccxt Kraken: an order without ``cl_ord_id`` is not named by its ``userref``.

ccxt reads Kraken's ``cl_ord_id`` as the client order ID and falls back to ``userref``,
an int32 that is 0 unless the placer set it. So every order placed by hand (the Kraken
UI sets no client ID) came out as client order ID "0": reconciliation saw one open
order where there were several (it keys them by client order ID) and would book the
states and fills of one against the other. The adapter's own IDs travel in
``cl_ord_id`` (``client_ids.py``: ``userref`` is not used); an order without one is
named by its venue order ID, as on the other venues.
"""

from __future__ import annotations

import time

import pytest

from alphintra.domain.enums import OrderType

from .ccxt.support import BTCUSD, kraken, order

pytestmark = pytest.mark.asyncio


def _manual_limit(volume: str, price: str) -> dict[str, object]:
    return {
        "refid": None,
        "userref": 0,
        "status": "open",
        "opentm": time.time(),
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": "XBTUSD",
            "type": "buy",
            "ordertype": "limit",
            "price": price,
            "price2": "0",
            "leverage": "none",
            "order": f"buy {volume} XBTUSD @ limit {price}",
            "close": "",
        },
        "vol": volume,
        "vol_exec": "0.00000000",
        "cost": "0.00000",
        "fee": "0.00000",
        "price": "0.00000",
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
    }


async def test_orders_placed_by_hand_keep_distinct_client_ids() -> None:
    async with kraken() as v:
        ours = order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0")
        await v.adapter.place_order(ours)
        v.fake.foreign_open_orders["OMANUA-AAAAA-111111"] = _manual_limit("0.20000000", "28000.0")
        v.fake.foreign_open_orders["OMANUA-BBBBB-222222"] = _manual_limit("0.30000000", "27000.0")
        snapshot = await v.adapter.account()
    named = {str(o.venue_order_id): str(o.client_order_id) for o in snapshot.open_orders}
    assert named["OMANUA-AAAAA-111111"] == "venue-OMANUA-AAAAA-111111"
    assert named["OMANUA-BBBBB-222222"] == "venue-OMANUA-BBBBB-222222"
    assert str(ours.client_order_id) in named.values()
