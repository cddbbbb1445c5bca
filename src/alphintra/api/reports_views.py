"""``GET /api/v1/reports/best-execution`` and ``GET /api/v1/reports/tca``.

Both answer JSON (decimals as strings), CSV or an HTML page (``format``). A caller sees
the orders of its own accounts only (an administrator: every account); ``accountId``
narrows to one of them, and naming an account the caller may not see answers 404.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from alphintra.api import views
from alphintra.api.auth import Principal, requires
from alphintra.api.schemas import DateTimeText
from alphintra.reports.build import check_nanos, parse_day, previous_day, tca_selection
from alphintra.reports.queries import ReportStore
from alphintra.reports.render import ReportFormat, render
from alphintra.security import Permission
from alphintra.service.trading import InvalidRequestError

FormatParam = Annotated[Literal["json", "csv", "html"], Query(alias="format")]
AccountParam = Annotated[str | None, Query(alias="accountId", max_length=128, min_length=1)]
ModelParam = Annotated[str | None, Query(alias="modelId", max_length=128, min_length=1)]
Name = Annotated[str | None, Query(max_length=128, min_length=1)]


Reader = Annotated[Principal, Depends(requires(Permission.READ))]


def _accounts(who: Principal, account_id: str | None) -> Collection[str] | None:
    if account_id is not None:
        return {who.account_for(account_id)}
    return who.accounts


def _answer(body: str, form: ReportFormat, name: str) -> Response:
    headers = {}
    if form is not ReportFormat.JSON:
        extension = form.value
        headers["Content-Disposition"] = f'inline; filename="{name}.{extension}"'
    return Response(body, media_type=form.media_type, headers=headers)


def reports_router(store: ReportStore) -> APIRouter:
    """Return the report endpoints, reading from ``store``."""
    router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

    @router.get(
        "/best-execution",
        responses={200: {"content": {"text/csv": {}, "text/html": {}}}},
    )
    async def best_execution(
        request: Request,
        who: Reader,
        date: Annotated[
            str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-03-02"])
        ] = None,
        account_id: AccountParam = None,
        form: FormatParam = "json",
    ) -> Response:
        """Return the best-execution report of one UTC day (default: yesterday)."""
        if date is None:
            day = previous_day(request.app.state.context.portal.service.clock.now_ns())
        else:
            try:
                day = parse_day("date", date)
            except ValueError as exc:
                raise InvalidRequestError("INVALID_DATE", str(exc)) from None
        accounts = _accounts(who, account_id)
        report = await asyncio.to_thread(store.best_execution, day, accounts)
        chosen = ReportFormat(form)
        return _answer(render(report, chosen), chosen, f"best-execution-{day.isoformat()}")

    @router.get("/tca", responses={200: {"content": {"text/csv": {}, "text/html": {}}}})
    async def tca(
        who: Reader,
        start: Annotated[DateTimeText | None, Query(alias="from")] = None,
        end: Annotated[DateTimeText | None, Query(alias="to")] = None,
        account_id: AccountParam = None,
        model_id: ModelParam = None,
        strategy: Name = None,
        symbol: Annotated[str | None, Query(max_length=32, min_length=1)] = None,
        form: FormatParam = "json",
    ) -> Response:
        """Return the transaction-cost analysis of a period, account, model or strategy."""
        try:
            start_ns = None if start is None else check_nanos("from", views.nanos(start), start)
            end_ns = None if end is None else check_nanos("to", views.nanos(end), end)
        except ValueError as exc:
            raise InvalidRequestError("OUT_OF_RANGE", str(exc)) from None
        if start_ns is not None and end_ns is not None and end_ns <= start_ns:
            raise InvalidRequestError(
                "INVALID_PERIOD",
                f"to must be after from, got from={start.isoformat() if start else None!s} "
                f"and to={end.isoformat() if end else None!s}",
            )
        selection = tca_selection(
            start_ts=start_ns,
            end_ts=end_ns,
            account_id=None if account_id is None else who.account_for(account_id),
            model_id=model_id,
            strategy=strategy,
            instrument_id=None if symbol is None else symbol.upper(),
        )
        report = await asyncio.to_thread(store.tca, selection, _accounts(who, account_id))
        chosen = ReportFormat(form)
        return _answer(render(report, chosen), chosen, "tca")

    return router
