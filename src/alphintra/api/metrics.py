"""Prometheus metrics of the service."""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from alphintra.domain.events import AnyEvent, OrderAccepted, OrderDenied, OrderFilled, OrderRejected
from alphintra.execution.quality import RATIO, FillQuality
from alphintra.reports.records import RecordedOrder
from alphintra.service.trading import AccountRuntime, SignalOutcome

if TYPE_CHECKING:
    from alphintra.api.portal import Portal

LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


class _Children:
    """A metric's labelled children by label values, looked up without prometheus' lock.

    ``labels()`` takes a lock and builds its key on every call; on the hot path (every
    fill, every signal) the child is found here instead, once created.
    """

    __slots__ = ("_children", "_metric")

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class LeanHistogram(Histogram):
    """A prometheus ``Histogram`` whose ``observe`` is a bisection and two additions.

    The stock one takes a lock twice per observation (its sum and its bucket); the
    service observes only from the event loop's thread, so plain numbers suffice. The
    exposition is the stock one: cumulative ``_bucket`` per bound, ``_count``, ``_sum``
    and ``_created``. A NaN adds to the sum and to no bucket, as the stock one does.
    """

    def _metric_init(self) -> None:
        super()._metric_init()
        self._counts = [0] * len(self._upper_bounds)
        self._total = 0.0
        self._le = [floatToGoString(b) for b in self._upper_bounds]  # type: ignore[no-untyped-call]

    def observe(self, amount: float, exemplar: dict[str, str] | None = None) -> None:
        """Count ``amount`` in the first bucket whose bound is at least ``amount``."""
        if exemplar is not None:
            raise ValueError("LeanHistogram keeps no exemplars")
        self._total += amount
        if not math.isnan(amount):
            self._counts[bisect_left(self._upper_bounds, amount)] += 1

    def _child_samples(self) -> Iterable[Sample]:
        samples = []
        acc = 0.0
        for le, count in zip(self._le, self._counts, strict=True):
            acc += count
            samples.append(Sample("_bucket", {"le": le}, acc, None, None))
        samples.append(Sample("_count", {}, acc, None, None))
        if self._upper_bounds[0] >= 0:
            samples.append(Sample("_sum", {}, self._total, None, None))
        if prometheus_metrics._use_created:  # PROMETHEUS_DISABLE_CREATED_SERIES unset
            samples.append(Sample("_created", {}, self._created, None, None))
        return tuple(samples)


BPS_BUCKETS = (-50, -20, -10, -5, -2, -1, 0, 1, 2, 5, 10, 20, 50)
DURATION_BUCKETS = (0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
_BPS = Decimal(10_000)


class Metrics:
    """Every metric the service exports, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.signals = Counter(
            "trading_signals_processed", "Signals processed", ["signal_type", "status"], registry=r
        )
        self.orders_placed = Counter(
            "trading_orders_placed", "Orders released to a venue", ["broker", "symbol"], registry=r
        )
        self.orders_rejected = Counter(
            "trading_orders_rejected",
            "Orders and signals refused (validation, risk or venue)",
            registry=r,
        )
        self.execution_time = LeanHistogram(
            "trading_order_execution_time_seconds",
            "From signal or order arrival to venue acknowledgement",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.positions_active = Gauge(
            "trading_positions_active", "Open positions across accounts", registry=r
        )
        self.slippage = LeanHistogram(
            "trading_execution_slippage",
            "Fill slippage against the arrival mid, in bps (positive = cost, buys and sells)",
            ["venue", "instrument", "side"],
            buckets=BPS_BUCKETS,
            registry=r,
        )
        self.price_improvement = LeanHistogram(
            "trading_execution_price_improvement",
            "Fill price improvement vs the arrival quote's far side, bps (positive = better)",
            ["venue", "instrument", "side"],
            buckets=BPS_BUCKETS,
            registry=r,
        )
        self.execution_duration = LeanHistogram(
            "trading_execution_duration_seconds",
            "From an order's arrival to its last fill, per completed order",
            ["instrument", "side"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.shortfall = LeanHistogram(
            "trading_execution_shortfall",
            "Implementation shortfall of a completed order, in bps of its decision notional",
            ["instrument", "side"],
            buckets=BPS_BUCKETS,
            registry=r,
        )
        self.fill_rate = LeanHistogram(
            "trading_execution_fill_rate",
            "Filled over ordered quantity, per completed order",
            ["instrument", "side"],
            buckets=(0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0),
            registry=r,
        )
        self.pnl = Gauge(
            "trading_pnl_total",
            "Realised P&L by strategy (account base currency)",
            ["strategy_id"],
            registry=r,
        )
        self.database_up = Gauge("alphintra_database_up", "1 when the database answers", registry=r)
        self._realized: dict[tuple[str, str], Decimal] = {}
        self.runtimes: list[AccountRuntime] = []
        """The accounts whose positions ``trading_positions_active`` counts."""
        self.venue_up = Gauge(
            "alphintra_venue_up", "1 when the venue is reachable", ["venue"], registry=r
        )
        self._signals_by = _Children(self.signals)
        self._placed_by = _Children(self.orders_placed)
        self._slippage_by = _Children(self.slippage)
        self._improvement_by = _Children(self.price_improvement)
        self._duration_by = _Children(self.execution_duration)
        self._shortfall_by = _Children(self.shortfall)
        self._fill_rate_by = _Children(self.fill_rate)
        self._pnl_by = _Children(self.pnl)

    def signal(self, signal_type: str, outcome: SignalOutcome) -> None:
        """Count one processed signal."""
        if outcome.duplicate:
            return
        self._signals_by(signal_type, outcome.status).inc()
        if outcome.status == "REJECTED":
            self.orders_rejected.inc()

    def signals_counted(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Count processed signals by (signal type, status): ``signal`` for a batch."""
        for (signal_type, status), count in counts.items():
            self._signals_by(signal_type, status).inc(count)
            if status == "REJECTED":
                self.orders_rejected.inc(count)

    def rejected(self, _: object) -> None:
        """Count one refused request."""
        self.orders_rejected.inc()

    def on_event(self, runtime: AccountRuntime, event: AnyEvent) -> None:
        """Update metrics from one engine event."""
        kind = type(event)
        if kind is OrderAccepted:
            arrival = runtime.arrivals.pop(event.client_order_id, None)  # type: ignore[union-attr]
            if arrival is not None:
                self.execution_time.observe((time.perf_counter_ns() - arrival) / 1e9)
            order = runtime.engine.state.orders.get(event.client_order_id)  # type: ignore[union-attr]
            if order is not None:
                self._placed_by(order.venue or "SIM", order.instrument_id).inc()
        elif kind is OrderDenied or kind is OrderRejected:
            self.orders_rejected.inc()
        elif kind is OrderFilled:
            assert isinstance(event, OrderFilled)
            self._attribute_pnl(runtime, event)
            # trading_positions_active is counted when scraped (render), not per fill.

    def _attribute_pnl(self, runtime: AccountRuntime, fill: OrderFilled) -> None:
        state = runtime.engine.state
        position = state.positions.get(fill.instrument_id)
        if position is None:
            return
        key = (runtime.engine.account_id, fill.instrument_id)
        delta = position.realized_pnl - self._realized.get(key, Decimal(0))
        self._realized[key] = position.realized_pnl
        if not delta:
            return
        order = state.orders.get(fill.client_order_id)
        signal = state.signals.get(order.signal_id) if order and order.signal_id else None
        strategy = signal.model_id if signal is not None else "manual"
        self._pnl_by(strategy).inc(float(delta))

    def on_quality(
        self, record: RecordedOrder, fills: Sequence[FillQuality], completed: bool
    ) -> None:
        """Observe a measured order's new fills, and the order once it completed.

        The ``ExecutionQualityRecorder`` listener. Algo child slices are observed
        through their parent only, so that no fill counts twice.
        """
        if record.is_algo_child:
            return
        q = record.quality
        instrument, side = q.instrument_id, q.side.value
        for fill in fills:
            venue = fill.venue or "UNKNOWN"
            self._slippage_by(venue, instrument, side).observe(float(fill.slippage_bps))
            improvement = RATIO.divide(RATIO.multiply(fill.price_improvement, _BPS), q.arrival_mid)
            self._improvement_by(venue, instrument, side).observe(float(improvement))
        if not completed:
            return
        self._fill_rate_by(instrument, side).observe(float(q.fill_rate))
        if q.execution_time_ns is not None:
            self._duration_by(instrument, side).observe(q.execution_time_ns / 1e9)
        if q.implementation_shortfall_bps is not None:
            self._shortfall_by(instrument, side).observe(float(q.implementation_shortfall_bps))

    def render(self, portal: Portal) -> tuple[bytes, str]:
        """Return the exposition text after refreshing health gauges."""
        checks = portal.readiness()
        self.database_up.set(1 if checks.get("database", False) else 0)
        self.venue_up.labels(venue="SIM").set(1 if checks.get("venue", False) else 0)
        self.positions_active.set(
            sum(
                1
                for runtime in (self.runtimes or portal.service.accounts.values())
                for position in runtime.engine.state.positions.values()
                if position.quantity
            )
        )
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
