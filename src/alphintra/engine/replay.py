"""Rebuild an account's engine from its journal, optionally starting from a snapshot.

After a restart the engine's state is the fold of the account's journaled events.
``rebuild_engine`` replays them into a fresh engine through ``TradingEngine.restore``;
with a snapshot it loads the state the snapshot holds and replays only the events
after it. Either way the rebuilt state equals the live one (``AccountState.fingerprint``)
and the engine carries on under client order IDs it never used before.

A snapshot is canonical JSON (msgspec, decimals as strings, every collection in the
engine's own order), stored with ``Journal.save_snapshot`` at the seq it covers:

* the account: base currency, trading state, cash, fees, marks, signals;
* every order (every slot of ``Order``) and position (every slot of ``Position``);
* the engine: each order as last released (``_inits``), the client order ID counter,
  the emulated orders it watches, in the order it checks them, and the execution
  algos paused and the volume each participation algo has counted.

Marks are market data, not events: a rebuild from scratch starts without them (and
without FX rates) until the next data point, a rebuild from a snapshot with the
marks the snapshot held. The emulator's best price for a trailing stop is recovered
from the stop itself, as after any restart.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Final

import msgspec

from alphintra.domain.enums import (
    AssetClass,
    ContingencyType,
    InstrumentKind,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TradingState,
    TrailingOffsetType,
)
from alphintra.domain.events import (
    AnyEvent,
    EquityMarksRecorded,
    OrderInitialized,
    SignalReceived,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    OrderListId,
    SignalId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.orders import Order
from alphintra.domain.positions import Position
from alphintra.domain.values import Currency, Price, Quantity
from alphintra.engine.engine import TradingEngine
from alphintra.store.journal import Journal, SnapshotError

__all__ = [
    "SNAPSHOT_FORMAT",
    "AccountSnapshot",
    "OrderSnapshot",
    "PositionSnapshot",
    "capture_snapshot",
    "decode_snapshot",
    "encode_snapshot",
    "read_events",
    "rebuild_engine",
    "restore_snapshot",
    "take_snapshot",
]

SNAPSHOT_FORMAT: Final = 1
"""Version of the snapshot schema; a snapshot of another version is refused."""


class OrderSnapshot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every slot of one ``Order``."""

    client_order_id: ClientOrderId
    account_id: AccountId
    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    trailing_offset: Decimal | None
    trailing_offset_type: TrailingOffsetType | None
    display_quantity: Decimal | None
    time_in_force: TimeInForce
    expire_ts: int | None
    reduce_only: bool
    post_only: bool
    contingency: ContingencyType
    order_list_id: OrderListId | None
    parent_id: ClientOrderId | None
    linked_ids: tuple[ClientOrderId, ...]
    signal_id: SignalId | None
    emulated: bool
    venue: VenueId | None
    venue_order_id: VenueOrderId | None
    status: OrderStatus
    status_before_pending: OrderStatus
    filled_quantity: Decimal
    avg_price_notional: Decimal
    trade_ids: list[TradeId]
    """Sorted."""
    ts_init: int
    last_event_ts: int
    exec_algorithm: str | None = None


class PositionSnapshot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Every slot of one ``Position``."""

    account_id: AccountId
    instrument_id: InstrumentId
    multiplier: Decimal
    currency: Currency
    quantity: Decimal
    open_cost: Decimal
    realized_pnl: Decimal
    opened_ts: int | None
    ts_last: int
    trade_ids: list[tuple[VenueId, TradeId]]
    """Sorted (venue, trade ID) pairs."""


class AccountSnapshot(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The state of one account's engine after journal event ``seq``."""

    format: int
    account_id: AccountId
    seq: int
    base_currency: Currency
    trading_state: TradingState
    event_count: int
    cash: dict[Currency, Decimal]
    fees: dict[Currency, Decimal]
    marks: dict[InstrumentId, Decimal]
    orders: list[OrderSnapshot]
    """In the order the orders were created."""
    positions: list[PositionSnapshot]
    signals: list[SignalReceived]
    released: list[OrderInitialized]
    """The engine's copy of each order as last released (``TradingEngine._inits``)."""
    id_seq: int
    """The last client order ID number the engine issued."""
    emulated: list[ClientOrderId]
    """Emulated orders the engine watches, in the order it checks them."""
    algo_paused: list[ClientOrderId] = msgspec.field(default_factory=list)
    """Execution algos paused (``AlgoStateChanged``), sorted."""
    algo_volumes: dict[ClientOrderId, Decimal] = msgspec.field(default_factory=dict)
    """Volume each participation algo has counted (``AlgoVolumeObserved``)."""
    routing: dict[ClientOrderId, list[str]] = msgspec.field(default_factory=dict)
    """Routing decisions of each SOR parent (``RoutingDecided`` JSON), oldest first."""
    routing_restart: list[ClientOrderId] = msgspec.field(default_factory=list)
    """SOR parents paused since their last decision: they route afresh, sorted."""
    equity_marks: EquityMarksRecorded | None = None
    """The loss monitor's last journaled figures (``AccountState.equity_marks``)."""


def _enc_hook(obj: object) -> object:
    if isinstance(obj, Decimal):  # Price and Quantity: msgspec encodes plain Decimal only
        return str(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__} {obj!r} in a snapshot")


def _dec_hook(tp: type, obj: object) -> object:
    if (tp is Price or tp is Quantity) and isinstance(obj, str):
        return tp(obj)
    raise NotImplementedError(f"cannot decode {obj!r} as {tp!r} in a snapshot")


_ENCODER: Final = msgspec.json.Encoder(enc_hook=_enc_hook)
_DECODER: Final = msgspec.json.Decoder(AccountSnapshot, dec_hook=_dec_hook)


def _order_snapshot(order: Order) -> OrderSnapshot:
    return OrderSnapshot(
        client_order_id=order.client_order_id,
        account_id=order.account_id,
        instrument_id=order.instrument_id,
        side=order.side,
        order_type=order.order_type,
        quantity=order.quantity,
        price=order.price,
        trigger_price=order.trigger_price,
        trailing_offset=order.trailing_offset,
        trailing_offset_type=order.trailing_offset_type,
        display_quantity=order.display_quantity,
        time_in_force=order.time_in_force,
        expire_ts=order.expire_ts,
        reduce_only=order.reduce_only,
        post_only=order.post_only,
        contingency=order.contingency,
        order_list_id=order.order_list_id,
        parent_id=order.parent_id,
        linked_ids=order.linked_ids,
        signal_id=order.signal_id,
        emulated=order.emulated,
        venue=order.venue,
        venue_order_id=order.venue_order_id,
        status=order.status,
        status_before_pending=order.status_before_pending,
        filled_quantity=order.filled_quantity,
        avg_price_notional=order.avg_price_notional,
        trade_ids=sorted(order.trade_ids),
        ts_init=order.ts_init,
        last_event_ts=order.last_event_ts,
        exec_algorithm=order.exec_algorithm,
    )


def _position_snapshot(position: Position) -> PositionSnapshot:
    return PositionSnapshot(
        account_id=position.account_id,
        instrument_id=position.instrument_id,
        multiplier=position.multiplier,
        currency=position.currency,
        quantity=position.quantity,
        open_cost=position.open_cost,
        realized_pnl=position.realized_pnl,
        opened_ts=position.opened_ts,
        ts_last=position.ts_last,
        trade_ids=sorted(position.trade_ids),
    )


def capture_snapshot(engine: TradingEngine, seq: int) -> AccountSnapshot:
    """Return the engine's state as a snapshot taken after journal event ``seq``."""
    state = engine.state
    algo_paused, algo_volumes = engine._algo_snapshot()
    return AccountSnapshot(
        format=SNAPSHOT_FORMAT,
        account_id=engine.account_id,
        seq=seq,
        base_currency=state.base_currency,
        trading_state=state.trading_state,
        event_count=state.event_count,
        cash=dict(state.cash),
        fees=dict(state.fees),
        marks=dict(state.marks),
        orders=[_order_snapshot(order) for order in state.orders.values()],
        positions=[_position_snapshot(position) for position in state.positions.values()],
        signals=list(state.signals.values()),
        released=list(engine._inits.values()),
        id_seq=engine._id_seq,
        emulated=engine.emulator.tracked(),
        algo_paused=algo_paused,
        algo_volumes=algo_volumes,
        routing=engine._routing_snapshot(),
        routing_restart=engine._routing_restarts(),
        equity_marks=state.equity_marks,
    )


def encode_snapshot(snapshot: AccountSnapshot) -> bytes:
    """Return the canonical JSON bytes of ``snapshot``."""
    return _ENCODER.encode(snapshot)


def decode_snapshot(data: bytes) -> AccountSnapshot:
    """Decode snapshot bytes; raise ``SnapshotError`` when they are not a valid snapshot."""
    try:
        snapshot = _DECODER.decode(data)
    except (msgspec.DecodeError, ValueError) as exc:
        raise SnapshotError(f"invalid account snapshot ({exc}): {bytes(data[:120])!r}") from None
    if snapshot.format != SNAPSHOT_FORMAT:
        raise SnapshotError(
            f"account snapshot has format {snapshot.format}, this engine reads format "
            f"{SNAPSHOT_FORMAT}"
        )
    return snapshot


def _order_from(saved: OrderSnapshot) -> Order:
    order = Order.__new__(Order)
    order.client_order_id = saved.client_order_id
    order.account_id = saved.account_id
    order.instrument_id = saved.instrument_id
    order.side = saved.side
    order.order_type = saved.order_type
    order.quantity = Quantity(saved.quantity)
    order.price = None if saved.price is None else Price(saved.price)
    order.trigger_price = None if saved.trigger_price is None else Price(saved.trigger_price)
    order.trailing_offset = saved.trailing_offset
    order.trailing_offset_type = saved.trailing_offset_type
    order.display_quantity = (
        None if saved.display_quantity is None else Quantity(saved.display_quantity)
    )
    order.time_in_force = saved.time_in_force
    order.expire_ts = saved.expire_ts
    order.reduce_only = saved.reduce_only
    order.post_only = saved.post_only
    order.contingency = saved.contingency
    order.order_list_id = saved.order_list_id
    order.parent_id = saved.parent_id
    order.linked_ids = saved.linked_ids
    order.signal_id = saved.signal_id
    order.emulated = saved.emulated
    order.venue = saved.venue
    order.venue_order_id = saved.venue_order_id
    order.status = saved.status
    order.status_before_pending = saved.status_before_pending
    order.filled_quantity = saved.filled_quantity
    order.avg_price_notional = saved.avg_price_notional
    order.trade_ids = set(saved.trade_ids)
    order.ts_init = saved.ts_init
    order.last_event_ts = saved.last_event_ts
    order.exec_algorithm = saved.exec_algorithm
    return order


def _position_from(saved: PositionSnapshot) -> Position:
    position = Position(saved.account_id, saved.instrument_id, saved.multiplier, saved.currency)
    position.quantity = saved.quantity
    position.open_cost = saved.open_cost
    position.realized_pnl = saved.realized_pnl
    position.opened_ts = saved.opened_ts
    position.ts_last = saved.ts_last
    position.trade_ids = {(venue, trade_id) for venue, trade_id in saved.trade_ids}
    return position


def restore_snapshot(engine: TradingEngine, snapshot: AccountSnapshot) -> None:
    """Load ``snapshot`` into a freshly made engine (one that has applied no event)."""
    if snapshot.account_id != engine.account_id:
        raise SnapshotError(
            f"snapshot of account {snapshot.account_id!r} cannot restore the engine of "
            f"account {engine.account_id!r}"
        )
    state = engine.state
    if state.event_count or state.orders or engine._inits:
        raise SnapshotError(
            f"engine of account {engine.account_id!r} already holds state "
            f"({state.event_count} events applied); restore a snapshot into a new engine"
        )
    for instrument_id in (
        *(o.instrument_id for o in snapshot.orders),
        *(p.instrument_id for p in snapshot.positions),
        *snapshot.marks,
    ):
        engine.instrument(instrument_id)
    state.base_currency = snapshot.base_currency
    state.trading_state = snapshot.trading_state
    state.equity_marks = snapshot.equity_marks
    state.event_count = snapshot.event_count
    state.cash.update(snapshot.cash)
    state.cash_version += 1  # cash and positions change here with no event: stale values
    state.fees.update(snapshot.fees)
    state.marks.update(snapshot.marks)
    for saved in snapshot.orders:
        order = _order_from(saved)
        state.orders[order.client_order_id] = order
        if order.is_open:
            state.open_orders[order.client_order_id] = order
            if order.reduce_only:
                state.open_reduce_only[order.client_order_id] = order
    for saved_position in snapshot.positions:
        state.positions[saved_position.instrument_id] = _position_from(saved_position)
    state.signals.update((signal.signal_id, signal) for signal in snapshot.signals)
    engine._inits.update((init.client_order_id, init) for init in snapshot.released)
    engine._id_seq = snapshot.id_seq
    for client_order_id in snapshot.emulated:
        order = state.orders[client_order_id]
        engine.emulator.track(order, engine.instrument(order.instrument_id))
    engine._load_algo_snapshot(snapshot.algo_paused, snapshot.algo_volumes)
    engine._load_routing_snapshot(snapshot.routing, snapshot.routing_restart)
    engine._restore_algos()
    # Exchange rates follow the marks of FX and crypto spot pairs, as live market data does.
    for instrument_id, mark in snapshot.marks.items():
        instrument = engine.instrument(instrument_id)
        if instrument.kind is InstrumentKind.SPOT and instrument.asset_class in (
            AssetClass.FX,
            AssetClass.CRYPTO,
        ):
            engine.fx.update(instrument.base_currency, instrument.quote_currency, mark)


def take_snapshot(engine: TradingEngine, journal: Journal) -> int:
    """Commit the journal, store the engine's state at the account's head; return its seq.

    Commands waiting in the engine's outbox stay there: committing early never breaks
    the write-ahead rule. Raise ``SnapshotError`` when the account has no events yet.
    """
    journal.commit()
    seq = journal.head(engine.account_id).seq
    journal.save_snapshot(engine.account_id, seq, encode_snapshot(capture_snapshot(engine, seq)))
    return seq


def read_events(journal: Journal, account_id: AccountId, after_seq: int = 0) -> list[AnyEvent]:
    """Return the account's durable events after ``after_seq``, in order."""
    return [record.event for record in journal.read(account_id, after_seq)]


def rebuild_engine(
    journal: Journal,
    account_id: AccountId,
    make_engine: Callable[[], TradingEngine],
    *,
    use_snapshot: bool = True,
) -> TradingEngine:
    """Return a new engine (from ``make_engine``) holding the account's journaled state.

    With ``use_snapshot`` the latest snapshot is loaded and only the events after it
    are replayed; otherwise every event is. The engine should be wired to ``journal``
    so that what it appends next continues the account's stream.
    """
    engine = make_engine()
    if engine.account_id != account_id:
        raise ValueError(
            f"make_engine returned an engine for account {engine.account_id!r}, "
            f"expected {account_id!r}"
        )
    after_seq = 0
    stored = journal.load_snapshot(account_id) if use_snapshot else None
    if stored is not None:
        after_seq, data = stored
        snapshot = decode_snapshot(data)
        if snapshot.seq != after_seq or snapshot.account_id != account_id:
            raise SnapshotError(
                f"snapshot stored for account {account_id!r} at seq {after_seq} describes "
                f"account {snapshot.account_id!r} at seq {snapshot.seq}"
            )
        restore_snapshot(engine, snapshot)
    engine.restore(read_events(journal, account_id, after_seq))
    return engine
