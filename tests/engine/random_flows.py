"""Random order flows for replay tests: hypothesis strategies and their interpreter.

A flow is a list of steps: quote bars for every instrument, and actions between bars
(orders of every type, brackets, cancels, modifies, signals, trading state changes,
repeated venue reports). ``Runner`` drives one engine with its own simulated venue
and clock; several runners given the same steps stay in lockstep, which is how a
rebuilt engine is checked to carry on exactly as the live one would have.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import (
    AssetClass,
    InstrumentKind,
    OrderSide,
    OrderType,
    SignalAction,
    TimeInForce,
    TradingState,
    TrailingOffsetType,
)
from alphintra.domain.events import AnyEvent, OrderAccepted, OrderEvents, OrderFilled
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    ModelId,
    SignalId,
    VenueId,
)
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteBar
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import EventJournal, TradingEngine
from alphintra.orders.factory import OrderValidationError
from alphintra.risk.pretrade import RiskLimits
from alphintra.signals.translation import SignalRejected
from alphintra.venues.capabilities import VenueCapabilities
from alphintra.venues.simulated.matching import (
    SIMULATED_CAPABILITIES,
    SimulatedVenue,
    SimulatedVenueConfig,
)

ACCOUNT = AccountId("ACC-1")
T0 = 1_700_006_400 * 10**9  # 2023-11-15 00:00 UTC: a day of minute bars fits
MINUTE = 60 * 10**9


@dataclass(frozen=True)
class Spec:
    """How the flow trades one instrument."""

    instrument_id: InstrumentId
    start: Decimal
    step: Decimal
    """Price move unit: a multiple of the tick size."""
    quantities: tuple[Decimal, ...]
    sizes: tuple[Decimal, ...]
    """Sizes shown in bars (0: unlimited)."""


SPECS = (
    Spec(
        InstrumentId("BTCUSD"),
        Decimal("30000.00"),
        Decimal("5.00"),
        (Decimal("0.001"), Decimal("0.01"), Decimal("0.05"), Decimal("0.1")),
        (Decimal(0), Decimal("0.003"), Decimal("0.02"), Decimal("0.07")),
    ),
    Spec(
        InstrumentId("ESX"),
        Decimal("4000.00"),
        Decimal("0.25"),
        (Decimal(1), Decimal(2), Decimal(3), Decimal(5)),
        (Decimal(0), Decimal(1), Decimal(2), Decimal(4)),
    ),
)
ESX = Instrument(
    InstrumentId("ESX"),
    "ESX",
    AssetClass.INDEX,
    InstrumentKind.FUTURE,
    "ESX",
    "USD",
    tick_size=Decimal("0.25"),
    lot_size=Decimal(1),
    multiplier=Decimal(10),
)


def make_registry() -> InstrumentRegistry:
    """Return a registry with BTCUSD (defaults) and ESX (a future, multiplier 10)."""
    registry = InstrumentRegistry([ESX])
    registry.get("BTCUSD")
    return registry


# Steps -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    moves: tuple[tuple[int, int, int, int, int], ...]
    """Per instrument: (close move, up, down, spread ticks, size index)."""


@dataclass(frozen=True)
class Submit:
    instrument: int
    order_type: OrderType
    side: OrderSide
    quantity: int
    offset: int
    offset2: int
    tif: TimeInForce
    reduce_only: bool
    post_only: bool
    off_tick: bool
    """Ask for a price off the tick grid: refused, yet it draws a client order ID."""
    user_id: int | None
    """Use this caller-chosen client order ID (repeating one returns the same order)."""
    percent_trail: bool


@dataclass(frozen=True)
class Bracket:
    instrument: int
    side: OrderSide
    limit_entry: bool
    quantity: int
    offset: int
    stop: int | None
    target: int | None


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class CancelAll:
    instrument: int | None


@dataclass(frozen=True)
class Modify:
    pick: int
    what: str
    delta: int


@dataclass(frozen=True)
class SetState:
    state: TradingState


@dataclass(frozen=True)
class Signal:
    instrument: int
    action: SignalAction
    quantity: int
    bracket: bool


@dataclass(frozen=True)
class Resend:
    """Deliver an earlier venue report again (a duplicate fill or a stale ack)."""

    pick: int


Step = Bar | Submit | Bracket | Cancel | CancelAll | Modify | SetState | Signal | Resend

_moves = st.tuples(
    st.integers(-4, 4), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)
)
bars = st.builds(Bar, moves=st.tuples(_moves, _moves))
_instrument = st.integers(0, len(SPECS) - 1)
_ORDER_TYPES = [
    OrderType.MARKET,
    OrderType.LIMIT,
    OrderType.LIMIT,
    OrderType.STOP,
    OrderType.STOP_LIMIT,
    OrderType.TAKE_PROFIT,
    OrderType.TRAILING_STOP,
    OrderType.ICEBERG,
]
submits = st.builds(
    Submit,
    instrument=_instrument,
    order_type=st.sampled_from(_ORDER_TYPES),
    side=st.sampled_from(OrderSide),
    quantity=st.integers(0, 3),
    offset=st.integers(-4, 4),
    offset2=st.integers(-2, 2),
    tif=st.sampled_from([TimeInForce.GTC] * 4 + list(TimeInForce)),
    reduce_only=st.integers(0, 7).map(lambda n: n == 0),
    post_only=st.booleans(),
    off_tick=st.integers(0, 9).map(lambda n: n == 0),
    user_id=st.none() | st.none() | st.integers(1, 4),
    percent_trail=st.booleans(),
)
brackets = st.builds(
    Bracket,
    instrument=_instrument,
    side=st.sampled_from(OrderSide),
    limit_entry=st.booleans(),
    quantity=st.integers(0, 3),
    offset=st.integers(0, 3),
    stop=st.none() | st.integers(1, 4),
    target=st.none() | st.integers(1, 4),
)
actions: st.SearchStrategy[Step] = st.one_of(
    submits,
    submits,
    brackets,
    st.builds(Cancel, pick=st.integers(0, 50)),
    st.builds(CancelAll, instrument=st.none() | _instrument),
    st.builds(
        Modify,
        pick=st.integers(0, 50),
        what=st.sampled_from(["price", "trigger", "quantity"]),
        delta=st.integers(-3, 3),
    ),
    st.builds(SetState, state=st.sampled_from([TradingState.ACTIVE] * 3 + list(TradingState))),
    st.builds(
        Signal,
        instrument=_instrument,
        action=st.sampled_from(
            [SignalAction.BUY, SignalAction.SELL, SignalAction.CLOSE_LONG, SignalAction.CLOSE_SHORT]
        ),
        quantity=st.integers(0, 3),
        bracket=st.booleans(),
    ),
    st.builds(Resend, pick=st.integers(0, 200)),
)
steps: st.SearchStrategy[Step] = st.one_of(bars, bars, actions)


@dataclass(frozen=True)
class FlowConfig:
    """The venue and risk setup of one flow."""

    native: bool
    """False: the venue has MARKET and LIMIT only, so the engine emulates the rest."""
    native_oco: bool
    partial_fills: bool
    taker_bps: Decimal
    limits: bool

    def venue_config(self) -> SimulatedVenueConfig:
        order_types = (
            SIMULATED_CAPABILITIES.order_types
            if self.native
            else frozenset({OrderType.MARKET, OrderType.LIMIT})
        )
        return SimulatedVenueConfig(
            taker_fee_bps=self.taker_bps,
            maker_fee_bps=self.taker_bps / 2,
            partial_fills=self.partial_fills,
            capabilities=VenueCapabilities(order_types=order_types, native_oco=self.native_oco),
        )

    def risk_limits(self) -> RiskLimits:
        if not self.limits:
            return RiskLimits()
        return RiskLimits(max_order_quantity=Decimal(4), max_position_quantity=Decimal(8))


configs = st.builds(
    FlowConfig,
    native=st.booleans(),
    native_oco=st.booleans(),
    partial_fills=st.booleans(),
    taker_bps=st.sampled_from([Decimal(0), Decimal("2.5"), Decimal(10)]),
    limits=st.booleans(),
)


# Running ---------------------------------------------------------------------------


def make_engine(
    config: FlowConfig,
    registry: InstrumentRegistry,
    journal: EventJournal,
    clock: SimulatedClock,
    venue_id: VenueId,
) -> TradingEngine:
    """Return an engine for the flow's account, wired like every other in the flow."""
    capabilities = config.venue_config().capabilities
    return TradingEngine(
        account_id=ACCOUNT,
        registry=registry,
        journal=journal,
        clock=clock,
        venues={venue_id: capabilities},
        default_venue=venue_id,
        limits=config.risk_limits(),
    )


class Market:
    """The synthetic market all runners of a flow share: mid prices and time."""

    def __init__(self) -> None:
        self.mids = [spec.start for spec in SPECS]
        self.ts = T0

    def bars(self, step: Bar) -> list[QuoteBar]:
        """Return the next bar of every instrument and move the mids to their closes."""
        self.ts += MINUTE
        result = []
        for index, (spec, move) in enumerate(zip(SPECS, step.moves, strict=True)):
            close, up, down, spread, size = move
            mid, unit = self.mids[index], spec.step
            high, low = mid + unit * max(up, close), mid - unit * max(down, -close)
            last = mid + unit * close
            half = (spec.step / 5) * spread
            result.append(
                QuoteBar(
                    spec.instrument_id,
                    bid_open=mid - half,
                    bid_high=high - half,
                    bid_low=low - half,
                    bid_close=last - half,
                    ask_open=mid + half,
                    ask_high=high + half,
                    ask_low=low + half,
                    ask_close=last + half,
                    bid_size=spec.sizes[size],
                    ask_size=spec.sizes[(size + 1) % len(spec.sizes)],
                    ts=self.ts,
                    interval_ns=MINUTE,
                )
            )
            self.mids[index] = last
        return result


@dataclass
class Runner:
    """One engine with its own venue and clock."""

    engine: TradingEngine
    venue: SimulatedVenue
    clock: SimulatedClock
    reports: list[OrderEvents] = field(default_factory=list)
    events: list[AnyEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.engine.subscribe(self.events.append)

    def deliver(self, report: OrderEvents) -> None:
        if type(report) is OrderFilled or type(report) is OrderAccepted:
            self.reports.append(report)
        self.engine.on_venue_event(report)

    def dispatch(self) -> None:
        commands = self.engine.flush()
        while commands:
            for command in commands:
                for report in self.venue.handle(command):
                    self.deliver(report)
            commands = self.engine.flush()

    def feed(self, bars: Sequence[QuoteBar]) -> None:
        for bar in bars:
            self.clock.advance_to(bar.ts)
            for report in self.venue.on_market_data(bar):
                self.deliver(report)
            self.engine.on_market_data(bar)
            self.dispatch()

    def act(self, step: Step, market: Market) -> None:
        """Carry out one action; requests the engine refuses are part of the flow."""
        with contextlib.suppress(OrderValidationError, SignalRejected):
            self._act(step, market)
        self.dispatch()

    def _pick(self, pick: int) -> ClientOrderId | None:
        orders = list(self.engine.state.orders)
        return orders[pick % len(orders)] if orders else None

    def _act(self, step: Step, market: Market) -> None:
        engine = self.engine
        if isinstance(step, Submit):
            engine.submit(_request(step, market, self.clock.now_ns()))
        elif isinstance(step, Bracket):
            spec, mid = SPECS[step.instrument], market.mids[step.instrument]
            sign = step.side.sign
            entry_price = mid - sign * spec.step * step.offset
            engine.submit_bracket(
                BracketRequest(
                    entry=OrderRequest(
                        instrument_id=spec.instrument_id,
                        side=step.side,
                        order_type=OrderType.LIMIT if step.limit_entry else OrderType.MARKET,
                        quantity=spec.quantities[step.quantity],
                        price=entry_price if step.limit_entry else None,
                    ),
                    stop_loss=None
                    if step.stop is None
                    else entry_price - sign * spec.step * 2 * step.stop,
                    take_profit=None
                    if step.target is None
                    else entry_price + sign * spec.step * 2 * step.target,
                )
            )
        elif isinstance(step, Cancel):
            order_id = self._pick(step.pick)
            if order_id is not None:
                engine.cancel(order_id, "flow cancel")
        elif isinstance(step, CancelAll):
            engine.cancel_all(
                "flow cancel all",
                None if step.instrument is None else SPECS[step.instrument].instrument_id,
            )
        elif isinstance(step, Modify):
            self._modify(step)
        elif isinstance(step, SetState):
            engine.set_trading_state(step.state, "flow")
        elif isinstance(step, Signal):
            self._signal(step, market)
        elif isinstance(step, Resend) and self.reports:
            self.deliver(self.reports[step.pick % len(self.reports)])

    def _modify(self, step: Modify) -> None:
        order_id = self._pick(step.pick)
        if order_id is None:
            return
        order = self.engine.state.orders[order_id]
        spec = next(s for s in SPECS if s.instrument_id == order.instrument_id)
        fields: dict[str, Any] = {}
        if step.what == "quantity":
            fields["quantity"] = order.quantity + spec.quantities[0] * step.delta
        elif step.what == "price" and order.price is not None:
            fields["price"] = order.price + spec.step * step.delta
        elif step.what == "trigger" and order.trigger_price is not None:
            fields["trigger_price"] = order.trigger_price + spec.step * step.delta
        if fields:
            self.engine.modify(order_id, **fields)

    def _signal(self, step: Signal, market: Market) -> None:
        spec, mid = SPECS[step.instrument], market.mids[step.instrument]
        sign = 1 if step.action is SignalAction.BUY else -1
        bracket = step.bracket and step.action in (SignalAction.BUY, SignalAction.SELL)
        number = len(self.engine.state.signals) + 1
        self.engine.process_signal(
            TradingSignal(
                signal_id=SignalId(f"S-{number}"),
                model_id=ModelId("model"),
                instrument_id=spec.instrument_id,
                action=step.action,
                confidence=Decimal("0.7"),
                ts=self.clock.now_ns(),
                quantity=spec.quantities[step.quantity],
                stop_loss=mid - sign * spec.step * 6 if bracket else None,
                take_profit=mid + sign * spec.step * 6 if bracket else None,
            )
        )


def _request(step: Submit, market: Market, now: int) -> OrderRequest:
    spec, mid = SPECS[step.instrument], market.mids[step.instrument]
    unit = spec.step
    price = trigger = offset = display = None
    offset_type = None
    order_type = step.order_type
    if order_type in (OrderType.LIMIT, OrderType.ICEBERG):
        price = mid + unit * step.offset
    elif order_type is OrderType.STOP:
        trigger = mid + unit * step.offset
    elif order_type is OrderType.STOP_LIMIT:
        trigger = mid + unit * step.offset
        price = trigger + unit * step.offset2
    elif order_type is OrderType.TAKE_PROFIT:
        trigger = mid + unit * step.offset
        price = trigger + unit * step.offset2 if step.offset2 > 0 else None
    elif order_type is OrderType.TRAILING_STOP:
        offset_type = TrailingOffsetType.PERCENT if step.percent_trail else TrailingOffsetType.PRICE
        offset = Decimal("0.05") * (abs(step.offset) + 1) if step.percent_trail else unit * 2
    quantity = spec.quantities[step.quantity]
    if order_type is OrderType.ICEBERG:
        display = spec.quantities[max(step.quantity - 1, 0)]
    if step.off_tick and price is not None:
        price += Decimal("0.001")  # on neither tick grid (0.01, 0.25): refused
    return OrderRequest(
        instrument_id=spec.instrument_id,
        side=step.side,
        order_type=order_type,
        quantity=quantity,
        price=price,
        trigger_price=trigger,
        trailing_offset=offset,
        trailing_offset_type=offset_type,
        display_quantity=display,
        time_in_force=step.tif,
        expire_ts=now + MINUTE * (step.quantity + 2) if step.tif is TimeInForce.GTD else None,
        reduce_only=step.reduce_only,
        post_only=step.post_only and order_type in (OrderType.LIMIT, OrderType.ICEBERG),
        client_order_id=None if step.user_id is None else ClientOrderId(f"U-{step.user_id}"),
    )


def run_steps(runners: Sequence[Runner], market: Market, flow: Sequence[Step]) -> None:
    """Run ``flow`` on every runner in lockstep."""
    for step in flow:
        if isinstance(step, Bar):
            bars_now = market.bars(step)
            for runner in runners:
                runner.feed(bars_now)
        else:
            for runner in runners:
                runner.act(step, market)
