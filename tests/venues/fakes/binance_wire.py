"""Binance's wire shapes for the fake: constants, errors and JSON renderings of the book.

Field names and number formats follow /work/shared/specs/binance_spot_api.yaml
(``orderDetails``, ``order``, ``orderResponseFull``, ``myTrade``, ``error``) and what
the live venue sends.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .crypto_spot import SpotMarket, SpotOrder, SpotTrade

Json = dict[str, Any]

MARKETS = [
    SpotMarket(
        "BTCUSDT",
        "BTC",
        "USDT",
        Decimal("0.01"),
        Decimal("0.00001"),
        Decimal("0.00001"),
        Decimal(5),
    ),
    SpotMarket(
        "ETHUSDT",
        "ETH",
        "USDT",
        Decimal("0.01"),
        Decimal("0.0001"),
        Decimal("0.0001"),
        Decimal(5),
    ),
]
BALANCES = {"BTC": Decimal(100), "ETH": Decimal(1000), "USDT": Decimal(10_000_000)}
ORDER_TYPES = [
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
]
CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
RECV_WINDOW_MAX = 60_000


class BinanceError(Exception):
    """An answer in Binance's error shape."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{code} {msg}")
        self.status = status
        self.body: Json = {"code": code, "msg": msg}


def missing(name: str) -> BinanceError:
    return BinanceError(
        400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def not_required(name: str) -> BinanceError:
    return BinanceError(400, -1106, f"Parameter '{name}' sent when not required.")


def fmt(value: Decimal | None) -> str:
    """Return a number as Binance prints it: eight decimals."""
    return f"{(value or Decimal(0)):.8f}"


@dataclass
class Recorded:
    """One request and the answer the fake gave (for conformance checks)."""

    method: str
    path: str
    status: int
    body: Any


REJECTS = {
    "BAD_QUANTITY": (400, -1013, "Filter failure: LOT_SIZE"),
    "MIN_QTY": (400, -1013, "Filter failure: LOT_SIZE"),
    "BAD_PRICE": (400, -1013, "Filter failure: PRICE_FILTER"),
    "MIN_NOTIONAL": (400, -1013, "Filter failure: NOTIONAL"),
    "INSUFFICIENT_FUNDS": (400, -2010, "Account has insufficient balance for requested action."),
    "DUPLICATE_CLIENT_ID": (400, -2010, "Duplicate order sent."),
    "WOULD_TAKE": (400, -2010, "Order would immediately match and take."),
    "WOULD_TRIGGER": (400, -2010, "Order would trigger immediately."),
    "NO_QUOTE": (400, -2010, "Market is closed."),
    "UNKNOWN_SYMBOL": (400, -1121, "Invalid symbol."),
    "UNKNOWN_ORDER": (400, -2011, "Unknown order sent."),
}


def without_signature(raw: str) -> str:
    return "&".join(p for p in raw.split("&") if p and not p.startswith("signature="))


def int_param(params: dict[str, str], name: str) -> int:
    raw = params.get(name)
    if raw is None or not raw.lstrip("-").isdigit():
        raise missing(name)
    return int(raw)


def decimal_param(params: dict[str, str], name: str, *, required: bool = False) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise missing(name)
        return None
    if not DECIMAL.fullmatch(raw):
        raise BinanceError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is "
            "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        )
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise missing(name) from None


def generated_id() -> str:
    return secrets.token_urlsafe(16)[:22].replace("-", "a").replace("_", "b")


def symbol_info(market: SpotMarket) -> Json:
    return {
        "symbol": market.symbol,
        "status": "TRADING",
        "baseAsset": market.base,
        "baseAssetPrecision": 8,
        "quoteAsset": market.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ORDER_TYPES,
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": fmt(market.tick),
                "maxPrice": "1000000.00000000",
                "tickSize": fmt(market.tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": fmt(market.min_qty),
                "maxQty": "9000.00000000",
                "stepSize": fmt(market.step),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": "0.00000000",
                "maxQty": "100.00000000",
                "stepSize": "0.00000000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": fmt(market.min_notional),
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def wire_type(order: SpotOrder) -> str:
    return "LIMIT_MAKER" if order.post_only else order.kind


def order_fields(order: SpotOrder, kind: str) -> Json:
    fields: Json = {
        "price": fmt(order.price),
        "origQty": fmt(order.quantity),
        "executedQty": fmt(order.filled),
        "origQuoteOrderQty": fmt(None),
        "cummulativeQuoteQty": fmt(order.quote_filled),
        "status": order.status,
        "timeInForce": order.tif,
        "type": kind,
        "side": order.side,
    }
    if order.stop_price is not None:
        fields["stopPrice"] = fmt(order.stop_price)
    if order.iceberg_qty is not None:
        fields["icebergQty"] = fmt(order.iceberg_qty)
    return fields


def order_details(order: SpotOrder) -> Json:
    return {
        "symbol": order.symbol,
        "orderId": int(order.oid),
        "orderListId": -1,
        "clientOrderId": order.client_id,
        **order_fields(order, wire_type(order)),
        "stopPrice": fmt(order.stop_price),
        "icebergQty": fmt(order.iceberg_qty),
        "time": order.created_ms,
        "updateTime": order.updated_ms,
        "isWorking": not (order.kind not in ("MARKET", "LIMIT") and not order.triggered),
        "workingTime": order.created_ms,
        "selfTradePreventionMode": "EXPIRE_MAKER",
    }


def fill_entry(trade: SpotTrade) -> Json:
    return {
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "commission": fmt(trade.fee),
        "commissionAsset": trade.fee_asset,
        "tradeId": int(trade.tid),
    }


def my_trade(trade: SpotTrade, order: SpotOrder) -> Json:
    return {
        "symbol": trade.symbol,
        "id": int(trade.tid),
        "orderId": int(trade.oid),
        "orderListId": -1,
        "price": fmt(trade.price),
        "qty": fmt(trade.qty),
        "quoteQty": fmt(trade.price * trade.qty),
        "commission": fmt(trade.fee),
        "commissionAsset": trade.fee_asset,
        "time": trade.time_ms,
        "isBuyer": order.side == "BUY",
        "isMaker": trade.maker,
        "isBestMatch": True,
    }
