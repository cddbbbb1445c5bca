"""Smart order routing: split one order across venues at the least expected cost.

Everything here is pure: a `RoutingRequest` (books, fees, limits, latencies, fill
probabilities and model parameters) goes in, a `RoutingDecision` that records all of
it, the split, the expected cost per venue and a plain-text explanation comes out.
`RoutingDecision.to_json` and `RoutingDecision.from_json` round-trip it exactly (the
codec is in `alphintra.execution.routing_json`).

Cost model
----------
Costs are money in the quote currency (price × quantity × ``multiplier``), measured
against one reference mid ``M`` (the consolidated mid, ``(best bid + best ask) / 2``
over all venues, unless the request gives one) and the side sign ``s`` (+1 buy, -1
sell). Sending ``q`` to venue ``v``, whose book is walked best level first and fills
``x_i`` at price ``p_i``, is expected to cost::

    book(q)     = Σ s × (p_i - M) × x_i        spread and depth paid against the mid
    fee(q)      = f_v × Σ p_i × x_i             f_v = taker_fee_bps / 10 000
    impact(q)   = k × M × (q / D_v) × q         linear temporary impact
    latency(q)  = σ × t_v × M × q               adverse drift while the order travels
    non_fill(q) = (1 - π_v) × r × M × q         expected cost of re-routing what misses

``k`` (`CostModel.impact_coefficient`) is the impact per unit, as a fraction of the
mid, of taking a venue's whole depth ``D_v`` (its displayed size on the side we take,
or `VenueLiquidity.depth`): each unit then costs ``k × M × q / D_v`` more. ``σ``
(`CostModel.volatility_per_ms`) is the expected adverse move per millisecond, as a
fraction of the mid, and ``t_v`` the venue's latency in ms. ``r``
(`CostModel.reroute_cost`) is the cost, as a fraction of the mid, of re-routing one
unit that did not fill; ``π_v`` is the venue's fill probability. Every term is
multiplied by ``multiplier``. Only displayed liquidity is routable: a venue takes at
most its displayed size, capped by its size limit, on its lot grid, and a venue whose
fill probability is 0 takes nothing.

Optimiser: a greedy walk of the consolidated cost book
------------------------------------------------------
The cost of a unit at level ``i`` is ``(1 + f) p_i - M`` for a buy (asks rise as the
book is walked) and ``M - (1 - f) p_i`` for a sell (bids fall), so book plus fee has
non-decreasing marginal cost whenever ``|f| < 1``. Impact adds ``2 k M q / D_v``,
which rises with ``q``; latency and non-fill add a constant. Each venue's cost is
therefore convex in ``q``, so the cost of its successive lots never falls. For a
sum of separable convex costs over a common lot grid with per-venue caps, taking the
``N`` cheapest lot increments across all venues (the greedy walk: always buy the
cheapest next lot anywhere) is an exact optimum (Gross, 1956). Rather than step lot
by lot, the optimiser finds the cut-off, the ``N``-th cheapest increment, by a
selection search over the venues' sorted increment sequences, then takes every lot
cheaper than the cut-off and fills the rest at the cut-off in venue order. Time is
polylogarithmic in the number of lots.

When venues have different lot sizes the problem is no longer a plain convex
allocation, so the split is found by an exact dynamic programme over the finest lot
grid when that is small (at most ``DP_LIMIT`` steps), and otherwise by the greedy
walk with lots taken in order of cost per unit, flagged ``exact=False``.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from decimal import (
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from typing import Final

import msgspec

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import InstrumentId, VenueId
from alphintra.execution.routing_json import _from_plain, _to_plain

DP_LIMIT: Final = 250_000
"""Most (grid step × lot choice) pairs the exact mixed-lot programme may visit."""

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_BPS: Final = Decimal(10_000)
_CONTEXT: Final = Context(
    prec=50, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


def _check_decimal(value: object, what: str, *, minimum: Decimal | None = None) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValueError(f"{what} must be a finite Decimal, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level of a venue's book: a price and the size resting there."""

    price: Decimal
    size: Decimal

    def __post_init__(self) -> None:
        _check_decimal(self.price, "book level price")
        _check_decimal(self.size, "book level size")
        if self.size <= 0:
            raise ValueError(f"book level size must be positive, got {self.size}")


@dataclass(frozen=True, slots=True)
class VenueLiquidity:
    """What one venue offers for the instrument, and what trading there costs.

    ``bids`` and ``asks`` are best level first (bids falling, asks rising); a venue
    without depth gives just its top of book. ``max_quantity`` is the venue's size
    limit (None: no limit beyond its displayed size). ``depth`` overrides the impact
    depth ``D_v``, which is otherwise the displayed size on the side we take.
    """

    venue: VenueId
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    taker_fee_bps: Decimal
    lot_size: Decimal
    latency_ms: Decimal
    fill_probability: Decimal
    max_quantity: Decimal | None = None
    depth: Decimal | None = None

    def __post_init__(self) -> None:
        where = f"venue {self.venue}"
        for name, levels, step in (("bids", self.bids, -1), ("asks", self.asks, 1)):
            for before, after in itertools.pairwise(levels):
                if (after.price - before.price) * step <= 0:
                    order = "falling" if step < 0 else "rising"
                    raise ValueError(
                        f"{where}: {name} must be strictly {order} from the best level, "
                        f"got {before.price} then {after.price}"
                    )
        fee = _check_decimal(self.taker_fee_bps, f"{where}: taker_fee_bps")
        if not -_BPS < fee < _BPS:
            raise ValueError(f"{where}: taker_fee_bps must be within ±10000, got {fee}")
        if _check_decimal(self.lot_size, f"{where}: lot_size") <= 0:
            raise ValueError(f"{where}: lot_size must be positive, got {self.lot_size}")
        _check_decimal(self.latency_ms, f"{where}: latency_ms", minimum=_ZERO)
        probability = _check_decimal(self.fill_probability, f"{where}: fill_probability")
        if not _ZERO <= probability <= _ONE:
            raise ValueError(f"{where}: fill_probability must be in [0, 1], got {probability}")
        if self.max_quantity is not None:
            _check_decimal(self.max_quantity, f"{where}: max_quantity", minimum=_ZERO)
        if self.depth is not None and _check_decimal(self.depth, f"{where}: depth") <= 0:
            raise ValueError(f"{where}: depth must be positive, got {self.depth}")

    def levels(self, side: OrderSide) -> tuple[BookLevel, ...]:
        """Return the levels an order on ``side`` takes: asks for a buy, bids for a sell."""
        return self.asks if side is OrderSide.BUY else self.bids


@dataclass(frozen=True, slots=True)
class VenueProfile:
    """A venue's routing terms beyond its book: taker fee, latency, fill rate, size limit.

    ``liquidity`` joins them with a book into the `VenueLiquidity` a request takes.
    """

    taker_fee_bps: Decimal = _ZERO
    latency_ms: Decimal = _ZERO
    fill_probability: Decimal = _ONE
    max_quantity: Decimal | None = None
    depth: Decimal | None = None

    def __post_init__(self) -> None:
        self.liquidity(VenueId("profile"), (), (), _ONE)  # the same checks, raised early

    def liquidity(
        self,
        venue: VenueId,
        bids: Sequence[BookLevel],
        asks: Sequence[BookLevel],
        lot_size: Decimal,
    ) -> VenueLiquidity:
        """Return ``venue``'s liquidity: this profile with the given book."""
        return VenueLiquidity(
            venue=venue,
            bids=tuple(bids),
            asks=tuple(asks),
            taker_fee_bps=self.taker_fee_bps,
            lot_size=lot_size,
            latency_ms=self.latency_ms,
            fill_probability=self.fill_probability,
            max_quantity=self.max_quantity,
            depth=self.depth,
        )


@dataclass(frozen=True, slots=True)
class CostModel:
    """Parameters of the impact, latency and non-fill terms (see the module docstring)."""

    impact_coefficient: Decimal = _ZERO
    volatility_per_ms: Decimal = _ZERO
    reroute_cost: Decimal = _ZERO

    def __post_init__(self) -> None:
        for item in fields(self):
            _check_decimal(getattr(self, item.name), item.name, minimum=_ZERO)


@dataclass(frozen=True, slots=True)
class RoutingRequest:
    """One order to split: instrument, side, quantity, the venues and the cost model."""

    instrument_id: InstrumentId
    side: OrderSide
    quantity: Decimal
    venues: tuple[VenueLiquidity, ...]
    cost_model: CostModel = CostModel()
    reference_mid: Decimal | None = None
    multiplier: Decimal = _ONE

    def __post_init__(self) -> None:
        if _check_decimal(self.quantity, "order quantity") <= 0:
            raise ValueError(f"order quantity must be positive, got {self.quantity}")
        if _check_decimal(self.multiplier, "multiplier") <= 0:
            raise ValueError(f"multiplier must be positive, got {self.multiplier}")
        if self.reference_mid is not None and _check_decimal(self.reference_mid, "mid") <= 0:
            raise ValueError(f"reference_mid must be positive, got {self.reference_mid}")
        names = [venue.venue for venue in self.venues]
        if len(set(names)) != len(names):
            raise ValueError(f"each venue may appear once, got {names}")


@dataclass(frozen=True, slots=True)
class VenueCost:
    """Expected cost of one venue's share (or of the whole split), by term; ``total`` sums them."""

    book: Decimal
    fee: Decimal
    impact: Decimal
    latency: Decimal
    non_fill: Decimal
    total: Decimal

    def __post_init__(self) -> None:
        terms = (self.book, self.fee, self.impact, self.latency, self.non_fill)
        with localcontext(_CONTEXT):
            expected = sum(terms, _ZERO)
        if self.total != expected:
            raise ValueError(f"VenueCost total {self.total} is not the sum of its terms {terms}")

    @classmethod
    def of(
        cls, book: Decimal, fee: Decimal, impact: Decimal, latency: Decimal, non_fill: Decimal
    ) -> VenueCost:
        """Return the cost with ``total`` set to the sum of the terms."""
        with localcontext(_CONTEXT):
            total = book + fee + impact + latency + non_fill
        return cls(book, fee, impact, latency, non_fill, total)

    def __add__(self, other: VenueCost) -> VenueCost:
        with localcontext(_CONTEXT):
            return VenueCost.of(
                self.book + other.book,
                self.fee + other.fee,
                self.impact + other.impact,
                self.latency + other.latency,
                self.non_fill + other.non_fill,
            )


NO_COST: Final = VenueCost.of(_ZERO, _ZERO, _ZERO, _ZERO, _ZERO)


@dataclass(frozen=True, slots=True)
class VenueAllocation:
    """One venue's share of the split.

    ``limit_price`` is the worst level the share reaches (send it as the order's
    limit); ``last_unit_cost`` is the expected cost per unit of its last lot, which is
    at most the decision's cut-off. ``capacity`` is what the venue could take.
    """

    venue: VenueId
    quantity: Decimal
    capacity: Decimal
    average_price: Decimal | None
    limit_price: Decimal | None
    last_unit_cost: Decimal | None
    cost: VenueCost


class FailurePolicy(StrEnum):
    """How `reroute` treats a venue that filled less than it was sent."""

    EXCLUDE = "EXCLUDE"
    """Leave the venue out of the next attempt."""
    PENALISE = "PENALISE"
    """Keep it, with its fill probability scaled by the fill ratio it achieved."""


@dataclass(frozen=True, slots=True)
class RerouteContext:
    """Why a decision exists: attempt number, and the fills of the attempt before."""

    attempt: int
    prior_fills: tuple[tuple[VenueId, Decimal], ...]
    failed_venues: tuple[VenueId, ...]
    policy: FailurePolicy


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """A split with every input that produced it, its expected costs and an explanation.

    ``remainder`` is what could not be routed (not enough liquidity within the limits,
    or less than a lot). ``cutoff_unit_cost`` is the expected cost per unit of the
    dearest lot taken anywhere. ``exact`` is False only for the mixed-lot heuristic.
    """

    request: RoutingRequest
    reference_mid: Decimal
    allocations: tuple[VenueAllocation, ...]
    routed_quantity: Decimal
    remainder: Decimal
    cost: VenueCost
    cutoff_unit_cost: Decimal | None
    method: str
    exact: bool
    explanation: str
    reroute: RerouteContext | None = None

    def split(self) -> dict[VenueId, Decimal]:
        """Return the quantity per venue, venues with nothing left out."""
        return {a.venue: a.quantity for a in self.allocations if a.quantity > 0}

    def to_json(self) -> str:
        """Return the decision as JSON, decimals as strings so nothing is rounded."""
        return msgspec.json.encode(_to_plain(self), order="sorted").decode()

    @classmethod
    def from_json(cls, text: str) -> RoutingDecision:
        """Rebuild a decision from `to_json` output."""
        return typing.cast(RoutingDecision, _from_plain(cls, json.loads(text)))


# --- the cost curve of one venue ------------------------------------------------------------


class _Curve:
    """Cost of sending quantities of one lot size to one venue (all in `_CONTEXT`)."""

    def __init__(
        self, venue: VenueLiquidity, request: RoutingRequest, mid: Decimal, index: int
    ) -> None:
        with localcontext(_CONTEXT):
            self._build(venue, request, mid, index)

    def _build(
        self, venue: VenueLiquidity, request: RoutingRequest, mid: Decimal, index: int
    ) -> None:
        self.venue = venue
        self.index = index
        self.mid = mid
        self.sign = sign = Decimal(request.side.sign)
        levels = venue.levels(request.side)
        self.prices = [level.price for level in levels]
        self.cumulative = [_ZERO]
        self.cumulative_book = [_ZERO]
        self.cumulative_notional = [_ZERO]
        for level in levels:
            self.cumulative.append(self.cumulative[-1] + level.size)
            self.cumulative_book.append(
                self.cumulative_book[-1] + sign * (level.price - mid) * level.size
            )
            self.cumulative_notional.append(self.cumulative_notional[-1] + level.price * level.size)
        displayed = self.cumulative[-1]
        cap = displayed if venue.max_quantity is None else min(displayed, venue.max_quantity)
        if venue.fill_probability == 0:
            cap = _ZERO  # not expected to fill anything: nothing is routed to it
        self.lot = venue.lot_size
        self.max_lots = int((cap / self.lot).to_integral_value(rounding=ROUND_FLOOR))
        model = request.cost_model
        depth = venue.depth if venue.depth is not None else displayed
        self.multiplier = request.multiplier
        self.fee_rate = venue.taker_fee_bps / _BPS
        self.impact_rate = model.impact_coefficient * mid / depth if depth > 0 else _ZERO
        self.latency_rate = model.volatility_per_ms * venue.latency_ms * mid
        self.non_fill_rate = (_ONE - venue.fill_probability) * model.reroute_cost * mid
        self.lot_impact = self.impact_rate * self.lot * self.lot
        self.lot_linear = (self.latency_rate + self.non_fill_rate) * self.lot

    def _walk(self, quantity: Decimal) -> tuple[Decimal, Decimal, int]:
        """Return (book cost, notional, index of the last level touched) for ``quantity``."""
        if quantity > self.cumulative[-1]:
            raise ValueError(
                f"venue {self.venue.venue} shows {self.cumulative[-1]}, cannot take {quantity}"
            )
        full = bisect.bisect_right(self.cumulative, quantity) - 1
        book, notional = self.cumulative_book[full], self.cumulative_notional[full]
        rest = quantity - self.cumulative[full]
        if rest == 0:
            return book, notional, full - 1
        price = self.prices[full]
        return book + self.sign * (price - self.mid) * rest, notional + price * rest, full

    def _linear(self, quantity: Decimal) -> Decimal:
        book, notional, _ = self._walk(quantity)
        return book + self.fee_rate * notional

    def lot_cost(self, lot_number: int) -> Decimal:
        """Return the expected cost of lot ``lot_number`` (1 is the first lot)."""
        with localcontext(_CONTEXT):
            upper = self.lot * lot_number
            linear = self._linear(upper) - self._linear(upper - self.lot)
            impact = self.lot_impact * (2 * lot_number - 1)
            return (linear + impact + self.lot_linear) * self.multiplier

    def count(self, threshold: Decimal, *, strict: bool) -> int:
        """Return how many of this venue's lots cost at most (or, if strict, less than) it."""
        low, high = 0, self.max_lots
        while low < high:
            middle = (low + high + 1) // 2
            value = self.lot_cost(middle)
            if value < threshold or (not strict and value == threshold):
                low = middle
            else:
                high = middle - 1
        return low

    def cost(self, quantity: Decimal) -> VenueCost:
        """Return the expected cost of sending ``quantity`` here, by term."""
        if quantity == 0:
            return NO_COST
        with localcontext(_CONTEXT):
            book, notional, _ = self._walk(quantity)
            m = self.multiplier
            return VenueCost.of(
                book * m,
                self.fee_rate * notional * m,
                self.impact_rate * quantity * quantity * m,
                self.latency_rate * quantity * m,
                self.non_fill_rate * quantity * m,
            )

    def allocation(self, lots: int) -> VenueAllocation:
        quantity = self.lot * lots
        capacity = self.lot * self.max_lots
        if lots == 0:
            return VenueAllocation(self.venue.venue, quantity, capacity, None, None, None, NO_COST)
        with localcontext(_CONTEXT):
            _, notional, last = self._walk(quantity)
            average = notional / quantity
            unit = self.lot_cost(lots) / self.lot
        return VenueAllocation(
            self.venue.venue,
            quantity,
            capacity,
            average,
            self.prices[last],
            unit,
            self.cost(quantity),
        )


# --- optimisers -------------------------------------------------------------------------


def _select_cheapest(curves: Sequence[_Curve], lots: int) -> list[int]:
    """Return lots per venue taking the ``lots`` cheapest increments (equal lot sizes)."""
    caps = [curve.max_lots for curve in curves]
    if sum(caps) <= lots:
        return caps
    if lots <= 0:
        return [0] * len(curves)
    low, high = [0] * len(curves), list(caps)
    while True:
        pick = max(range(len(curves)), key=lambda v: high[v] - low[v])
        middle = (low[pick] + high[pick]) // 2
        pivot = curves[pick].lot_cost(middle + 1)
        at_most = [curve.count(pivot, strict=False) for curve in curves]
        below = [curve.count(pivot, strict=True) for curve in curves]
        if sum(below) < lots <= sum(at_most):
            split, missing = list(below), lots - sum(below)
            for v in range(len(curves)):  # ties at the cut-off go to the earlier venue
                extra = min(at_most[v] - below[v], missing)
                split[v] += extra
                missing -= extra
            return split
        if sum(at_most) < lots:
            low = [max(a, b) for a, b in zip(low, at_most, strict=True)]
        else:
            high = [min(a, b) for a, b in zip(high, below, strict=True)]


def _dynamic_programme(curves: Sequence[_Curve], base: Decimal, units: int) -> list[int]:
    """Return lots per venue for mixed lot sizes: most quantity first, then least cost."""
    best: list[Decimal | None] = [_ZERO] + [None] * units
    choices: list[list[int]] = []
    for curve in curves:
        step = int(curve.lot / base)
        limit = min(curve.max_lots, units // step)
        costs = [_ZERO]
        with localcontext(_CONTEXT):
            for lot_number in range(1, limit + 1):
                costs.append(costs[-1] + curve.lot_cost(lot_number))
        following: list[Decimal | None] = [None] * (units + 1)
        chosen = [0] * (units + 1)
        for filled, so_far in enumerate(best):
            if so_far is None:
                continue
            for lots in range(min(limit, (units - filled) // step) + 1):
                target, total = filled + lots * step, so_far + costs[lots]
                current = following[target]
                if current is None or total < current:
                    following[target], chosen[target] = total, lots
        best = following
        choices.append(chosen)
    reached = max(u for u, value in enumerate(best) if value is not None)
    split = [0] * len(curves)
    for v in range(len(curves) - 1, -1, -1):
        split[v] = choices[v][reached]
        reached -= split[v] * int(curves[v].lot / base)
    return split


def _greedy_by_unit_cost(curves: Sequence[_Curve], quantity: Decimal) -> list[int]:
    """Take the cheapest next lot per unit anywhere, skipping lots that no longer fit."""
    split = [0] * len(curves)
    with localcontext(_CONTEXT):
        heap = [(c.lot_cost(1) / c.lot, c.index, 1) for c in curves if c.max_lots > 0]
        heapq.heapify(heap)
        left = quantity
        while heap and left > 0:
            _, v, lot_number = heapq.heappop(heap)
            curve = curves[v]
            if curve.lot > left:
                continue
            split[v], left = lot_number, left - curve.lot
            if lot_number < curve.max_lots:
                unit = curve.lot_cost(lot_number + 1) / curve.lot
                heapq.heappush(heap, (unit, v, lot_number + 1))
    return split


# --- routing ----------------------------------------------------------------------------


def _common_grid(lots: Sequence[Decimal]) -> Decimal:
    """Return the coarsest step every lot size is a multiple of (their decimal gcd)."""
    if not lots:
        return _ONE
    places = max(max(0, -int(lot.as_tuple().exponent)) for lot in lots)
    scale = Decimal(10) ** places
    step = math.gcd(*(int(lot * scale) for lot in lots))
    return Decimal(step) / scale


def consolidated_mid(venues: Sequence[VenueLiquidity]) -> Decimal | None:
    """Return ``(best bid + best ask) / 2`` over all venues, or None without both sides."""
    bids = [v.bids[0].price for v in venues if v.bids]
    asks = [v.asks[0].price for v in venues if v.asks]
    if not bids or not asks:
        return None
    return (max(bids) + min(asks)) / 2


def route(request: RoutingRequest, *, context: RerouteContext | None = None) -> RoutingDecision:
    """Split ``request`` across its venues at the least expected cost (see the module doc).

    Lot sizes may differ between venues; the order is routed on their common grid (the
    decimal gcd of the lot sizes) and any part below one grid step is left as remainder.
    Raise ``ValueError`` when no reference mid can be formed (no request mid and no
    venue quotes both sides).
    """
    mid = request.reference_mid or consolidated_mid(request.venues)
    if mid is None:
        raise ValueError(
            f"routing {request.instrument_id} needs a reference mid: give reference_mid or "
            "at least one bid and one ask across the venues"
        )
    curves = [_Curve(venue, request, mid, index) for index, venue in enumerate(request.venues)]
    base = _common_grid([c.lot for c in curves])
    units = int((request.quantity / base).to_integral_value(rounding=ROUND_FLOOR))
    lots_equal = len({c.lot for c in curves}) <= 1
    if lots_equal:
        split = _select_cheapest(curves, units) if curves else []
        method, exact = "greedy walk of the consolidated cost book", True
    elif sum((units + 1) * (min(c.max_lots, units) + 1) for c in curves) <= DP_LIMIT:
        split = _dynamic_programme(curves, base, units)
        method, exact = "dynamic programme over the finest lot grid (mixed lot sizes)", True
    else:
        split = _greedy_by_unit_cost(curves, base * units)
        method, exact = "greedy by cost per unit (mixed lot sizes, heuristic)", False
    allocations = tuple(curve.allocation(lots) for curve, lots in zip(curves, split, strict=True))
    routed = sum((a.quantity for a in allocations), _ZERO)
    total = sum((a.cost for a in allocations), NO_COST)
    unit_costs = [a.last_unit_cost for a in allocations if a.last_unit_cost is not None]
    cutoff = max(unit_costs) if unit_costs else None
    decision = RoutingDecision(
        request=request,
        reference_mid=mid,
        allocations=allocations,
        routed_quantity=routed,
        remainder=request.quantity - routed,
        cost=total,
        cutoff_unit_cost=cutoff,
        method=method,
        exact=exact,
        explanation="",
        reroute=context,
    )
    return replace(decision, explanation=_explain(decision, curves))


def _show(value: Decimal | None) -> str:
    if value is None:
        return "n/a"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        return str(value.quantize(Decimal("1e-8")))
    return str(value)


def _explain(decision: RoutingDecision, curves: Sequence[_Curve]) -> str:
    request = decision.request
    source = "given" if request.reference_mid is not None else "consolidated"
    lines = [
        f"{request.side} {request.quantity} {request.instrument_id} across "
        f"{len(request.venues)} venue(s), reference mid {decision.reference_mid} ({source}); "
        f"method: {decision.method}."
    ]
    if decision.reroute is not None:
        context = decision.reroute
        failed = ", ".join(context.failed_venues) or "none"
        lines.append(
            f"Attempt {context.attempt}: re-routing after fills "
            f"{', '.join(f'{n} {q}' for n, q in context.prior_fills)}; "
            f"failed venues ({context.policy}): {failed}."
        )
    for allocation, curve in zip(decision.allocations, curves, strict=True):
        name = allocation.venue
        if allocation.quantity > 0:
            c = allocation.cost
            lines.append(
                f"- {name}: {allocation.quantity} of capacity {allocation.capacity} at average "
                f"{_show(allocation.average_price)} (limit {allocation.limit_price}); expected "
                f"cost book {_show(c.book)} + fee {_show(c.fee)} + impact {_show(c.impact)} "
                f"+ latency {_show(c.latency)} + non-fill {_show(c.non_fill)} "
                f"= {_show(c.total)}."
            )
        elif curve.venue.fill_probability == 0:
            lines.append(f"- {name}: 0 (fill probability 0: it is not expected to fill).")
        elif curve.max_lots == 0:
            lines.append(f"- {name}: 0 (no capacity within its book and size limit).")
        else:
            with localcontext(_CONTEXT):
                first = curve.lot_cost(1) / curve.lot
            lines.append(
                f"- {name}: 0 (its first lot would cost {_show(first)} per unit, more than "
                "the lots taken elsewhere)."
            )
    lines.append(
        f"Routed {decision.routed_quantity}, remainder {decision.remainder}; total expected "
        f"cost {_show(decision.cost.total)}; cut-off cost per unit "
        f"{_show(decision.cutoff_unit_cost)}. (Shown to 8 decimal places; the JSON is exact.)"
    )
    return "\n".join(lines)


def evaluate_split(request: RoutingRequest, split: Mapping[VenueId, Decimal]) -> VenueCost:
    """Return the expected cost of any ``split`` of ``request`` under its cost model."""
    mid = request.reference_mid or consolidated_mid(request.venues)
    if mid is None:
        raise ValueError(f"cannot price a split of {request.instrument_id} without a mid")
    by_name = {venue.venue: venue for venue in request.venues}
    unknown = set(split) - set(by_name)
    if unknown:
        raise ValueError(f"split names venues not in the request: {sorted(unknown)}")
    total = NO_COST
    for index, (name, quantity) in enumerate(split.items()):
        total += _Curve(by_name[name], request, mid, index).cost(quantity)
    return total


# --- re-routing the remainder -------------------------------------------------------------


def _consume(levels: tuple[BookLevel, ...], quantity: Decimal) -> tuple[BookLevel, ...]:
    """Return ``levels`` after taking ``quantity`` from the best level down."""
    result: list[BookLevel] = []
    left = quantity
    for level in levels:
        if left >= level.size:
            left -= level.size
            continue
        result.append(BookLevel(level.price, level.size - left) if left > 0 else level)
        left = _ZERO
    return tuple(result)


def _after_fill(venue: VenueLiquidity, side: OrderSide, quantity: Decimal) -> VenueLiquidity:
    taken = _consume(venue.levels(side), quantity)
    return replace(venue, asks=taken) if side is OrderSide.BUY else replace(venue, bids=taken)


def reroute(
    decision: RoutingDecision,
    filled: Mapping[VenueId, Decimal],
    *,
    policy: FailurePolicy = FailurePolicy.EXCLUDE,
    venues: Sequence[VenueLiquidity] | None = None,
    joining: Sequence[VenueLiquidity] = (),
) -> RoutingDecision:
    """Route what is left after ``filled`` (quantity filled per venue; absent means 0).

    A venue that filled less than it was sent has failed: `FailurePolicy.EXCLUDE`
    drops it, `FailurePolicy.PENALISE` keeps it with its fill probability scaled by
    the fraction it filled. Every venue's size limit shrinks by what it filled. The
    old books are reused with the filled liquidity removed, unless fresh ``venues``
    are given (a venue missing from them is dropped). ``joining`` venues, ones the
    routing has not considered before (their first book came since), are added after
    the decision's own.
    """
    request = decision.request
    sent = {a.venue: a.quantity for a in decision.allocations}
    for name, quantity in filled.items():
        if name not in sent:
            raise ValueError(f"fill reported for venue {name}, which the decision did not use")
        if not _ZERO <= quantity <= sent[name]:
            raise ValueError(
                f"venue {name} filled {quantity}, outside 0..{sent[name]} that it was sent"
            )
    failed = tuple(n for n, q in sent.items() if q > 0 and filled.get(n, _ZERO) < q)
    done = sum(filled.values(), _ZERO)
    fresh = {v.venue: v for v in venues} if venues is not None else None
    next_venues: list[VenueLiquidity] = []
    for old in request.venues:
        name, got = old.venue, filled.get(old.venue, _ZERO)
        if name in failed and policy is FailurePolicy.EXCLUDE:
            continue
        if fresh is None:
            venue = _after_fill(old, request.side, got)
        elif name in fresh:
            venue = fresh[name]
        else:
            continue
        if venue.max_quantity is not None:
            venue = replace(venue, max_quantity=max(venue.max_quantity - got, _ZERO))
        if name in failed:  # PENALISE: scale by the fill ratio achieved
            with localcontext(_CONTEXT):
                venue = replace(venue, fill_probability=venue.fill_probability * got / sent[name])
        next_venues.append(venue)
    known = {old.venue for old in request.venues}
    for venue in joining:
        if venue.venue in known:
            raise ValueError(f"venue {venue.venue} is already in the decision; it cannot join")
        next_venues.append(venue)
    previous = decision.reroute.attempt if decision.reroute is not None else 1
    context = RerouteContext(
        attempt=previous + 1,
        prior_fills=tuple((n, filled.get(n, _ZERO)) for n in sent if sent[n] > 0),
        failed_venues=failed,
        policy=policy,
    )
    left = request.quantity - done
    if left <= 0:
        raise ValueError(f"nothing left to route: ordered {request.quantity}, filled {done}")
    # Old books keep the old mid (our own fills must not move the yardstick); fresh books
    # give a fresh consolidated mid when they quote both sides.
    mid = (consolidated_mid(next_venues) if fresh is not None else None) or decision.reference_mid
    next_request = replace(request, quantity=left, venues=tuple(next_venues), reference_mid=mid)
    return route(next_request, context=context)
