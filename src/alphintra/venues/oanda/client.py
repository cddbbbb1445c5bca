"""A small typed async client for the OANDA v20 REST and streaming endpoints we use.

Written against the official Swagger 2.0 spec (basePath ``/v3``). Every request carries
``Authorization: Bearer <token>`` and ``Accept-Datetime-Format: RFC3339``. The client
does no translation to domain types and no retries: it returns wire types, and raises

* ``OandaApiError`` for an HTTP error status (with the decoded error body, the reject
  transaction if any, and ``Retry-After``),
* ``OandaTransportError`` when no response arrived (``not_sent`` is True only when the
  connection was never established, so the request provably did not reach OANDA),
* ``OandaResponseError`` when a success response is not the documented shape.

Streams are newline-delimited JSON over chunked HTTP. Each line is one object: a price
(``"type": "PRICE"``) or a ``PricingHeartbeat`` on the pricing stream; a transaction or
a ``TransactionHeartbeat`` on the transaction stream. (The spec describes the 200 body
as an object with ``price``/``heartbeat`` members; the wire carries the members' objects
themselves, one per line, as OANDA's own v20 libraries parse it.) A line that is not
valid is yielded as ``MalformedLine`` so that the caller can log and skip it.

Every REST request first takes a token from the optional ``limiter`` (OANDA allows 100
requests per second per connection), so internal read-backs and polls count too; a 429
with ``Retry-After`` blocks the limiter for that long. Streams do not take tokens.
"""

from __future__ import annotations

import email.utils
import functools
import ssl
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import msgspec

from alphintra.venues.oanda.config import OandaConfig
from alphintra.venues.oanda.wire import (
    AccountSummaryResponse,
    CandlesResponse,
    ClientPrice,
    ErrorResponse,
    OrderBody,
    OrderRequest,
    OrderResponse,
    OrdersResponse,
    OrderWriteResponse,
    PositionsResponse,
    PricingHeartbeat,
    PricingResponse,
    RawTransactionsResponse,
    Transaction,
    TransactionHeartbeat,
    TransactionPagesResponse,
    decode_stream_type,
    transaction_id_of,
)

_T = TypeVar("_T")
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_PRICING_STREAM = msgspec.json.Decoder(ClientPrice | PricingHeartbeat)
_TRANSACTION = msgspec.json.Decoder(Transaction)
_TRANSACTION_HEARTBEAT = msgspec.json.Decoder(TransactionHeartbeat)
_ERROR = msgspec.json.Decoder(ErrorResponse)
_ENCODER = msgspec.json.Encoder()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Return one verifying TLS context for every client (building one is slow)."""
    return httpx.create_ssl_context()


class RequestLimiter(Protocol):
    """A request budget (``alphintra.service.rate_limit.TokenBucket`` is one)."""

    async def acquire(self, weight: int = 1) -> None:
        """Wait until ``weight`` requests may be sent."""
        ...

    async def back_off(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the venue answered 429 with Retry-After)."""
        ...


class OandaClientError(Exception):
    """Base of the client's errors."""


class OandaApiError(OandaClientError):
    """OANDA answered with an error status."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        error: ErrorResponse,
        retry_after_s: float | None,
    ) -> None:
        reject = error.order_reject_transaction or error.order_cancel_reject_transaction
        reason = reject.reject_reason if reject is not None else None
        detail = error.error_message or error.error_code or reason or "no error message"
        super().__init__(f"{method} {path}: HTTP {status}: {detail}")
        self.method = method
        self.path = path
        self.status = status
        self.error = error
        self.retry_after_s = retry_after_s
        self.reject_reason: str | None = reason
        self.error_code: str | None = error.error_code or reason
        self.detail = detail


class OandaTransportError(OandaClientError):
    """No response arrived: connection refused, timeout, or the connection dropped."""

    def __init__(self, method: str, path: str, cause: Exception, *, not_sent: bool) -> None:
        super().__init__(f"{method} {path}: {type(cause).__name__}: {cause}")
        self.method = method
        self.path = path
        self.cause = cause
        self.not_sent = not_sent
        self.is_timeout = isinstance(cause, httpx.TimeoutException)


class OandaResponseError(OandaClientError):
    """A success status with a body that is not the documented shape."""

    def __init__(self, method: str, path: str, status: int, detail: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: malformed response: {detail}")
        self.method = method
        self.path = path
        self.status = status


@dataclass(frozen=True, slots=True)
class StreamOpened:
    """The first item of every stream: OANDA answered 200 and lines may follow."""


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """A stream line or listed transaction that could not be decoded; the rest goes on."""

    raw: bytes
    error: str
    transaction_id: str | None = None
    """The transaction's ``id`` when that much could be read."""


@dataclass(frozen=True, slots=True)
class TransactionList:
    """The transactions of ``sinceid`` or ``idrange``, in ID order; one that does not
    decode is a ``MalformedLine`` in its place."""

    transactions: list[Transaction | MalformedLine]
    last_transaction_id: str | None = None

    @property
    def valid(self) -> list[Transaction]:
        """Return the transactions that decoded."""
        return [t for t in self.transactions if isinstance(t, Transaction)]


def order_specifier(*, client_order_id: str | None = None, order_id: str | None = None) -> str:
    """Return an OrderSpecifier: the OANDA order ID, or ``@`` + the client's order ID."""
    if client_order_id is not None:
        return "@" + quote(client_order_id, safe="")
    if order_id is not None:
        return quote(order_id, safe="")
    raise ValueError("an order specifier needs a client_order_id or an order_id")


def page_range(url: str) -> tuple[str, str]:
    """Return the ``(from, to)`` transaction IDs of an idrange page URL."""
    query = parse_qs(urlsplit(url).query)
    try:
        return query["from"][0], query["to"][0]
    except (KeyError, IndexError):
        raise ValueError(f"not a transactions/idrange page URL: {url!r}") from None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class OandaClient:
    """Typed calls to ``/v3`` on the REST host and the streaming host."""

    def __init__(
        self,
        config: OandaConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        limiter: RequestLimiter | None = None,
    ) -> None:
        self.config = config
        self.limiter = limiter
        headers = {
            "Authorization": f"Bearer {config.token}",
            "Accept-Datetime-Format": "RFC3339",
            "User-Agent": "alphintra-oanda/1",
        }
        self._account = f"/v3/accounts/{quote(config.account_id, safe='')}"
        self._rest = httpx.AsyncClient(
            base_url=config.rest_base,
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s),
            transport=transport,
            verify=_tls_context(),
        )
        self._stream = httpx.AsyncClient(
            base_url=config.stream_base,
            headers=headers,
            timeout=httpx.Timeout(config.timeout_s, read=config.stream_timeout_s),
            transport=transport,
            verify=_tls_context(),
        )

    @property
    def closed(self) -> bool:
        """Return True once ``aclose`` ran."""
        return self._rest.is_closed

    async def aclose(self) -> None:
        """Close both connection pools."""
        await self._rest.aclose()
        await self._stream.aclose()

    # --- plumbing -------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        result: type[_T],
        *,
        params: Mapping[str, str] | None = None,
        body: OrderBody | None = None,
        ok: int = 200,
    ) -> _T:
        content = _ENCODER.encode(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        if self.limiter is not None:
            await self.limiter.acquire()
        try:
            response = await self._rest.request(
                method, path, params=params, content=content, headers=headers
            )
        except _NOT_SENT as exc:
            raise OandaTransportError(method, path, exc, not_sent=True) from exc
        except httpx.HTTPError as exc:
            raise OandaTransportError(method, path, exc, not_sent=False) from exc
        if response.status_code != ok:
            error = self._api_error(method, path, response.status_code, response)
            if error.status == 429 and error.retry_after_s and self.limiter is not None:
                await self.limiter.back_off(error.retry_after_s)
            raise error
        try:
            return msgspec.json.decode(response.content, type=result)
        except msgspec.MsgspecError as exc:
            raise OandaResponseError(method, path, response.status_code, str(exc)) from exc

    @staticmethod
    def _api_error(method: str, path: str, status: int, response: httpx.Response) -> OandaApiError:
        try:
            error = _ERROR.decode(response.content)
        except msgspec.MsgspecError:
            text = response.text.strip()[:200] or response.reason_phrase
            error = ErrorResponse(error_message=text)
        return OandaApiError(
            method, path, status, error, _retry_after(response.headers.get("Retry-After"))
        )

    # --- account --------------------------------------------------------------------

    async def account_summary(self) -> AccountSummaryResponse:
        """GET /v3/accounts/{accountID}/summary."""
        return await self._call("GET", f"{self._account}/summary", AccountSummaryResponse)

    async def positions(self) -> PositionsResponse:
        """GET /v3/accounts/{accountID}/positions (every instrument ever traded)."""
        return await self._call("GET", f"{self._account}/positions", PositionsResponse)

    async def open_positions(self) -> PositionsResponse:
        """GET /v3/accounts/{accountID}/openPositions."""
        return await self._call("GET", f"{self._account}/openPositions", PositionsResponse)

    # --- orders ---------------------------------------------------------------------

    async def list_orders(
        self,
        *,
        state: str | None = None,
        instrument: str | None = None,
        count: int | None = None,
        ids: Sequence[str] = (),
    ) -> OrdersResponse:
        """GET /v3/accounts/{accountID}/orders (OANDA's default state filter is PENDING)."""
        params: dict[str, str] = {}
        if state is not None:
            params["state"] = state
        if instrument is not None:
            params["instrument"] = instrument
        if count is not None:
            params["count"] = str(count)
        if ids:
            params["ids"] = ",".join(ids)
        return await self._call("GET", f"{self._account}/orders", OrdersResponse, params=params)

    async def pending_orders(self) -> OrdersResponse:
        """GET /v3/accounts/{accountID}/pendingOrders."""
        return await self._call("GET", f"{self._account}/pendingOrders", OrdersResponse)

    async def create_order(self, order: OrderRequest) -> OrderWriteResponse:
        """POST /v3/accounts/{accountID}/orders; 201 even when the order was then cancelled."""
        return await self._call(
            "POST",
            f"{self._account}/orders",
            OrderWriteResponse,
            body=OrderBody(order=order),
            ok=201,
        )

    async def get_order(self, specifier: str) -> OrderResponse:
        """GET /v3/accounts/{accountID}/orders/{orderSpecifier}."""
        return await self._call("GET", f"{self._account}/orders/{specifier}", OrderResponse)

    async def replace_order(self, specifier: str, order: OrderRequest) -> OrderWriteResponse:
        """PUT /v3/accounts/{accountID}/orders/{orderSpecifier}: cancel and replace."""
        return await self._call(
            "PUT",
            f"{self._account}/orders/{specifier}",
            OrderWriteResponse,
            body=OrderBody(order=order),
            ok=201,
        )

    async def cancel_order(self, specifier: str) -> OrderWriteResponse:
        """PUT /v3/accounts/{accountID}/orders/{orderSpecifier}/cancel."""
        return await self._call(
            "PUT", f"{self._account}/orders/{specifier}/cancel", OrderWriteResponse
        )

    # --- transactions ---------------------------------------------------------------

    async def transaction_pages(
        self,
        *,
        from_time: str | None = None,
        to_time: str | None = None,
        types: Sequence[str] = (),
        page_size: int | None = None,
    ) -> TransactionPagesResponse:
        """GET /v3/accounts/{accountID}/transactions: idrange page URLs for a time range."""
        params: dict[str, str] = {}
        if from_time is not None:
            params["from"] = from_time
        if to_time is not None:
            params["to"] = to_time
        if types:
            params["type"] = ",".join(types)
        if page_size is not None:
            params["pageSize"] = str(page_size)
        return await self._call(
            "GET", f"{self._account}/transactions", TransactionPagesResponse, params=params
        )

    async def transactions_range(
        self, from_id: str, to_id: str, *, types: Sequence[str] = ()
    ) -> TransactionList:
        """GET /v3/accounts/{accountID}/transactions/idrange (both ends inclusive)."""
        params = {"from": from_id, "to": to_id}
        if types:
            params["type"] = ",".join(types)
        return await self._transactions(f"{self._account}/transactions/idrange", params)

    async def transactions_since(self, transaction_id: str) -> TransactionList:
        """GET /v3/accounts/{accountID}/transactions/sinceid (excluding ``transaction_id``)."""
        return await self._transactions(
            f"{self._account}/transactions/sinceid", {"id": transaction_id}
        )

    async def _transactions(self, path: str, params: Mapping[str, str]) -> TransactionList:
        raw = await self._call("GET", path, RawTransactionsResponse, params=params)
        items: list[Transaction | MalformedLine] = []
        for item in raw.transactions:
            try:
                items.append(_TRANSACTION.decode(item))
            except msgspec.MsgspecError as exc:
                items.append(MalformedLine(bytes(item), str(exc), transaction_id_of(item)))
        return TransactionList(items, raw.last_transaction_id)

    # --- prices ---------------------------------------------------------------------

    async def pricing(self, instruments: Sequence[str]) -> PricingResponse:
        """GET /v3/accounts/{accountID}/pricing."""
        return await self._call(
            "GET",
            f"{self._account}/pricing",
            PricingResponse,
            params={"instruments": ",".join(instruments)},
        )

    async def candles(
        self,
        instrument: str,
        granularity: str,
        *,
        from_time: str | None = None,
        to_time: str | None = None,
        count: int | None = None,
        price: str = "M",
    ) -> CandlesResponse:
        """GET /v3/instruments/{instrument}/candles."""
        params = {"granularity": granularity, "price": price}
        if from_time is not None:
            params["from"] = from_time
        if to_time is not None:
            params["to"] = to_time
        if count is not None:
            params["count"] = str(count)
        return await self._call(
            "GET",
            f"/v3/instruments/{quote(instrument, safe='')}/candles",
            CandlesResponse,
            params=params,
        )

    # --- streams --------------------------------------------------------------------

    async def _lines(self, path: str, params: Mapping[str, str]) -> AsyncIterator[bytes]:
        try:
            async with self._stream.stream("GET", path, params=params) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise self._api_error("GET", path, response.status_code, response)
                yield b""
                async for line in response.aiter_lines():
                    if line.strip():
                        yield line.encode()
        except _NOT_SENT as exc:
            raise OandaTransportError("GET", path, exc, not_sent=True) from exc
        except httpx.HTTPError as exc:
            raise OandaTransportError("GET", path, exc, not_sent=False) from exc

    async def stream_pricing(
        self, instruments: Sequence[str], *, snapshot: bool = True
    ) -> AsyncIterator[StreamOpened | ClientPrice | PricingHeartbeat | MalformedLine]:
        """GET /v3/accounts/{accountID}/pricing/stream on the streaming host.

        Yields ``StreamOpened`` once connected, then messages until the server ends the
        stream; raises the client's errors.
        """
        params = {"instruments": ",".join(instruments), "snapshot": str(snapshot).lower()}
        async for line in self._lines(f"{self._account}/pricing/stream", params):
            if not line:
                yield StreamOpened()
                continue
            try:
                yield _PRICING_STREAM.decode(line)
            except msgspec.MsgspecError as exc:
                yield MalformedLine(line, str(exc))

    async def stream_transactions(
        self,
    ) -> AsyncIterator[StreamOpened | Transaction | TransactionHeartbeat | MalformedLine]:
        """GET /v3/accounts/{accountID}/transactions/stream on the streaming host."""
        async for line in self._lines(f"{self._account}/transactions/stream", {}):
            if not line:
                yield StreamOpened()
                continue
            try:
                if decode_stream_type(line) == "HEARTBEAT":
                    yield _TRANSACTION_HEARTBEAT.decode(line)
                else:
                    yield _TRANSACTION.decode(line)
            except msgspec.MsgspecError as exc:
                yield MalformedLine(line, str(exc), transaction_id_of(line))


def encode_order_body(order: OrderRequest) -> dict[str, Any]:
    """Return the JSON object the client sends for ``order`` (for conformance checks)."""
    decoded: dict[str, Any] = msgspec.json.decode(_ENCODER.encode(OrderBody(order=order)))
    return decoded
