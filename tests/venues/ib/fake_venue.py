"""Orders for the fake TWS: acknowledge, match against a quote, cancel, modify.

Plugged into ``FakeTws`` (``on_place``, ``on_cancel``), it answers the client's
placeOrder and cancelOrder the way TWS does for a simple exchange: openOrder and
orderStatus on acceptance; execDetails, orderStatus Filled and a commission report when
the quote crosses; PendingCancel, error 202 and Cancelled on a cancel; error 10147 or
10148 for a cancel TWS cannot honour. Everything it says is built by ``tws_messages``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from . import tws_messages as m
from .fake_tws import FakeTws, Fields

_WORKING = ("PreSubmitted", "Submitted")


@dataclass
class FakeOrder:
    """The fake venue's own record of one order."""

    order_id: int
    perm_id: int
    contract: m.WireContract
    action: str
    quantity: Decimal
    order_type: str
    limit: Decimal | None
    tif: str
    order_ref: str
    status: str = "Submitted"
    filled: Decimal = Decimal(0)
    average: Decimal = Decimal(0)


def _number(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")


class FakeIbVenue:
    """A matching venue behind a ``FakeTws``: market orders fill at the touch, limits rest."""

    def __init__(self, fake: FakeTws, *, commission: str = "1.0") -> None:
        self.fake = fake
        self.commission = commission
        self.orders: dict[int, FakeOrder] = {}
        self.touch: dict[int, tuple[Decimal, Decimal]] = {}
        """conId -> (bid, ask)."""
        self._perm_ids = itertools.count(1_900_000_001)
        self._exec_ids = itertools.count(1)
        fake.on_place = self.place
        fake.on_cancel = self.cancel

    # ------------------------------------------------------------------ requests

    def place(self, fields: Fields) -> list[Fields]:
        """Answer a placeOrder: a new order, or a modification of a working one."""
        order_id = int(fields[1])
        existing = self.orders.get(order_id)
        if existing is not None:
            existing.quantity = Decimal(fields[17])
            existing.limit = _number(fields[19])
            return [*self._report(existing), *self._match(existing)]
        contract = self.fake.contracts[int(fields[2])]
        order = FakeOrder(
            order_id=order_id,
            perm_id=next(self._perm_ids),
            contract=contract,
            action=fields[16],
            quantity=Decimal(fields[17]),
            order_type=fields[18],
            limit=_number(fields[19]),
            tif=fields[21],
            order_ref=fields[26],
        )
        self.orders[order_id] = order
        return [*self._report(order), *self._match(order)]

    def cancel(self, fields: Fields) -> list[Fields]:
        """Answer a cancelOrder."""
        order_id = int(fields[2])
        order = self.orders.get(order_id)
        if order is None:
            text = f"OrderId {order_id} that needs to be cancelled is not found."
            return [m.error(order_id, 10147, text)]
        if order.status not in _WORKING:
            text = f"OrderId {order_id} that needs to be cancelled cannot be cancelled, state: "
            return [m.error(order_id, 10148, f"{text}{order.status}.")]
        pending = self._status(order, "PendingCancel")
        order.status = "Cancelled"
        self._book_keeping()
        return [pending, m.error(order_id, 202, "Order Canceled - reason:"), *self._report(order)]

    def set_quote(self, con_id: int, bid: Decimal, ask: Decimal) -> None:
        """Move the touch, fill what it crosses and stream it to a subscribed client."""
        self.touch[con_id] = (bid, ask)
        self.fake.quotes[con_id] = (_text(bid), _text(ask), "100", "100")
        for order in list(self.orders.values()):
            if order.contract.con_id == con_id:
                for message in self._match(order):
                    self.fake.send(message)

    def record(self) -> dict[str, dict[str, object]]:
        """Return the venue's view of every order by client order ID (orderRef)."""
        return {
            o.order_ref: {"status": o.status, "filled": o.filled, "quantity": o.quantity}
            for o in self.orders.values()
        }

    # ------------------------------------------------------------------ matching

    def _match(self, order: FakeOrder) -> list[Fields]:
        touch = self.touch.get(order.contract.con_id)
        if order.status not in _WORKING or touch is None:
            return []
        bid, ask = touch
        buy = order.action == "BUY"
        if order.order_type == "MKT":
            price = ask if buy else bid
        elif order.order_type == "LMT" and order.limit is not None:
            crosses = ask <= order.limit if buy else bid >= order.limit
            if not crosses:
                return []
            price = order.limit
        else:
            return []
        return self._fill(order, price)

    def _fill(self, order: FakeOrder, price: Decimal) -> list[Fields]:
        quantity = order.quantity - order.filled
        order.average = price
        order.filled = order.quantity
        order.status = "Filled"
        exec_id = f"0000fake.{next(self._exec_ids):08x}.01.01"
        when = datetime.now(UTC).strftime("%Y%m%d %H:%M:%S UTC")

        def execution(req_id: str) -> Fields:
            return m.exec_details(
                order.contract,
                req_id=req_id,
                order_id=order.order_id,
                exec_id=exec_id,
                time=when,
                side="BOT" if order.action == "BUY" else "SLD",
                shares=_text(quantity),
                price=_text(price),
                perm_id=order.perm_id,
                cum_qty=_text(order.filled),
                avg_price=_text(price),
                order_ref=order.order_ref,
            )

        report = m.commission_report(exec_id, self.commission, order.contract.currency)
        self.fake.executions.append((execution("$REQ_ID"), report))
        return [execution("-1"), *self._report(order), report]

    # ------------------------------------------------------------------ reports

    def _status(self, order: FakeOrder, status: str) -> Fields:
        return m.order_status(
            order.order_id,
            status,
            filled=_text(order.filled),
            remaining=_text(order.quantity - order.filled),
            avg_fill_price=_text(order.average),
            perm_id=order.perm_id,
            last_fill_price=_text(order.average),
        )

    def _open_order(self, order: FakeOrder) -> Fields:
        return m.open_order(
            order.order_id,
            order.contract,
            action=order.action,
            quantity=_text(order.quantity),
            order_type=order.order_type,
            status=order.status,
            perm_id=order.perm_id,
            order_ref=order.order_ref,
            lmt_price=_text(order.limit) if order.limit is not None else "0.0",
            tif=order.tif,
        )

    def _report(self, order: FakeOrder) -> list[Fields]:
        self._book_keeping()
        return [self._open_order(order), self._status(order, order.status)]

    def _book_keeping(self) -> None:
        """Keep the fake's answers to reqOpenOrders and reqCompletedOrders current."""
        self.fake.open_orders = [
            message
            for o in self.orders.values()
            if o.status in _WORKING
            for message in (self._open_order(o), self._status(o, o.status))
        ]
        self.fake.completed_orders = [
            m.completed_order(
                o.contract,
                action=o.action,
                quantity=_text(o.quantity),
                order_type=o.order_type,
                status=o.status,
                perm_id=o.perm_id,
                order_ref=o.order_ref,
                filled=_text(o.filled),
                lmt_price=_text(o.limit) if o.limit is not None else "0.0",
                tif=o.tif,
            )
            for o in self.orders.values()
            if o.status not in _WORKING
        ]
