"""Project journal events into the read tables, in the journal's own transaction.

The projector watches events as the journal buffers them and, at commit, writes the
current state of every order, position and signal they touched (upserts), plus the
new trades and audit records (inserts). Because those statements run inside the
commit that stores the events, the read tables never disagree with the journal.
Decimals are written as exact decimal text, enums as their value (read as ``_value_``:
the ``value`` property costs a Python call, about 0.13 us, on every row).

A signal's row changes only with its status, which most order events leave as it was
(an order being acknowledged leaves its signal ACCEPTED): the projector remembers the
status each open signal's row was last written with and skips the upsert while it
stays the same. An order submitted or acknowledged (and nothing else) cannot change its
signal's status, so a signal whose row is remembered is not even looked at then. A
signal is forgotten once its status is final and every order of it is closed. If a
commit fails, what its drain remembered is forgotten too, so the next commit writes
those rows again.

An order's row is upserted the first time the projector writes it. While the order is
open the projector remembers the quantity, prices and venue that row was written with,
and the order's next write is a plain UPDATE: of the fill, status and venue order ID
columns alone while those four stay the same objects (the same values written the same
way), else of every column the upsert would set. An order is forgotten once written
closed (a late fill then upserts it again) and, like a signal, when its commit fails.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Final

from alphintra.domain.account import AccountState
from alphintra.domain.events import (
    AnyEvent,
    AuditRecorded,
    OrderAccepted,
    OrderEvent,
    OrderFilled,
    OrderSubmitted,
    SignalReceived,
    SignalRejected,
)
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, SignalId

SignalStatus = tuple[str, str | None, str | None]
SignalStatusFn = Callable[[AccountState, SignalId], SignalStatus]
Params = tuple[object, ...]
SignalKey = tuple[AccountId, SignalId]
OrderKey = tuple[AccountId, ClientOrderId]
WrittenOrder = tuple[Decimal, Decimal | None, Decimal | None, str | None]
"""An open order's quantity, price, stop price and venue, as its row was last written."""
_FINAL_SIGNAL_STATUSES = frozenset({"EXECUTED", "REJECTED"})


def _text(value: Decimal | None) -> str | None:
    """Return ``format(value, "f")``: exact decimal text, never an exponent."""
    if value is None:
        return None
    text = str(value)  # the same text unless it has an exponent, and quicker
    return text if "E" not in text else format(value, "f")


_UPSERT_ORDER = (
    "INSERT INTO orders (account_id, order_id, signal_id, parent_id, symbol, side, order_type,"
    " time_in_force, quantity, price, stop_price, filled_quantity, average_price, status, venue,"
    " venue_order_id, created_at_ns, updated_at_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, order_id) DO UPDATE SET quantity = excluded.quantity,"
    " price = excluded.price, stop_price = excluded.stop_price,"
    " filled_quantity = excluded.filled_quantity, average_price = excluded.average_price,"
    " status = excluded.status, venue = excluded.venue,"
    " venue_order_id = excluded.venue_order_id, updated_at_ns = excluded.updated_at_ns"
)
_UPDATE_ORDER = (
    "UPDATE orders SET quantity = ?, price = ?, stop_price = ?, filled_quantity = ?,"
    " average_price = ?, status = ?, venue = ?, venue_order_id = ?, updated_at_ns = ?"
    " WHERE account_id = ? AND order_id = ?"
)
"""What `_UPSERT_ORDER` sets on a row that exists, without trying the insert first."""
_UPDATE_ORDER_PROGRESS = (
    "UPDATE orders SET filled_quantity = ?, average_price = ?, status = ?,"
    " venue_order_id = ?, updated_at_ns = ? WHERE account_id = ? AND order_id = ?"
)
"""`_UPDATE_ORDER` of an order whose quantity, prices and venue are as last written."""
_UPSERT_POSITION = (
    "INSERT INTO positions (account_id, symbol, quantity, open_cost, realized_pnl, currency,"
    " opened_at_ns, updated_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, symbol) DO UPDATE SET quantity = excluded.quantity,"
    " open_cost = excluded.open_cost, realized_pnl = excluded.realized_pnl,"
    " opened_at_ns = excluded.opened_at_ns, updated_at_ns = excluded.updated_at_ns"
)
_UPSERT_SIGNAL = (
    "INSERT INTO trading_signals (account_id, signal_id, model_id, symbol, action, confidence,"
    " quantity, status, reason_code, reason, signal_ts_ns, received_at_ns)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (account_id, signal_id) DO UPDATE SET status = excluded.status,"
    " reason_code = excluded.reason_code, reason = excluded.reason"
)


def _null_literals(sql: str, null: tuple[int, ...]) -> str:
    """Return ``sql`` with NULL in place of the placeholders at positions ``null``."""
    parts = sql.split("?")
    return parts[0] + "".join(
        ("NULL" if i in null else "?") + part for i, part in enumerate(parts[1:])
    )


# The stdlib sqlite3 driver binds a None through its adapter look-up (~0.27 us a
# parameter, ten times an int): the usual None values are NULL literals instead.
_NEW_ORDER_NULLS = (3, 9, 10, 12, 15)  # parent_id, price, stop_price, average_price, venue_order_id
_UPSERT_NEW_ORDER = _null_literals(_UPSERT_ORDER, _NEW_ORDER_NULLS)
"""`_UPSERT_ORDER` of a new order without parent, prices, fills or venue order ID yet."""
_SIGNAL_NULLS = (8, 9)  # reason_code, reason
_UPSERT_SIGNAL_WITHOUT_REASON = _null_literals(_UPSERT_SIGNAL, _SIGNAL_NULLS)
"""`_UPSERT_SIGNAL` of a signal with no reason code or reason."""
NULL_LITERALS: Final = {
    _UPSERT_NEW_ORDER: (_UPSERT_ORDER, _NEW_ORDER_NULLS),
    _UPSERT_SIGNAL_WITHOUT_REASON: (_UPSERT_SIGNAL, _SIGNAL_NULLS),
}
"""Each statement with NULL literals: its plain statement, and where its NULLs stand."""
_INSERT_TRADE = (
    "INSERT INTO trades (account_id, venue, trade_id, order_id, symbol, side, quantity, price,"
    " fee, fee_currency, liquidity, executed_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_AUDIT = (
    "INSERT INTO audit_log (account_id, seq, actor, action, address, target, old_value,"
    " new_value, ts_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class ReadModelProjector:
    """A journal commit hook that keeps the read tables in step with the events."""

    def __init__(
        self,
        signal_status: SignalStatusFn,
        account_state: Callable[[AccountId], AccountState | None],
    ) -> None:
        self._signal_status = signal_status
        self._state_of = account_state
        self._orders: dict[tuple[AccountId, ClientOrderId], int] = {}
        self._positions: dict[tuple[AccountId, InstrumentId], int] = {}
        self._signals: dict[tuple[AccountId, SignalId], int] = {}
        self._trades: list[Params] = []
        self._audits: list[Params] = []
        self._written: dict[SignalKey, SignalStatus] = {}
        """The status each open signal's row was last written with."""
        self._drained: list[SignalKey] = []
        """The signals whose rows the commit being written holds."""
        self._orders_written: dict[OrderKey, WrittenOrder] = {}
        """The open orders whose rows are written, with what they were written with."""
        self._orders_drained: list[OrderKey] = []
        """The orders whose rows the commit being written holds."""
        self._moved: set[OrderKey] = set()
        """The orders touched since the last commit by an event that may change their
        signal's status (any but `OrderSubmitted` and `OrderAccepted`)."""

    @property
    def remembered_orders(self) -> int:
        """Return how many orders' written rows are remembered (open orders)."""
        return len(self._orders_written)

    @property
    def remembered_signals(self) -> int:
        """Return how many signals' written status is remembered (open signals)."""
        return len(self._written)

    def appended(self, event: AnyEvent, seq: int) -> None:
        """Note what ``event`` touched."""
        account = event.account_id
        if isinstance(event, OrderEvent):
            key = (account, event.client_order_id)
            self._orders[key] = event.ts_event
            kind = type(event)
            if kind is not OrderSubmitted and kind is not OrderAccepted:
                self._moved.add(key)
            if type(event) is OrderFilled:
                self._positions[(account, event.instrument_id)] = event.ts_event
                self._trades.append(
                    (
                        account,
                        event.venue,
                        event.trade_id,
                        event.client_order_id,
                        event.instrument_id,
                        event.side._value_,
                        _text(event.last_quantity),
                        _text(event.last_price),
                        _text(event.fee),
                        event.fee_currency,
                        event.liquidity._value_,
                        event.ts_event,
                    )
                )
        elif type(event) is SignalReceived or type(event) is SignalRejected:
            self._signals[(account, event.signal_id)] = _RECEIVED
        elif type(event) is AuditRecorded:
            self._audits.append(
                (
                    account,
                    seq,
                    event.actor,
                    event.action,
                    event.address,
                    event.target,
                    event.old_value,
                    event.new_value,
                    event.ts_event,
                )
            )

    def drain(self) -> list[tuple[str, list[Params]]]:
        """Return the statements for the commit now starting, and forget them."""
        orders, positions, signals = self._orders, self._positions, self._signals
        trades, audits, moved = self._trades, self._audits, self._moved
        self._orders, self._positions, self._signals = {}, {}, {}
        self._moved = set()
        self._trades, self._audits = [], []
        states: dict[AccountId, AccountState | None] = {}
        state_of = self._state_of
        text = _text
        order_rows: list[Params] = []
        add_order = order_rows.append
        full_updates: list[Params] = []
        progress: list[Params] = []
        new_orders: list[Params] = []
        written_orders = self._orders_written
        orders_drained = list(orders)
        state: AccountState | None = None
        state_account: AccountId | None = None
        for order_key, ts in orders.items():
            account, order_id = order_key
            if account is not state_account:  # a commit rarely spans several accounts
                state = states[account] if account in states else state_of(account)
                states[account] = state
                state_account = account
            order = state.orders.get(order_id) if state is not None else None
            if order is None:
                continue
            signal_id = order.signal_id
            if signal_id is not None:
                signal_key = (account, signal_id)
                # Only submitted or acknowledged: the status its row was written with holds.
                if signal_key not in signals and (
                    order_key in moved or signal_key not in self._written
                ):
                    signals[signal_key] = ts
            updated = order.last_event_ts
            updated = ts if ts > updated else updated
            quantity, price, trigger, venue = (
                order.quantity,
                order.price,
                order.trigger_price,
                order.venue,
            )
            order_status = order.status
            before = written_orders.get(order_key)
            parent_id, average, venue_order_id = (
                order.parent_id,
                order.average_price,
                order.venue_order_id,
            )
            if (
                before is None
                and parent_id is None
                and price is None
                and trigger is None
                and average is None
                and venue_order_id is None
            ):
                new_orders.append(
                    (
                        account,
                        order_id,
                        signal_id,
                        order.instrument_id,
                        order.side._value_,
                        order.order_type._value_,
                        order.time_in_force._value_,
                        text(quantity),
                        text(order.filled_quantity),
                        order_status._value_,
                        venue,
                        order.ts_init,
                        updated,
                    )
                )
            elif before is None:
                add_order(
                    (
                        account,
                        order_id,
                        signal_id,
                        parent_id,
                        order.instrument_id,
                        order.side._value_,
                        order.order_type._value_,
                        order.time_in_force._value_,
                        text(quantity),
                        text(price),
                        text(trigger),
                        text(order.filled_quantity),
                        text(average),
                        order_status._value_,
                        venue,
                        venue_order_id,
                        order.ts_init,
                        updated,
                    )
                )
            elif (
                before[0] is quantity
                and before[1] is price
                and before[2] is trigger
                and before[3] == venue
            ):
                progress.append(
                    (
                        text(order.filled_quantity),
                        text(average),
                        order_status._value_,
                        venue_order_id,
                        updated,
                        account,
                        order_id,
                    )
                )
            else:
                full_updates.append(
                    (
                        text(quantity),
                        text(price),
                        text(trigger),
                        text(order.filled_quantity),
                        text(average),
                        order_status._value_,
                        venue,
                        venue_order_id,
                        updated,
                        account,
                        order_id,
                    )
                )
            if order_status.is_closed:
                written_orders.pop(order_key, None)
            else:
                written_orders[order_key] = (quantity, price, trigger, venue)
        self._orders_drained = orders_drained
        position_rows: list[Params] = []
        for (account, symbol), ts in positions.items():
            state = states[account] if account in states else state_of(account)
            states[account] = state
            position = state.positions.get(symbol) if state is not None else None
            if position is None:
                continue
            position_rows.append(
                (
                    account,
                    symbol,
                    text(position.quantity),
                    text(position.open_cost),
                    text(position.realized_pnl),
                    position.currency,
                    position.opened_ts,
                    ts,
                )
            )
        signal_rows: list[Params] = []
        plain_signals: list[Params] = []
        written = self._written
        drained: list[SignalKey] = []
        status_of = self._signal_status
        for key, ts in signals.items():
            account, signal_id = key
            state = states[account] if account in states else state_of(account)
            states[account] = state
            received = state.signals.get(signal_id) if state is not None else None
            if state is None or received is None:
                continue
            status = status_of(state, signal_id)
            if ts != _RECEIVED and written.get(key) == status:
                continue
            drained.append(key)
            if status[0] in _FINAL_SIGNAL_STATUSES and _all_closed(state, signal_id):
                written.pop(key, None)
            else:
                written[key] = status
            if status[1] is None and status[2] is None:
                plain_signals.append(
                    (
                        account,
                        signal_id,
                        received.model_id,
                        received.instrument_id,
                        received.action._value_,
                        text(received.confidence),
                        text(received.quantity),
                        status[0],
                        received.ts_event,
                        received.ts_recv,
                    )
                )
                continue
            signal_rows.append(
                (
                    account,
                    signal_id,
                    received.model_id,
                    received.instrument_id,
                    received.action._value_,
                    text(received.confidence),
                    text(received.quantity),
                    status[0],
                    status[1],
                    status[2],
                    received.ts_event,
                    received.ts_recv,
                )
            )
        self._drained = drained
        return [
            (_UPSERT_SIGNAL_WITHOUT_REASON, plain_signals),
            (_UPSERT_SIGNAL, signal_rows),
            (_UPSERT_NEW_ORDER, new_orders),
            (_UPSERT_ORDER, order_rows),
            (_UPDATE_ORDER, full_updates),
            (_UPDATE_ORDER_PROGRESS, progress),
            (_INSERT_TRADE, trades),
            (_UPSERT_POSITION, position_rows),
            (_INSERT_AUDIT, audits),
        ]

    def discard(self) -> None:
        """Forget everything since the last commit, and what its drain remembered."""
        self._orders, self._positions, self._signals = {}, {}, {}
        self._moved = set()
        self._trades, self._audits = [], []
        for key in self._drained:
            self._written.pop(key, None)
        self._drained = []
        for order_key in self._orders_drained:
            self._orders_written.pop(order_key, None)
        self._orders_drained = []


_RECEIVED = -1
"""Marks a signal whose own event is in the batch: its row is written whatever its status."""


def _all_closed(state: AccountState, signal_id: SignalId) -> bool:
    """Return True when every order of the signal is closed (its status can no longer change)."""
    return all(order.status.is_closed for order in state.signal_orders.get(signal_id, ()))
