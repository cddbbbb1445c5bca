"""Execution algorithms: pure scheduling policies for parent orders worked in children.

A parent order carries one ``AlgoSpec``: TWAP, VWAP, POV or ICEBERG. The engine works
the parent by sending child orders; this module decides *how much* and *when*, with
no I/O and no clock of its own, so that a replay of the journal reproduces every
decision:

* **TWAP** splits ``[start, end)`` into equal buckets (a slice count or an interval).
  Slice sizes and send times may be randomised within bounds; the random numbers
  come from SHA-256 of the parent's client order ID, never from a global generator.
* **VWAP** distributes the quantity along a ``VolumeProfile``: the share of a day's
  volume traded in each time-of-day bucket, built by ``volume_profile`` from the
  instrument's historical bars of the past N days.
* **POV** participates at a fraction of the volume traded since its start, with
  minimum and maximum child sizes (``pov_target`` and ``pov_child_quantity``).
* **ICEBERG** shows at most its display quantity and refills as the shown part fills.
* **SOR** splits the order across venues at the least expected cost
  (``alphintra.execution.routing``) and re-routes what the venues did not fill.

A TWAP or VWAP schedule is a ``SlicePlan``: contiguous buckets, each with a send
time inside it and a lot-rounded quantity; the quantities sum to the parent's. Every
algorithm honours a limit-price guard: children are limit orders at the guard or at
the current marketable price, whichever is better for the parent (``child_limit_price``).

A spec is journaled with its parent as text (``encode_spec``/``decode_spec``):
``OrderInitialized.exec_algorithm`` holds the name and ``exec_params`` the fields.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import accumulate, pairwise
from typing import Final

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import VenueId
from alphintra.domain.market import MarketData, QuoteBar, QuoteTick, TradeBar, TradeTick
from alphintra.domain.values import ONE, ZERO
from alphintra.execution.routing import CostModel, FailurePolicy
from alphintra.orders.factory import OrderValidationError

__all__ = [
    "ICEBERG",
    "MAX_SLICES",
    "NS_PER_DAY",
    "POV",
    "SOR",
    "TWAP",
    "VWAP",
    "AlgoSpec",
    "Due",
    "IcebergSpec",
    "PovSpec",
    "Slice",
    "SlicePlan",
    "SorSpec",
    "TwapSpec",
    "VolumeProfile",
    "VwapSpec",
    "algo_name",
    "bar_volume",
    "child_limit_price",
    "decode_spec",
    "encode_spec",
    "marketable_price",
    "plan_for",
    "pov_child_quantity",
    "pov_target",
    "twap_schedule",
    "volume_profile",
    "vwap_schedule",
]

TWAP: Final = "TWAP"
VWAP: Final = "VWAP"
POV: Final = "POV"
ICEBERG: Final = "ICEBERG"
SOR: Final = "SOR"
MAX_ROUTING_ATTEMPTS: Final = 100

NS_PER_DAY: Final = 86_400 * 1_000_000_000
MAX_SLICES: Final = 100_000
"""Upper bound on the slices of one schedule (a guard against absurd intervals)."""
_WEIGHT_PLACES: Final = Decimal("1e-12")
_UNIT_SCALE: Final = Decimal(2**64)
INVALID: Final = "INVALID_ALGO"


def _invalid(message: str) -> OrderValidationError:
    return OrderValidationError(INVALID, message)


def _check_window(start_ns: int, end_ns: int | None) -> None:
    if start_ns < 0:
        raise _invalid(f"start time must not be negative, got {start_ns}")
    if end_ns is not None and end_ns <= start_ns:
        raise _invalid(f"end time {end_ns} is not after the start time {start_ns}")


def _check_fraction(value: Decimal, what: str, *, upper_open: bool = True) -> None:
    if not value.is_finite() or value < 0 or value > 1 or (upper_open and value == 1):
        bound = "[0, 1)" if upper_open else "[0, 1]"
        raise _invalid(f"{what} must be in {bound}, got {value}")


# Specs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TwapSpec:
    """Time-weighted: equal buckets between ``start_ns`` and ``end_ns``.

    Give either ``slices`` (the bucket count) or ``interval_ns`` (the bucket length;
    the last bucket ends at ``end_ns``). ``size_jitter`` moves each slice by up to
    that fraction of an even split, ``time_jitter`` sends it up to that fraction of
    its bucket after the bucket's start. ``finish_aggressively`` sends what is left
    at ``end_ns`` as a marketable order (at the guard when there is one); otherwise
    the parent is cancelled at ``end_ns``.
    """

    start_ns: int
    end_ns: int
    slices: int | None = None
    interval_ns: int | None = None
    size_jitter: Decimal = ZERO
    time_jitter: Decimal = ZERO
    finish_aggressively: bool = True

    def __post_init__(self) -> None:
        _check_window(self.start_ns, self.end_ns)
        if (self.slices is None) == (self.interval_ns is None):
            raise _invalid(
                f"give exactly one of slices and interval_ns, got slices={self.slices} "
                f"and interval_ns={self.interval_ns}"
            )
        if self.slices is not None and not 1 <= self.slices <= MAX_SLICES:
            raise _invalid(f"slices must be in [1, {MAX_SLICES}], got {self.slices}")
        if self.slices is not None and self.slices > self.end_ns - self.start_ns:
            raise _invalid(f"{self.slices} slices do not fit {self.end_ns - self.start_ns} ns")
        if self.interval_ns is not None:
            if self.interval_ns <= 0:
                raise _invalid(f"interval_ns must be positive, got {self.interval_ns}")
            if -(-(self.end_ns - self.start_ns) // self.interval_ns) > MAX_SLICES:
                raise _invalid(
                    f"interval {self.interval_ns} ns makes more than {MAX_SLICES} slices"
                )
        _check_fraction(self.size_jitter, "size_jitter")
        _check_fraction(self.time_jitter, "time_jitter", upper_open=False)


@dataclass(frozen=True, slots=True)
class VolumeProfile:
    """The share of a day's volume traded in each time-of-day bucket (UTC).

    ``weights`` holds (bucket index, share) pairs sorted by index, only for buckets
    with volume; bucket ``i`` covers ``[i * bucket_ns, (i + 1) * bucket_ns)`` after
    midnight UTC. The shares sum to about 1 (each is rounded to 12 places).
    """

    bucket_ns: int
    weights: tuple[tuple[int, Decimal], ...]

    def __post_init__(self) -> None:
        if self.bucket_ns <= 0 or NS_PER_DAY % self.bucket_ns:
            raise _invalid(f"bucket_ns must divide a day evenly, got {self.bucket_ns}")
        buckets = NS_PER_DAY // self.bucket_ns
        previous = -1
        for index, weight in self.weights:
            if not previous < index < buckets:
                raise _invalid(
                    f"profile bucket indexes must rise within [0, {buckets}), got {index} "
                    f"after {previous}"
                )
            if not weight.is_finite() or weight < 0:
                raise _invalid(f"profile weight of bucket {index} is invalid: {weight}")
            previous = index

    def weight(self, index: int) -> Decimal:
        """Return the share of bucket ``index`` (zero when it has none)."""
        for bucket, weight in self.weights:
            if bucket == index:
                return weight
        return ZERO


@dataclass(frozen=True, slots=True)
class VwapSpec:
    """Volume-weighted: the quantity follows ``profile`` between start and end.

    Each profile bucket inside the window becomes ``slices_per_bucket`` equal slices.
    ``finish_aggressively`` works as for TWAP.
    """

    start_ns: int
    end_ns: int
    profile: VolumeProfile
    slices_per_bucket: int = 1
    finish_aggressively: bool = True

    def __post_init__(self) -> None:
        _check_window(self.start_ns, self.end_ns)
        if not 1 <= self.slices_per_bucket <= 1_000:
            raise _invalid(f"slices_per_bucket must be in [1, 1000], got {self.slices_per_bucket}")
        buckets = -(-(self.end_ns - self.start_ns) // self.profile.bucket_ns) + 1
        if buckets * self.slices_per_bucket > MAX_SLICES:
            raise _invalid(f"the window makes more than {MAX_SLICES} slices")


@dataclass(frozen=True, slots=True)
class PovSpec:
    """Percentage of volume: trade ``participation`` of the volume seen since start.

    Only trade data (bars and ticks) carries volume. Children are at least
    ``min_child_quantity`` (except the parent's last piece) and at most
    ``max_child_quantity``. With ``end_ns`` set, what is left at the end is sent
    marketable when ``finish_aggressively`` holds, and the parent is cancelled
    otherwise; without it the algo runs until the parent is filled.
    """

    participation: Decimal
    start_ns: int
    end_ns: int | None = None
    min_child_quantity: Decimal = ZERO
    max_child_quantity: Decimal | None = None
    finish_aggressively: bool = False

    def __post_init__(self) -> None:
        _check_window(self.start_ns, self.end_ns)
        if not self.participation.is_finite() or not ZERO < self.participation <= ONE:
            raise _invalid(f"participation must be in (0, 1], got {self.participation}")
        if not self.min_child_quantity.is_finite() or self.min_child_quantity < 0:
            raise _invalid(f"min_child_quantity must be >= 0, got {self.min_child_quantity}")
        if self.max_child_quantity is not None and not (
            self.max_child_quantity.is_finite()
            and self.max_child_quantity > 0
            and self.max_child_quantity >= self.min_child_quantity
        ):
            raise _invalid(
                f"max_child_quantity must be positive and >= min_child_quantity "
                f"{self.min_child_quantity}, got {self.max_child_quantity}"
            )


@dataclass(frozen=True, slots=True)
class IcebergSpec:
    """Show at most ``display_quantity`` at a time, refilled as the shown part fills."""

    display_quantity: Decimal

    def __post_init__(self) -> None:
        if not self.display_quantity.is_finite() or self.display_quantity <= 0:
            raise _invalid(f"display_quantity must be positive, got {self.display_quantity}")


@dataclass(frozen=True, slots=True)
class SorSpec:
    """Smart order routing: split the order across venues at the least expected cost.

    ``venues`` are the venues to consider (empty: every venue the engine has a routing
    profile for). ``cost_model`` prices impact, latency and non-fill (see
    ``alphintra.execution.routing``). Each routing decision sends one immediate-or-
    cancel child per venue; what they leave is re-routed under ``policy`` until the
    parent is filled or ``max_attempts`` decisions were made.
    """

    venues: tuple[VenueId, ...] = ()
    cost_model: CostModel = field(default_factory=CostModel)
    max_attempts: int = 3
    policy: FailurePolicy = FailurePolicy.EXCLUDE

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= MAX_ROUTING_ATTEMPTS:
            raise _invalid(
                f"max_attempts must be in [1, {MAX_ROUTING_ATTEMPTS}], got {self.max_attempts}"
            )
        if len(set(self.venues)) != len(self.venues):
            raise _invalid(f"each venue may be named once, got {list(self.venues)}")
        if any(not venue or ";" in venue for venue in self.venues):
            raise _invalid(f"venue names must be non-empty and without ';', got {self.venues}")


AlgoSpec = TwapSpec | VwapSpec | PovSpec | IcebergSpec | SorSpec


def algo_name(spec: AlgoSpec) -> str:
    """Return the algorithm's journaled name: TWAP, VWAP, POV, ICEBERG or SOR."""
    if isinstance(spec, TwapSpec):
        return TWAP
    if isinstance(spec, VwapSpec):
        return VWAP
    if isinstance(spec, PovSpec):
        return POV
    if isinstance(spec, SorSpec):
        return SOR
    return ICEBERG


# Journal encoding ----------------------------------------------------------------------


def _bool(value: bool) -> str:
    return "true" if value else "false"


def encode_spec(spec: AlgoSpec) -> tuple[str, dict[str, str]]:
    """Return (name, parameters as text, keys sorted) for ``OrderInitialized``."""
    params: dict[str, str]
    if isinstance(spec, TwapSpec):
        params = {
            "start_ns": str(spec.start_ns),
            "end_ns": str(spec.end_ns),
            "size_jitter": str(spec.size_jitter),
            "time_jitter": str(spec.time_jitter),
            "finish_aggressively": _bool(spec.finish_aggressively),
        }
        if spec.slices is not None:
            params["slices"] = str(spec.slices)
        if spec.interval_ns is not None:
            params["interval_ns"] = str(spec.interval_ns)
    elif isinstance(spec, VwapSpec):
        params = {
            "start_ns": str(spec.start_ns),
            "end_ns": str(spec.end_ns),
            "bucket_ns": str(spec.profile.bucket_ns),
            "weights": ";".join(f"{index}:{weight}" for index, weight in spec.profile.weights),
            "slices_per_bucket": str(spec.slices_per_bucket),
            "finish_aggressively": _bool(spec.finish_aggressively),
        }
    elif isinstance(spec, PovSpec):
        params = {
            "participation": str(spec.participation),
            "start_ns": str(spec.start_ns),
            "min_child_quantity": str(spec.min_child_quantity),
            "finish_aggressively": _bool(spec.finish_aggressively),
        }
        if spec.end_ns is not None:
            params["end_ns"] = str(spec.end_ns)
        if spec.max_child_quantity is not None:
            params["max_child_quantity"] = str(spec.max_child_quantity)
    elif isinstance(spec, SorSpec):
        model = spec.cost_model
        params = {
            "venues": ";".join(spec.venues),
            "impact_coefficient": str(model.impact_coefficient),
            "volatility_per_ms": str(model.volatility_per_ms),
            "reroute_cost": str(model.reroute_cost),
            "max_attempts": str(spec.max_attempts),
            "policy": spec.policy.value,
        }
    else:
        params = {"display_quantity": str(spec.display_quantity)}
    return algo_name(spec), dict(sorted(params.items()))


class _Params:
    """Typed reads of journaled parameters; every key must be used exactly once."""

    def __init__(self, name: str, params: Mapping[str, str]) -> None:
        self.name = name
        self.params = dict(params)

    def _take(self, key: str) -> str | None:
        return self.params.pop(key, None)

    def text(self, key: str) -> str:
        value = self._take(key)
        if value is None:
            raise ValueError(f"{self.name} parameters lack {key!r}")
        return value

    def integer(self, key: str) -> int:
        return int(self.text(key))

    def optional_integer(self, key: str) -> int | None:
        value = self._take(key)
        return None if value is None else int(value)

    def decimal(self, key: str) -> Decimal:
        return Decimal(self.text(key))

    def optional_decimal(self, key: str) -> Decimal | None:
        value = self._take(key)
        return None if value is None else Decimal(value)

    def flag(self, key: str) -> bool:
        value = self.text(key)
        if value not in ("true", "false"):
            raise ValueError(f"{self.name} parameter {key!r} must be true or false, got {value!r}")
        return value == "true"

    def done(self) -> None:
        if self.params:
            raise ValueError(f"unknown {self.name} parameters: {sorted(self.params)}")


def _weights(text: str) -> tuple[tuple[int, Decimal], ...]:
    if not text:
        return ()
    pairs = []
    for item in text.split(";"):
        index, _, weight = item.partition(":")
        pairs.append((int(index), Decimal(weight)))
    return tuple(pairs)


def decode_spec(name: str, params: Mapping[str, str]) -> AlgoSpec:
    """Rebuild the spec that ``encode_spec`` turned into (name, params).

    Raise ``ValueError`` for an unknown name or a missing, extra or malformed field.
    """
    p = _Params(name, params)
    spec: AlgoSpec
    if name == TWAP:
        spec = TwapSpec(
            start_ns=p.integer("start_ns"),
            end_ns=p.integer("end_ns"),
            slices=p.optional_integer("slices"),
            interval_ns=p.optional_integer("interval_ns"),
            size_jitter=p.decimal("size_jitter"),
            time_jitter=p.decimal("time_jitter"),
            finish_aggressively=p.flag("finish_aggressively"),
        )
    elif name == VWAP:
        spec = VwapSpec(
            start_ns=p.integer("start_ns"),
            end_ns=p.integer("end_ns"),
            profile=VolumeProfile(p.integer("bucket_ns"), _weights(p.text("weights"))),
            slices_per_bucket=p.integer("slices_per_bucket"),
            finish_aggressively=p.flag("finish_aggressively"),
        )
    elif name == POV:
        spec = PovSpec(
            participation=p.decimal("participation"),
            start_ns=p.integer("start_ns"),
            end_ns=p.optional_integer("end_ns"),
            min_child_quantity=p.decimal("min_child_quantity"),
            max_child_quantity=p.optional_decimal("max_child_quantity"),
            finish_aggressively=p.flag("finish_aggressively"),
        )
    elif name == ICEBERG:
        spec = IcebergSpec(display_quantity=p.decimal("display_quantity"))
    elif name == SOR:
        venues = p.text("venues")
        spec = SorSpec(
            venues=tuple(VenueId(v) for v in venues.split(";")) if venues else (),
            cost_model=CostModel(
                impact_coefficient=p.decimal("impact_coefficient"),
                volatility_per_ms=p.decimal("volatility_per_ms"),
                reroute_cost=p.decimal("reroute_cost"),
            ),
            max_attempts=p.integer("max_attempts"),
            policy=FailurePolicy(p.text("policy")),
        )
    else:
        raise ValueError(
            f"unknown execution algorithm {name!r}; known: TWAP, VWAP, POV, ICEBERG, SOR"
        )
    p.done()
    return spec


# Schedules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slice:
    """One bucket ``[start_ns, end_ns)`` of a schedule and the quantity due in it.

    The slice's child may be sent from ``send_ns`` (``start_ns <= send_ns < end_ns``).
    """

    start_ns: int
    end_ns: int
    send_ns: int
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Due:
    """What a schedule asks for at one instant."""

    target: Decimal
    """Cumulative quantity that should be filled or working by now."""
    fresh_from: int
    """Start of the current bucket: a child created before it is stale (replace it)."""
    may_send: bool
    """True once the current bucket's send time has come."""


class SlicePlan:
    """A schedule of contiguous slices whose quantities sum to the parent's."""

    __slots__ = ("_cumulative", "_starts", "slices")

    def __init__(self, slices: Sequence[Slice]) -> None:
        if not slices:
            raise _invalid("a schedule needs at least one slice")
        for before, after in pairwise(slices):
            if before.end_ns != after.start_ns:
                raise _invalid(f"slices must be contiguous: {before} then {after}")
        self.slices = tuple(slices)
        self._starts = [s.start_ns for s in self.slices]
        self._cumulative = list(accumulate(s.quantity for s in self.slices))

    @property
    def start_ns(self) -> int:
        """Return the start of the first bucket."""
        return self.slices[0].start_ns

    @property
    def end_ns(self) -> int:
        """Return the end of the last bucket."""
        return self.slices[-1].end_ns

    @property
    def total(self) -> Decimal:
        """Return the quantity of the whole schedule."""
        return self._cumulative[-1]

    def index_at(self, ts: int) -> int | None:
        """Return the index of the slice whose bucket holds ``ts``, or None outside."""
        if ts < self.start_ns or ts >= self.end_ns:
            return None
        return bisect_right(self._starts, ts) - 1

    def due(self, ts: int) -> Due:
        """Return the cumulative target, the current bucket start and whether to send."""
        if ts < self.start_ns:
            return Due(ZERO, self.start_ns, False)
        if ts >= self.end_ns:
            return Due(self.total, self.end_ns, True)
        index = bisect_right(self._starts, ts) - 1
        current = self.slices[index]
        if ts >= current.send_ns:
            return Due(self._cumulative[index], current.start_ns, True)
        before = self._cumulative[index - 1] if index else ZERO
        return Due(before, current.start_ns, False)


def _unit(seed: str, stream: str, index: int) -> Decimal:
    """Return a number in [0, 1) drawn from SHA-256: the same on every run and version."""
    digest = hashlib.sha256(f"{seed}/{stream}/{index}".encode()).digest()
    return Decimal(int.from_bytes(digest[:8], "big")) / _UNIT_SCALE


def _round_down(value: Decimal, lot_size: Decimal) -> Decimal:
    return (value / lot_size).to_integral_value(rounding=ROUND_FLOOR) * lot_size


def _distribute(quantity: Decimal, weights: Sequence[Decimal], lot_size: Decimal) -> list[Decimal]:
    """Split ``quantity`` by ``weights`` on the lot grid, rounding the running total down.

    Each share is within one lot of its exact value and the shares sum to ``quantity``.
    """
    total = sum(weights, ZERO)
    if total <= 0:
        raise _invalid("the schedule has no weight to distribute the quantity along")
    shares: list[Decimal] = []
    placed = ZERO
    running = ZERO
    for index, weight in enumerate(weights):
        running += weight
        last = index == len(weights) - 1
        upto = quantity if last else _round_down(quantity * running / total, lot_size)
        upto = max(upto, placed)
        shares.append(upto - placed)
        placed = upto
    return shares


def twap_schedule(
    spec: TwapSpec, quantity: Decimal, lot_size: Decimal, seed: str
) -> tuple[Slice, ...]:
    """Return the TWAP slices of ``quantity``; ``seed`` is the parent's client order ID."""
    span = spec.end_ns - spec.start_ns
    if spec.slices is not None:
        count = spec.slices
        bounds = [spec.start_ns + span * i // count for i in range(count + 1)]
    else:
        assert spec.interval_ns is not None
        count = -(-span // spec.interval_ns)
        bounds = [min(spec.start_ns + spec.interval_ns * i, spec.end_ns) for i in range(count + 1)]
    draws = [(2 * _unit(seed, "size", i) - 1) * spec.size_jitter for i in range(count)]
    mean = sum(draws, ZERO) / count
    # Centred and halved: every slice stays within size_jitter of an even split.
    weights = [
        Decimal(bounds[i + 1] - bounds[i]) * (1 + (draws[i] - mean) / 2) for i in range(count)
    ]
    shares = _distribute(quantity, weights, lot_size)
    slices = []
    for i in range(count):
        start, end = bounds[i], bounds[i + 1]
        delay = int(_unit(seed, "time", i) * spec.time_jitter * (end - start))
        slices.append(Slice(start, end, start + delay, shares[i]))
    return tuple(slices)


def vwap_schedule(spec: VwapSpec, quantity: Decimal, lot_size: Decimal) -> tuple[Slice, ...]:
    """Return the VWAP slices of ``quantity`` along the spec's volume profile.

    A bucket only partly inside the window counts with the part inside it. Raise
    ``OrderValidationError`` when the profile has no volume inside the window.
    """
    bucket_ns = spec.profile.bucket_ns
    shares = dict(spec.profile.weights)
    pieces: list[tuple[int, int, Decimal]] = []
    t = spec.start_ns
    while t < spec.end_ns:
        bucket_start = t - t % bucket_ns
        end = min(bucket_start + bucket_ns, spec.end_ns)
        weight = shares.get((bucket_start % NS_PER_DAY) // bucket_ns, ZERO)
        weight = weight * (end - t) / bucket_ns
        parts = spec.slices_per_bucket
        for k in range(parts):
            piece_start = t + (end - t) * k // parts
            piece_end = t + (end - t) * (k + 1) // parts
            if piece_end > piece_start:
                pieces.append((piece_start, piece_end, weight / parts))
        t = end
    if sum((w for _, _, w in pieces), ZERO) <= 0:
        raise _invalid(
            f"the volume profile has no volume between {spec.start_ns} and {spec.end_ns}"
        )
    amounts = _distribute(quantity, [w for _, _, w in pieces], lot_size)
    return tuple(
        Slice(start, end, start, amount)
        for (start, end, _), amount in zip(pieces, amounts, strict=True)
    )


def plan_for(
    spec: TwapSpec | VwapSpec, quantity: Decimal, lot_size: Decimal, seed: str
) -> SlicePlan:
    """Return the slice plan of a TWAP or VWAP parent."""
    if isinstance(spec, TwapSpec):
        return SlicePlan(twap_schedule(spec, quantity, lot_size, seed))
    return SlicePlan(vwap_schedule(spec, quantity, lot_size))


# Volume profiles -----------------------------------------------------------------------


def bar_volume(data: MarketData) -> Decimal:
    """Return the traded volume of a data point (trade size, or 1 for a quote).

    Quote data carries no traded volume: each quote bar or tick then counts as one
    unit of activity (tick volume, the usual proxy for FX).
    """
    if isinstance(data, TradeBar):
        return data.volume
    if isinstance(data, TradeTick):
        return data.size
    return ONE


def volume_profile(
    bars: Iterable[MarketData],
    *,
    bucket_ns: int,
    days: int | None = None,
    before_ns: int | None = None,
) -> VolumeProfile:
    """Build a time-of-day volume profile from historical bars.

    Only data stamped before ``before_ns`` (the start of the day to trade, say)
    counts, and of it only the latest ``days`` calendar days (UTC) that have data.
    Each bucket's share is its volume over all those days divided by their total.
    Raise ``OrderValidationError`` when no volume is left.
    """
    if bucket_ns <= 0 or NS_PER_DAY % bucket_ns:
        raise _invalid(f"bucket_ns must divide a day evenly, got {bucket_ns}")
    if days is not None and days <= 0:
        raise _invalid(f"days must be positive, got {days}")
    by_day: dict[int, dict[int, Decimal]] = {}
    for bar in bars:
        if before_ns is not None and bar.ts >= before_ns:
            continue
        day, offset = divmod(bar.ts, NS_PER_DAY)
        buckets = by_day.setdefault(day, {})
        index = offset // bucket_ns
        buckets[index] = buckets.get(index, ZERO) + bar_volume(bar)
    chosen = sorted(by_day)[-days:] if days is not None else sorted(by_day)
    volume: dict[int, Decimal] = {}
    for day in chosen:
        for index, amount in by_day[day].items():
            volume[index] = volume.get(index, ZERO) + amount
    total = sum(volume.values(), ZERO)
    if total <= 0:
        raise _invalid("no volume in the bars given for the profile")
    weights = tuple(
        (index, (volume[index] / total).quantize(_WEIGHT_PLACES))
        for index in sorted(volume)
        if volume[index] > 0
    )
    return VolumeProfile(bucket_ns, weights)


# Participation -------------------------------------------------------------------------


def pov_target(
    participation: Decimal, observed_volume: Decimal, quantity: Decimal, lot_size: Decimal
) -> Decimal:
    """Return the quantity a POV parent should have traded after ``observed_volume``."""
    return min(quantity, _round_down(participation * observed_volume, lot_size))


def pov_child_quantity(
    spec: PovSpec,
    *,
    target: Decimal,
    committed: Decimal,
    remaining: Decimal,
    lot_size: Decimal,
    min_quantity: Decimal = ZERO,
) -> Decimal:
    """Return the size of the next POV child, or zero to wait for more volume.

    ``committed`` is what is filled or working; ``remaining`` what the parent still
    needs beyond it. A child below the minimum waits, unless it is the last piece.
    """
    size = min(target - committed, remaining)
    if spec.max_child_quantity is not None:
        size = min(size, _round_down(spec.max_child_quantity, lot_size))
    size = _round_down(size, lot_size)
    floor = max(spec.min_child_quantity, min_quantity, lot_size)
    if size <= 0 or (size < floor and size < remaining):
        return ZERO
    return size


# Prices --------------------------------------------------------------------------------


def marketable_price(data: MarketData, side: OrderSide) -> Decimal:
    """Return the price that would trade now: the ask to buy, the bid to sell.

    Trade data serves both sides with its last price.
    """
    buy = side is OrderSide.BUY
    if isinstance(data, QuoteBar):
        return data.ask_close if buy else data.bid_close
    if isinstance(data, QuoteTick):
        return data.ask if buy else data.bid
    if isinstance(data, TradeBar):
        return data.close
    return data.price


def child_limit_price(
    side: OrderSide, marketable: Decimal | None, guard: Decimal | None, tick_size: Decimal
) -> Decimal | None:
    """Return a child's limit: the guard or the marketable price, the better for us.

    The marketable price is put on the tick grid towards the market (up to buy, down
    to sell). Return None when neither price is known.
    """
    if marketable is None:
        return guard
    rounding = ROUND_CEILING if side is OrderSide.BUY else ROUND_FLOOR
    price = (marketable / tick_size).to_integral_value(rounding=rounding) * tick_size
    if price <= 0:
        return guard
    if guard is None:
        return price
    return min(price, guard) if side is OrderSide.BUY else max(price, guard)
