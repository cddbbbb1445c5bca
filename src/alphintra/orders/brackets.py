"""Brackets: an entry order with a stop-loss and a take-profit that protect it.

The children are a STOP at the stop-loss and a LIMIT at the take-profit, on the other
side, reduce-only. They wait (NEW) until the entry fills, are sized to what it filled,
and cancel each other (OCO).
"""

from __future__ import annotations

from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import ContingencyType, OrderType
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, ClientOrderId, OrderListId, VenueId
from alphintra.domain.instruments import Instrument
from alphintra.orders.factory import build_order


def exit_requests(request: BracketRequest) -> list[OrderRequest]:
    """Return the stop-loss and take-profit requests of a bracket (either may be absent)."""
    entry = request.entry
    side = entry.side.opposite
    exits = []
    if request.stop_loss is not None:
        exits.append(
            OrderRequest(
                instrument_id=entry.instrument_id,
                side=side,
                order_type=OrderType.STOP,
                quantity=entry.quantity,
                trigger_price=request.stop_loss,
                reduce_only=True,
                signal_id=entry.signal_id,
            )
        )
    if request.take_profit is not None:
        exits.append(
            OrderRequest(
                instrument_id=entry.instrument_id,
                side=side,
                order_type=OrderType.LIMIT,
                quantity=entry.quantity,
                price=request.take_profit,
                reduce_only=True,
                signal_id=entry.signal_id,
            )
        )
    return exits


def build_bracket(
    request: BracketRequest,
    instrument: Instrument,
    *,
    account_id: AccountId,
    entry_id: ClientOrderId,
    child_ids: tuple[ClientOrderId, ...],
    venue: VenueId,
    native_types: frozenset[OrderType],
    ts: int,
) -> list[OrderInitialized]:
    """Validate a bracket and return its entry followed by its children.

    ``child_ids`` must hold one ID per exit (see ``exit_requests``).
    """
    exits = exit_requests(request)
    if len(exits) != len(child_ids):
        raise ValueError(f"need {len(exits)} child IDs, got {len(child_ids)}")
    list_id = OrderListId(f"B-{entry_id}")
    entry = build_order(
        request.entry,
        instrument,
        account_id=account_id,
        client_order_id=entry_id,
        venue=venue,
        native_types=native_types,
        ts=ts,
        contingency=ContingencyType.OTO if child_ids else ContingencyType.NONE,
        order_list_id=list_id,
        linked_ids=child_ids,
    )
    children = [
        build_order(
            child,
            instrument,
            account_id=account_id,
            client_order_id=child_id,
            venue=venue,
            native_types=native_types,
            ts=ts,
            contingency=ContingencyType.OCO if len(child_ids) > 1 else ContingencyType.NONE,
            order_list_id=list_id,
            parent_id=entry_id,
            linked_ids=tuple(c for c in child_ids if c != child_id),
        )
        for child, child_id in zip(exits, child_ids, strict=True)
    ]
    return [entry, *children]
