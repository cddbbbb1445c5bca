"""What we know about each exchange, as data: capabilities, URLs, IDs and quirks.

Binance, Kraken and OKX have hand-written profiles, checked against the exchanges'
documentation, the installed ccxt source and the local fakes. Any other ccxt exchange
gets a conservative profile derived from ccxt's ``has`` flags.

Capabilities (native, per market type):

================  ========================================  ===============  =======  ======  ====
exchange          order types                               times in force   modify   reduce  post
================  ========================================  ===============  =======  ======  ====
binance spot      MARKET LIMIT STOP STOP_LIMIT TAKE_PROFIT  GTC IOC FOK      no [1]   no      yes
                  ICEBERG
binance swap [4]  MARKET LIMIT STOP STOP_LIMIT TAKE_PROFIT  GTC IOC FOK GTD  yes      yes     yes
kraken spot       MARKET LIMIT STOP STOP_LIMIT TAKE_PROFIT  GTC IOC GTD      yes [2]  no [3]  yes
okx spot [5]      MARKET LIMIT                              GTC IOC FOK      no       no      yes
================  ========================================  ===============  =======  ======  ====

[1] ccxt's Binance spot ``editOrder`` is cancel-replace, which gives the new order a new
    client order ID; the engine cancels and re-submits itself instead.
[2] Kraken ``AmendOrder`` keeps the order's txid and ``cl_ord_id``.
[3] Kraken's ``reduce_only`` applies to margin orders only.
[4] From Binance's USDⓈ-M documentation and ccxt; not exercised against a local fake.
[5] OKX trigger orders live in a separate algo-order API that the profile does not use
    (the engine emulates stops); ``clOrdId`` allows 32 letters and digits.

Trailing stops are left to the engine's emulation everywhere, and no OCO is native
(ccxt has no unified OCO call).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from alphintra.domain.enums import OrderType, TimeInForce
from alphintra.venues.adapter import RateLimit
from alphintra.venues.capabilities import VenueCapabilities
from alphintra.venues.ccxt.config import MarketType


class QueryByClientId(StrEnum):
    """How the exchange finds an order by its client order ID."""

    FETCH_ORDER_PARAM = "fetch_order_param"
    """``fetch_order(None, symbol, {'clientOrderId': id})`` (Binance: origClientOrderId)."""
    OPEN_THEN_CLOSED = "open_then_closed"
    """Filter open orders, then closed orders, by the client ID (Kraken: cl_ord_id)."""


class TradePaging(StrEnum):
    """How ``fetch_my_trades`` pages."""

    SINCE = "since"
    """Oldest first from ``since``: the next page starts at the last trade's time."""
    FROM_ID = "from_id"
    """Oldest first; the first page from ``since``, the next from ``fromId`` = last id + 1
    (Binance: trade ids are increasing integers)."""
    OFFSET = "offset"
    """Newest first; the next page is requested with an ``ofs`` offset (Kraken)."""
    UNTIL = "until"
    """Newest first from ``since``; the next page ends where the last one began (ccxt's
    ``until``, OKX ``end``: only records earlier than it)."""


class QuoteSource(StrEnum):
    """Where the best bid and ask come from."""

    ORDER_BOOK = "order_book"
    TICKER = "ticker"


class ClientIdStyle(StrEnum):
    """How an ID the venue would refuse verbatim is mapped to one it accepts."""

    HEX = "hex"
    """``H`` and 32 hex digits of SHA-256 of our ID."""
    UUID = "uuid"
    """A name-based UUID (uuid5) of our ID, in the 36-character hyphenated form."""
    SHORT_HEX = "short_hex"
    """``H`` and 31 hex digits of SHA-256 of our ID: 32 letters and digits (OKX)."""


@dataclass(frozen=True, slots=True)
class ClientIdRule:
    """The venue's rule for client order IDs, and the deterministic fallback mapping."""

    accepts: re.Pattern[str]
    style: ClientIdStyle
    description: str


@dataclass(frozen=True, slots=True)
class ExchangeProfile:
    """Everything exchange-specific that the adapter needs, as data."""

    exchange_id: str
    capabilities: Mapping[MarketType, VenueCapabilities]
    client_id: ClientIdRule
    url_layout: Mapping[MarketType, Mapping[str, str]] = field(default_factory=dict)
    """ccxt ``urls['api']`` key to the path appended to ``CcxtConfig.base_url``."""
    ws_url_layout: Mapping[MarketType, Mapping[str, str]] = field(default_factory=dict)
    """Dotted ccxt ``urls['api']`` key path (``ws.ws-api.spot``) to the path appended to
    ``CcxtConfig.base_url`` with a ws:// or wss:// scheme."""
    websocket_orders: frozenset[MarketType] = frozenset()
    """Market types whose user-data WebSocket (ccxt.pro) is verified against a fake and
    used by ``OrderStream.AUTO``."""
    ws_confirm_by_authenticate: bool = False
    """ccxt.pro's ``authenticate()`` returns once the venue confirmed the private
    subscription (Binance spot: ``userDataStream.subscribe.signature``)."""
    options: Mapping[MarketType, Mapping[str, Any]] = field(default_factory=dict)
    query_by_client_id: QueryByClientId = QueryByClientId.FETCH_ORDER_PARAM
    my_trades_requires_symbol: bool = True
    trade_paging: TradePaging = TradePaging.SINCE
    trade_page_size: int = 500
    bars_page_size: int = 500
    quote_source: QuoteSource = QuoteSource.TICKER
    rate_limit: RateLimit | None = None
    not_found_markers: tuple[str, ...] = ()
    """Error codes or texts that mean "no such order" where ccxt raises something else."""
    throttle_markers: tuple[str, ...] = ()
    """Error codes or texts that mean "refused for now, nothing done" (rate limits)."""
    resync_clock_on_invalid_nonce: bool = False
    """Re-measure the venue's clock (ccxt ``load_time_difference``) when it refuses a
    request's timestamp (Binance -1021, OKX 50102), so that a retry is signed with it.
    Not for venues whose nonce must only grow (Kraken): a new offset could lower it."""
    serialize_requests: bool = False
    """Send one request at a time (Kraken rejects a nonce lower than one already seen)."""
    post_only_sends_tif: bool = True
    gtd_expiry_param: str | None = None
    """Param carrying a GTD order's expiry, in whole units of ``gtd_expiry_unit_ns``."""
    gtd_expiry_unit_ns: int = 1_000_000_000

    def capabilities_for(self, market_type: MarketType) -> VenueCapabilities:
        """Return the capabilities for ``market_type``, or raise for an unsupported one."""
        try:
            return self.capabilities[market_type]
        except KeyError:
            raise ValueError(
                f"{self.exchange_id} has no {market_type.value} market type in its profile; "
                f"known: {sorted(m.value for m in self.capabilities)}"
            ) from None


_BINANCE_CLIENT_ID = ClientIdRule(
    accepts=re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$"),
    style=ClientIdStyle.HEX,
    description="newClientOrderId: ^[.A-Z:/a-z0-9_-]{1,36}$",
)
_KRAKEN_CLIENT_ID = ClientIdRule(
    # Free text of up to 18 ASCII characters (kept to a conservative alphabet); other
    # IDs become a long UUID.
    accepts=re.compile(r"^[A-Za-z0-9._:/-]{1,18}$"),
    style=ClientIdStyle.UUID,
    description="cl_ord_id: a UUID, or free text of at most 18 ASCII characters",
)

_CRYPTO_TIF = frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK})
_TRIGGERS = frozenset(
    {OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT}
)

BINANCE = ExchangeProfile(
    exchange_id="binance",
    capabilities=MappingProxyType(
        {
            MarketType.SPOT: VenueCapabilities(
                order_types=_TRIGGERS | {OrderType.ICEBERG},
                times_in_force=_CRYPTO_TIF,
                supports_modify=False,
                supports_reduce_only=False,
                supports_post_only=True,
                max_orders_per_second=10,
            ),
            MarketType.SWAP: VenueCapabilities(
                order_types=_TRIGGERS,
                times_in_force=_CRYPTO_TIF | {TimeInForce.GTD},
                supports_modify=True,
                supports_reduce_only=True,
                supports_post_only=True,
                max_orders_per_second=30,
            ),
        }
    ),
    client_id=_BINANCE_CLIENT_ID,
    url_layout=MappingProxyType(
        {
            MarketType.SPOT: {
                "public": "/api/v3",
                "private": "/api/v3",
                "v1": "/api/v1",
                "sapi": "/sapi/v1",
            },
            MarketType.SWAP: {
                "fapiPublic": "/fapi/v1",
                "fapiPublicV2": "/fapi/v2",
                "fapiPublicV3": "/fapi/v3",
                "fapiPrivate": "/fapi/v1",
                "fapiPrivateV2": "/fapi/v2",
                "fapiPrivateV3": "/fapi/v3",
                "fapiData": "/futures/data",
                "public": "/api/v3",
                "private": "/api/v3",
                "sapi": "/sapi/v1",
            },
        }
    ),
    ws_url_layout=MappingProxyType(
        {
            MarketType.SPOT: {"ws.ws-api.spot": "/ws-api/v3", "ws.spot": "/ws"},
        }
    ),
    websocket_orders=frozenset({MarketType.SPOT}),
    ws_confirm_by_authenticate=True,
    options=MappingProxyType(
        {
            MarketType.SPOT: {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                "fetchMargins": False,
                "fetchCurrencies": False,
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            },
            MarketType.SWAP: {
                "defaultType": "swap",
                "fetchMarkets": {"types": ["linear"]},
                "fetchMargins": False,
                "fetchCurrencies": False,
                "warnOnFetchOpenOrdersWithoutSymbol": False,
            },
        }
    ),
    query_by_client_id=QueryByClientId.FETCH_ORDER_PARAM,
    my_trades_requires_symbol=True,
    trade_paging=TradePaging.FROM_ID,
    trade_page_size=1000,
    bars_page_size=1000,
    quote_source=QuoteSource.ORDER_BOOK,
    rate_limit=RateLimit(
        capacity=6000,
        per_seconds=60.0,
        endpoint_weights={
            "exchangeInfo": 20,
            "depth": 5,
            "klines": 2,
            "account": 20,
            "order:POST": 1,
            "order:GET": 4,
            "order:DELETE": 1,
            "openOrders": 80,
            "myTrades": 20,
        },
    ),
    not_found_markers=("-2013", "-2011"),
    throttle_markers=("-1003", "-1015"),
    resync_clock_on_invalid_nonce=True,
    post_only_sends_tif=False,
    gtd_expiry_param="goodTillDate",  # USDⓈ-M only (spot has no GTD)
    gtd_expiry_unit_ns=1_000_000,
)

KRAKEN = ExchangeProfile(
    exchange_id="kraken",
    capabilities=MappingProxyType(
        {
            MarketType.SPOT: VenueCapabilities(
                order_types=_TRIGGERS,
                times_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.GTD}),
                supports_modify=True,
                supports_reduce_only=False,
                supports_post_only=True,
            )
        }
    ),
    client_id=_KRAKEN_CLIENT_ID,
    url_layout=MappingProxyType({MarketType.SPOT: {"public": "", "private": ""}}),
    options=MappingProxyType({MarketType.SPOT: {}}),
    query_by_client_id=QueryByClientId.OPEN_THEN_CLOSED,
    my_trades_requires_symbol=False,
    trade_paging=TradePaging.OFFSET,
    trade_page_size=50,
    bars_page_size=720,
    quote_source=QuoteSource.TICKER,
    # Starter tier: a counter of 15 that decays by 0.33 per second.
    rate_limit=RateLimit(capacity=15, per_seconds=45.0),
    not_found_markers=("EOrder:Unknown order", "EOrder:Invalid order"),
    throttle_markers=(
        "EAPI:Rate limit exceeded",
        "EOrder:Rate limit exceeded",
        "EGeneral:Temporary lockout",
        "EGeneral:Too many requests",
        "EService:Busy",
    ),
    serialize_requests=True,
    post_only_sends_tif=True,
    gtd_expiry_param="expiretm",
)

OKX = ExchangeProfile(
    exchange_id="okx",
    capabilities=MappingProxyType(
        {
            MarketType.SPOT: VenueCapabilities(
                order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
                times_in_force=_CRYPTO_TIF,
                supports_modify=False,
                supports_reduce_only=False,
                supports_post_only=True,
            )
        }
    ),
    client_id=ClientIdRule(
        accepts=re.compile(r"^[A-Za-z0-9]{1,32}$"),
        style=ClientIdStyle.SHORT_HEX,
        description="clOrdId: ^[a-zA-Z0-9]{1,32}$",
    ),
    url_layout=MappingProxyType({MarketType.SPOT: {"rest": ""}}),
    options=MappingProxyType(
        {MarketType.SPOT: {"defaultType": "spot", "fetchMarkets": {"types": ["spot"]}}}
    ),
    query_by_client_id=QueryByClientId.FETCH_ORDER_PARAM,
    my_trades_requires_symbol=False,
    trade_paging=TradePaging.UNTIL,
    trade_page_size=100,
    bars_page_size=100,
    quote_source=QuoteSource.TICKER,
    not_found_markers=("51603", "51400", "51401", "51402"),
    throttle_markers=("50011", "50061"),
    resync_clock_on_invalid_nonce=True,
)

PROFILES: Mapping[str, ExchangeProfile] = MappingProxyType(
    {BINANCE.exchange_id: BINANCE, KRAKEN.exchange_id: KRAKEN, OKX.exchange_id: OKX}
)

_GENERIC_CLIENT_ID = ClientIdRule(
    accepts=re.compile(r"^[A-Za-z0-9_-]{1,32}$"),
    style=ClientIdStyle.HEX,
    description="generic: ^[A-Za-z0-9_-]{1,32}$",
)


def profile_for(
    exchange_id: str, has: Mapping[str, Any], market_type: MarketType
) -> ExchangeProfile:
    """Return the hand-written profile, or a conservative one from ccxt's ``has`` flags."""
    known = PROFILES.get(exchange_id)
    if known is not None:
        return known

    def flag(name: str) -> bool:
        return has.get(name) is True

    order_types = {OrderType.MARKET, OrderType.LIMIT}
    if flag("createStopMarketOrder"):
        order_types.add(OrderType.STOP)
    if flag("createStopLimitOrder"):
        order_types.add(OrderType.STOP_LIMIT)
    if flag("createTakeProfitOrder"):
        order_types.add(OrderType.TAKE_PROFIT)
    capabilities = VenueCapabilities(
        order_types=frozenset(order_types),
        times_in_force=frozenset({TimeInForce.GTC}),
        # editOrder may replace the order under a new ID; cancel and re-submit instead.
        supports_modify=False,
        supports_reduce_only=market_type is MarketType.SWAP and flag("createReduceOnlyOrder"),
        supports_post_only=flag("createPostOnlyOrder"),
    )
    return ExchangeProfile(
        exchange_id=exchange_id,
        capabilities=MappingProxyType({market_type: capabilities}),
        client_id=_GENERIC_CLIENT_ID,
        options=MappingProxyType({market_type: {"defaultType": market_type.value}}),
        query_by_client_id=QueryByClientId.OPEN_THEN_CLOSED,
        my_trades_requires_symbol=True,
    )
