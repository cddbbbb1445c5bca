"""IB execution corrections must not count a fill twice.

TWS API documentation (Executions and Commissions): "if a correction to an execution is
published it will be received as an additional execDetails callback with all parameters
identical except for the execID in the Execution object. The execID will differ only in
the digits after the final period." A correction is the same execution, not a new one:
the adapter must report it under the same trade ID, on the stream and in
``fills_since``, so that the engine's trade-ID dedupe books the shares once.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
import structlog.testing

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.venues.adapter import VenueFill

from .ib import tws_messages as m
from .ib.recordings import ORDER
from .ib.session import SESSION_START_NS, ib_session, order, wait_until

D = Decimal
pytestmark = pytest.mark.asyncio

CID = "O-REVIEW-CORR-1"
PERM = 1_811_239_901
ORIGINAL = "0000e0d5.6787c1b2.01.01"
CORRECTED = "0000e0d5.6787c1b2.01.02"


def _execution(exec_id: str, price: str, req_id: str = "-1") -> list[str]:
    return m.exec_details(
        m.AAPL,
        order_id=ORDER if req_id == "-1" else "0",
        exec_id=exec_id,
        time="20250115 09:41:07 America/New_York",
        side="BOT",
        shares="40",
        price=price,
        perm_id=PERM,
        cum_qty="40",
        avg_price=price,
        order_ref=CID,
        req_id=req_id,
    )


def _steps() -> list[dict[str, object]]:
    def opened(status: str) -> list[str]:
        return m.open_order(
            ORDER,
            m.AAPL,
            action="BUY",
            quantity="40",
            order_type="MKT",
            status=status,
            perm_id=PERM,
            order_ref=CID,
        )

    messages = [
        opened("Submitted"),
        m.order_status(ORDER, "Submitted", remaining="40", perm_id=PERM),
        _execution(ORIGINAL, "185.27"),
        m.commission_report(ORIGINAL, "1.0", "USD"),
        opened("Filled"),
        m.order_status(
            ORDER,
            "Filled",
            filled="40",
            remaining="0",
            avg_fill_price="185.27",
            perm_id=PERM,
            last_fill_price="185.27",
        ),
        # IB corrects the execution (same order, same shares; a new execID suffix)
        _execution(CORRECTED, "185.26"),
        m.commission_report(CORRECTED, "1.0", "USD"),
    ]
    steps: list[dict[str, object]] = [{"expect": "placeOrder"}]
    steps.extend({"send": msg} for msg in messages)
    return steps


async def test_corrected_execution_is_not_a_second_fill_on_the_stream() -> None:
    async with ib_session() as s:
        s.fake.play(_steps())
        await s.adapter.place_order(order(CID, "AAPL", OrderSide.BUY, OrderType.MARKET, "40"))
        await s.fake.reached("end")
        await wait_until(
            lambda: any(getattr(u, "status", None) is OrderStatus.FILLED for u in s.updates)
        )
        await asyncio.sleep(0.3)  # the correction, had it been taken for a new fill
        fills = [u for u in s.updates if isinstance(u, VenueFill)]
        # every fill, as the engine dedupes them: by trade ID
        booked = {f.trade_id: f.quantity for f in fills}
    assert sum(booked.values(), D(0)) == D(40), fills
    assert [f.trade_id for f in fills] == [ORIGINAL]


async def test_fills_since_reports_original_and_correction_under_one_trade_id() -> None:
    async with ib_session() as s:
        s.fake.executions = [
            (
                _execution(ORIGINAL, "185.27", "$REQ_ID"),
                m.commission_report(ORIGINAL, "1.0", "USD"),
            ),
            (
                _execution(CORRECTED, "185.26", "$REQ_ID"),
                m.commission_report(CORRECTED, "1.0", "USD"),
            ),
        ]
        fills = await s.adapter.fills_since(SESSION_START_NS, InstrumentId("AAPL"))
        state = await s.adapter.query_order(
            InstrumentId("AAPL"), client_order_id=ClientOrderId(CID)
        )
    booked = {f.trade_id: f.quantity for f in fills}
    assert sum(booked.values(), D(0)) == D(40), fills
    # under the original's trade ID (the one the stream booked), with the corrected price
    assert [(f.trade_id, f.price) for f in fills] == [(ORIGINAL, D("185.26"))]
    # rebuilt from the executions alone (IB lists no such order): 40 shares, not 80
    assert state is not None
    assert state.filled_quantity == D(40)
    assert state.quantity == D(40)


async def test_a_correction_not_applied_is_logged_once_for_the_operator() -> None:
    """The books keep the first report (there is no fill amendment), so the correction
    is logged as a warning naming both executions and its values: once, although IB
    repeats executions after every request."""
    with structlog.testing.capture_logs() as logs:
        async with ib_session() as s:
            s.fake.play(_steps())
            await s.adapter.place_order(order(CID, "AAPL", OrderSide.BUY, OrderType.MARKET, "40"))
            await s.fake.reached("end")
            await wait_until(
                lambda: any(e["event"] == "ib_execution_correction_not_applied" for e in logs)
            )
            s.fake.play([{"send": _execution(CORRECTED, "185.26")}])  # repeated by IB
            await asyncio.sleep(0.3)
    warned = [e for e in logs if e["event"] == "ib_execution_correction_not_applied"]
    assert [(e["exec_id"], e["corrects"], e["price"]) for e in warned] == [
        (CORRECTED, ORIGINAL, "185.26")
    ]
