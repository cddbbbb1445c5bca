"""Live venues of one account: execution clients, failover routing and reconciliation.

An account attached to live venues sends the engine's durable commands through one
``ExecutionClient`` per venue (a queue and a sender task each, so a slow venue does
not hold up another). Order updates and fills come back through the adapter's
subscription and through polling.

Each venue goes through the same life:

1. Connect, retrying with backoff until the venue answers.
2. Orders the journal holds as sent but never acknowledged are marked in flight: they
   are resolved by client order ID, never sent again.
3. Startup reconciliation (``reconcile.py``): fills booked while the service was down,
   cancels made elsewhere, orders adopted, positions compared. Until it succeeds the
   venue takes no new orders and the service reports not ready.
4. A health probe every ``health_interval_s`` and a full reconciliation every
   ``reconcile_interval_s``, and again whenever the venue comes back after failing.

Routing: new orders go to the instrument's configured venues in order (primary first),
skipping venues that are down. Choosing another than the primary is journaled (an
``AuditRecorded`` of action ``VENUE_FAILOVER``, and ``VENUE_FAILBACK`` on the way back),
logged and alerted; with no usable venue the order is refused with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec
import structlog

from alphintra.domain.commands import OrderRequest, VenueCommand
from alphintra.domain.enums import OrderStatus
from alphintra.domain.events import AnyEvent, AuditRecorded, OrderFilled
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import QuoteTick
from alphintra.engine.engine import TradingEngine
from alphintra.orders.factory import OrderValidationError
from alphintra.service.execution import ExecutionClient, ExecutionPolicy
from alphintra.service.rate_limit import TokenBucket
from alphintra.service.reconcile import ReconciliationReport, reconcile
from alphintra.venues.adapter import VenueAdapter, VenueError

log = structlog.get_logger("alphintra.live")

AlertFn = Callable[[str, str, str, str | None], None]
"""(account, kind, message, instrument) -> None."""
QuoteFn = Callable[[QuoteTick], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class VenueLink:
    """One live venue an account trades on."""

    adapter: VenueAdapter
    check_positions: bool = True
    """Compare positions at reconciliation (spot exchanges report balances, not positions)."""
    quotes: tuple[InstrumentId, ...] = ()
    """Instruments whose quotes the venue streams into the engine (marks, emulation)."""


@dataclass(frozen=True, slots=True)
class LivePolicy:
    """Timers of the live venue supervision."""

    health_interval_s: float = 2.0
    reconcile_interval_s: float = 30.0
    connect_backoff_s: float = 0.5
    max_connect_backoff_s: float = 30.0
    execution: ExecutionPolicy = field(default_factory=ExecutionPolicy)


@dataclass(slots=True)
class VenueHealth:
    """What the service knows about one venue's connection."""

    connected: bool = False
    healthy: bool = False
    reconciled: bool = False
    """Startup reconciliation has succeeded (it stays true afterwards)."""
    last_error: str | None = None
    last_report: ReconciliationReport | None = None
    reconciliations: int = 0


class LiveVenue:
    """One venue of one account: its execution client, command queue and health."""

    def __init__(self, link: VenueLink, client: ExecutionClient) -> None:
        self.link = link
        self.adapter = link.adapter
        self.venue_id: VenueId = link.adapter.venue_id
        self.client = client
        self.queue: asyncio.Queue[VenueCommand] = asyncio.Queue()
        self.health = VenueHealth()
        self.mismatches: dict[InstrumentId, tuple[Decimal, Decimal]] = {}

    @property
    def usable(self) -> bool:
        """Return True when new orders may be routed here."""
        h = self.health
        return h.connected and h.healthy and h.reconciled

    def describe(self) -> str:
        """Return why the venue is not usable, for error messages."""
        h = self.health
        if not h.connected:
            state = "not connected"
        elif not h.reconciled:
            state = "not reconciled yet"
        elif not h.healthy:
            state = "down"
        else:
            return f"{self.venue_id} is up"
        reason = f" (last error: {h.last_error})" if h.last_error else ""
        return f"{self.venue_id} is {state}{reason}"


class RoutedEngine(TradingEngine):
    """The trading engine whose new orders go where ``router`` says, unless named."""

    router: Callable[[InstrumentId], VenueId] | None = None

    def _venue_for(self, request: OrderRequest, instrument: Instrument) -> VenueId:
        if request.venue is None and self.router is not None:
            request = msgspec.structs.replace(request, venue=self.router(instrument.id))
        return super()._venue_for(request, instrument)


class LiveAccount:
    """The live venues of one account, their supervision and the routing between them."""

    def __init__(
        self,
        engine: TradingEngine,
        lock: asyncio.Lock,
        links: Iterable[VenueLink],
        failover: Mapping[InstrumentId, tuple[VenueId, ...]],
        *,
        policy: LivePolicy | None = None,
        history: Iterable[AnyEvent] = (),
    ) -> None:
        self.engine = engine
        self.lock = lock
        self.policy = policy or LivePolicy()
        self.venues: dict[VenueId, LiveVenue] = {}
        for link in links:
            limit = link.adapter.rate_limit
            client = ExecutionClient(
                engine,
                link.adapter,
                limiter=TokenBucket(limit.capacity, limit.per_seconds) if limit else None,
                policy=self.policy.execution,
                lock=lock,
            )
            self.venues[link.adapter.venue_id] = LiveVenue(link, client)
        if not self.venues:
            raise ValueError("a live account needs at least one venue")
        self.primary: VenueId = next(iter(self.venues))
        self.failover = {i: tuple(v) for i, v in failover.items()}
        for instrument_id, route in self.failover.items():
            unknown = [v for v in route if v not in self.venues]
            if unknown or not route:
                raise ValueError(
                    f"failover route for {instrument_id} names venues {unknown or route} that "
                    f"this account does not trade on; its venues: {sorted(self.venues)}"
                )
        self._routed: dict[InstrumentId, VenueId] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.alert: AlertFn | None = None
        self.on_quote: QuoteFn | None = None
        self._resume_fills(history)
        if isinstance(engine, RoutedEngine):
            engine.router = self.route

    def _resume_fills(self, history: Iterable[AnyEvent]) -> None:
        # Poll fills from the newest one journaled per venue, not from the epoch.
        for event in history:
            if type(event) is OrderFilled and event.venue in self.venues:
                client = self.venues[event.venue].client
                client.last_fill_ts = max(client.last_fill_ts, event.ts_event)

    # Readiness and routing -------------------------------------------------------------

    @property
    def reconciled(self) -> bool:
        """Return True once every venue has completed its startup reconciliation."""
        return all(v.health.reconciled for v in self.venues.values())

    def route(self, instrument_id: InstrumentId) -> VenueId:
        """Return the venue a new order in ``instrument_id`` goes to.

        Raise ``OrderValidationError`` (VENUE_UNAVAILABLE) naming every venue tried and
        why, when none can take it.
        """
        route = self.failover.get(instrument_id, (self.primary,))
        for venue_id in route:
            if self.venues[venue_id].usable:
                self._note_route(instrument_id, route[0], venue_id)
                return venue_id
        raise OrderValidationError("VENUE_UNAVAILABLE", self._refusal(instrument_id, route))

    def unroutable(self, instrument_id: InstrumentId) -> str | None:
        """Return why a new order in ``instrument_id`` cannot be routed now, or None."""
        route = self.failover.get(instrument_id, (self.primary,))
        if any(self.venues[v].usable for v in route):
            return None
        return self._refusal(instrument_id, route)

    def _refusal(self, instrument_id: InstrumentId, route: tuple[VenueId, ...]) -> str:
        states = "; ".join(self.venues[v].describe() for v in route)
        if len(route) == 1:
            return (
                f"cannot route {instrument_id}: {states}, and no failover route is "
                f"configured for {instrument_id}"
            )
        return f"cannot route {instrument_id}: no venue of {list(route)} is up: {states}"

    def _note_route(self, instrument_id: InstrumentId, primary: VenueId, chosen: VenueId) -> None:
        previous = self._routed.get(instrument_id, primary)
        self._routed[instrument_id] = chosen
        if previous == chosen:
            return
        action = "VENUE_FAILOVER" if chosen != primary else "VENUE_FAILBACK"
        why = self.venues[previous].describe()
        message = f"{instrument_id}: new orders go to {chosen} instead of {previous}: {why}"
        ts = self.engine.clock.now_ns()
        self.engine.record(
            AuditRecorded(
                account_id=self.engine.account_id,
                ts_event=ts,
                ts_recv=ts,
                actor="router",
                action=action,
                address="",
                target=str(instrument_id),
                old_value=str(previous),
                new_value=str(chosen),
            )
        )
        log.warning(action.lower(), account=self.engine.account_id, message=message)
        if self.alert is not None:
            self.alert(self.engine.account_id, action.lower(), message, instrument_id)

    # Commands --------------------------------------------------------------------------

    def enqueue(self, commands: list[VenueCommand]) -> None:
        """Queue durable commands for their venues' senders, in order."""
        for command in commands:
            venue = self.venues.get(command.venue)
            if venue is None:  # the engine only knows the venues configured here
                log.error("command_for_unknown_venue", venue=command.venue, command=repr(command))
                continue
            venue.queue.put_nowait(command)

    async def _send_loop(self, venue: LiveVenue) -> None:
        client = venue.client
        while True:
            command = await venue.queue.get()
            errors = len(client.venue_errors)
            try:
                await client.send([command])
            except Exception:  # a bug must not stop the account's sending
                log.exception("venue_send_failed", venue=venue.venue_id, command=repr(command))
            if len(client.venue_errors) > errors:
                venue.health.healthy = False
                venue.health.last_error = client.venue_errors[-1]

    # Supervision -----------------------------------------------------------------------

    def start(self) -> None:
        """Start supervising every venue (call from the running event loop)."""
        for venue in self.venues.values():
            task = asyncio.create_task(self._supervise(venue), name=f"venue-{venue.venue_id}")
            self._tasks.append(task)

    async def stop(self) -> None:
        """Stop supervision and sending, and disconnect every adapter."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for venue in self.venues.values():
            with contextlib.suppress(Exception):
                await venue.adapter.disconnect()

    async def _supervise(self, venue: LiveVenue) -> None:
        try:
            await self._connect(venue)
            self._mark_unacknowledged(venue)
            await self._subscribe(venue)
            delay = self.policy.connect_backoff_s
            while not await self._reconcile(venue):
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.policy.max_connect_backoff_s)
            await self._settle_in_flight(venue)
            venue.health.reconciled = True
            log.info("venue_ready", account=self.engine.account_id, venue=venue.venue_id)
            self._tasks.append(
                asyncio.create_task(self._send_loop(venue), name=f"send-{venue.venue_id}")
            )
            await self._watch(venue)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("venue_supervision_failed", venue=venue.venue_id)
            venue.health.healthy = False
            raise

    async def _connect(self, venue: LiveVenue) -> None:
        delay = self.policy.connect_backoff_s
        while True:
            try:
                await venue.adapter.connect()
            except (VenueError, OSError) as exc:
                venue.health.last_error = str(exc)
                log.warning("venue_connect_failed", venue=venue.venue_id, error=str(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.policy.max_connect_backoff_s)
                continue
            venue.health.connected = True
            return

    async def _subscribe(self, venue: LiveVenue) -> None:
        delay = self.policy.connect_backoff_s
        while True:
            try:
                await venue.adapter.subscribe_order_updates(venue.client.on_update)
                if venue.link.quotes and self.on_quote is not None:
                    await venue.adapter.subscribe_quotes(list(venue.link.quotes), self.on_quote)
            except (VenueError, OSError) as exc:
                venue.health.last_error = str(exc)
                log.warning("venue_subscribe_failed", venue=venue.venue_id, error=str(exc))
                with contextlib.suppress(Exception):  # stop what did start, then retry
                    await venue.adapter.disconnect()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.policy.max_connect_backoff_s)
                await self._connect(venue)
                continue
            return

    def _mark_unacknowledged(self, venue: LiveVenue) -> None:
        # Journaled as sent, never acknowledged: the process may have stopped before or
        # after sending. Resolve by client order ID; never send again.
        for order in self.engine.state.orders.values():
            if (
                order.venue == venue.venue_id
                and not order.emulated
                and order.venue_order_id is None
                and order.status in (OrderStatus.SUBMITTED, OrderStatus.PENDING_CANCEL)
            ):
                venue.client.in_flight.setdefault(order.client_order_id, 0)

    async def _settle_in_flight(self, venue: LiveVenue) -> None:
        client = venue.client
        for _ in range(self.policy.execution.unknown_checks + 1):
            if not client.in_flight:
                return
            await client.resolve_in_flight()
            if client.in_flight:
                await asyncio.sleep(self.policy.execution.resolve_interval_s)

    async def _reconcile(self, venue: LiveVenue) -> bool:
        started = time.perf_counter()
        try:
            report = await reconcile(
                venue.client,
                check_positions=venue.link.check_positions,
                known_mismatches=venue.mismatches,
                only_venue=len(self.venues) > 1,
            )
        except Exception as exc:  # an adapter bug: the venue stays unreconciled
            log.exception("reconciliation_crashed", venue=venue.venue_id)
            report = ReconciliationReport(error=f"{type(exc).__name__}: {exc}")
        venue.health.last_report = report
        if report.error is not None:
            venue.health.healthy = False
            venue.health.last_error = report.error
            log.warning("reconciliation_failed", venue=venue.venue_id, error=report.error)
            return False
        venue.health.healthy = True
        venue.health.reconciliations += 1
        log.info(
            "reconciled",
            account=self.engine.account_id,
            venue=venue.venue_id,
            fills=report.fills_applied,
            updated=len(report.orders_updated),
            adopted=len(report.adopted),
            mismatches={str(k): [str(a), str(b)] for k, (a, b) in report.mismatches.items()},
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return True

    async def _probe(self, venue: LiveVenue) -> bool:
        try:
            await venue.adapter.account()
        except Exception as exc:  # any failure to answer is a venue that is down
            venue.health.last_error = str(exc)
            return False
        return True

    async def _watch(self, venue: LiveVenue) -> None:
        policy = self.policy
        last = time.monotonic()
        while True:
            await asyncio.sleep(policy.health_interval_s)
            try:
                if venue.client.in_flight:
                    await venue.client.resolve_in_flight()
            except Exception:  # an adapter bug must not end the supervision
                log.exception("in_flight_resolution_failed", venue=venue.venue_id)
            was_healthy = venue.health.healthy
            if not was_healthy or time.monotonic() - last >= policy.reconcile_interval_s:
                # Coming back, or due: reconcile before taking orders again.
                await self._reconcile(venue)
                last = time.monotonic()
            else:
                venue.health.healthy = await self._probe(venue)
            if was_healthy != venue.health.healthy:
                state = "up" if venue.health.healthy else "down"
                log.warning(
                    f"venue_{state}",
                    account=self.engine.account_id,
                    venue=venue.venue_id,
                    error=venue.health.last_error,
                )


__all__ = [
    "LiveAccount",
    "LivePolicy",
    "LiveVenue",
    "RoutedEngine",
    "VenueHealth",
    "VenueLink",
]
