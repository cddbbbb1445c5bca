"""The REST client: the official SDK's clients, run in threads, errors translated.

``alpaca-py`` is synchronous (``requests``), so every call runs in a worker thread.
Both SDK clients take ``url_override``; ``raw_data=True`` makes them return the JSON
as decoded, which ``translation`` then reads strictly. Two SDK defaults are changed:

* its own retry of 429 and 504 (three attempts, three seconds apart) is turned off,
  because a retried POST could double an order and the execution client owns retries;
* ``requests`` has no default timeout, so a default is mounted on the SDK's session.

Given a ``RequestBudget``, every request waits for a unit of it first (so requests the
adapter makes on its own, such as the polls after a stream reconnect, count too), and a
429 with Retry-After blocks it for that long.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.common.rest import RESTClient
from alpaca.data.enums import DataFeed
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest, StockLatestQuoteRequest
from alpaca.data.timeframe import TimeFrame
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import QueryOrderStatus
from alpaca.trading.requests import GetOrdersRequest, OrderRequest, ReplaceOrderRequest
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from alphintra.venues.alpaca.config import AlpacaConfig
from alphintra.venues.alpaca.errors import HTTP_NOT_FOUND, HTTP_TOO_MANY, classify, status_of

_T = TypeVar("_T")


class RequestBudget(Protocol):
    """A rate limiter (such as the service's token buckets) that requests wait on."""

    async def acquire(self, weight: int = 1) -> None:
        """Take ``weight`` units, waiting as long as needed."""
        ...

    async def back_off(self, seconds: float) -> None:
        """Refuse every request for ``seconds`` (the venue sent Retry-After)."""
        ...


ORDERS_PAGE_LIMIT = 500
"""Alpaca's maximum ``limit`` on GET /v2/orders."""


class _DefaultTimeoutAdapter(HTTPAdapter):
    """Give every request of a session a timeout unless the caller set one."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self._timeout = timeout

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        return super().send(
            request,
            stream=stream,
            timeout=timeout if timeout is not None else self._timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def _harden(client: RESTClient, timeout: tuple[float, float]) -> None:
    # RESTClient keeps these as private attributes and offers no switch: with 0 retries
    # a 429 or 504 raises APIError at once instead of sleeping and re-sending.
    client._retry = 0
    adapter = _DefaultTimeoutAdapter(timeout)
    client._session.mount("http://", adapter)
    client._session.mount("https://", adapter)


class AlpacaRestClient:
    """Async access to Alpaca's trading and market data REST APIs, returning raw JSON."""

    def __init__(self, config: AlpacaConfig, limiter: RequestBudget | None = None) -> None:
        self.config = config
        self.limiter = limiter
        self.venue = str(config.venue_id)
        self.trading = TradingClient(
            api_key=config.api_key,
            secret_key=config.secret_key,
            paper=config.paper,
            raw_data=True,
            url_override=config.resolved_trading_url,
        )
        self.data = StockHistoricalDataClient(
            api_key=config.api_key,
            secret_key=config.secret_key,
            raw_data=True,
            url_override=config.resolved_data_url,
        )
        timeout = (config.connect_timeout_s, config.read_timeout_s)
        _harden(self.trading, timeout)
        _harden(self.data, timeout)

    def close(self) -> None:
        """Close the HTTP sessions."""
        self.trading._session.close()
        self.data._session.close()

    async def _send(self, what: str, call: Callable[[], _T]) -> _T:
        if self.limiter is not None:
            await self.limiter.acquire()
        try:
            return await asyncio.to_thread(call)
        except Exception as exc:
            if self.limiter is not None and status_of(exc) == HTTP_TOO_MANY:
                wait = classify(exc, venue=self.venue, write=False, what=what).retry_after_s
                if wait is not None:
                    await self.limiter.back_off(wait)
            raise

    async def _call(self, write: bool, what: str, call: Callable[[], _T]) -> _T:
        try:
            return await self._send(what, call)
        except Exception as exc:
            raise classify(exc, venue=self.venue, write=write, what=what) from exc

    async def _read_optional(self, what: str, call: Callable[[], _T]) -> _T | None:
        try:
            return await self._send(what, call)
        except Exception as exc:
            if status_of(exc) == HTTP_NOT_FOUND:
                return None
            raise classify(exc, venue=self.venue, write=False, what=what) from exc

    # Account ------------------------------------------------------------------------

    async def account(self) -> Any:
        """GET /v2/account."""
        return await self._call(False, "get account", self.trading.get_account)

    async def positions(self) -> Any:
        """GET /v2/positions."""
        return await self._call(False, "get positions", self.trading.get_all_positions)

    # Orders -------------------------------------------------------------------------

    async def submit(self, request: OrderRequest) -> Any:
        """POST /v2/orders."""
        return await self._call(True, "submit order", lambda: self.trading.submit_order(request))

    async def order_by_client_id(self, client_order_id: str) -> Any | None:
        """GET /v2/orders:by_client_order_id; None when Alpaca has no such order (404)."""
        return await self._read_optional(
            f"get order {client_order_id!r}",
            lambda: self.trading.get_order_by_client_id(client_order_id),
        )

    async def order_by_id(self, order_id: str) -> Any | None:
        """GET /v2/orders/{id}; None when Alpaca has no such order (404 or not a UUID)."""
        try:
            UUID(order_id)
        except ValueError:
            return None
        return await self._read_optional(
            f"get order id {order_id}", lambda: self.trading.get_order_by_id(order_id)
        )

    async def orders(self, status: QueryOrderStatus, after: datetime | None = None) -> Any:
        """GET /v2/orders (oldest first, one page of up to 500)."""
        request = GetOrdersRequest(
            status=status, limit=ORDERS_PAGE_LIMIT, after=after, direction=Sort.ASC, nested=False
        )
        return await self._call(
            False, f"list {status.value} orders", lambda: self.trading.get_orders(request)
        )

    async def cancel(self, order_id: str) -> None:
        """DELETE /v2/orders/{id}."""
        await self._call(
            True, f"cancel order {order_id}", lambda: self.trading.cancel_order_by_id(order_id)
        )

    async def replace(self, order_id: str, request: ReplaceOrderRequest) -> Any:
        """PATCH /v2/orders/{id}."""
        return await self._call(
            True,
            f"replace order {order_id}",
            lambda: self.trading.replace_order_by_id(order_id, request),
        )

    async def fill_activities(self, after: str | None, page_token: str | None) -> Any:
        """GET /v2/account/activities/FILL (the SDK has no typed call for it)."""
        params: dict[str, Any] = {"direction": "asc", "page_size": self.config.fills_page_size}
        if after is not None:
            params["after"] = after
        if page_token is not None:
            params["page_token"] = page_token
        path = "/account/activities/FILL"
        return await self._call(
            False, "get fill activities", lambda: self.trading.get(path, params)
        )

    # Market data --------------------------------------------------------------------

    async def latest_quote(self, symbol: str) -> Any:
        """GET /v2/stocks/quotes/latest."""
        request = StockLatestQuoteRequest(
            symbol_or_symbols=symbol, feed=DataFeed(self.config.data_feed)
        )
        return await self._call(
            False, f"latest quote {symbol}", lambda: self.data.get_stock_latest_quote(request)
        )

    async def bars(self, symbol: str, frame: TimeFrame, start: datetime, end: datetime) -> Any:
        """GET /v2/stocks/bars (the SDK follows ``next_page_token``)."""
        request = StockBarsRequest(
            symbol_or_symbols=symbol,
            timeframe=frame,
            start=start,
            end=end,
            feed=DataFeed(self.config.data_feed),
        )
        return await self._call(False, f"bars {symbol}", lambda: self.data.get_stock_bars(request))


__all__ = ["APIError", "AlpacaRestClient", "RequestBudget"]
