"""The simulated venue behind the same async adapter contract as a real broker.

Paper trading through this adapter exercises the exact code path live trading uses
(execution client, unknown-outcome handling, reconciliation), with the matching
rules of ``matching.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from typing import Any

from alphintra.domain.commands import CancelAtVenue, ModifyAtVenue, SubmitToVenue, VenueCommand
from alphintra.domain.enums import OrderStatus
from alphintra.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderEvents,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModified,
    OrderModifyRejected,
    OrderRejected,
)
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, VenueOrderId
from alphintra.domain.market import QuoteTick, TradeBar
from alphintra.domain.values import ZERO, Price, Quantity
from alphintra.venues.adapter import (
    AccountSnapshot,
    OrderUpdateHandler,
    QuoteHandler,
    RateLimit,
    VenueError,
    VenueErrorKind,
    VenueFill,
    VenueOrderState,
    VenuePosition,
)
from alphintra.venues.simulated.matching import SimulatedVenue


class SimulatedVenueAdapter:
    """An async ``VenueAdapter`` over a ``SimulatedVenue``."""

    rate_limit: RateLimit | None = None

    def __init__(self, venue: SimulatedVenue) -> None:
        self.venue = venue
        self.venue_id = venue.venue_id
        self.capabilities = venue.capabilities
        self.orders: dict[ClientOrderId, VenueOrderState] = {}
        self.fills: list[VenueFill] = []
        self._positions: dict[InstrumentId, Decimal] = {}
        self._handlers: list[OrderUpdateHandler] = []
        self._quote_handlers: list[QuoteHandler] = []
        self._last_quote: dict[InstrumentId, QuoteTick] = {}
        self.connected = False

    async def connect(self) -> None:
        """Nothing to open: the venue is in process."""
        self.connected = True

    async def disconnect(self) -> None:
        """Stop delivering updates."""
        self.connected = False

    async def account(self) -> AccountSnapshot:
        """Return the positions and open orders the venue holds."""
        return AccountSnapshot(
            balances=(),
            positions=tuple(
                VenuePosition(instrument_id, quantity)
                for instrument_id, quantity in self._positions.items()
                if quantity
            ),
            open_orders=tuple(
                state for state in self.orders.values() if not state.status.is_closed
            ),
        )

    async def _run(self, command: VenueCommand) -> list[OrderEvents]:
        reports = self.venue.handle(command)
        await self._publish(reports)
        return reports

    async def _publish(self, reports: list[OrderEvents]) -> None:
        for report in reports:
            update = self._book(report)
            if update is not None:
                for handler in self._handlers:
                    await handler(update)

    def _book(self, report: OrderEvents) -> VenueOrderState | VenueFill | None:
        state = self.orders.get(report.client_order_id)
        if state is None:
            return None
        kind = type(report)
        if kind is OrderFilled:
            assert isinstance(report, OrderFilled)
            filled = state.filled_quantity + report.last_quantity
            notional = (state.average_price or ZERO) * state.filled_quantity
            average = (notional + report.last_quantity * report.last_price) / filled
            self.orders[report.client_order_id] = _replace(
                state,
                filled_quantity=filled,
                average_price=average,
                status=OrderStatus.FILLED
                if filled >= state.quantity
                else OrderStatus.PARTIALLY_FILLED,
            )
            signed = report.last_quantity if report.side.sign > 0 else -report.last_quantity
            self._positions[report.instrument_id] = (
                self._positions.get(report.instrument_id, ZERO) + signed
            )
            fill = VenueFill(
                trade_id=report.trade_id,
                client_order_id=report.client_order_id,
                venue_order_id=report.venue_order_id,
                instrument_id=report.instrument_id,
                side=report.side,
                quantity=report.last_quantity,
                price=report.last_price,
                fee=report.fee,
                fee_currency=report.fee_currency,
                liquidity=report.liquidity,
                ts=report.ts_event,
            )
            self.fills.append(fill)
            return fill
        status = {
            OrderAccepted: OrderStatus.ACCEPTED,
            OrderCancelled: OrderStatus.CANCELLED,
            OrderExpired: OrderStatus.EXPIRED,
            OrderRejected: OrderStatus.REJECTED,
        }.get(kind)
        if status is not None:
            venue_order_id = (
                report.venue_order_id if isinstance(report, OrderAccepted) else state.venue_order_id
            )
            if state.status in (OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED) and (
                status is OrderStatus.ACCEPTED
            ):
                status = state.status
            updated = _replace(state, status=status, venue_order_id=venue_order_id)
            self.orders[report.client_order_id] = updated
            return updated
        if kind is OrderModified:
            assert isinstance(report, OrderModified)
            updated = _replace(
                state,
                quantity=report.quantity if report.quantity is not None else state.quantity,
                price=report.price if report.price is not None else state.price,
                trigger_price=(
                    report.trigger_price
                    if report.trigger_price is not None
                    else state.trigger_price
                ),
            )
            self.orders[report.client_order_id] = updated
            return updated
        return None

    async def place_order(self, order: OrderInitialized) -> VenueOrderState:
        """Submit; a client order ID the venue already works is refused (DEFINITIVE)."""
        existing = self.orders.get(order.client_order_id)
        if existing is not None and not existing.status.is_closed:
            raise VenueError(
                VenueErrorKind.DEFINITIVE,
                self.venue_id,
                f"duplicate client order ID {order.client_order_id} among open orders",
            )
        self.orders[order.client_order_id] = VenueOrderState(
            client_order_id=order.client_order_id,
            venue_order_id=VenueOrderId(""),
            instrument_id=order.instrument_id,
            side=order.side,
            order_type=order.order_type,
            status=OrderStatus.SUBMITTED,
            quantity=order.quantity,
            filled_quantity=ZERO,
            price=order.price,
            trigger_price=order.trigger_price,
            ts=order.ts_event,
        )
        reports = await self._run(SubmitToVenue(venue=self.venue_id, order=order))
        for report in reports:
            if type(report) is OrderRejected:
                raise VenueError(VenueErrorKind.DEFINITIVE, self.venue_id, report.reason)
        return self.orders[order.client_order_id]

    async def cancel_order(
        self, client_order_id: ClientOrderId, instrument_id: InstrumentId
    ) -> VenueOrderState:
        """Cancel; refused (DEFINITIVE) when the order is not open."""
        state = self.orders.get(client_order_id)
        reports = await self._run(
            CancelAtVenue(
                venue=self.venue_id,
                account_id=_ACCOUNT,
                client_order_id=client_order_id,
                instrument_id=instrument_id,
                ts=state.ts if state else 0,
            )
        )
        for report in reports:
            if type(report) is OrderCancelRejected:
                raise VenueError(VenueErrorKind.DEFINITIVE, self.venue_id, report.reason)
        return self.orders[client_order_id]

    async def modify_order(
        self,
        client_order_id: ClientOrderId,
        instrument_id: InstrumentId,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> VenueOrderState:
        """Modify; refused (DEFINITIVE) when the order is not open or the change invalid."""
        state = self.orders.get(client_order_id)
        reports = await self._run(
            ModifyAtVenue(
                venue=self.venue_id,
                account_id=_ACCOUNT,
                client_order_id=client_order_id,
                instrument_id=instrument_id,
                quantity=Quantity(quantity) if quantity is not None else None,
                price=Price(price) if price is not None else None,
                trigger_price=Price(trigger_price) if trigger_price is not None else None,
                ts=state.ts if state else 0,
            )
        )
        for report in reports:
            if type(report) is OrderModifyRejected:
                raise VenueError(VenueErrorKind.DEFINITIVE, self.venue_id, report.reason)
        return self.orders[client_order_id]

    async def query_order(
        self,
        instrument_id: InstrumentId,
        *,
        client_order_id: ClientOrderId | None = None,
        venue_order_id: VenueOrderId | None = None,
    ) -> VenueOrderState | None:
        """Return the venue's state of an order, or None when it never saw it."""
        if client_order_id is not None:
            return self.orders.get(client_order_id)
        for state in self.orders.values():
            if state.venue_order_id == venue_order_id:
                return state
        return None

    async def fills_since(
        self, ts_ns: int, instrument_id: InstrumentId | None = None
    ) -> list[VenueFill]:
        """Return fills at or after ``ts_ns``."""
        return [
            f
            for f in self.fills
            if f.ts >= ts_ns and (instrument_id is None or f.instrument_id == instrument_id)
        ]

    async def quote(self, instrument_id: InstrumentId) -> QuoteTick:
        """Return the latest quote; TRANSIENT when none has arrived yet."""
        quote = self._last_quote.get(instrument_id)
        if quote is None:
            raise VenueError(
                VenueErrorKind.TRANSIENT, self.venue_id, f"no quote yet for {instrument_id}"
            )
        return quote

    async def bars(
        self, instrument_id: InstrumentId, interval_s: int, start_ns: int, end_ns: int
    ) -> list[TradeBar]:
        """The simulated venue keeps no history."""
        return []

    async def subscribe_quotes(
        self, instruments: list[InstrumentId], handler: QuoteHandler
    ) -> None:
        """Deliver quotes as ``feed_quote`` receives them."""
        self._quote_handlers.append(handler)

    async def subscribe_order_updates(self, handler: OrderUpdateHandler) -> None:
        """Deliver order updates and fills as they happen."""
        self._handlers.append(handler)

    async def feed_quote(self, quote: QuoteTick) -> None:
        """Give the venue a quote: it matches working orders, then quote handlers run."""
        self._last_quote[quote.instrument_id] = quote
        await self._publish(self.venue.on_market_data(quote))
        for handler in self._quote_handlers:
            await handler(quote)
        await asyncio.sleep(0)


def _replace(state: VenueOrderState, **changes: Any) -> VenueOrderState:
    return dataclasses.replace(state, **changes)


_ACCOUNT = AccountId("SIM")
