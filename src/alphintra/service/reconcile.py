"""Reconciliation with a venue, at startup and periodically.

1. Fills since the last one seen are applied (the engine drops duplicates), so fills
   that happened while the service was down are booked.
2. Every order the engine believes is working is checked against the venue; cancels,
   expiries and fills that happened meanwhile are applied.
3. Orders working at the venue but unknown here are adopted as external orders.
4. A position that still differs is recorded as an explicit ``PositionMismatch`` event
   with an alert; it is never silently overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from alphintra.domain.enums import OrderStatus
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.domain.values import ZERO
from alphintra.service.execution import ExecutionClient
from alphintra.venues.adapter import AccountSnapshot, VenueError

_UNCONFIRMED = frozenset(
    {OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_MODIFY}
)
"""Waiting for the venue's answer: ask the venue (the answer may have been lost)."""
_WORKING = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_MODIFY,
    }
)


@dataclass(slots=True)
class ReconciliationReport:
    """What one reconciliation found and did."""

    fills_applied: int = 0
    orders_updated: list[ClientOrderId] = field(default_factory=list)
    adopted: list[ClientOrderId] = field(default_factory=list)
    mismatches: dict[InstrumentId, tuple[Decimal, Decimal]] = field(default_factory=dict)
    ok: bool = False
    error: str | None = None


async def reconcile(
    client: ExecutionClient,
    *,
    check_positions: bool = True,
    known_mismatches: dict[InstrumentId, tuple[Decimal, Decimal]] | None = None,
    only_venue: bool = False,
) -> ReconciliationReport:
    """Bring the engine in line with the venue; see the module docstring for the steps.

    ``known_mismatches`` (kept by the caller between runs) records a position difference
    once, not on every run while it stays the same. With ``only_venue`` (an account on
    several venues) only this venue's orders are checked, and positions are not compared
    (the engine's position is the sum over venues).
    """
    report = ReconciliationReport()
    engine = client.engine
    venue_id = client.adapter.venue_id
    before = sum(len(o.trade_ids) for o in engine.state.orders.values())
    try:
        await client.poll_fills()
        snapshot = await client.adapter.account()
        assert isinstance(snapshot, AccountSnapshot)
    except VenueError as exc:
        report.error = str(exc)
        return report
    venue_open = {o.client_order_id: o for o in snapshot.open_orders}
    for order in list(engine.state.orders.values()):
        if order.emulated or order.status not in _WORKING:
            continue
        if only_venue and order.venue != venue_id:
            continue
        state = venue_open.get(order.client_order_id)
        if (
            state is None
            or state.filled_quantity != order.filled_quantity
            or order.status in _UNCONFIRMED
        ):
            await client.resolve(order.client_order_id, order.instrument_id)
            report.orders_updated.append(order.client_order_id)
    # An order of ours can be listed under another client order ID: where the venue
    # takes our IDs only hashed (Kraken, OKX), a restarted adapter cannot reverse the
    # hash. It is ours when the venue order ID is (the resolves above linked it).
    linked = {
        (o.instrument_id, o.venue_order_id)
        for o in engine.state.orders.values()
        if o.venue_order_id is not None and o.venue in (venue_id, None)
    }
    for cid, state in venue_open.items():
        if cid in engine.state.orders or (state.instrument_id, state.venue_order_id) in linked:
            continue
        async with client.lock:
            engine.adopt_external(
                cid,
                state.instrument_id,
                state.side,
                state.order_type,
                state.quantity,
                state.price,
                state.venue_order_id,
                client.adapter.venue_id,
            )
            engine.flush(force=True)
        report.adopted.append(cid)
    await client.poll_fills()
    report.fills_applied = sum(len(o.trade_ids) for o in engine.state.orders.values()) - before
    if check_positions and not only_venue:
        venue_positions = {p.instrument_id: p.quantity for p in snapshot.positions}
        instruments = set(venue_positions) | {
            i for i, p in engine.state.positions.items() if p.quantity
        }
        for instrument_id in sorted(instruments):
            ours = engine.state.position_quantity(instrument_id)
            theirs = venue_positions.get(instrument_id, ZERO)
            if ours != theirs:
                report.mismatches[instrument_id] = (ours, theirs)
                if known_mismatches is not None:
                    if known_mismatches.get(instrument_id) == (ours, theirs):
                        continue
                    known_mismatches[instrument_id] = (ours, theirs)
                async with client.lock:
                    engine.record_position_mismatch(instrument_id, theirs)
                    engine.flush(force=True)
    if known_mismatches is not None:
        for instrument_id in set(known_mismatches) - set(report.mismatches):
            del known_mismatches[instrument_id]  # resolved: record it again if it comes back
    report.ok = not report.mismatches
    return report
