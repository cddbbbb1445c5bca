"""The HTTP API: REST, WebSocket and metrics, over the trading service.

Handlers are thin: they authenticate, translate the request body into a domain
request, call one service method and translate the result back.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from fastapi import Depends, FastAPI, Query, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alphintra.api import views
from alphintra.api.algo_requests import algo_spec as _algo_spec
from alphintra.api.algo_requests import execution_algo
from alphintra.api.auth import Authenticator, AuthError, Principal, requires
from alphintra.api.metrics import Metrics
from alphintra.api.portal import Portal
from alphintra.api.reports_views import reports_router
from alphintra.api.risk_limits import (
    limits_body,
    requested_limits,
    requested_monitor_limits,
)
from alphintra.api.routing_views import routing_views
from alphintra.api.schemas import (
    AccountIn,
    AccountView,
    DateTimeText,
    EmergencyStopIn,
    EmergencyStopResult,
    OrderIn,
    OrderList,
    OrderPatch,
    OrderView,
    PortfolioPoint,
    PortfolioView,
    PositionView,
    Problem,
    Readiness,
    RiskLimitsBody,
    RiskMetricsView,
    SignalBatchIn,
    SignalBatchResult,
    SignalIn,
    SignalResult,
    SignalView,
    TradeList,
)
from alphintra.api.sizing_views import sizing_router
from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderStatus, OrderType, TrailingOffsetType
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, ModelId, SignalId
from alphintra.domain.signals import TradingSignal
from alphintra.reports.queries import ReportStore
from alphintra.security import Permission
from alphintra.service.errors import ConflictError
from alphintra.service.trading import InvalidRequestError, ServiceError, SignalOutcome

MAX_BODY_BYTES = 1 << 20
API = "/api/v1"


def problem(
    status: int, code: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    """Return an RFC 9457 problem response."""
    body = Problem(
        title=code.replace("_", " ").capitalize(),
        status=status,
        code=code,
        detail=detail,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type="application/problem+json",
    )


class BodyLimit:
    """Refuse bodies over 1 MiB: by Content-Length before reading, else while reading."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                size = -1
            if size < 0:
                response = problem(400, "BAD_CONTENT_LENGTH", f"invalid Content-Length {length!r}")
                await response(scope, receive, send)
                return
            if size > MAX_BODY_BYTES:
                response = problem(
                    413,
                    "BODY_TOO_LARGE",
                    f"body of {size} bytes exceeds the {MAX_BODY_BYTES} limit",
                )
                await response(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            # A body sent without Content-Length (chunked) is counted as it arrives.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise StarletteHTTPException(
                        413, f"body of {received}+ bytes exceeds the {MAX_BODY_BYTES} limit"
                    )
            return message

        await self.app(scope, limited, send)


class ExactRoute(APIRoute):
    """A route that reads JSON numbers with a fraction or exponent as exact decimals.

    Starlette reads them as binary floats, which keep about 17 digits: 399.99999999999999999
    became 400.0 (a price on the tick, accepted), 1.00000000000000000001 a confidence of
    exactly 1, and 1e400 infinity. Integers and the NaN and Infinity tokens read as before.
    The body is parsed into the request's JSON cache, which FastAPI then reads; a body
    that does not parse is left for FastAPI to refuse as before.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact(request: Request) -> Response:
            body = await request.body()
            if body:
                with suppress(ValueError, RecursionError):
                    request._json = json.loads(body, parse_float=Decimal)
            return await handler(request)

        return exact


async def _json_error(request: Request, error: Mapping[str, Any]) -> dict[str, Any]:
    """Describe a body that is not JSON: where parsing stopped, why, and the text there."""
    loc = error.get("loc", ())
    position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
    reason = (error.get("ctx") or {}).get("error", "JSON decode error")
    try:
        text = (await request.body()).decode("utf-8", errors="replace")
    except RuntimeError:  # the body stream was already consumed and not cached
        text = ""
    return {
        "field": "body",
        "message": f"invalid JSON at character {position}: {reason}",
        "received": text[max(0, position - 40) : position + 40],
    }


def _allowed_methods(request: Request) -> str:
    """Return every method the request's path supports (Starlette names one route's only)."""
    literal: set[str] = set()
    templated: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            # A literal path (/signals/batch) wins over a template (/signals/{signal_id}).
            (templated if route.param_convertors else literal).update(route.methods or ())
    return ", ".join(sorted(literal or templated))


def _document_problems(app: FastAPI) -> None:
    """Document error bodies under application/problem+json, the type they are sent as."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                    if ref.endswith("/Problem"):
                        content["application/problem+json"] = content.pop("application/json")
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _signal_of(body: SignalIn, now_ns: int) -> TradingSignal:
    ts = views.nanos(body.timestamp) if body.timestamp is not None else now_ns
    return TradingSignal(
        signal_id=SignalId(body.signalId),
        model_id=ModelId(body.modelId),
        instrument_id=InstrumentId(body.symbol.upper()),
        action=body.action,
        confidence=body.confidence,
        ts=ts,
        quantity=body.quantity,
        entry_price=body.entryPrice,
        price_target=body.priceTarget,
        stop_loss=body.stopLoss,
        take_profit=body.takeProfit,
        order_type=OrderType(body.orderType),
        time_in_force=body.timeInForce,
        account_id=AccountId(body.accountId) if body.accountId else None,
        target_weights=(
            {InstrumentId(k.upper()): v for k, v in body.targetWeights.items()}
            if body.targetWeights
            else None
        ),
        metadata=body.metadata,
    )


def _result(outcome: SignalOutcome) -> dict[str, object]:
    """Return the JSON of a ``SignalResult`` (its fields in order), built directly."""
    return {
        "signalId": outcome.signal_id,
        "status": outcome.status,
        "reasonCode": outcome.reason_code,
        "reason": outcome.reason,
        "orderIds": list(outcome.order_ids),
        "duplicate": outcome.duplicate,
    }


_encode_json = msgspec.json.Encoder().encode


def _json(body: object) -> Response:
    """Return an ``application/json`` response of ``body`` encoded once by msgspec.

    The signal endpoints answer this way rather than through their ``response_model``,
    which FastAPI would validate again and encode in a second pass; the model still
    documents the body.
    """
    return Response(_encode_json(body), media_type="application/json")


Searched = frozenset[str] | None
"""The accounts a lookup may search; None for every account."""
AccountQuery = Annotated[str | None, Query(max_length=128)]
Reader = Annotated[Principal, Depends(requires(Permission.READ))]
Trader = Annotated[Principal, Depends(requires(Permission.TRADE))]
RiskOfficer = Annotated[Principal, Depends(requires(Permission.MANAGE_RISK))]
AccountAdmin = Annotated[Principal, Depends(requires(Permission.MANAGE_ACCOUNTS))]


@dataclass(slots=True)
class ApiContext:
    """What the handlers need: the portal (service plus directory) and the authenticator."""

    portal: Portal
    auth: Authenticator
    metrics: Metrics


def create_app(context: ApiContext, lifespan: Callable[[FastAPI], Any] | None = None) -> FastAPI:
    """Build the FastAPI application."""

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        if lifespan is not None:
            async with lifespan(app):
                yield
        else:
            yield

    app = FastAPI(
        title="Alphintra trading engine",
        version="0.1.0",
        description="Signals in, orders out: REST, WebSocket and metrics.",
        lifespan=_lifespan,
        responses={
            400: {"model": Problem},
            401: {"model": Problem},
            403: {"model": Problem},
            404: {"model": Problem},
            409: {"model": Problem},
            413: {"model": Problem},
            422: {"model": Problem},
            503: {"model": Problem},
        },
    )
    app.router.route_class = ExactRoute
    app.add_middleware(BodyLimit)
    _document_problems(app)
    app.state.context = context
    portal, auth, metrics = context.portal, context.auth, context.metrics
    service = portal.service

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                errors.append(await _json_error(request, error))
                continue
            errors.append(
                {
                    "field": ".".join(str(p) for p in error.get("loc", ())),
                    "message": error.get("msg", ""),
                    "received": views.received(error.get("input")),
                }
            )
        first = errors[0] if errors else {"field": "body", "message": "invalid", "received": None}
        detail = f"{first['field']}: {first['message']} (got {first['received']!r})"
        metrics.rejected(None)
        return problem(422, "VALIDATION_ERROR", detail, errors)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail)

    @app.exception_handler(AuthError)
    async def _auth_error(request: Request, exc: AuthError) -> JSONResponse:
        response = problem(exc.status, exc.code, exc.detail)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "BODY_TOO_LARGE"}
        code = codes.get(exc.status_code, "HTTP_ERROR")
        cause = exc.__cause__
        if exc.status_code == 400 and cause is not None:
            # FastAPI's "error parsing the body": say why (nesting too deep, a number
            # with too many digits) instead of the generic text.
            reason = str(cause) or type(cause).__name__
            return problem(400, "MALFORMED_BODY", f"body: cannot be parsed: {reason[:200]}")
        response = problem(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = _allowed_methods(request)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover
        return problem(
            500, "INTERNAL_ERROR", f"unexpected {type(exc).__name__}; see the server log"
        )

    def client_address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    # Health and metrics ----------------------------------------------------------

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz", tags=["health"], response_model=Readiness, responses={503: {"model": Readiness}}
    )
    async def readyz() -> JSONResponse:
        checks = portal.readiness()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def metrics_endpoint() -> Response:
        body, content_type = metrics.render(portal)
        return Response(body, media_type=content_type)

    # Signals -------------------------------------------------------------------------

    @app.post(f"{API}/signals", response_model=SignalResult, tags=["signals"])
    async def post_signal(body: SignalIn, who: Trader) -> Response:
        account = who.account_for(body.accountId)
        now = service.clock.now_ns()
        outcome = await service.submit_signal(
            account, _signal_of(body, now), who.accounts, execution_algo(body, now, portal)
        )
        metrics.signal(body.action.value, outcome)
        if not outcome.duplicate:
            portal.note_arrival(account, outcome.signal_id)
        return _json(_result(outcome))

    @app.post(f"{API}/signals/batch", response_model=SignalBatchResult, tags=["signals"])
    async def post_signals(body: SignalBatchIn, who: Trader) -> Response:
        now = service.clock.now_ns()
        by_account: dict[str, list[tuple[int, TradingSignal]]] = {}
        for index, item in enumerate(body.signals):
            by_account.setdefault(who.account_for(item.accountId), []).append(
                (index, _signal_of(item, now))
            )
        # Every check that can refuse the whole batch runs before anything is submitted.
        algos = [execution_algo(item, now, portal) for item in body.signals]
        results: list[dict[str, object] | None] = [None] * len(body.signals)
        for account, items in by_account.items():
            try:
                outcomes: list[SignalOutcome | ServiceError] = list(
                    await service.submit_signals(
                        account, [s for _, s in items], who.accounts, [algos[i] for i, _ in items]
                    )
                )
            except ServiceError as exc:  # this account only (stopped: 503); the others stand
                outcomes = [exc] * len(items)
            arrived: list[SignalId] = []
            counts: dict[tuple[str, str], int] = {}  # by (signal type, status)
            for (index, signal), outcome in zip(items, outcomes, strict=True):
                if isinstance(outcome, ServiceError):
                    results[index] = {
                        "signalId": signal.signal_id,
                        "status": "INVALID",
                        "code": outcome.code,
                        "detail": outcome.detail,
                    }
                    metrics.rejected(None)
                else:
                    results[index] = _result(outcome)
                    if not outcome.duplicate:
                        key = (signal.action.value, outcome.status)
                        counts[key] = counts.get(key, 0) + 1
                        arrived.append(outcome.signal_id)
            metrics.signals_counted(counts)
            portal.note_arrivals(account, arrived)
        return _json({"results": [r for r in results if r is not None]})

    def scope(
        ident: str, account_id: str | None, who: Principal, kind: Literal["order", "signal"]
    ) -> Searched:
        """Return the accounts to find an order or signal ID in (`views.accounts_holding`)."""
        if account_id is not None:
            return frozenset({who.account_for(account_id)})
        views.accounts_holding(service.accounts, who.accounts, ident, kind)
        return who.accounts

    @app.get(f"{API}/signals/{{signal_id}}", response_model=SignalView, tags=["signals"])
    async def get_signal(signal_id: str, who: Reader, accountId: AccountQuery = None) -> SignalView:
        return portal.signal_view(signal_id, scope(signal_id, accountId, who, "signal"))

    # Orders --------------------------------------------------------------------------

    @app.post(f"{API}/orders", response_model=OrderView, tags=["orders"])
    async def post_order(body: OrderIn, who: Trader, request: Request) -> OrderView:
        account = who.account_for(body.accountId)
        if body.clientOrderId is not None:
            state = service.account(account, who.accounts).engine.state
            views.check_client_order_id(account, body.clientOrderId, state)
        expire = views.nanos(body.expireTime) if body.expireTime is not None else None
        request_ = OrderRequest(
            instrument_id=InstrumentId(body.symbol.upper()),
            side=body.side,
            order_type=body.type,
            quantity=body.quantity,
            price=body.price,
            trigger_price=body.stopPrice,
            trailing_offset=body.trailingOffset,
            trailing_offset_type=TrailingOffsetType(body.trailingOffsetType)
            if body.trailingOffsetType
            else None,
            display_quantity=body.displayQuantity,
            time_in_force=body.timeInForce,
            expire_ts=expire,
            reduce_only=body.reduceOnly,
            post_only=body.postOnly,
            client_order_id=ClientOrderId(body.clientOrderId) if body.clientOrderId else None,
        )
        if body.algo is not None:
            if body.stopLoss is not None or body.takeProfit is not None:
                raise InvalidRequestError(
                    "ALGO_WITH_BRACKET", "an algo order cannot also carry stopLoss/takeProfit"
                )
            spec = _algo_spec(body.algo, service.clock.now_ns(), portal, request_.instrument_id)
            order = await service.place_algo(account, request_, spec, who.accounts)
        else:
            order = await service.place_order(
                account,
                request_,
                who.accounts,
                stop_loss=body.stopLoss,
                take_profit=body.takeProfit,
            )
        conflict = views.reuse_conflict(order, request_) if body.clientOrderId else None
        if conflict is not None:
            raise ConflictError("CLIENT_ORDER_ID_REUSED", conflict)
        return views.order_view(account, order)

    @app.get(f"{API}/orders", response_model=OrderList, tags=["orders"])
    async def list_orders(
        who: Reader,
        status: Annotated[OrderStatus | None, Query()] = None,
        symbol: Annotated[str | None, Query(max_length=32)] = None,
        fromTime: Annotated[DateTimeText | None, Query()] = None,
        toTime: Annotated[DateTimeText | None, Query()] = None,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> OrderList:
        views.check_period(fromTime, toTime)
        return portal.list_orders(
            who.accounts, accountId, status, symbol, fromTime, toTime, offset, limit
        )

    @app.get(f"{API}/orders/{{order_id}}", response_model=OrderView, tags=["orders"])
    async def get_order(order_id: str, who: Reader, accountId: AccountQuery = None) -> OrderView:
        runtime, order = service.find_order(order_id, scope(order_id, accountId, who, "order"))
        return views.order_view(
            runtime.engine.account_id,
            order,
            service.children_of(runtime, order),
            routing_views(runtime.engine.routing_decisions(order.client_order_id)),
        )

    async def control_algo(
        order_id: str, who: Principal, request: Request, pause: bool, account_id: str | None
    ) -> OrderView:
        allowed = scope(order_id, account_id, who, "order")
        runtime, order = service.find_order(order_id, allowed)
        await service.pause_algo(order_id, allowed, pause=pause)
        await service.audit(
            runtime.engine.account_id,
            actor=who.user_id,
            action="algo.pause" if pause else "algo.resume",
            address=client_address(request),
            target=order_id,
        )
        return views.order_view(
            runtime.engine.account_id, order, service.children_of(runtime, order)
        )

    @app.post(f"{API}/orders/{{order_id}}/pause", response_model=OrderView, tags=["orders"])
    async def pause_order(
        order_id: str, who: Trader, request: Request, accountId: AccountQuery = None
    ) -> OrderView:
        return await control_algo(order_id, who, request, True, accountId)

    @app.post(f"{API}/orders/{{order_id}}/resume", response_model=OrderView, tags=["orders"])
    async def resume_order(
        order_id: str, who: Trader, request: Request, accountId: AccountQuery = None
    ) -> OrderView:
        return await control_algo(order_id, who, request, False, accountId)

    @app.delete(f"{API}/orders/{{order_id}}", response_model=OrderView, tags=["orders"])
    async def delete_order(
        order_id: str, who: Trader, request: Request, accountId: AccountQuery = None
    ) -> OrderView:
        allowed = scope(order_id, accountId, who, "order")
        runtime, order = service.find_order(order_id, allowed)
        before = order.status.value
        await service.cancel_order(order_id, allowed)
        await service.audit(
            runtime.engine.account_id,
            actor=who.user_id,
            action="order.cancel",
            address=client_address(request),
            target=order_id,
            old_value=before,
            new_value=order.status.value,
        )
        return views.order_view(runtime.engine.account_id, order)

    @app.patch(f"{API}/orders/{{order_id}}", response_model=OrderView, tags=["orders"])
    async def patch_order(
        order_id: str,
        body: OrderPatch,
        who: Trader,
        request: Request,
        accountId: AccountQuery = None,
    ) -> OrderView:
        allowed = scope(order_id, accountId, who, "order")
        runtime, order = service.find_order(order_id, allowed)
        before = json.dumps(
            {
                "quantity": str(order.quantity),
                "price": str(order.price),
                "stopPrice": str(order.trigger_price),
            }
        )
        await service.modify_order(
            order_id,
            allowed,
            quantity=body.quantity,
            price=body.price,
            trigger_price=body.stopPrice,
        )
        await service.audit(
            runtime.engine.account_id,
            actor=who.user_id,
            action="order.modify",
            address=client_address(request),
            target=order_id,
            old_value=before,
            new_value=body.model_dump_json(exclude_none=True),
        )
        return views.order_view(runtime.engine.account_id, order)

    @app.get(f"{API}/trades", response_model=TradeList, tags=["orders"])
    async def list_trades(
        who: Reader,
        symbol: Annotated[str | None, Query(max_length=32)] = None,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> TradeList:
        return portal.list_trades(who.accounts, accountId, symbol, offset, limit)

    # Positions and portfolio ---------------------------------------------------------

    @app.get(f"{API}/positions", response_model=list[PositionView], tags=["portfolio"])
    async def positions(
        who: Reader,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
    ) -> list[PositionView]:
        return portal.positions(who.accounts, accountId)

    @app.get(f"{API}/portfolio", response_model=PortfolioView, tags=["portfolio"])
    async def portfolio(
        who: Reader,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
    ) -> PortfolioView:
        return portal.portfolio(who.account_for(accountId), who.accounts)

    @app.get(f"{API}/portfolio/history", response_model=list[PortfolioPoint], tags=["portfolio"])
    async def portfolio_history(
        who: Reader,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[PortfolioPoint]:
        return portal.history(who.account_for(accountId), who.accounts, limit)

    # Risk ------------------------------------------------------------------------------

    @app.get(f"{API}/risk/limits", response_model=RiskLimitsBody, tags=["risk"])
    async def get_limits(
        who: Reader,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
    ) -> RiskLimitsBody:
        runtime = service.account(who.account_for(accountId), who.accounts)
        return limits_body(runtime.engine.limits, runtime.settings.monitor)

    @app.put(f"{API}/risk/limits", response_model=RiskLimitsBody, tags=["risk"])
    async def put_limits(
        body: RiskLimitsBody,
        who: RiskOfficer,
        request: Request,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
    ) -> RiskLimitsBody:
        account = who.account_for(accountId)
        current = service.account(account, who.accounts).engine.limits
        limits = requested_limits(body, current)
        monitor = requested_monitor_limits(
            body, service.account(account, who.accounts).settings.monitor
        )
        old, old_monitor = await service.set_limits(account, who.accounts, limits, monitor)
        stored = limits_body(limits, monitor)
        await service.audit(
            account,
            actor=who.user_id,
            action="risk.limits",
            address=client_address(request),
            target=account,
            old_value=limits_body(old, old_monitor).model_dump_json(),
            new_value=stored.model_dump_json(),
        )
        return stored

    @app.get(f"{API}/risk/metrics", response_model=RiskMetricsView, tags=["risk"])
    async def risk_metrics(
        who: Reader,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
        benchmark: Annotated[str, Query(max_length=16, pattern=r"^[A-Z0-9]+$")] = "SPY",
    ) -> RiskMetricsView:
        return portal.risk_metrics(who.account_for(accountId), who.accounts, benchmark)

    @app.get(f"{API}/risk/metrics/history", response_model=list[RiskMetricsView], tags=["risk"])
    async def risk_metrics_history(
        who: Reader,
        accountId: Annotated[str | None, Query(max_length=128)] = None,
        fromTime: Annotated[DateTimeText | None, Query()] = None,
        toTime: Annotated[DateTimeText | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> list[RiskMetricsView]:
        views.check_period(fromTime, toTime)
        return portal.risk_history(
            who.account_for(accountId),
            who.accounts,
            limit,
            None if fromTime is None else views.clamped_nanos(fromTime),
            None if toTime is None else views.clamped_nanos(toTime),
        )

    @app.post(f"{API}/risk/emergency-stop", response_model=EmergencyStopResult, tags=["risk"])
    async def emergency_stop(
        body: EmergencyStopIn, who: RiskOfficer, request: Request
    ) -> EmergencyStopResult:
        account = who.account_for(body.accountId)
        count = await service.emergency_stop(account, who.accounts, body.reason)
        await service.audit(
            account,
            actor=who.user_id,
            action="risk.emergency_stop",
            address=client_address(request),
            target=account,
            new_value=json.dumps({"reason": body.reason, "cancelled": count}),
        )
        portal.alert(account, "emergency_stop", body.reason)
        return EmergencyStopResult(accountId=account, tradingState="HALTED", cancelledOrders=count)

    @app.post(f"{API}/risk/resume", response_model=EmergencyStopResult, tags=["risk"])
    async def resume(
        body: EmergencyStopIn, who: RiskOfficer, request: Request
    ) -> EmergencyStopResult:
        account = who.account_for(body.accountId)
        await service.resume(account, who.accounts, body.reason)
        await service.audit(
            account,
            actor=who.user_id,
            action="risk.resume",
            address=client_address(request),
            target=account,
            new_value=json.dumps({"reason": body.reason}),
        )
        return EmergencyStopResult(accountId=account, tradingState="ACTIVE", cancelledOrders=0)

    # Accounts --------------------------------------------------------------------------

    @app.get(f"{API}/accounts", response_model=list[AccountView], tags=["accounts"])
    async def list_accounts(who: Reader) -> list[AccountView]:
        return portal.account_views(who)

    @app.post(f"{API}/accounts", response_model=AccountView, status_code=201, tags=["accounts"])
    async def create_account(body: AccountIn, who: AccountAdmin, request: Request) -> AccountView:
        view = await portal.create_account(who, body)
        auth.forget()  # the owner's cached principal must now include the new account
        await service.audit(
            body.accountId,
            actor=who.user_id,
            action="account.create",
            address=client_address(request),
            target=body.accountId,
            new_value=json.dumps(
                {
                    "venue": body.venue,
                    "baseCurrency": body.baseCurrency,
                    "startingCash": str(body.startingCash),
                    "credentials": "***" if body.credentials else None,
                }
            ),
        )
        return view

    app.include_router(reports_router(ReportStore(portal.directory.engine)))
    app.include_router(sizing_router())

    # WebSocket -------------------------------------------------------------------------

    @app.websocket(f"{API}/ws")
    async def websocket(socket: WebSocket) -> None:
        await portal.serve_websocket(socket, auth)

    return app
