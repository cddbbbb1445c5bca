"""The order stream's bookkeeping, on objects ib_async decoded from raw TWS messages."""

from __future__ import annotations

from decimal import Decimal

from ib_async import Contract, Fill, Trade

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, VenueOrderId
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.ib.order_stream import OrderStream

from . import tws_messages as m
from .decoding import decoding_ib, feed

D = Decimal
AAPL = InstrumentId("AAPL")


def _stream(timeout_ns: int = 1_000) -> OrderStream:
    def resolve(contract: Contract) -> InstrumentId:
        return InstrumentId(contract.symbol)

    return OrderStream(resolve=resolve, commission_timeout_ns=timeout_ns)


def _fill(exec_id: str = "e1", shares: str = "5", commission: bool = True, ref: str = "c1") -> Fill:
    ib = decoding_ib()
    feed(
        ib,
        m.exec_details(
            m.AAPL, order_id=4, exec_id=exec_id, time="20250115 09:41:07 America/New_York",
            side="BOT", shares=shares, price="185.0", perm_id=40, cum_qty=shares,
            avg_price="185.0", order_ref=ref,
        ),
    )  # fmt: skip
    if commission:
        feed(ib, m.commission_report(exec_id, "1.0", "USD"))
    (fill,) = ib.fills()
    return fill


def _trade(status: str, *, ref: str = "c1", filled: str = "0", remaining: str = "5") -> Trade:
    ib = decoding_ib()
    feed(
        ib,
        m.open_order(
            4, m.AAPL, action="BUY", quantity="5", order_type="LMT", status=status,
            perm_id=40, order_ref=ref, lmt_price="185.0",
        ),
        m.order_status(
            4, status, filled=filled, remaining=remaining, perm_id=40,
            avg_fill_price="185.0" if filled != "0" else "0",
        ),
    )  # fmt: skip
    (trade,) = ib.trades()
    return trade


def _state(status: OrderStatus, filled: str = "0") -> VenueOrderState:
    return VenueOrderState(
        client_order_id=ClientOrderId("c1"),
        venue_order_id=VenueOrderId("40"),
        instrument_id=AAPL,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        status=status,
        quantity=D(5),
        filled_quantity=D(filled),
        price=D("185.0"),
    )


def test_stream_execution_seen_twice_is_released_once() -> None:
    stream = _stream()
    stream.track(ClientOrderId("c1"), AAPL)
    first = stream.on_execution(_fill(), now_ns=0)
    again = stream.on_execution(_fill(), now_ns=1)  # the same execId, from a later poll
    assert [type(u) for u in first] == [VenueFill]
    assert again == []


def test_stream_fill_without_commission_waits_then_is_released_with_zero_fee() -> None:
    stream = _stream(timeout_ns=100)
    assert stream.on_execution(_fill(commission=False), now_ns=0) == []
    assert stream.flush(now_ns=50) == []
    (fill,) = stream.flush(now_ns=150)
    assert isinstance(fill, VenueFill)
    assert (fill.fee, fill.fee_currency) == (D(0), "USD")
    assert stream.pending_fills == 0


def test_stream_status_of_an_earlier_session_order_is_adopted_by_order_ref() -> None:
    stream = _stream()
    (state,) = stream.on_status(_trade("Submitted", ref="old-7"), now_ns=3)
    assert isinstance(state, VenueOrderState)
    assert (state.client_order_id, state.instrument_id, state.status) == (
        "old-7",
        AAPL,
        OrderStatus.ACCEPTED,
    )
    assert ClientOrderId("old-7") in stream.orders


def test_stream_manual_tws_order_without_order_ref_is_ignored() -> None:
    stream = _stream()
    assert stream.on_status(_trade("Submitted", ref=""), now_ns=3) == []
    assert stream.orders == {}


def test_stream_repeated_status_is_emitted_once() -> None:
    stream = _stream()
    assert len(stream.on_status(_trade("PreSubmitted"), now_ns=1)) == 1
    assert stream.on_status(_trade("Submitted"), now_ns=2) == []  # ACCEPTED again


def test_stream_open_state_after_a_closed_one_is_dropped() -> None:
    stream = _stream()
    stream.track(ClientOrderId("c1"), AAPL)
    assert stream.on_snapshot(_state(OrderStatus.CANCELLED)) != []
    assert stream.on_status(_trade("Submitted"), now_ns=2) == []


def test_stream_fill_after_cancel_is_released_then_the_cancelled_state_with_it() -> None:
    stream = _stream()
    stream.track(ClientOrderId("c1"), AAPL)
    stream.on_snapshot(_state(OrderStatus.CANCELLED))
    late = _trade("Cancelled", filled="5", remaining="0")
    assert stream.on_status(late, now_ns=3) == []  # waits for the fill behind it
    released = stream.on_execution(_fill(), now_ns=4)
    assert [type(u) for u in released] == [VenueFill, VenueOrderState]
    final = released[1]
    assert isinstance(final, VenueOrderState)
    assert (final.status, final.filled_quantity) == (OrderStatus.CANCELLED, D(5))


def test_stream_records_the_latest_execution_time_for_polling() -> None:
    stream = _stream()
    stream.on_execution(_fill(), now_ns=0)
    assert stream.last_execution_ns == 1_736_952_067_000_000_000
