"""Turn domain state into API response bodies."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import msgspec

from alphintra.api.schemas import (
    ChildOrderView,
    OrderView,
    PortfolioView,
    PositionView,
    RoutingView,
    SignalFeedback,
    SignalView,
    TradeView,
)
from alphintra.domain.account import AccountState, is_execution_parent
from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus
from alphintra.domain.events import OrderFilled, SignalReceived
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.orders import Order
from alphintra.domain.positions import Position
from alphintra.portfolio.valuation import PortfolioValue
from alphintra.service.errors import ConflictError
from alphintra.service.trading import AccountRuntime, InvalidRequestError, SignalOutcome

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def when(ts_ns: int) -> datetime:
    """Return a UTC datetime for nanoseconds since the epoch, truncated to microseconds.

    Exact integer arithmetic: ``nanos(when(t)) <= t`` always holds, so a time read from
    the API and sent back as a lower bound includes the record it came from.
    """
    return _EPOCH + timedelta(microseconds=ts_ns // 1000)


def nanos(moment: datetime) -> int:
    """Return nanoseconds since the epoch for a datetime (naive means UTC), exactly."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


_INT64 = 2**63 - 1


def clamped_nanos(moment: datetime) -> int:
    """Return `nanos` clamped to the signed 64-bit range the stores keep times in.

    For a time filter: a bound before 1678 or after 2262 matches what the extreme would.
    """
    return max(-_INT64 - 1, min(_INT64, nanos(moment)))


def text(value: Decimal | None) -> str | None:
    """Return a decimal as plain text (no exponent), or None."""
    if value is None:
        return None
    return format(value, "f")


def received(value: object) -> object:
    """Return a rejected input as JSON can carry it: NaN and infinities as their tokens."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # "NaN", "Infinity" or "-Infinity"
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:197] + "..."
    return _repr(value, 0)[:200]


def _repr(value: object, depth: int) -> str:
    """Return ``repr(value)`` with each Decimal written as its number (``[0.5]``), to 8 levels."""
    if isinstance(value, Decimal):
        return str(value)
    if depth >= 8 and isinstance(value, list | dict):
        return "..."
    if isinstance(value, list):
        return "[" + ", ".join(_repr(v, depth + 1) for v in value[:50]) + "]"
    if isinstance(value, dict):
        items = list(value.items())[:50]
        return "{" + ", ".join(f"{k!r}: {_repr(v, depth + 1)}" for k, v in items) + "}"
    return repr(value)


def check_period(start: datetime | None, end: datetime | None) -> None:
    """Refuse a period that ends before it starts (it matched nothing, silently)."""
    if start is None or end is None:
        return
    if nanos(end) < nanos(start):
        raise InvalidRequestError(
            "INVALID_PERIOD",
            f"fromTime must not be after toTime, got fromTime={start.isoformat()} "
            f"and toTime={end.isoformat()}",
        )


def accounts_holding(
    accounts: Mapping[AccountId, AccountRuntime],
    allowed: frozenset[str] | None,
    ident: str,
    kind: Literal["order", "signal"],
) -> None:
    """Refuse (409) an order or signal ID that two accounts the caller sees both hold.

    IDs are the client's, unique per account only: an administrator, or a user with
    several accounts, names the one meant with ``accountId``; before, the first account
    found was acted on (a cancel could hit the other account's order).
    """
    holders = [
        account
        for account, runtime in accounts.items()
        if (allowed is None or account in allowed)
        and ident
        in (runtime.engine.state.orders if kind == "order" else runtime.engine.state.signals)
    ]
    if len(holders) > 1:
        raise ConflictError(
            "AMBIGUOUS_ID",
            f"{kind} {ident!r} exists in accounts {', '.join(holders)}; "
            "name one with the accountId query parameter",
        )


def order_view(
    account_id: str,
    order: Order,
    children: list[Order] | None = None,
    routing: list[RoutingView] | None = None,
) -> OrderView:
    """Return the API view of an order (children and routing for an execution parent)."""
    status = order.status.value
    return OrderView(
        algo=order.exec_algorithm,
        routing=routing,
        children=(
            [
                ChildOrderView(
                    orderId=child.client_order_id,
                    status=child.status.value,
                    quantity=format(child.quantity, "f"),
                    filledQuantity=format(child.filled_quantity, "f"),
                    averagePrice=text(child.average_price),
                    createdAt=when(child.ts_init),
                    venue=child.venue,
                )
                for child in children
            ]
            if children is not None
            else None
        ),
        orderId=order.client_order_id,
        accountId=account_id,
        symbol=order.instrument_id,
        side=order.side,
        type=order.order_type,
        status=status,
        quantity=format(order.quantity, "f"),
        filledQuantity=format(order.filled_quantity, "f"),
        averagePrice=text(order.average_price),
        price=text(order.price),
        stopPrice=text(order.trigger_price),
        timeInForce=order.time_in_force,
        signalId=order.signal_id,
        parentId=order.parent_id,
        linkedOrderIds=list(order.linked_ids),
        venueOrderId=order.venue_order_id,
        createdAt=when(order.ts_init),
        updatedAt=when(order.last_event_ts),
    )


def _iso(ts_ns: int) -> str:
    return when(ts_ns).isoformat().replace("+00:00", "Z")


def order_payload(account_id: str, order: Order) -> dict[str, object]:
    """Return the JSON of ``order_view`` built directly (the WebSocket hot path)."""
    return order_payload_later(account_id, order)()


def order_payload_later(account_id: str, order: Order) -> Callable[[], dict[str, object]]:
    """Return a function that builds ``order_payload`` of the order as it is now.

    The values an order event can change are captured at once (cheap); the text is
    built only when called, so a WebSocket message nobody reads costs no formatting.
    """
    return _OrderPayloadLater(
        account_id,
        order,
        order.status,
        order.quantity,
        order.filled_quantity,
        order.average_price,
        order.price,
        order.trigger_price,
        order.linked_ids,
        order.venue_order_id,
        order.last_event_ts,
    )


# The payload builders below are what the event hub buffers (up to 100,000 messages,
# several per signal): msgspec structs with gc=False, so the cyclic garbage collector
# never walks them (a partial would be tracked, with its tuple of arguments). Each
# refers to an order, a fill or plain values, none of which refers back to it, so it
# can be in no reference cycle.


class _OrderPayloadLater(msgspec.Struct, gc=False):
    """`_order_payload` of an order's fixed fields and the values captured from it."""

    account_id: str
    order: Order
    status: OrderStatus
    quantity: Decimal
    filled_quantity: Decimal
    average_price: Decimal | None
    price: Decimal | None
    trigger_price: Decimal | None
    linked_ids: tuple[str, ...]
    venue_order_id: str | None
    last_event_ts: int

    def __call__(self) -> dict[str, object]:
        return _order_payload(
            self.account_id,
            self.order,
            self.status,
            self.quantity,
            self.filled_quantity,
            self.average_price,
            self.price,
            self.trigger_price,
            self.linked_ids,
            self.venue_order_id,
            self.last_event_ts,
        )


def _order_payload(
    account_id: str,
    order: Order,
    status: OrderStatus,
    quantity: Decimal,
    filled_quantity: Decimal,
    average_price: Decimal | None,
    price: Decimal | None,
    trigger_price: Decimal | None,
    linked_ids: tuple[str, ...],
    venue_order_id: str | None,
    last_event_ts: int,
) -> dict[str, object]:
    """Return ``order_payload`` from the order's fixed fields and the captured ones."""
    return {
        "orderId": order.client_order_id,
        "accountId": account_id,
        "symbol": order.instrument_id,
        "side": order.side.value,
        "type": order.order_type.value,
        "status": status.value,
        "quantity": format(quantity, "f"),
        "filledQuantity": format(filled_quantity, "f"),
        "averagePrice": text(average_price),
        "price": text(price),
        "stopPrice": text(trigger_price),
        "timeInForce": order.time_in_force.value,
        "signalId": order.signal_id,
        "parentId": order.parent_id,
        "linkedOrderIds": list(linked_ids),
        "venueOrderId": venue_order_id,
        "createdAt": _iso(order.ts_init),
        "updatedAt": _iso(last_event_ts),
        "algo": order.exec_algorithm,
        # A parent's children stream as orders of their own; REST lists them with it.
        "children": None,
        "routing": None,  # routing decisions: on REST (GET /orders/{id}) only
    }


def trade_payload(account_id: str, fill: OrderFilled) -> dict[str, object]:
    """Return the JSON of ``trade_view`` built directly (the WebSocket hot path)."""
    return {
        "tradeId": fill.trade_id,
        "orderId": fill.client_order_id,
        "accountId": account_id,
        "symbol": fill.instrument_id,
        "side": fill.side.value,
        "quantity": format(fill.last_quantity, "f"),
        "price": format(fill.last_price, "f"),
        "fee": format(fill.fee, "f"),
        "feeCurrency": fill.fee_currency,
        "liquidity": fill.liquidity.value,
        "venue": fill.venue,
        "executedAt": _iso(fill.ts_event),
    }


def trade_payload_later(account_id: str, fill: OrderFilled) -> Callable[[], dict[str, object]]:
    """Return a function that builds ``trade_payload`` (a fill never changes)."""
    return _TradePayloadLater(account_id, fill)


class _TradePayloadLater(msgspec.Struct, gc=False):
    """`trade_payload` of a fill, built when called."""

    account_id: str
    fill: OrderFilled

    def __call__(self) -> dict[str, object]:
        return trade_payload(self.account_id, self.fill)


def trade_view(account_id: str, fill: OrderFilled) -> TradeView:
    """Return the API view of a fill."""
    return TradeView(
        tradeId=fill.trade_id,
        orderId=fill.client_order_id,
        accountId=account_id,
        symbol=fill.instrument_id,
        side=fill.side,
        quantity=format(fill.last_quantity, "f"),
        price=format(fill.last_price, "f"),
        fee=format(fill.fee, "f"),
        feeCurrency=fill.fee_currency,
        liquidity=fill.liquidity.value,
        venue=fill.venue,
        executedAt=when(fill.ts_event),
    )


def position_payload_later(
    account_id: str, position: Position, mark: Decimal | None
) -> Callable[[], dict[str, Any]]:
    """Return a function that builds the JSON of ``position_view`` as the position is now.

    The values a fill changes are captured at once; the view is built only when called.
    """
    return _PositionPayloadLater(
        account_id,
        position.account_id,
        position.instrument_id,
        position.multiplier,
        position.currency,
        position.quantity,
        position.open_cost,
        position.realized_pnl,
        position.opened_ts,
        mark,
    )


class _PositionPayloadLater(msgspec.Struct, gc=False):
    """`_position_payload` of the values captured from a position."""

    account_id: str
    owner: AccountId
    instrument_id: InstrumentId
    multiplier: Decimal
    currency: str
    quantity: Decimal
    open_cost: Decimal
    realized_pnl: Decimal
    opened_ts: int | None
    mark: Decimal | None

    def __call__(self) -> dict[str, Any]:
        return _position_payload(
            self.account_id,
            self.owner,
            self.instrument_id,
            self.multiplier,
            self.currency,
            self.quantity,
            self.open_cost,
            self.realized_pnl,
            self.opened_ts,
            self.mark,
        )


def _position_payload(
    account_id: str,
    owner: AccountId,
    instrument_id: InstrumentId,
    multiplier: Decimal,
    currency: str,
    quantity: Decimal,
    open_cost: Decimal,
    realized_pnl: Decimal,
    opened_ts: int | None,
    mark: Decimal | None,
) -> dict[str, Any]:
    """Return the JSON of ``position_view`` of a position with the captured values."""
    position = Position(owner, instrument_id, multiplier, currency)
    position.quantity = quantity
    position.open_cost = open_cost
    position.realized_pnl = realized_pnl
    position.opened_ts = opened_ts
    return position_view(account_id, position, mark).model_dump(mode="json")


def position_view(account_id: str, position: Position, mark: Decimal | None) -> PositionView:
    """Return the API view of a position."""
    quantity = position.quantity
    side: Literal["LONG", "SHORT", "FLAT"] = (
        "LONG" if quantity > 0 else "SHORT" if quantity < 0 else "FLAT"
    )
    return PositionView(
        accountId=account_id,
        symbol=position.instrument_id,
        side=side,
        quantity=format(abs(quantity), "f"),
        averagePrice=text(position.average_price),
        marketValue=text(position.market_value(mark)) if mark is not None else None,
        unrealizedPnL=text(position.unrealized_pnl(mark)) if mark is not None else None,
        realizedPnL=format(position.realized_pnl, "f"),
        currency=position.currency,
        openedAt=when(position.opened_ts) if position.opened_ts is not None else None,
    )


def portfolio_view(
    account_id: str,
    state: AccountState,
    value: PortfolioValue,
    *,
    starting: Decimal,
    day_start: Decimal,
    sharpe: float | None,
    max_drawdown: Decimal,
    now_ns: int,
) -> PortfolioView:
    """Return the API view of an account's valuation."""
    total = value.total
    return PortfolioView(
        accountId=account_id,
        currency=value.currency,
        totalValue=format(total, "f"),
        cashBalance=format(value.cash, "f"),
        positionsValue=format(value.positions_value, "f"),
        unrealizedPnL=format(value.unrealized_pnl, "f"),
        realizedPnL=format(value.realized_pnl, "f"),
        dailyPnL=format(total - day_start, "f"),
        totalReturn=format((total - starting) / starting if starting else Decimal(0), "f"),
        sharpeRatio=sharpe,
        maxDrawdown=format(max_drawdown, "f"),
        fees=format(value.fees, "f"),
        unconverted={k: format(v, "f") for k, v in value.unconverted.items()},
        tradingState=state.trading_state.value,
        lastUpdated=when(now_ns),
    )


def signal_view(
    account_id: str,
    received: SignalReceived,
    outcome: SignalOutcome,
    state: AccountState,
    entry_price: Decimal | None,
    arrival_mid: Decimal | None,
) -> SignalView:
    """Return a signal with its status and the feedback its model needs.

    The fill figures come from the orders, which hold each fill's quantity and notional.
    An execution parent holds its children's fills too (mirrored, same trade IDs): its
    fills are counted once, from the children.
    """
    orders = [state.orders[o] for o in outcome.order_ids if o in state.orders]
    distinct = {o.client_order_id: o for o in orders}.values()
    entries = [o for o in distinct if o.parent_id is None]
    filled = sum((o.filled_quantity for o in entries), Decimal(0))
    notional = sum((o.avg_price_notional for o in entries), Decimal(0))
    average = notional / filled if filled else None
    reference = entry_price if entry_price is not None else arrival_mid
    slippage: Decimal | None = None
    if average is not None and reference:
        side = entries[0].side if entries else OrderSide.BUY
        slippage = (average - reference) / reference * 10_000 * side.sign
    position = state.positions.get(received.instrument_id)
    return SignalView(
        signalId=received.signal_id,
        modelId=received.model_id,
        accountId=account_id,
        symbol=received.instrument_id,
        action=received.action,
        confidence=format(received.confidence, "f"),
        quantity=text(received.quantity),
        receivedAt=when(received.ts_recv),
        status=outcome.status,
        reasonCode=outcome.reason_code,
        reason=outcome.reason,
        orderIds=list(outcome.order_ids),
        feedback=SignalFeedback(
            orders=len(orders),
            fills=sum(len(o.trade_ids) for o in distinct if not is_execution_parent(o)),
            filledQuantity=format(filled, "f"),
            averagePrice=text(average),
            slippageBps=text(
                slippage.quantize(Decimal("0.0001")) if slippage is not None else None
            ),
            reference=text(reference),
            realizedPnL=text(position.realized_pnl)
            if position is not None and position.quantity == 0
            else None,
        ),
    )


def check_client_order_id(account_id: str, client_order_id: str, state: AccountState) -> None:
    """Refuse (422) a new client order ID of the form the engine draws its own IDs in.

    The engine names orders ``ACCOUNT-<hex>-<n>``, counting up; a client that took one it
    had not drawn yet (the form shows in every order it names) had its order replaced in
    the account's state by the engine's next one, while it still worked at the venue. An
    ID already in the account is a retry and is left to the idempotency check.
    """
    if client_order_id in state.orders:
        return
    prefix = f"{account_id}-"
    if client_order_id.startswith(prefix) and _ENGINE_ID.fullmatch(client_order_id[len(prefix) :]):
        raise InvalidRequestError(
            "RESERVED_CLIENT_ORDER_ID",
            f"clientOrderId {client_order_id!r} has the form of the IDs the engine draws "
            f"({account_id}-<hex>-<number>); choose another",
        )


_ENGINE_ID = re.compile(r"[0-9a-f]+-[0-9]+")


def reuse_conflict(order: Order, request: OrderRequest) -> str | None:
    """Return how ``order`` differs from ``request`` made under its client order ID, or None.

    A client order ID is the idempotency key: a retry of the same order gets the order
    back, a different order under it must not look placed. Compared as the order stands:
    a trailing stop's trigger (moved by the engine) only when the request gives one, and
    a reduce-only order's quantity (cut by the engine to the position) not at all.
    """
    pairs: list[tuple[str, object, object]] = [
        ("symbol", order.instrument_id, request.instrument_id),
        ("side", order.side.value, request.side.value),
        ("type", order.order_type.value, request.order_type.value),
        ("timeInForce", order.time_in_force.value, request.time_in_force.value),
        ("expireTime", order.expire_ts, request.expire_ts),
        ("price", order.price, request.price),
        ("reduceOnly", order.reduce_only, request.reduce_only),
        ("postOnly", order.post_only, request.post_only),
        ("trailingOffset", order.trailing_offset, request.trailing_offset),
        ("displayQuantity", order.display_quantity, request.display_quantity),
    ]
    if request.trigger_price is not None:
        pairs.append(("stopPrice", order.trigger_price, request.trigger_price))
    if not order.reduce_only:
        pairs.append(("quantity", order.quantity, request.quantity))
    differences = [
        f"{name} {_shown(held)} (this request: {_shown(sent)})"
        for name, held, sent in pairs
        if held != sent
    ]
    if not differences:
        return None
    return (
        f"clientOrderId {order.client_order_id!r} already names a different order: "
        + ", ".join(differences)
        + "; send a new clientOrderId, or the same order to read it back"
    )


def _shown(value: object) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)
