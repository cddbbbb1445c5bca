"""Smart order routing in the engine: a parent split across venues at the least cost.

An SOR parent (``SorSpec``) is an emulated execution parent like the other algos
(see ``engine.algos``): it never reaches a venue, its children go through the normal
submit path (pre-trade risk included) and their fills are mirrored onto it. It takes
one step on its release, on each data point or book of its instrument, on
``on_timer``, on ``resume_algo`` and whenever its last working child closes:

1. Nothing while a child is working, the parent is paused or nothing is left.
2. Each venue's liquidity is the latest book the engine was given for it
   (``on_venue_book``, or the top of book of ``on_venue_market_data``) joined with
   its ``VenueProfile`` (fee, latency, fill probability, size limit). The venues are
   the spec's, or every venue with a profile. Levels beyond the parent's limit guard
   are left out, so no child crosses it.
3. The first decision is ``route``; each later one is ``reroute`` of the last
   decision with what its children filled and the fresh books (a venue whose first
   book came after every earlier decision joins it), under the spec's
   ``FailurePolicy`` (a venue that filled less than it was sent has failed). Once
   every venue has failed and been left out, or (PENALISE) filled nothing and so has
   a fill probability of 0, the next decision routes afresh.
4. A decision that routes nothing is not recorded: the parent waits for new books.
   Otherwise ``RoutingDecided`` journals it (every input, the split, the expected
   costs and an explanation), then one LIMIT IOC child per venue goes out at the
   allocation's limit price (put on the tick grid towards the market), carrying the
   decision's attempt in ``exec_params``. A share below the instrument's minimum
   quantity or notional is not sent (its venue counts as not filling it); a decision
   with no share worth sending is not recorded either, and when all that is left is
   below those minimums the parent is cancelled.
5. When ``max_attempts`` decisions have been made and the last one's children are
   done, a parent still open is cancelled with what it filled.

A child denied by risk cancels the parent, as for every algo; a child rejected,
expired or cancelled by its venue is a non-fill that the next decision re-routes.
Replay folds ``RoutingDecided`` back (books are market data and are not journaled),
so a restored engine re-routes from the journaled decision and never redoes one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal

import msgspec

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from alphintra.domain.events import (
    AlgoStateChanged,
    AlgoVolumeObserved,
    OrderFilled,
    RoutingDecided,
)
from alphintra.domain.identifiers import ClientOrderId, InstrumentId, VenueId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import MarketData, QuoteBar, QuoteTick
from alphintra.domain.orders import Order
from alphintra.domain.values import ZERO
from alphintra.engine.algos import AlgoEngine
from alphintra.execution.algorithms import SOR, AlgoSpec, SorSpec, child_limit_price
from alphintra.execution.routing import (
    BookLevel,
    RerouteContext,
    RoutingDecision,
    RoutingRequest,
    VenueAllocation,
    VenueLiquidity,
    VenueProfile,
    reroute,
    route,
)
from alphintra.orders.factory import OrderValidationError, build_order

__all__ = ["SorEngine"]

_ATTEMPT = "routing_attempt"
"""Key of a child's ``exec_params``: the attempt of the decision that sent it."""

Book = tuple[tuple[BookLevel, ...], tuple[BookLevel, ...]]
"""A venue's book for one instrument: (bids best first, asks best first)."""


class _Routing:
    """One SOR parent's decisions, and the children of the last one."""

    __slots__ = ("children", "decisions", "restart")

    def __init__(self) -> None:
        self.decisions: list[RoutingDecision] = []
        self.children: list[ClientOrderId] | None = []
        """Children sent for the last decision (None: not known yet after a replay)."""
        self.restart = False
        """Paused since the last decision: its venues did not fail, route afresh."""


class _RoutingBook:
    """Venue profiles, venue books and the SOR parents' decisions."""

    __slots__ = ("books", "parents", "profiles")

    def __init__(self) -> None:
        self.profiles: dict[VenueId, VenueProfile] = {}
        self.books: dict[InstrumentId, dict[VenueId, Book]] = {}
        """Latest book per instrument and venue: market data, not journaled."""
        self.parents: dict[ClientOrderId, _Routing] = {}


class SorEngine(AlgoEngine):
    """Adds smart order routing (``SorSpec`` parents) to the algo engine."""

    @functools.cached_property
    def _sor(self) -> _RoutingBook:
        return _RoutingBook()

    # Configuration and inputs -------------------------------------------------------

    def set_routing_profile(self, venue: VenueId, profile: VenueProfile) -> None:
        """Set the routing terms of a configured venue (replacing earlier ones).

        Raise ``ValueError`` for a venue the engine does not know.
        """
        if venue not in self.venues:
            raise ValueError(f"venue {venue!r} is not configured; known: {sorted(self.venues)}")
        self._sor.profiles[venue] = profile

    def routing_profiles(self) -> Mapping[VenueId, VenueProfile]:
        """Return the routing terms of each venue that has them."""
        return dict(self._sor.profiles)

    def on_venue_book(
        self,
        venue: VenueId,
        instrument_id: InstrumentId,
        bids: Sequence[BookLevel],
        asks: Sequence[BookLevel],
    ) -> None:
        """Record one venue's book (best level first), then work the instrument's SOR parents.

        Raise ``ValueError`` for an unknown venue or levels out of order.
        """
        if venue not in self.venues:
            raise ValueError(f"venue {venue!r} is not configured; known: {sorted(self.venues)}")
        VenueLiquidity(venue, tuple(bids), tuple(asks), ZERO, Decimal(1), ZERO, Decimal(1))
        self._sor.books.setdefault(instrument_id, {})[venue] = (tuple(bids), tuple(asks))
        for coid in tuple(self._sor_parents(instrument_id)):
            self._drive(self.state.orders[coid])

    def on_venue_market_data(self, venue: VenueId, data: MarketData) -> None:
        """Take a data point quoted by ``venue``: its top of book, then ``on_market_data``.

        Quote ticks and quote bars (their closes) give a one-level book; a side whose
        size is 0 (not reported) is sized by the venue's profile ``max_quantity``, or
        left out without one. Trade data only goes on to ``on_market_data``.
        """
        self.record_venue_quote(venue, data)
        self.on_market_data(data)

    def record_venue_quote(self, venue: VenueId, data: MarketData) -> None:
        """Record ``venue``'s top of book from a quote (as ``on_venue_market_data``), only.

        For venues quoting alongside a primary feed: nothing else happens until the
        next data point or book; trade data is ignored.
        """
        if venue not in self.venues:
            raise ValueError(f"venue {venue!r} is not configured; known: {sorted(self.venues)}")
        if type(data) is QuoteTick:
            quote = (data.bid, data.bid_size, data.ask, data.ask_size)
        elif type(data) is QuoteBar:
            quote = (data.bid_close, data.bid_size, data.ask_close, data.ask_size)
        else:
            return
        bid, bid_size, ask, ask_size = quote
        profile = self._sor.profiles.get(venue)
        cap = profile.max_quantity if profile is not None else None
        bids = _top(bid, bid_size, cap)
        asks = _top(ask, ask_size, cap)
        self._sor.books.setdefault(data.instrument_id, {})[venue] = (bids, asks)

    def submit_algo(self, request: OrderRequest, algo: AlgoSpec) -> Order:
        """Record and release an algo parent (see ``AlgoEngine.submit_algo``).

        An ``SorSpec`` must name venues the engine has routing terms for (or, naming
        none, the engine must have some); otherwise raise ``OrderValidationError``.
        """
        if isinstance(algo, SorSpec):
            profiles = self._sor.profiles
            unknown = [v for v in algo.venues if v not in profiles]
            if unknown or not profiles:
                raise OrderValidationError(
                    "UNKNOWN_VENUE",
                    f"no routing terms for venue(s) {unknown or list(algo.venues)}; "
                    f"venues with routing terms: {sorted(profiles)}",
                )
        return super().submit_algo(request, algo)

    def routing_decisions(self, client_order_id: ClientOrderId) -> list[RoutingDecision]:
        """Return the routing decisions of an SOR parent, oldest first (empty for others)."""
        routing = self._sor.parents.get(client_order_id)
        return list(routing.decisions) if routing is not None else []

    # Hooks into the algo engine ---------------------------------------------------------

    def _drive_once(self, parent: Order) -> bool:
        if parent.exec_algorithm != SOR:
            return super()._drive_once(parent)
        spec = self._runtime(parent).spec
        assert isinstance(spec, SorSpec)
        return self._route_step(parent, spec)

    def _child_closed(self, parent: Order, child: Order) -> None:
        if parent.exec_algorithm != SOR:
            super()._child_closed(parent, child)
            return
        if not parent.is_open:
            return
        if child.status is OrderStatus.DENIED:
            self._close_parent(parent, f"child {child.client_order_id} was denied")
        elif not self._open_children(parent):
            self._drive(parent)  # the last child of the decision is done: re-route

    def _mirror_fill(self, parent: Order, child: Order, fill: OrderFilled) -> None:
        super()._mirror_fill(parent, child, fill)
        if (
            parent.exec_algorithm == SOR
            and parent.is_open
            and child.status is OrderStatus.FILLED
            and not self._open_children(parent)
        ):
            self._drive(parent)

    def _fold_algo_event(
        self, event: AlgoStateChanged | AlgoVolumeObserved | RoutingDecided
    ) -> None:
        if isinstance(event, RoutingDecided):
            routing = self._sor.parents.setdefault(event.client_order_id, _Routing())
            routing.decisions.append(RoutingDecision.from_json(event.decision))
            routing.children = None
            routing.restart = False
            return
        super()._fold_algo_event(event)
        if type(event) is AlgoStateChanged and event.paused:
            self._mark_restart(event.client_order_id)

    def pause_algo(self, client_order_id: ClientOrderId, reason: str = "") -> bool:
        """Pause an algo (see ``AlgoEngine.pause_algo``); an SOR then routes afresh on resume.

        The children a pause cancels did not fail at their venues, so the decision
        made on resume is a new ``route`` of what is left, not a re-route.
        """
        paused = super().pause_algo(client_order_id, reason)
        if paused:
            self._mark_restart(client_order_id)
        return paused

    def _mark_restart(self, client_order_id: ClientOrderId) -> None:
        order = self.state.orders.get(client_order_id)
        if order is not None and order.exec_algorithm == SOR:
            self._sor.parents.setdefault(client_order_id, _Routing()).restart = True

    def _routing_snapshot(self) -> dict[ClientOrderId, list[str]]:
        """Return each SOR parent's decisions as journaled JSON, for a snapshot."""
        parents = self._sor.parents
        return {
            coid: [d.to_json() for d in parents[coid].decisions]
            for coid in sorted(parents)
            if parents[coid].decisions
        }

    def _routing_restarts(self) -> list[ClientOrderId]:
        """Return the SOR parents paused since their last decision, for a snapshot."""
        return sorted(coid for coid, routing in self._sor.parents.items() if routing.restart)

    def _load_routing_snapshot(
        self, decisions: Mapping[ClientOrderId, list[str]], restarts: list[ClientOrderId]
    ) -> None:
        for coid, texts in decisions.items():
            routing = self._sor.parents.setdefault(coid, _Routing())
            routing.decisions = [RoutingDecision.from_json(text) for text in texts]
            routing.children = None
        for coid in restarts:
            self._sor.parents.setdefault(coid, _Routing()).restart = True

    # Routing ----------------------------------------------------------------------------

    def _sor_parents(self, instrument_id: InstrumentId) -> list[ClientOrderId]:
        orders = self.state.orders
        return [
            coid
            for coid in self._algo.running
            if orders[coid].is_open
            and orders[coid].exec_algorithm == SOR
            and orders[coid].instrument_id == instrument_id
        ]

    def _route_step(self, parent: Order, spec: SorSpec) -> bool:
        """Make and send the next routing decision; return True when one went out."""
        if self._open_children(parent):
            return False
        remaining = parent.quantity - parent.filled_quantity
        if remaining <= 0:
            return False
        routing = self._sor.parents.setdefault(parent.client_order_id, _Routing())
        instrument = self.instrument(parent.instrument_id)
        if len(routing.decisions) >= spec.max_attempts:
            self._close_parent(
                parent,
                f"smart order routing stopped after {len(routing.decisions)} decisions: "
                f"filled {parent.filled_quantity} of {parent.quantity}",
            )
            return False
        fresh = self._liquidity(parent, spec, instrument)
        last = routing.decisions[-1] if routing.decisions else None
        filled = self._last_fills(parent, routing) if last is not None else {}
        done = sum(filled.values(), ZERO)
        decision: RoutingDecision | None = None
        if last is not None and not routing.restart and last.request.quantity - done == remaining:
            # A venue no decision of this parent has considered (its first book came
            # since) joins the re-route; one left out before stays out.
            seen = {v.venue for d in routing.decisions for v in d.request.venues}
            joining = [v for v in fresh if v.venue not in seen]
            decision = reroute(last, filled, policy=spec.policy, venues=fresh, joining=joining)
            if not any(v.fill_probability > 0 for v in decision.request.venues):
                # Every venue failed: left out (EXCLUDE) or filled nothing (PENALISE,
                # its fill probability scaled to 0). Start over.
                decision = None
        if decision is None:
            if not any(v.bids for v in fresh) or not any(v.asks for v in fresh):
                return False  # no two-sided quote yet: no reference mid
            request = RoutingRequest(
                instrument_id=instrument.id,
                side=parent.side,
                quantity=remaining,
                venues=tuple(fresh),
                cost_model=spec.cost_model,
                multiplier=instrument.multiplier,
            )
            context = None
            if last is not None:
                context = RerouteContext(
                    attempt=len(routing.decisions) + 1,
                    prior_fills=tuple(sorted(filled.items())),
                    failed_venues=(),
                    policy=spec.policy,
                )
            decision = route(request, context=context)
        sendable = [a for a in decision.allocations if self._sendable(a, instrument)]
        if not sendable:
            if self._below_minimum(remaining, decision.reference_mid, instrument):
                self._close_parent(
                    parent, f"{remaining} left is below the instrument minimum: nothing to route"
                )
            return False  # only shares too small to send: wait for new books
        attempt = _attempt(decision)
        ts = self.clock.now_ns()
        self._emit(
            RoutingDecided(
                account_id=self.account_id,
                ts_event=ts,
                ts_recv=ts,
                client_order_id=parent.client_order_id,
                attempt=attempt,
                decision=decision.to_json(),
            )
        )
        routing.decisions.append(decision)
        routing.children = []
        routing.restart = False
        for allocation in sendable:
            if not parent.is_open:
                break
            assert allocation.limit_price is not None
            self._send_routed(
                parent,
                instrument,
                routing,
                allocation.venue,
                allocation.quantity,
                allocation.limit_price,
            )
        return True

    def _sendable(self, allocation: VenueAllocation, instrument: Instrument) -> bool:
        """Return True when a venue's share is worth an order: not below the minimums.

        A share left out counts as a non-fill of its venue at the next re-route.
        """
        if allocation.quantity <= 0 or allocation.limit_price is None:
            return False
        return not self._below_minimum(allocation.quantity, allocation.limit_price, instrument)

    def _below_minimum(self, quantity: Decimal, price: Decimal, instrument: Instrument) -> bool:
        if quantity < instrument.min_quantity:
            return True
        minimum = instrument.min_notional if self.limits.enforce_min_notional else ZERO
        return instrument.notional(quantity, price) < minimum

    def _liquidity(
        self, parent: Order, spec: SorSpec, instrument: Instrument
    ) -> list[VenueLiquidity]:
        profiles = self._sor.profiles
        books = self._sor.books.get(parent.instrument_id, {})
        names = spec.venues or tuple(profiles)
        guard = parent.price
        buy = parent.side is OrderSide.BUY
        result = []
        for name in names:
            profile, book = profiles.get(name), books.get(name)
            if profile is None or book is None:
                continue
            bids, asks = book
            if guard is not None and buy:
                asks = tuple(level for level in asks if level.price <= guard)
            elif guard is not None:
                bids = tuple(level for level in bids if level.price >= guard)
            result.append(profile.liquidity(name, bids, asks, instrument.lot_size))
        return result

    def _last_fills(self, parent: Order, routing: _Routing) -> dict[VenueId, Decimal]:
        """Return what each venue filled of the last decision's children."""
        children = routing.children
        if children is None:  # after a replay: children carry their decision's attempt
            attempt = {_ATTEMPT: str(_attempt(routing.decisions[-1]))}
            coid = parent.client_order_id
            children = routing.children = [
                o.client_order_id
                for o in self.state.orders.values()
                if o.parent_id == coid and self._inits[o.client_order_id].exec_params == attempt
            ]
        filled: dict[VenueId, Decimal] = {}
        for child_id in children:
            child = self.state.orders[child_id]
            venue = VenueId(child.venue or self.default_venue)
            filled[venue] = filled.get(venue, ZERO) + child.filled_quantity
        return filled

    def _send_routed(
        self,
        parent: Order,
        instrument: Instrument,
        routing: _Routing,
        venue: VenueId,
        quantity: Decimal,
        limit: Decimal,
    ) -> None:
        price = child_limit_price(parent.side, limit, parent.price, instrument.tick_size)
        id_seq = self._id_seq
        try:
            init = build_order(
                OrderRequest(
                    instrument_id=parent.instrument_id,
                    side=parent.side,
                    order_type=OrderType.LIMIT,
                    quantity=quantity,
                    price=price,
                    time_in_force=TimeInForce.IOC,
                    reduce_only=parent.reduce_only,
                    signal_id=parent.signal_id,
                ),
                instrument,
                account_id=self.account_id,
                client_order_id=self.next_client_order_id(),
                venue=venue,
                native_types=self.venues[venue].order_types,
                ts=self.clock.now_ns(),
                parent_id=parent.client_order_id,
            )
        except OrderValidationError as exc:
            self._id_seq = id_seq  # nothing was journaled under the ID drawn
            self._close_parent(parent, f"child refused: {exc}")
            return
        attempt = _attempt(routing.decisions[-1])
        init = msgspec.structs.replace(init, exec_params={_ATTEMPT: str(attempt)})
        self._inits[init.client_order_id] = init
        self._emit(init)
        assert routing.children is not None
        routing.children.append(init.client_order_id)
        child = self.state.orders[init.client_order_id]
        self._risk_and_release(child, init, instrument)


def _attempt(decision: RoutingDecision) -> int:
    return decision.reroute.attempt if decision.reroute is not None else 1


def _top(price: Decimal, size: Decimal, cap: Decimal | None) -> tuple[BookLevel, ...]:
    if size > 0:
        return (BookLevel(price, size),)
    return (BookLevel(price, cap),) if cap is not None and cap > 0 else ()
