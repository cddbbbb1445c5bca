"""The engine's base: one account's state, journal, listeners, equity and risk inputs.

`EngineBase` holds what every engine layer builds on: the account state and the
journal it is written to (`_emit`, `flush` with the write-ahead commit), the
instruments, equity, and the inputs of the pre-trade checks (the risk context with its
order-rate window, working books, portfolio bound, correlation clusters and the loss
monitor's figures). `alphintra.engine.core.OrderEngine` adds orders on top.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Protocol

import msgspec

from alphintra.domain.account import AccountState
from alphintra.domain.commands import (
    VenueCommand,
)
from alphintra.domain.enums import (
    TradingState,
)
from alphintra.domain.events import (
    AccountFunded,
    AccountOpened,
    AnyEvent,
    EquityMarksRecorded,
    OrderEvent,
    OrderInitialized,
    TradingStateChanged,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    VenueId,
)
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import MarketData
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import Currency
from alphintra.engine.clock import Clock
from alphintra.engine.correlation import CorrelationTracker
from alphintra.engine.volatility import RealizedVolatility
from alphintra.orders.emulator import OrderEmulator
from alphintra.portfolio.fx import FxRates
from alphintra.portfolio.valuation import EquityTracker, PortfolioValue
from alphintra.risk.context import NANOS_PER_MILLI, OrderRateWindow, RiskContext
from alphintra.risk.limits_record import limits_changed
from alphintra.risk.monitors import CLOSE_SAMPLE_NS, MonitorLimits, RiskMonitor
from alphintra.risk.portfolio_bound import FOLDED as _BOUND_FOLDS
from alphintra.risk.portfolio_bound import PortfolioBound
from alphintra.risk.pretrade import RiskLimits
from alphintra.risk.working_books import WorkingBooks
from alphintra.store.journal import JournalError
from alphintra.venues.capabilities import VenueCapabilities


class EventJournal(Protocol):
    """Where the engine appends its events (see ``alphintra.store``)."""

    def append(self, event: AnyEvent) -> object:
        """Buffer one event."""
        ...

    def commit(self) -> object:
        """Make every buffered event durable."""
        ...

    @property
    def pending(self) -> int:
        """Return the number of buffered events not yet durable."""
        ...


class EngineStoppedError(JournalError):
    """The engine stopped when a journal commit failed: its memory holds events the
    journal may not, so nothing more may be written from it. A restart (journal replay)
    brings the account back."""


class _StoppedJournal:
    """Stands in for the journal of a stopped engine: every write raises."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def append(self, event: AnyEvent) -> object:
        raise EngineStoppedError(self.reason)

    def commit(self) -> object:
        raise EngineStoppedError(self.reason)

    @property
    def pending(self) -> int:
        return 0


class RejectedReport(msgspec.Struct, frozen=True):
    """A venue report the engine could not apply; state was left unchanged."""

    event: OrderEvent
    error: str


class EngineBase:
    """One account's state, journal and risk inputs (see the module docstring)."""

    VOLATILITY_WINDOW = 30  # returns between consecutive marks, for the volatility limit

    def __init__(
        self,
        *,
        account_id: AccountId,
        registry: InstrumentRegistry,
        journal: EventJournal,
        clock: Clock,
        venues: Mapping[VenueId, VenueCapabilities],
        default_venue: VenueId,
        limits: RiskLimits | None = None,
        id_prefix: str = "O",
    ) -> None:
        if default_venue not in venues:
            raise ValueError(f"default venue {default_venue!r} is not among {sorted(venues)}")
        self.account_id = account_id
        self.registry = registry
        self.journal = journal
        self.stopped: str | None = None
        """Why the engine stopped (a failed commit), or None while it runs."""
        self.stopped_cause: Exception | None = None
        """The exception the failed commit raised."""
        self.clock = clock
        self.venues = dict(venues)
        self.default_venue = default_venue
        self.limits = limits or RiskLimits()
        self.fx = FxRates()
        self._multipliers: dict[InstrumentId, Decimal] = {}
        self._quote_currencies: dict[InstrumentId, Currency] = {}
        self._instruments: dict[InstrumentId, Instrument] = {}
        self.state = AccountState(account_id, self._multipliers, self._quote_currencies)
        self.emulator = OrderEmulator()
        self._inits: dict[ClientOrderId, OrderInitialized] = {}
        self._outbox: list[VenueCommand] = []
        self._listeners: list[Callable[[AnyEvent], None]] = []
        self._id_prefix = id_prefix
        self._id_seq = 0
        self.rejected_reports: list[RejectedReport] = []
        self.monitor: RiskMonitor | None = None
        self.realized_vols = RealizedVolatility(self.VOLATILITY_WINDOW)
        """Realised volatility per instrument, kept while a loss or volatility limit is set."""
        self._context: RiskContext | None = None
        self._context_limits: RiskLimits | None = None
        self._order_rate: OrderRateWindow | None = None
        self._correlation: CorrelationTracker | None = None
        """Samples of marks for the correlation limit's clusters, while it is set."""
        self._correlation_seen = -1
        """The tracker's sample count when its view went into the risk context."""
        self._valuation: tuple[tuple[int, int], PortfolioValue] | None = None
        self._equity: tuple[int, int, Decimal] | None = None
        self._equity_tracker = EquityTracker()
        self._books: WorkingBooks | None = None
        self._bound: PortfolioBound | None = None
        self._data_seq = 0
        self.group_commit_events = 512

    # Wiring ---------------------------------------------------------------------

    def subscribe(self, listener: Callable[[AnyEvent], None]) -> None:
        """Call ``listener`` with every event after it is applied."""
        self._listeners.append(listener)

    def instrument(self, symbol: str) -> Instrument:
        """Return the instrument for ``symbol`` and register its accounting data."""
        instrument = self._instruments.get(InstrumentId(symbol))
        if instrument is None:
            instrument = self.registry.get(symbol)
            self._instruments[instrument.id] = instrument
            self._multipliers[instrument.id] = instrument.multiplier
            self._quote_currencies[instrument.id] = instrument.quote_currency
        return instrument

    def _emit(self, event: AnyEvent) -> bool:
        changed = self.state.apply(event)
        if changed:
            self.journal.append(event)
            books = self._books
            if books is not None and books.active:
                books.on_event(event)
            bound = self._bound
            if bound is not None and bound.valid:
                if type(event) in _BOUND_FOLDS:
                    bound.on_event(event)
                else:
                    bound.seen += 1  # an event the bound does not fold, counted
            for listener in self._listeners:
                listener(event)
        return changed

    def flush(self, *, force: bool = False) -> list[VenueCommand]:
        """Return the venue commands that may now be sent, committing the journal first.

        The journal is committed whenever a command waits (the write-ahead rule), when
        ``force`` is set, or when many events are buffered. Events with no command
        behind them (fills, acknowledgements) ride along with the next commit: group
        commit, which a crash can cost only what the venue can be asked for again.
        """
        outbox = self._outbox
        if outbox or force or self.journal.pending >= self.group_commit_events:
            monitor = self.monitor
            if monitor is not None and monitor.high_water is not None:
                self._record_equity_marks(monitor)
            try:
                self.journal.commit()
            except Exception as exc:
                self._outbox = []  # their events are lost: these commands must never go out
                if self.stopped is None:
                    # Whatever path the next event comes by (a request, a venue report, a
                    # timer), it must not be journaled on top of events that were lost.
                    self.stopped = f"journal commit failed: {exc}"
                    self.stopped_cause = exc
                    self.journal = _StoppedJournal(self.stopped)
                raise
        if not outbox:
            return outbox
        self._outbox = []
        return outbox

    # Account --------------------------------------------------------------------

    def open_account(self, base_currency: Currency, deposits: Mapping[Currency, Decimal]) -> None:
        """Record the account's base currency and starting cash."""
        ts = self.clock.now_ns()
        self._emit(
            AccountOpened(
                account_id=self.account_id, ts_event=ts, ts_recv=ts, base_currency=base_currency
            )
        )
        for currency, amount in deposits.items():
            self._emit(
                AccountFunded(
                    account_id=self.account_id,
                    ts_event=ts,
                    ts_recv=ts,
                    currency=currency,
                    amount=amount,
                )
            )

    def set_trading_state(self, state: TradingState, reason: str) -> None:
        """Change the trading state (ACTIVE, REDUCING or HALTED)."""
        if state is self.state.trading_state:
            return
        ts = self.clock.now_ns()
        self._emit(
            TradingStateChanged(
                account_id=self.account_id, ts_event=ts, ts_recv=ts, state=state, reason=reason
            )
        )

    def change_limits(self, limits: RiskLimits, monitors: MonitorLimits) -> None:
        """Replace the risk limits and the monitor thresholds, journaled as one
        `RiskLimitsChanged` (commit before answering) so that a restart applies them."""
        self._emit(limits_changed(self.account_id, self.clock.now_ns(), limits, monitors))
        self.limits = limits
        if self.monitor is not None:
            self.monitor.reconfigure(monitors)

    def equity(self) -> Decimal:
        """Return ``valuation().total`` (cached alike), without the P&L breakdown."""
        cash_version, data_seq = self.state.cash_version, self._data_seq
        cached = self._equity
        if cached is not None and cached[0] == cash_version and cached[1] == data_seq:
            return cached[2]
        value = self._equity_tracker.equity(self.state, self.fx)
        self._equity = (cash_version, data_seq, value)
        return value

    def next_client_order_id(self) -> ClientOrderId:
        """Return a fresh client order ID; never reused within this account."""
        self._id_seq += 1
        return ClientOrderId(f"{self._id_prefix}-{self._id_seq}")

    def _risk_context(self) -> RiskContext:
        """Return the inputs of the pre-trade checks (rebuilt when the limits change)."""
        limits = self.limits
        if self._context is None or self._context_limits is not limits:
            throttles = (limits.account_throttle, limits.venue_throttle)
            windows = [t.window_ms for t in throttles if t is not None]
            kept = self._order_rate
            if not windows:
                self._order_rate = None
            elif kept is None:
                self._order_rate = OrderRateWindow.for_windows(*windows)
            else:
                # New limits keep counting what was sent. A longer window than before
                # counts from now on what the old horizon had already let go.
                kept.horizon_ns = max(kept.horizon_ns, max(windows) * NANOS_PER_MILLI)
            needs_books = (
                limits.has_position_limits
                or limits.uses_portfolio
                or limits.concentration is not None
            )
            self._books = WorkingBooks(self.state) if needs_books else None
            portfolio = limits.uses_portfolio or limits.concentration is not None
            self._bound = PortfolioBound(self.state, limits) if portfolio else None
            tracker = self._correlation_tracker()
            self._correlation_seen = tracker.changed if tracker is not None else -1
            self._context = RiskContext(
                prices=self.state.marks,
                instruments=self._instruments.get,
                fx=self.fx.convert,
                equity=self.equity,
                day_start_equity=lambda: self._equity_marks().day_start_equity,
                high_water_mark=lambda: self._equity_marks().high_water,
                equity_marks=self.monitor if limits.loss is not None else None,
                realized_vols=self.realized_vols,
                order_rate=self._order_rate,
                default_venue=self.default_venue,
                books=self._books,
                bound=self._bound,
                correlation=tracker.view() if tracker is not None else None,
            )
            self._context_limits = limits
        return self._context

    def _correlation_tracker(self) -> CorrelationTracker | None:
        """Return the tracker the limits' correlation settings call for (a new, empty one
        when they change), or None without a correlation limit."""
        settings = self.limits.correlation
        tracker = self._correlation
        if settings is None:
            tracker = None
        elif tracker is None or (tracker.window, tracker.sample_ms, tracker.min_correlation) != (
            settings.window,
            settings.sample_ms,
            float(settings.min_correlation),
        ):
            tracker = CorrelationTracker(
                settings.window, settings.sample_ms, float(settings.min_correlation)
            )
        if tracker is not None and settings is not None:
            tracker.require(settings.observations_needed)
        self._correlation = tracker
        return tracker

    def _note_correlation(self, data: MarketData) -> None:
        """Sample the new mark for the correlation clusters; when a sample completes, the
        risk context takes the new view."""
        tracker = self._correlation_tracker()
        if tracker is None:
            return
        tracker.note(data.instrument_id, self.state.marks[data.instrument_id], data.ts)
        context = self._context
        if context is not None and tracker.changed != self._correlation_seen:
            self._context = dataclasses.replace(context, correlation=tracker.view())
            self._correlation_seen = tracker.changed

    def _record_equity_marks(self, monitor: RiskMonitor, *, closing: bool = False) -> None:
        """Journal the monitor's day start and peak with this commit when they changed
        (a new day, a new peak, a rearm), so that a restart carries on from them.

        The day's latest equity rides along, and is journaled on its own when it moved
        and the last record is `CLOSE_SAMPLE_NS` old, or at once when ``closing`` (a
        clean shutdown): a restart on a later day starts that day at it.
        """
        recorded = self.state.equity_marks
        day, start, high = monitor.day, monitor.day_start_equity, monitor.high_water
        if day is None or start is None or high is None:
            return
        last = monitor.last_equity
        if (
            recorded is not None
            and recorded.high_water == high
            and recorded.day == day
            and recorded.day_start_equity == start
        ):  # only the latest equity can have moved
            if last is None or recorded.last_equity == last:
                return
            ts = self.clock.now_ns()
            if not closing and ts - recorded.ts_event < CLOSE_SAMPLE_NS:
                return
        else:
            ts = self.clock.now_ns()
        self._emit(
            EquityMarksRecorded(
                account_id=self.account_id,
                ts_event=ts,
                ts_recv=ts,
                day=day,
                day_start_equity=start,
                high_water=high,
                last_equity=last,
            )
        )

    def record_close(self) -> None:
        """Journal the monitor's latest equity now, exactly (call at a clean shutdown,
        then commit): a restart on a later day starts that day at it."""
        monitor = self.monitor
        if monitor is not None and monitor.high_water is not None:
            self._record_equity_marks(monitor, closing=True)

    def _restore_equity_marks(self) -> None:
        """Carry the monitor on from the journaled figures (`EquityMarksRecorded`)."""
        recorded, monitor = self.state.equity_marks, self.monitor
        if recorded is not None and monitor is not None:
            monitor.restore_marks(
                recorded.day, recorded.day_start_equity, recorded.high_water, recorded.last_equity
            )

    def _equity_marks(self) -> RiskMonitor:
        """Return the monitor that tracks the day's start and the peak equity.

        A loss limit needs both even when no monitor thresholds are set: a passive
        monitor is attached then, and starts from the current equity.
        """
        monitor = self.monitor
        if monitor is None:
            monitor = self.monitor = RiskMonitor(MonitorLimits())
            self._restore_equity_marks()
            if self._context is not None and self.limits.loss is not None:
                self._context = dataclasses.replace(self._context, equity_marks=monitor)
        if monitor.day_start_equity is None:
            monitor.on_equity(self.clock.now_ns(), self.equity())
        return monitor
