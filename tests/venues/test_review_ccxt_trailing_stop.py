"""ccxt: an open trailing stop (placed by hand) must not break account().

Kraken has ``trailing-stop`` orders (its UI places them) and Binance futures
``TRAILING_STOP_MARKET``; ccxt passes both types through (``trailing-stop``,
``trailing_stop_market``). The translation knew neither, so every read of the open
orders of every symbol (``account()``, which reconciliation runs) failed TRANSIENT while
such an order rested, and the venue stayed unreconciled. They are trailing stops.
"""

from __future__ import annotations

import time

import pytest

from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.identifiers import VenueOrderId
from alphintra.venues.ccxt.client_ids import ClientIdCodec
from alphintra.venues.ccxt.config import MarketType
from alphintra.venues.ccxt.profiles import BINANCE
from alphintra.venues.ccxt.translation import SymbolMap, order_state

from .ccxt.support import BTCUSD, kraken, order

pytestmark = pytest.mark.asyncio


def _kraken_trailing_stop() -> dict[str, object]:
    now = time.time()
    return {
        "refid": None,
        "userref": 0,
        "status": "open",
        "opentm": now,
        "starttm": 0,
        "expiretm": 0,
        "descr": {
            "pair": "XBTUSD",
            "type": "sell",
            "ordertype": "trailing-stop",
            "price": "+1.0000%",
            "price2": "0",
            "leverage": "none",
            "order": "sell 0.50000000 XBTUSD @ trailing stop +1.0000%",
            "close": "",
        },
        "vol": "0.50000000",
        "vol_exec": "0.00000000",
        "cost": "0.00000",
        "fee": "0.00000",
        "price": "0.00000",
        "stopprice": "0.00000",
        "limitprice": "0.00000",
        "misc": "",
        "oflags": "fciq",
    }


async def test_kraken_account_reads_a_resting_trailing_stop() -> None:
    async with kraken() as v:
        resting = order(BTCUSD, order_type=OrderType.LIMIT, price="29000.0")
        await v.adapter.place_order(resting)
        v.fake.foreign_open_orders["OTRAIL-AAAAA-BBBBBB"] = _kraken_trailing_stop()
        snapshot = await v.adapter.account()
    kinds = {
        o.venue_order_id: (o.client_order_id, o.order_type, o.side) for o in snapshot.open_orders
    }
    assert resting.client_order_id in {cid for cid, _, _ in kinds.values()}
    assert kinds[VenueOrderId("OTRAIL-AAAAA-BBBBBB")][1:] == (
        OrderType.TRAILING_STOP,
        OrderSide.SELL,
    )


async def test_binance_futures_trailing_stop_market_type_is_a_trailing_stop() -> None:
    markets = {"BTC/USDT:USDT": {"base": "BTC", "quote": "USDT", "swap": True, "linear": True}}
    raw = {
        "id": "8886774",
        "clientOrderId": "web_trailing_1",
        "symbol": "BTC/USDT:USDT",
        "type": "trailing_stop_market",
        "side": "sell",
        "status": "open",
        "amount": 0.5,
        "filled": 0.0,
        "price": None,
        "triggerPrice": 29000.0,
        "timestamp": 1_700_000_000_000,
    }
    state = order_state(
        raw,
        symbols=SymbolMap(markets, MarketType.SWAP),
        codec=ClientIdCodec(BINANCE.client_id),
    )
    assert (state.order_type, state.side) == (OrderType.TRAILING_STOP, OrderSide.SELL)
