"""Backtests: the live engine driven by historical data and the simulated venue.

Inputs are processed in timestamp order. The simulated venue matches a bar at its
start, but the engine sees it (marks, risk, valuation) only at its end, when its
close is known: a signal stamped inside a bar is sized and risk-checked at the
previous bar's close, never at a close still in the future. A tick is both at once.
At equal timestamps, ending bars come first, then signals, then starting data, so a
signal stamped at a bar's start sees the previous bar's close and can fill at that
bar's open. After every input the engine's journal is committed and its venue
commands are handed to the simulated venue, whose reports go straight back into the
engine.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from alphintra.backtest.signal_file import NumberedSignal
from alphintra.domain.enums import OrderType
from alphintra.domain.events import Event, OrderDenied, OrderFilled
from alphintra.domain.executable import is_point_in_time
from alphintra.domain.identifiers import AccountId, ClientOrderId, VenueId
from alphintra.domain.market import MarketData, QuoteBar, TradeBar
from alphintra.domain.registry import InstrumentRegistry, UnknownInstrumentError
from alphintra.domain.signals import TradingSignal
from alphintra.domain.values import Currency
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import EventJournal, TradingEngine
from alphintra.orders.factory import OrderValidationError, build_order
from alphintra.risk.pretrade import RiskLimits
from alphintra.signals.translation import SignalRejected, validation_requests
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

BACKTEST_ACCOUNT = AccountId("BACKTEST")


class BacktestInputError(ValueError):
    """An input file is unusable; the message names the file, line and problem."""


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    """Account, venue and risk settings of one backtest."""

    starting_cash: Decimal = Decimal(1_000_000)
    currency: Currency = "USD"
    venue: SimulatedVenueConfig = field(default_factory=SimulatedVenueConfig)
    limits: RiskLimits = field(default_factory=RiskLimits)


@dataclass(frozen=True, slots=True)
class RefusedSignal:
    """A signal the engine refused during the run, as the market stood at its time.

    For example a market bracket whose stop-loss is on the wrong side of the last
    price: that cannot be checked before the run.
    """

    line: int
    """1-based line of the signal file."""
    signal: TradingSignal
    code: str
    reason: str


@dataclass(slots=True)
class BacktestResult:
    """Everything a backtest produced, for the writers in ``output.py``."""

    engine: TradingEngine
    equity: list[tuple[int, Decimal, Decimal]]
    """(timestamp, equity, cash) after each timestamp at which market data starts or
    ends; a bar is valued at its close from its end."""
    fills: list[OrderFilled]
    denials: list[OrderDenied]
    starting_equity: Decimal
    refused: list[RefusedSignal] = field(default_factory=list)
    """Signals that became no order, in time order; each is journaled as rejected."""


_BAR_END = 0
_SIGNAL = 1
_DATA_START = 2


def _timeline(
    data: Mapping[str, Sequence[MarketData]], signals: Sequence[NumberedSignal]
) -> Iterator[tuple[int, int, int, object]]:
    # (timestamp, kind, tie-break, item). A bar appears twice: at its start for the
    # venue (_DATA_START) and at its end for the engine (_BAR_END); a tick once.
    streams: list[Iterator[tuple[int, int, int, object]]] = [
        ((s.signal.ts, _SIGNAL, i, s) for i, s in enumerate(signals))
    ]
    for index, series in enumerate(data.values()):
        streams.append((bar.ts, _DATA_START, index, bar) for bar in series)
        ends: list[tuple[int, int, int, object]] = [
            (bar.ts + bar.interval_ns, _BAR_END, index, bar)
            for bar in series
            if isinstance(bar, TradeBar | QuoteBar)
        ]
        ends.sort(key=lambda item: item[0])  # stable: bars that end together keep their order
        streams.append(iter(ends))
    return heapq.merge(*streams, key=lambda item: (item[0], item[1], item[2]))


def validate_signals(
    signals: Sequence[NumberedSignal],
    data: Mapping[str, Sequence[MarketData]],
    registry: InstrumentRegistry,
    signal_path: str,
    latency_ns: int = 0,
) -> None:
    """Refuse signals for unknown symbols, with no later data, or with invalid orders.

    A signal's order can fill only on data stamped at or after its timestamp plus
    ``latency_ns`` (the simulated venue's latency), so a signal needs such data.
    """
    last_ts = {symbol: series[-1].ts for symbol, series in data.items() if series}
    for line, signal in signals:
        where = f"{signal_path}:{line}"
        symbol = signal.instrument_id
        try:
            instrument = registry.get(symbol)
        except UnknownInstrumentError as exc:
            raise BacktestInputError(f"{where}: {exc}") from None
        if symbol not in data:
            raise BacktestInputError(
                f"{where}: no --data file for symbol {symbol!r} (given: {sorted(data)})"
            )
        if signal.ts + latency_ns > last_ts[symbol]:
            after = "its timestamp"
            if latency_ns:
                after += f" plus the {latency_ns} ns latency"
            raise BacktestInputError(
                f"{where}: signal {signal.signal_id} at {signal.ts} ns has no {symbol} data "
                f"at or after {after} (the last is at {last_ts[symbol]} ns)"
            )
        try:
            for request in validation_requests(signal, signal.quantity):
                build_order(
                    request,
                    instrument,
                    account_id=BACKTEST_ACCOUNT,
                    client_order_id=ClientOrderId(f"validate-{signal.signal_id}"),
                    venue=VenueId("SIM"),
                    native_types=frozenset(OrderType),
                    ts=signal.ts,
                )
        except (SignalRejected, OrderValidationError) as exc:
            raise BacktestInputError(f"{where}: {exc}") from None


def run_backtest(
    data: Mapping[str, Sequence[MarketData]],
    signals: Sequence[NumberedSignal],
    registry: InstrumentRegistry,
    journal: EventJournal,
    settings: BacktestSettings,
    progress: Callable[[int], None] | None = None,
) -> BacktestResult:
    """Run the signals against the data and return the result.

    A signal the engine refuses as the market stands at its time (a market bracket
    with an exit on the wrong side of the last price, for example) does not stop the
    run: it is journaled as rejected and listed in ``BacktestResult.refused``.
    ``progress`` is called with the number of inputs processed since its last call.
    """
    for symbol in data:
        registry.get(symbol)
    clock = SimulatedClock()
    venue = SimulatedVenue(settings.venue, registry.known())
    engine = TradingEngine(
        account_id=BACKTEST_ACCOUNT,
        registry=registry,
        journal=journal,
        clock=clock,
        venues={venue.venue_id: venue.capabilities},
        default_venue=venue.venue_id,
        limits=settings.limits,
    )
    fills: list[OrderFilled] = []
    denials: list[OrderDenied] = []

    def collect(event: Event) -> None:
        if type(event) is OrderFilled:
            fills.append(event)
        elif type(event) is OrderDenied:
            denials.append(event)

    engine.subscribe(collect)
    first_ts = min(
        [series[0].ts for series in data.values() if series] + [s.signal.ts for s in signals]
    )
    clock.advance_to(first_ts)
    engine.open_account(settings.currency, {settings.currency: settings.starting_cash})

    def dispatch() -> None:
        commands = engine.flush()
        while commands:
            for command in commands:
                for report in venue.handle(command):
                    engine.on_venue_event(report)
            commands = engine.flush()

    equity: list[tuple[int, Decimal, Decimal]] = []
    refused: list[RefusedSignal] = []
    pending_ts: int | None = None
    processed = 0
    for ts, kind, _, item in _timeline(data, signals):
        if pending_ts is not None and ts != pending_ts:
            value = engine.valuation()
            equity.append((pending_ts, value.total, value.cash))
            pending_ts = None
        clock.advance_to(ts)
        if kind == _SIGNAL:
            assert isinstance(item, NumberedSignal)
            try:
                engine.process_signal(item.signal)
            except (SignalRejected, OrderValidationError) as exc:
                # Nothing was recorded: record the refusal, report it, and go on.
                engine.reject_signal(item.signal, exc.code, str(exc))
                refused.append(RefusedSignal(item.line, item.signal, exc.code, str(exc)))
        else:
            point: MarketData = item  # type: ignore[assignment]
            if kind == _DATA_START:
                for report in venue.on_market_data(point):
                    engine.on_venue_event(report)
            if kind == _BAR_END or is_point_in_time(point):
                engine.on_market_data(point)
            pending_ts = ts
        dispatch()
        processed += 1
        if progress is not None and processed % 1000 == 0:
            progress(1000)
    if pending_ts is not None:
        value = engine.valuation()
        equity.append((pending_ts, value.total, value.cash))
    if progress is not None:
        progress(processed % 1000)
    engine.flush(force=True)
    return BacktestResult(
        engine=engine,
        equity=equity,
        fills=fills,
        denials=denials,
        starting_equity=settings.starting_cash,
        refused=refused,
    )
