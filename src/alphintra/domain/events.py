"""Immutable events. The state of an account is the fold of its events, in order.

Every event carries ``ts_event`` (when it happened, as its source reports) and
``ts_recv`` (when the engine received it), both integer nanoseconds UTC.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from alphintra.domain.enums import (
    ContingencyType,
    LiquiditySide,
    OrderSide,
    OrderType,
    SignalAction,
    TimeInForce,
    TradingState,
    TrailingOffsetType,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    ModelId,
    OrderListId,
    SignalId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.values import Currency, Price, Quantity


class Event(msgspec.Struct, frozen=True, kw_only=True, tag=True, gc=False):
    """Base of every event."""

    account_id: AccountId
    ts_event: int
    ts_recv: int


class OrderEvent(Event, frozen=True, kw_only=True, gc=False):
    """An event about one order."""

    client_order_id: ClientOrderId


class OrderInitialized(OrderEvent, frozen=True, kw_only=True, gc=False):
    """An order was created with this full specification."""

    instrument_id: InstrumentId
    side: OrderSide
    order_type: OrderType
    quantity: Quantity
    price: Price | None = None
    """Limit price (LIMIT, STOP_LIMIT, limit-if-touched, ICEBERG)."""
    trigger_price: Price | None = None
    """Stop or touch price (STOP, STOP_LIMIT, TAKE_PROFIT, TRAILING_STOP)."""
    trailing_offset: Decimal | None = None
    trailing_offset_type: TrailingOffsetType | None = None
    display_quantity: Quantity | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_ts: int | None = None
    reduce_only: bool = False
    post_only: bool = False
    contingency: ContingencyType = ContingencyType.NONE
    order_list_id: OrderListId | None = None
    parent_id: ClientOrderId | None = None
    linked_ids: tuple[ClientOrderId, ...] = ()
    signal_id: SignalId | None = None
    emulated: bool = False
    """True when the engine, not the venue, works this order's trigger or slicing."""
    venue: VenueId | None = None
    exec_algorithm: str | None = None
    """The execution algorithm working this parent (TWAP, VWAP, POV, ICEBERG), if any."""
    exec_params: dict[str, str] | None = None
    """The algorithm's parameters as text (``alphintra.execution.algorithms``)."""


class OrderDenied(OrderEvent, frozen=True, kw_only=True, gc=False):
    """Risk stopped the order before it reached a venue."""

    reason_code: str
    reason: str


class OrderSubmitted(OrderEvent, frozen=True, kw_only=True, gc=False):
    """The order is durable and released to its venue."""

    venue: VenueId


class OrderAccepted(OrderEvent, frozen=True, kw_only=True, gc=False):
    """The venue acknowledged the order."""

    venue_order_id: VenueOrderId


class OrderRejected(OrderEvent, frozen=True, kw_only=True, gc=False):
    """The venue refused the order."""

    reason: str


class OrderPendingCancel(OrderEvent, frozen=True, kw_only=True, gc=False):
    """A cancel request was sent."""


class OrderPendingModify(OrderEvent, frozen=True, kw_only=True, gc=False):
    """A modify request was sent."""


class OrderCancelRejected(OrderEvent, frozen=True, kw_only=True, gc=False):
    """The venue refused a cancel request; the order stays as it was."""

    reason: str


class OrderModifyRejected(OrderEvent, frozen=True, kw_only=True, gc=False):
    """The venue refused a modify request; the order stays as it was."""

    reason: str


class OrderModified(OrderEvent, frozen=True, kw_only=True, gc=False):
    """Quantity, price or trigger price changed (also a trailing stop moving)."""

    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None


class OrderCancelled(OrderEvent, frozen=True, kw_only=True, gc=False):
    """The order will not fill any further."""

    reason: str = ""


class OrderExpired(OrderEvent, frozen=True, kw_only=True, gc=False):
    """The order's time in force ran out."""


class OrderTriggered(OrderEvent, frozen=True, kw_only=True, gc=False):
    """A stop or touch price traded; the order now works as market or limit."""


class OrderFilled(OrderEvent, frozen=True, kw_only=True, gc=False):
    """Part or all of the order traded."""

    venue: VenueId
    venue_order_id: VenueOrderId
    trade_id: TradeId
    instrument_id: InstrumentId
    side: OrderSide
    last_quantity: Quantity
    last_price: Decimal
    fee: Decimal
    fee_currency: Currency
    liquidity: LiquiditySide


class OrderChildFilled(OrderEvent, frozen=True, kw_only=True, gc=False):
    """A child of an execution parent (iceberg slice, algo child) filled.

    The parent tracks progress only: positions, cash and fees are booked from the
    child's own ``OrderFilled``.
    """

    child_order_id: ClientOrderId
    trade_id: TradeId
    last_quantity: Quantity
    last_price: Decimal


class AlgoStateChanged(Event, frozen=True, kw_only=True, gc=False):
    """An execution algorithm was paused (no new children) or resumed."""

    client_order_id: ClientOrderId
    """The algo's parent order."""
    paused: bool
    reason: str = ""


class AlgoVolumeObserved(Event, frozen=True, kw_only=True, gc=False):
    """A participation (POV) algorithm counted traded volume: its running total.

    Market data is not journaled; this total is, so a replay sizes children alike.
    """

    client_order_id: ClientOrderId
    """The algo's parent order."""
    observed_volume: Decimal


class RoutingDecided(Event, frozen=True, kw_only=True, gc=False):
    """A smart order router split (or re-split) a parent order across venues.

    ``decision`` is the ``RoutingDecision`` as JSON: every input (books, fees,
    latencies, fill probabilities, limits, cost model), the split, the expected costs
    and an explanation, so the choice can be audited and is replayed, never redone.
    """

    client_order_id: ClientOrderId
    """The router's parent order."""
    attempt: int
    decision: str


class AccountFunded(Event, frozen=True, kw_only=True, gc=False):
    """Cash was deposited (negative: withdrawn)."""

    currency: Currency
    amount: Decimal


class AccountOpened(Event, frozen=True, kw_only=True, gc=False):
    """The account exists, with this base (reporting) currency."""

    base_currency: Currency


class TradingStateChanged(Event, frozen=True, kw_only=True, gc=False):
    """Trading state changed to ``state``, for ``reason``."""

    state: TradingState
    reason: str


class EquityMarksRecorded(Event, frozen=True, kw_only=True, gc=False):
    """The loss monitor's reference figures, journaled when they change.

    ``day`` is the account's trading day (a proleptic Gregorian ordinal in its time
    zone), ``day_start_equity`` the equity at its start and ``high_water`` the peak
    equity. A restart carries on from them, so the day's loss and the drawdown from the
    peak before it still count after it.

    ``last_equity`` is the latest equity of ``day`` when this was journaled (sampled
    while it moves, exact at a clean shutdown): after a restart on a later day, that
    day starts at it, so an overnight gap still counts toward its loss. None in
    journals written before it was recorded.
    """

    day: int
    day_start_equity: Decimal
    high_water: Decimal
    last_equity: Decimal | None = None


class RiskLimitsChanged(Event, frozen=True, kw_only=True, gc=False):
    """An account's risk limits and monitor thresholds were replaced as a whole.

    ``limits`` and ``monitors`` are JSON text in the configuration's form
    (``alphintra.risk.limits_mapping`` and ``alphintra.risk.monitor_mapping``). The
    latest one is what a restart applies, so a change made at run time survives it.
    """

    limits: str
    monitors: str


class SizingPolicyChanged(Event, frozen=True, kw_only=True, gc=False):
    """An account's sizing policy was replaced.

    ``policy`` is JSON text: the policy in the configuration's form
    (``alphintra.signals.sizing.sizing_policy_to_mapping``), or ``null`` for none. The
    latest one is what a restart applies.
    """

    policy: str


class SignalReceived(Event, frozen=True, kw_only=True, gc=False):
    """A model's trading signal arrived."""

    signal_id: SignalId
    model_id: ModelId
    instrument_id: InstrumentId
    action: SignalAction
    confidence: Decimal
    quantity: Decimal | None = None
    entry_price: Decimal | None = None
    """The model's entry price: the decision price execution quality is measured from."""


class SignalRejected(Event, frozen=True, kw_only=True, gc=False):
    """A received signal could not become an order (sizing, no position to close...)."""

    signal_id: SignalId
    reason_code: str
    reason: str


class AuditRecorded(Event, frozen=True, kw_only=True, gc=False):
    """A person or program changed something: who, what, from where, old and new values.

    Values are JSON text with secrets removed.
    """

    actor: str
    action: str
    address: str
    target: str
    old_value: str = ""
    new_value: str = ""


class RiskAlertRaised(Event, frozen=True, kw_only=True, gc=False):
    """A risk monitor acted: emergency stop, reducing, or a circuit breaker."""

    kind: str
    message: str
    instrument_id: InstrumentId | None = None


class PositionMismatch(Event, frozen=True, kw_only=True, gc=False):
    """Reconciliation found the venue's position differs from the engine's."""

    instrument_id: InstrumentId
    engine_quantity: Decimal
    venue_quantity: Decimal


class MarkUpdated(Event, frozen=True, kw_only=True, gc=False):
    """A mark price snapshot: written with snapshots so that replay restores marks."""

    instrument_id: InstrumentId
    mark: Decimal


OrderEvents = (
    OrderInitialized
    | OrderDenied
    | OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderPendingCancel
    | OrderPendingModify
    | OrderCancelRejected
    | OrderModifyRejected
    | OrderModified
    | OrderCancelled
    | OrderExpired
    | OrderTriggered
    | OrderFilled
    | OrderChildFilled
)

AnyEvent = (
    OrderEvents
    | AccountFunded
    | AccountOpened
    | TradingStateChanged
    | EquityMarksRecorded
    | RiskLimitsChanged
    | SizingPolicyChanged
    | SignalReceived
    | SignalRejected
    | AuditRecorded
    | RiskAlertRaised
    | PositionMismatch
    | MarkUpdated
    | AlgoStateChanged
    | AlgoVolumeObserved
    | RoutingDecided
)
