"""The trading service: the one set of methods that REST, WebSocket, CLI and bus call.

Each account has a runtime: its engine, its venue and an asyncio lock that makes the
engine's single writer explicit. Every command runs under that lock, then the
journal is committed (write-ahead) and the venue commands are dispatched; venue
reports go straight back into the engine. The runtime and the account's settings are
in ``account_runtime.py``, the errors the service answers with in ``errors.py``; both
are importable from here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from functools import partial

import structlog

from alphintra.domain.account import AccountState, UnknownOrderError, is_execution_parent
from alphintra.domain.commands import BracketRequest, OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, SignalAction, TradingState
from alphintra.domain.events import (
    AnyEvent,
    AuditRecorded,
    OrderFilled,
    SignalReceived,
)
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, SignalId
from alphintra.domain.market import MarketData, QuoteTick
from alphintra.domain.orders import Order
from alphintra.domain.registry import InstrumentRegistry, UnknownInstrumentError
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import Clock
from alphintra.engine.engine import EventJournal, TradingEngine
from alphintra.execution.algorithms import AlgoSpec
from alphintra.execution.routing import VenueProfile
from alphintra.orders.factory import OrderValidationError, build_order
from alphintra.risk.limits_mapping import RiskLimitsBook
from alphintra.risk.limits_record import latest_limits
from alphintra.risk.monitor_mapping import MonitorLimitsBook
from alphintra.risk.monitors import MonitorLimits, RiskMonitor
from alphintra.risk.pretrade import RiskLimits
from alphintra.service.account_runtime import AccountRuntime, AccountSettings, SignalOutcome
from alphintra.service.errors import (
    AccountUnavailableError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    ServiceError,
)
from alphintra.service.hub import EventHub, run_first_seq
from alphintra.service.live import AlertFn, LiveAccount, LivePolicy, RoutedEngine
from alphintra.service.outcomes import market_data_payload, signal_state, signal_status
from alphintra.service.sim_venues import SimulatedVenueSetup
from alphintra.service.simulated import LazyInstruments, number_after_history
from alphintra.signals.sizing import SizingCaps, SizingError, SizingPolicy, size_signal
from alphintra.signals.sizing_book import SizingBook, latest_sizing, sizing_changed
from alphintra.signals.translation import SignalRejected as TranslationRejected
from alphintra.signals.translation import validation_requests, validation_shape
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

ObserverFn = Callable[[AccountRuntime, AnyEvent], None]


log = structlog.get_logger("alphintra")


class TradingService:
    """Accounts, their engines, and every command and query on them."""

    def __init__(
        self,
        *,
        journal: EventJournal,
        registry: InstrumentRegistry,
        clock: Clock,
        hub: EventHub | None = None,
        venue_config: SimulatedVenueConfig | None = None,
        live_policy: LivePolicy | None = None,
        simulated_venues: Sequence[SimulatedVenueSetup] = (),
    ) -> None:
        self.journal = journal
        self.venue_config = venue_config or SimulatedVenueConfig()
        self.simulated_venues = tuple(simulated_venues)
        """Extra simulated venues of every account without live venues (for routing)."""
        names = [self.venue_config.venue_id, *(v.venue_id for v in self.simulated_venues)]
        if len(set(names)) != len(names):
            raise ValueError(f"simulated venue IDs must be distinct, got {names}")
        self.registry = registry
        self.clock = clock
        self.hub = hub or EventHub(first_seq=run_first_seq())
        self.accounts: dict[AccountId, AccountRuntime] = {}
        self._observers: list[ObserverFn] = []
        self.live_policy = live_policy or LivePolicy()
        self.alert: AlertFn | None = None
        """Where live venues report failover (the API's alert channel)."""
        self.limits_book = RiskLimitsBook()
        """The configured risk limits of new accounts (``configured_limits``)."""
        self.monitors_book = MonitorLimitsBook()
        """The configured monitor thresholds of new accounts."""
        self.sizing_book = SizingBook()
        """The configured sizing policies of new accounts."""
        self.quote_listeners: list[Callable[[QuoteTick], None]] = []
        """Called with every quote a live venue streams (the execution-quality history)."""

    # Accounts -------------------------------------------------------------------

    def observe(self, observer: ObserverFn) -> None:
        """Call ``observer`` with every event of every account (metrics, projections)."""
        self._observers.append(observer)

    def configured_limits(self, account_id: str) -> tuple[RiskLimits, MonitorLimits]:
        """Return the configured limits and monitor thresholds of ``account_id`` (limits
        journaled since, by ``set_limits``, replace them when the account opens)."""
        return self.limits_book.for_account(account_id), self.monitors_book.for_account(account_id)

    def configured_sizing(self, account_id: str) -> SizingPolicy | None:
        """Return the configured sizing policy of ``account_id`` (one set since, by
        ``set_sizing``, replaces it when the account opens)."""
        return self.sizing_book.for_account(account_id)

    def open_account(
        self, settings: AccountSettings, history: Iterable[AnyEvent] = ()
    ) -> AccountRuntime:
        """Start an account's engine; replay ``history`` (its journal) when given."""
        if settings.account_id in self.accounts:
            raise ConflictError("ACCOUNT_EXISTS", f"account {settings.account_id} already exists")
        events = list(history)
        journaled = latest_limits(events)
        if journaled is not None:
            # Limits set at run time outlive the process: they replace the configured ones.
            if journaled != (settings.limits, settings.monitor):
                log.warning(
                    "risk_limits_from_journal",
                    account=settings.account_id,
                    detail="limits set over the API replace the configured ones for this account",
                )
            settings = dataclasses.replace(settings, limits=journaled[0], monitor=journaled[1])
        sizing_set, sizing = latest_sizing(events)
        if sizing_set:
            settings = dataclasses.replace(settings, sizing=sizing)
        venue = SimulatedVenue(self.venue_config, LazyInstruments(self.registry))
        links = settings.links
        extra = (
            {}
            if links
            else {
                s.venue_id: s.venue(LazyInstruments(self.registry)) for s in self.simulated_venues
            }
        )
        capabilities = {link.adapter.venue_id: link.adapter.capabilities for link in links}
        engine = (RoutedEngine if links else TradingEngine)(
            account_id=settings.account_id,
            registry=self.registry,
            journal=self.journal,
            clock=self.clock,
            venues=capabilities or {v.venue_id: v.capabilities for v in (venue, *extra.values())},
            default_venue=links[0].adapter.venue_id if links else venue.venue_id,
            limits=settings.limits,
            id_prefix=f"{settings.account_id}-{time.time_ns():x}",
        )
        engine.attach_monitor(RiskMonitor(settings.monitor))
        if not links:  # smart order routing prices the simulated venue by its own terms
            config = self.venue_config
            engine.set_routing_profile(
                venue.venue_id,
                VenueProfile(
                    taker_fee_bps=config.taker_fee_bps,
                    latency_ms=Decimal(config.latency_ns) / 1_000_000,
                ),
            )
            for setup in self.simulated_venues:
                engine.set_routing_profile(setup.venue_id, setup.profile())
        runtime = AccountRuntime(settings, engine, venue)
        runtime.extra_venues = extra
        if links:
            live = LiveAccount(
                engine,
                runtime.lock,
                links,
                settings.failover,
                policy=self.live_policy,
                history=events,
            )
            live.alert = self.alert
            live.on_quote = partial(self._live_quote, runtime)
            runtime.live = live
        self.accounts[settings.account_id] = runtime
        if events:
            engine.restore(events)
            for simulated in (venue, *extra.values()):
                number_after_history(simulated, events)
            # Orders the simulated venue held are gone with the old process: it starts
            # empty, so working orders are re-sent under the same IDs. Live venues keep
            # theirs: reconciliation brings the engine in line instead.
            for order in engine.state.open_orders.values() if not links else ():
                if not order.emulated and order.status is not OrderStatus.NEW:
                    engine.resubmit_after_restart(order.client_order_id)
        else:
            engine.open_account(
                settings.base_currency, {settings.base_currency: settings.starting_cash}
            )
        engine.subscribe(lambda event: self._notify(runtime, event))
        runtime.dispatch()
        engine.flush(force=True)
        return runtime

    def account_state(self, account_id: AccountId) -> AccountState | None:
        """Return an account's state, or None when it is not open."""
        runtime = self.accounts.get(account_id)
        return runtime.engine.state if runtime is not None else None

    def account(self, account_id: str, allowed: frozenset[str] | None) -> AccountRuntime:
        """Return the runtime, or 404 when missing or outside ``allowed``."""
        runtime = self.accounts.get(AccountId(account_id))
        if runtime is None or (allowed is not None and account_id not in allowed):
            raise NotFoundError("ACCOUNT_NOT_FOUND", f"account {account_id!r} not found")
        runtime.check_available()
        return runtime

    def _notify(self, runtime: AccountRuntime, event: AnyEvent) -> None:
        for observer in self._observers:
            observer(runtime, event)

    # Signals --------------------------------------------------------------------

    def _validate_signal(
        self, runtime: AccountRuntime, signal: TradingSignal, quantity: Decimal | None
    ) -> None:
        try:
            instrument = self.registry.get(signal.instrument_id)
        except UnknownInstrumentError as exc:
            raise InvalidRequestError("UNKNOWN_SYMBOL", str(exc)) from None
        if signal.action is SignalAction.REBALANCE:
            return
        if quantity is None:  # not sized: the shape alone, at the smallest valid quantity
            lots = max(
                (instrument.min_quantity / instrument.lot_size).to_integral_value("ROUND_CEILING"),
                Decimal(1),
            )
            quantity = lots * instrument.lot_size
        shape = validation_shape(signal, quantity)  # signals of a batch are mostly alike
        if shape in runtime.valid_shapes:
            return
        try:
            for request in validation_requests(signal, quantity):
                build_order(
                    request,
                    instrument,
                    account_id=runtime.engine.account_id,
                    client_order_id=ClientOrderId("validation"),
                    venue=runtime.engine.default_venue,
                    native_types=runtime.engine.venues[runtime.engine.default_venue].order_types,
                    ts=self.clock.now_ns(),
                )
        except (OrderValidationError, TranslationRejected) as exc:
            raise InvalidRequestError(exc.code, str(exc)) from None
        runtime.valid_shapes.add(shape)

    def _size(self, runtime: AccountRuntime, signal: TradingSignal) -> Decimal | None:
        if signal.quantity is not None or signal.action in (
            SignalAction.CLOSE_LONG,
            SignalAction.CLOSE_SHORT,
        ):
            return signal.quantity
        policy = runtime.settings.sizing
        if policy is None:
            raise SizingError(
                "NO_SIZING_POLICY",
                "the signal has no quantity and the account has no sizing policy",
            )
        engine = runtime.engine
        try:
            instrument = engine.instrument(signal.instrument_id)
        except UnknownInstrumentError as exc:
            raise InvalidRequestError("UNKNOWN_SYMBOL", str(exc)) from None
        # The price risk will value the order at: a limit's own, else the mark.
        mark = engine.state.marks.get(instrument.id)
        if signal.order_type is OrderType.LIMIT:
            price = signal.entry_price or mark
        else:
            price = mark if mark is not None else signal.entry_price
        if price is None:
            raise SizingError(
                "NO_MARKET_PRICE", f"no entry price and no market price yet for {instrument.id}"
            )
        value = engine.valuation()
        scope = engine.limits.scope_for(instrument)  # the limits risk checks against
        return size_signal(
            policy,
            signal=signal,
            instrument=instrument,
            price=price,
            equity=value.total,
            account_currency=value.currency,
            fx_rate=(
                None
                if instrument.quote_currency == value.currency
                else engine.fx.rate(instrument.quote_currency, value.currency)
            ),
            limits=SizingCaps(
                max_order_quantity=scope.max_order_quantity,
                max_order_notional=scope.max_order_notional,
            ),
        )

    def _outcome(
        self, runtime: AccountRuntime, signal_id: SignalId, duplicate: bool
    ) -> SignalOutcome:
        state = runtime.engine.state
        orders = list(state.signal_orders.get(signal_id, ()))
        rejection = state.signal_rejections.get(signal_id)
        if rejection is not None:
            return SignalOutcome(
                signal_id, "REJECTED", rejection.reason_code, rejection.reason, (), duplicate
            )
        status, code, reason = signal_status(orders, state.denials)
        return SignalOutcome(
            signal_id, status, code, reason, tuple(o.client_order_id for o in orders), duplicate
        )

    async def submit_signal(
        self,
        account_id: str,
        signal: TradingSignal,
        allowed: frozenset[str] | None,
        algo: AlgoSpec | None = None,
    ) -> SignalOutcome:
        """Size, risk-check and execute one signal; a repeated signal ID changes nothing."""
        runtime = self.account(account_id, allowed)

        def work() -> SignalOutcome:
            runtime.check_available()  # a commit of an earlier group may have failed
            return self._submit_signal_locked(runtime, signal, algo)

        return await runtime.signal_group.run(work)

    async def submit_signals(
        self,
        account_id: str,
        signals: list[TradingSignal],
        allowed: frozenset[str] | None,
        algos: list[AlgoSpec | None] | None = None,
    ) -> list[SignalOutcome | ServiceError]:
        """Submit many signals under one lock and one group commit."""
        runtime = self.account(account_id, allowed)
        results: list[SignalOutcome | ServiceError] = []
        chosen = algos or [None] * len(signals)
        async with runtime.lock:
            runtime.check_available()  # it may have stopped while this waited for the lock
            for signal, algo in zip(signals, chosen, strict=True):
                try:
                    results.append(self._submit_signal_locked(runtime, signal, algo))
                except ServiceError as exc:
                    results.append(exc)
            runtime.dispatch()
        return results

    def _submit_signal_locked(
        self, runtime: AccountRuntime, signal: TradingSignal, algo: AlgoSpec | None = None
    ) -> SignalOutcome:
        engine = runtime.engine
        if signal.signal_id in engine.state.signals:
            return self._outcome(runtime, signal.signal_id, duplicate=True)
        if engine.state.trading_state is TradingState.HALTED:
            # Tell the model why; its orders would only be denied with a generic code.
            self._validate_signal(runtime, signal, signal.quantity)
            engine.reject_signal(signal, "TRADING_HALTED", "trading is halted for this account")
            return self._outcome(runtime, signal.signal_id, duplicate=False)
        if signal.action is SignalAction.REBALANCE:
            return self._rebalance(runtime, signal)
        try:
            quantity = self._size(runtime, signal)
        except SizingError as exc:
            self._validate_signal(runtime, signal, None)
            engine.reject_signal(signal, exc.code, str(exc))
            return self._outcome(runtime, signal.signal_id, duplicate=False)
        self._validate_signal(runtime, signal, quantity)
        unroutable = runtime.live.unroutable(signal.instrument_id) if runtime.live else None
        if unroutable is not None:
            engine.reject_signal(signal, "VENUE_UNAVAILABLE", unroutable)
            return self._outcome(runtime, signal.signal_id, duplicate=False)
        arrival = time.perf_counter_ns()
        try:
            orders = engine.process_signal(signal, quantity, algo)
        except (OrderValidationError, TranslationRejected) as exc:
            raise InvalidRequestError(exc.code, str(exc)) from None
        if not orders and signal.action in (SignalAction.CLOSE_LONG, SignalAction.CLOSE_SHORT):
            engine.reject_signal(
                signal,
                "NOTHING_TO_CLOSE",
                f"no {signal.action.split('_')[1].lower()} position left to close "
                "(none held, or closes already working cover it)",
            )
        for order in orders:
            runtime.arrivals[order.client_order_id] = arrival
        return self._outcome(runtime, signal.signal_id, duplicate=False)

    def _rebalance(self, runtime: AccountRuntime, signal: TradingSignal) -> SignalOutcome:
        """Turn target weights (of equity, signed) into one market order per symbol."""
        weights = signal.target_weights
        if not weights:
            raise InvalidRequestError(
                "MISSING_TARGET_WEIGHTS", "a REBALANCE signal needs targetWeights {symbol: weight}"
            )
        engine = runtime.engine
        instruments = {}
        for symbol in weights:
            try:
                instruments[symbol] = engine.instrument(symbol)
            except UnknownInstrumentError as exc:
                raise InvalidRequestError("UNKNOWN_SYMBOL", str(exc)) from None
        value = engine.valuation()
        if value.total <= 0:  # weights of it would flip every sign, or close every position
            engine.reject_signal(
                signal,
                "NON_POSITIVE_EQUITY",
                f"account equity is {value.total} {value.currency}: target weights of it "
                "cannot be traded",
            )
            return self._outcome(runtime, signal.signal_id, duplicate=False)
        deltas: dict[InstrumentId, Decimal] = {}
        for symbol, weight in weights.items():
            instrument = instruments[symbol]
            mark = engine.state.marks.get(instrument.id)
            rate = engine.fx.rate(value.currency, instrument.quote_currency)
            if mark is None or rate is None:
                engine.reject_signal(
                    signal,
                    "NO_MARKET_PRICE",
                    f"no market price or {value.currency}->{instrument.quote_currency} rate "
                    f"for {symbol}",
                )
                return self._outcome(runtime, signal.signal_id, duplicate=False)
            raw = value.total * weight * rate / (mark * instrument.multiplier)
            target = instrument.round_quantity_down(abs(raw)) * (1 if raw >= 0 else -1)
            held = engine.state.position_quantity(instrument.id)
            deltas[instrument.id] = target - held - _rebalancing(engine.state, instrument.id)
        try:
            orders = engine.process_rebalance(signal, deltas)
        except OrderValidationError as exc:
            raise InvalidRequestError(exc.code, str(exc)) from None
        if not orders:
            engine.reject_signal(signal, "NOTHING_TO_REBALANCE", "positions are already on target")
        arrival = time.perf_counter_ns()
        for order in orders:
            runtime.arrivals[order.client_order_id] = arrival
        return self._outcome(runtime, signal.signal_id, duplicate=False)

    def signal(
        self, signal_id: str, allowed: frozenset[str] | None
    ) -> tuple[AccountRuntime, SignalReceived, SignalOutcome]:
        """Return a signal, its account and its outcome; 404 outside ``allowed``."""
        for account_id, runtime in self.accounts.items():
            if allowed is not None and account_id not in allowed:
                continue
            received = runtime.engine.state.signals.get(SignalId(signal_id))
            if received is not None:
                return runtime, received, self._outcome(runtime, SignalId(signal_id), False)
        raise NotFoundError("SIGNAL_NOT_FOUND", f"signal {signal_id!r} not found")

    # Orders ---------------------------------------------------------------------

    async def place_order(
        self,
        account_id: str,
        request: OrderRequest,
        allowed: frozenset[str] | None,
        stop_loss: Decimal | None = None,
        take_profit: Decimal | None = None,
    ) -> Order:
        """Place one order (a bracket when a stop loss or take profit is given)."""
        runtime = self.account(account_id, allowed)
        try:
            self.registry.get(request.instrument_id)
        except UnknownInstrumentError as exc:
            raise InvalidRequestError("UNKNOWN_SYMBOL", str(exc)) from None
        async with runtime.lock:
            engine = runtime.engine
            try:
                if stop_loss is not None or take_profit is not None:
                    orders = engine.submit_bracket(
                        BracketRequest(entry=request, stop_loss=stop_loss, take_profit=take_profit)
                    )
                    order = orders[0]
                else:
                    order = engine.submit(request)
            except OrderValidationError as exc:
                if exc.code == "VENUE_UNAVAILABLE":
                    raise ConflictError(exc.code, str(exc)) from None
                raise InvalidRequestError(exc.code, str(exc)) from None
            runtime.arrivals.setdefault(order.client_order_id, time.perf_counter_ns())
            runtime.dispatch()
        return order

    async def place_algo(
        self,
        account_id: str,
        request: OrderRequest,
        algo: AlgoSpec,
        allowed: frozenset[str] | None,
    ) -> Order:
        """Place a parent order worked by an execution algorithm."""
        runtime = self.account(account_id, allowed)
        try:
            self.registry.get(request.instrument_id)
        except UnknownInstrumentError as exc:
            raise InvalidRequestError("UNKNOWN_SYMBOL", str(exc)) from None
        async with runtime.lock:
            try:
                order = runtime.engine.submit_algo(request, algo)
            except OrderValidationError as exc:
                raise InvalidRequestError(exc.code, str(exc)) from None
            runtime.dispatch()
        return order

    async def pause_algo(self, order_id: str, allowed: frozenset[str] | None, pause: bool) -> Order:
        """Pause or resume an algo parent; 409 when it is not in the other state."""
        runtime, order = self.find_order(order_id, allowed)
        async with runtime.lock:
            engine = runtime.engine
            try:
                changed = (
                    engine.pause_algo(order.client_order_id, "paused by request")
                    if pause
                    else engine.resume_algo(order.client_order_id, "resumed by request")
                )
            except OrderValidationError as exc:
                raise InvalidRequestError(exc.code, str(exc)) from None
            if not changed:
                raise ConflictError(
                    "ALGO_STATE", f"order {order_id} is not {'running' if pause else 'paused'}"
                )
            runtime.dispatch()
        return order

    def children_of(self, runtime: AccountRuntime, order: Order) -> list[Order] | None:
        """Return the child orders of an execution parent, or None for other orders."""
        if not is_execution_parent(order):
            return None
        return [
            o for o in runtime.engine.state.orders.values() if o.parent_id == order.client_order_id
        ]

    def find_order(
        self, order_id: str, allowed: frozenset[str] | None
    ) -> tuple[AccountRuntime, Order]:
        """Return an order and its account; 404 outside ``allowed``."""
        for account_id, runtime in self.accounts.items():
            if allowed is not None and account_id not in allowed:
                continue
            order = runtime.engine.state.orders.get(ClientOrderId(order_id))
            if order is not None:
                return runtime, order
        raise NotFoundError("ORDER_NOT_FOUND", f"order {order_id!r} not found")

    async def cancel_order(self, order_id: str, allowed: frozenset[str] | None) -> Order:
        """Cancel an order; 409 when it is already closed."""
        runtime, order = self.find_order(order_id, allowed)
        async with runtime.lock:
            if not runtime.engine.cancel(order.client_order_id, "cancelled by request"):
                raise ConflictError(
                    "ORDER_NOT_OPEN", f"order {order_id} is {order.status} and cannot be cancelled"
                )
            runtime.dispatch()
        return order

    async def modify_order(
        self,
        order_id: str,
        allowed: frozenset[str] | None,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> Order:
        """Modify quantity, price or stop price; 409 when the order is closed."""
        runtime, order = self.find_order(order_id, allowed)
        async with runtime.lock:
            try:
                changed = runtime.engine.modify(
                    order.client_order_id,
                    quantity=quantity,
                    price=price,
                    trigger_price=trigger_price,
                )
            except OrderValidationError as exc:
                raise InvalidRequestError(exc.code, str(exc)) from None
            if not changed:
                raise ConflictError(
                    "ORDER_NOT_OPEN", f"order {order_id} is {order.status} and cannot be modified"
                )
            runtime.dispatch()
        return order

    # Risk -----------------------------------------------------------------------

    async def emergency_stop(
        self, account_id: str, allowed: frozenset[str] | None, reason: str
    ) -> int:
        """Halt trading and cancel every working order; return how many were cancelled."""
        runtime = self.account(account_id, allowed)
        async with runtime.lock:
            runtime.engine.set_trading_state(TradingState.HALTED, reason)
            count = runtime.engine.cancel_all(f"emergency stop: {reason}")
            runtime.dispatch()
            runtime.engine.flush(force=True)
        return count

    async def resume(self, account_id: str, allowed: frozenset[str] | None, reason: str) -> None:
        """Resume trading after an emergency stop."""
        runtime = self.account(account_id, allowed)
        async with runtime.lock:
            runtime.engine.set_trading_state(TradingState.ACTIVE, reason)
            if runtime.engine.monitor is not None:
                runtime.engine.monitor.rearm(runtime.engine.valuation().total)
            runtime.engine.flush(force=True)

    async def set_limits(
        self,
        account_id: str,
        allowed: frozenset[str] | None,
        limits: RiskLimits,
        monitor: MonitorLimits,
    ) -> tuple[RiskLimits, MonitorLimits]:
        """Replace an account's risk limits and monitor thresholds; return the old ones."""
        runtime = self.account(account_id, allowed)
        async with runtime.lock:
            old = runtime.engine.limits, runtime.settings.monitor
            runtime.engine.change_limits(limits, monitor)
            runtime.settings = dataclasses.replace(runtime.settings, limits=limits, monitor=monitor)
            runtime.dispatch()  # durable before it is answered: a restart applies them
        return old

    async def set_sizing(
        self, account_id: str, allowed: frozenset[str] | None, policy: SizingPolicy | None
    ) -> SizingPolicy | None:
        """Replace an account's sizing policy (None: no policy); return the old one.

        Journaled (`SizingPolicyChanged`) and committed before it returns, so a restart
        keeps it.
        """
        runtime = self.account(account_id, allowed)
        async with runtime.lock:
            old = runtime.settings.sizing
            engine = runtime.engine
            engine.record(sizing_changed(engine.account_id, self.clock.now_ns(), policy))
            runtime.settings = dataclasses.replace(runtime.settings, sizing=policy)
            runtime.dispatch()
        return old

    async def audit(
        self,
        account_id: str,
        *,
        actor: str,
        action: str,
        address: str,
        target: str,
        old_value: str = "",
        new_value: str = "",
    ) -> None:
        """Record who changed what into the account's hash-chained journal."""
        runtime = self.accounts[AccountId(account_id)]
        async with runtime.lock:
            now = self.clock.now_ns()
            runtime.engine.record(
                AuditRecorded(
                    account_id=runtime.engine.account_id,
                    ts_event=now,
                    ts_recv=now,
                    actor=actor,
                    action=action,
                    address=address,
                    target=target,
                    old_value=old_value,
                    new_value=new_value,
                )
            )
            runtime.engine.flush(force=True)

    # Market data ----------------------------------------------------------------

    async def on_market_data(self, data: MarketData) -> None:
        """Feed one data point to every account's venue and engine."""
        for runtime in self.accounts.values():
            if runtime.failure is not None or runtime.live is not None:
                continue  # live accounts take prices from their venues
            async with runtime.lock:
                engine = runtime.engine
                for setup in self.simulated_venues if runtime.extra_venues else ():
                    shown = setup.quote(data)
                    extra_venue = runtime.extra_venues[setup.venue_id]
                    for report in extra_venue.on_market_data(shown):
                        engine.on_venue_event(report)
                    engine.record_venue_quote(setup.venue_id, shown)
                for report in runtime.venue.on_market_data(data):
                    engine.on_venue_event(report)
                engine.on_venue_market_data(runtime.venue.venue_id, data)
                with contextlib.suppress(AccountUnavailableError):
                    runtime.dispatch()  # a failure stops this account only
        self.hub.publish(
            "market_data",
            "*",
            market_data_payload(data),
            symbol=data.instrument_id,
        )

    async def on_timer(self, ts: int) -> None:
        """Run every account's timed checks (risk monitors across a day change)."""
        for runtime in self.accounts.values():
            if runtime.failure is not None:
                continue
            async with runtime.lock:
                runtime.engine.on_timer(ts)
                with contextlib.suppress(AccountUnavailableError):
                    runtime.dispatch()

    async def _live_quote(self, runtime: AccountRuntime, quote: QuoteTick) -> None:
        for listener in self.quote_listeners:
            listener(quote)
        if runtime.failure is not None:
            return
        async with runtime.lock:
            runtime.engine.on_market_data(quote)
            with contextlib.suppress(AccountUnavailableError):
                runtime.dispatch()

    def start_live(self) -> None:
        """Connect and reconcile every live venue (call from the running event loop)."""
        for runtime in self.accounts.values():
            if runtime.live is not None:
                runtime.live.start()

    async def stop_live(self) -> None:
        """Stop every live venue's supervision and disconnect."""
        for runtime in self.accounts.values():
            if runtime.live is not None:
                await runtime.live.stop()

    def venues_reconciled(self) -> bool:
        """Return True once every live venue has completed its startup reconciliation."""
        return all(r.live.reconciled for r in self.accounts.values() if r.live is not None)

    def flush_all(self) -> None:
        """Commit every account's buffered events, with each monitor's latest equity
        (at shutdown: a restart on a later day starts that day at it)."""
        for runtime in self.accounts.values():
            if runtime.failure is None:
                runtime.engine.record_close()
            runtime.engine.flush(force=True)


def _rebalancing(state: AccountState, instrument_id: InstrumentId) -> Decimal:
    """Return the signed quantity earlier REBALANCE orders on the instrument still have
    working: a rebalance moves the position to its target counting them as done, so a
    second one sent before the first fills does not trade the same amount again."""
    total = Decimal(0)
    for order in state.open_orders.values():
        if order.instrument_id != instrument_id or order.parent_id is not None:
            continue
        received = state.signals.get(order.signal_id) if order.signal_id else None
        if received is not None and received.action is SignalAction.REBALANCE:
            leaves = order.leaves_quantity
            total += leaves if order.side is OrderSide.BUY else -leaves
    return total


__all__ = [
    "AccountRuntime",
    "AccountSettings",
    "AccountUnavailableError",
    "ConflictError",
    "InvalidRequestError",
    "NotFoundError",
    "OrderFilled",
    "ServiceError",
    "SignalOutcome",
    "TradingService",
    "UnknownOrderError",
    "signal_state",
    "signal_status",
]
