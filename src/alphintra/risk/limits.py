"""Risk limits: a frozen tree of dataclasses. ``None`` (or an absent section) disables a limit.

Units and conventions:

* Order- and position-level notionals (``max_order_notional``, ``max_position_notional``)
  are in the instrument's *quote* currency, quantity × price × multiplier, exactly as
  the signal sizing caps compute them.
* Portfolio amounts (gross and net exposure, cluster exposure, daily loss, drawdown
  amount) are in the account's *base* currency.
* Every ``*_fraction``, ``max_per_*``, ``max_drawdown``, ``fee_rate`` and
  ``*_margin_rate`` is a fraction: ``0.05`` means 5 %.
* Every limit is inclusive: a value equal to the limit passes; only a value beyond it
  is denied.

Order and position limits exist at three scopes: the account (the top-level fields),
per asset class and per instrument. For each field the most specific scope that sets
it wins (instrument, then asset class, then account), so an instrument can loosen as
well as tighten the account default.

`alphintra.risk.limits_mapping` loads these from plain mappings (YAML, JSON, the
environment) and writes them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Final, TypeVar

from alphintra.domain.enums import AssetClass
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.instruments import Instrument
from alphintra.domain.values import ONE, ZERO

K = TypeVar("K", str, AssetClass)
_V = TypeVar("_V")


class FrozenMapping(Mapping[K, _V]):
    """An immutable, hashable, picklable mapping (for the per-scope limit tables)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[K, _V] | Iterable[tuple[K, _V]] = ()) -> None:
        self._data: dict[K, _V] = dict(data)

    def __getitem__(self, key: K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __reduce__(self) -> tuple[type[FrozenMapping[K, _V]], tuple[dict[K, _V]]]:
        return (type(self), (self._data,))


class RiskLimitsError(ValueError):
    """A risk limit is malformed: wrong type, out of range, or an unknown key."""


def _check_decimal(owner: object, name: str, *, allow_zero: bool = False) -> None:
    value = getattr(owner, name)
    if value is None:
        return
    where = f"{type(owner).__name__}.{name}"
    if not isinstance(value, Decimal) or not value.is_finite():
        raise RiskLimitsError(f"{where} must be a finite Decimal, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise RiskLimitsError(f"{where} must be {bound}, got {value}")


def _check_int(owner: object, name: str, *, minimum: int = 1) -> None:
    value = getattr(owner, name)
    if value is None:
        return
    where = f"{type(owner).__name__}.{name}"
    if not isinstance(value, int) or isinstance(value, bool):
        raise RiskLimitsError(f"{where} must be an integer, got {value!r}")
    if value < minimum:
        raise RiskLimitsError(f"{where} must be at least {minimum}, got {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopeLimits:
    """Order and position limits for one asset class or one instrument."""

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    """Quote currency."""
    max_position_quantity: Decimal | None = None
    """Absolute position, counting working orders in the worst case."""
    max_position_notional: Decimal | None = None
    """Quote currency, at the instrument's reference price."""
    max_volatility: Decimal | None = None
    """Realised volatility (in the units the context supplies) above which only
    risk-reducing orders pass."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            _check_decimal(self, spec.name)


_SCOPE_FIELDS = tuple(f.name for f in fields(ScopeLimits))


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceCollar:
    """Deny a limit or stop price too far from the reference price.

    The allowed band around the reference is the narrower of ``max_fraction`` ×
    reference and ``max_ticks`` × tick size (whichever are set), widened to at least
    ``min_band`` (an absolute price distance), so that cheap instruments, where a few
    ticks are a large fraction, are not blocked.
    """

    max_fraction: Decimal | None = None
    max_ticks: int | None = None
    min_band: Decimal = ZERO

    def __post_init__(self) -> None:
        _check_decimal(self, "max_fraction")
        _check_int(self, "max_ticks")
        _check_decimal(self, "min_band", allow_zero=True)
        if self.max_fraction is None and self.max_ticks is None:
            raise RiskLimitsError("PriceCollar needs max_fraction or max_ticks (or both)")


@dataclass(frozen=True, slots=True, kw_only=True)
class Throttle:
    """At most ``max_orders`` new orders and ``max_messages`` messages (orders, cancels,
    modifies) per rolling window of ``window_ms`` milliseconds."""

    window_ms: int
    max_orders: int | None = None
    max_messages: int | None = None

    def __post_init__(self) -> None:
        _check_int(self, "window_ms")
        _check_int(self, "max_orders")
        _check_int(self, "max_messages")
        if self.max_orders is None and self.max_messages is None:
            raise RiskLimitsError("Throttle needs max_orders or max_messages (or both)")

    @property
    def window_ns(self) -> int:
        """Return the window in nanoseconds."""
        return self.window_ms * 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ExposureLimits:
    """Portfolio exposure, base currency, counting working orders in the worst case."""

    max_gross_exposure: Decimal | None = None
    max_net_exposure: Decimal | None = None
    max_leverage: Decimal | None = None
    """Gross exposure / equity."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            _check_decimal(self, spec.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConcentrationLimits:
    """Gross exposure of one group as a fraction of equity."""

    max_per_instrument: Decimal | None = None
    max_per_sector: Decimal | None = None
    max_per_asset_class: Decimal | None = None
    max_per_venue: Decimal | None = None

    def __post_init__(self) -> None:
        for spec in fields(self):
            _check_decimal(self, spec.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuyingPowerLimits:
    """The credit check; its presence enables it. See `alphintra.risk.buying_power`.

    ``long_margin_rate`` 1 is a cash account (a long costs its full notional);
    ``short_margin_rate`` is the collateral a short needs on top of its sale proceeds
    (0.5 is Reg T's 150 %).
    """

    fee_rate: Decimal = ZERO
    long_margin_rate: Decimal = ONE
    short_margin_rate: Decimal = ONE

    def __post_init__(self) -> None:
        for spec in fields(self):
            _check_decimal(self, spec.name, allow_zero=True)
            if getattr(self, spec.name) is None:
                raise RiskLimitsError(f"BuyingPowerLimits.{spec.name} must not be None")


DEFAULT_MIN_OBSERVATIONS: Final = 20
"""Returns a series needs to join a correlation cluster, unless configured."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationLimits:
    """Gross exposure (base currency) of a cluster of correlated instruments.

    A cluster joins instruments whose correlation of simple returns is at least
    ``min_correlation`` (single linkage, see `alphintra.risk.correlation`), over the
    last ``window`` returns of their marks sampled every ``sample_ms`` milliseconds on a
    common time grid (`alphintra.engine.correlation.CorrelationTracker`).
    """

    max_cluster_exposure: Decimal | None = None
    max_cluster_fraction: Decimal | None = None
    """Of equity."""
    min_correlation: Decimal = Decimal("0.8")
    """ρ: the correlation (in [-1, 1], inclusive) at or above which two instruments
    share a cluster."""
    window: int = 60
    """Returns per series (at least 3)."""
    sample_ms: int = 60_000
    """Sampling interval of the marks, milliseconds."""
    min_observations: int | None = None
    """Returns an instrument needs before it can join a cluster (3 to ``window``); None
    is ``min(window, 20)``. With few returns chance correlations are common: for 3
    returns of two independent series, ρ ≥ 0.8 about one time in five."""

    @property
    def observations_needed(self) -> int:
        """``min_observations``, or its default."""
        if self.min_observations is None:
            return min(self.window, DEFAULT_MIN_OBSERVATIONS)
        return self.min_observations

    def __post_init__(self) -> None:
        _check_decimal(self, "max_cluster_exposure")
        _check_decimal(self, "max_cluster_fraction")
        rho = self.min_correlation
        if not isinstance(rho, Decimal) or not rho.is_finite():
            raise RiskLimitsError(
                f"CorrelationLimits.min_correlation must be a finite Decimal, got {rho!r}"
            )
        if not -1 <= rho <= 1:
            raise RiskLimitsError(
                f"CorrelationLimits.min_correlation must be in [-1, 1], got {rho}"
            )
        for name in ("window", "sample_ms"):
            if getattr(self, name) is None:
                raise RiskLimitsError(f"CorrelationLimits.{name} must not be None")
        _check_int(self, "window", minimum=3)
        _check_int(self, "sample_ms")
        _check_int(self, "min_observations", minimum=3)
        if self.min_observations is not None and self.min_observations > self.window:
            raise RiskLimitsError(
                f"CorrelationLimits.min_observations must be at most window ({self.window}), "
                f"got {self.min_observations}"
            )
        if self.max_cluster_exposure is None and self.max_cluster_fraction is None:
            raise RiskLimitsError(
                "CorrelationLimits needs max_cluster_exposure or max_cluster_fraction"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class LossLimits:
    """Loss limits; beyond one, only risk-reducing orders pass."""

    max_daily_loss: Decimal | None = None
    """Base currency, against the equity at the start of the account's trading day."""
    max_daily_loss_fraction: Decimal | None = None
    """Of the start-of-day equity."""
    max_drawdown: Decimal | None = None
    """Fraction of the high-water mark."""
    max_drawdown_amount: Decimal | None = None
    """Base currency, below the high-water mark."""

    def __post_init__(self) -> None:
        for spec in fields(self):
            _check_decimal(self, spec.name)


def _freeze_scopes(owner: str, entries: Mapping[K, ScopeLimits]) -> Mapping[K, ScopeLimits]:
    for key, value in entries.items():
        if not isinstance(value, ScopeLimits):
            raise RiskLimitsError(
                f"RiskLimits.{owner}[{key!r}] must be ScopeLimits, got {type(value).__name__}"
            )
    return FrozenMapping(entries)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Every pre-trade limit of one account. The defaults enable only ``MIN_NOTIONAL``."""

    max_order_quantity: Decimal | None = None
    max_order_notional: Decimal | None = None
    """Quote currency."""
    max_position_quantity: Decimal | None = None
    max_position_notional: Decimal | None = None
    """Quote currency."""
    enforce_min_notional: bool = True
    enforce_trading_hours: bool = False
    max_volatility: Decimal | None = None
    instruments: Mapping[str, ScopeLimits] = field(default_factory=FrozenMapping)
    """Per instrument ID: overrides of the order and position limits."""
    asset_classes: Mapping[AssetClass, ScopeLimits] = field(default_factory=FrozenMapping)
    """Per asset class: overrides of the order and position limits."""
    restricted_symbols: frozenset[str] = frozenset()
    """Instrument IDs in which only risk-reducing orders pass."""
    price_collar: PriceCollar | None = None
    duplicate_window_ms: int | None = None
    """Deny an order equal (instrument, side, quantity, prices) to one accepted within
    this many milliseconds."""
    account_throttle: Throttle | None = None
    venue_throttle: Throttle | None = None
    """Applies to each venue separately."""
    exposure: ExposureLimits | None = None
    concentration: ConcentrationLimits | None = None
    buying_power: BuyingPowerLimits | None = None
    correlation: CorrelationLimits | None = None
    loss: LossLimits | None = None

    account_scope: ScopeLimits = field(init=False, repr=False, compare=False, hash=False)
    has_scopes: bool = field(init=False, repr=False, compare=False, hash=False)
    """True when any instrument or asset class overrides exist."""
    has_position_limits: bool = field(init=False, repr=False, compare=False, hash=False)
    """True when some scope sets a position quantity or notional limit."""
    uses_portfolio: bool = field(init=False, repr=False, compare=False, hash=False)
    """True when a check needs every instrument's exposure (not just the order's)."""
    uses_equity: bool = field(init=False, repr=False, compare=False, hash=False)
    """True when a check needs the account's equity: compute it only then."""
    has_flow_checks: bool = field(init=False, repr=False, compare=False, hash=False)
    """True when restricted symbols, the collar, the duplicate window or a throttle is on."""
    has_loss_checks: bool = field(init=False, repr=False, compare=False, hash=False)
    """True when a loss limit or a volatility limit (at any scope) is on."""
    has_extended_checks: bool = field(init=False, repr=False, compare=False, hash=False)
    """True when any check beyond state, reduce-only, order size and hours is enabled."""
    _scope_cache: dict[InstrumentId, ScopeLimits] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        for name in _SCOPE_FIELDS:
            _check_decimal(self, name)
        for name in ("enforce_min_notional", "enforce_trading_hours"):
            if not isinstance(getattr(self, name), bool):
                raise RiskLimitsError(
                    f"RiskLimits.{name} must be a bool, got {getattr(self, name)!r}"
                )
        _check_int(self, "duplicate_window_ms")
        set_ = object.__setattr__
        set_(self, "instruments", _freeze_scopes("instruments", self.instruments))
        classes = {}
        for key, value in self.asset_classes.items():
            try:
                classes[AssetClass(key)] = value
            except ValueError:
                raise RiskLimitsError(
                    f"RiskLimits.asset_classes: unknown asset class {key!r}; "
                    f"known: {sorted(a.value for a in AssetClass)}"
                ) from None
        set_(self, "asset_classes", _freeze_scopes("asset_classes", classes))
        if not isinstance(self.restricted_symbols, frozenset) or not all(
            isinstance(s, str) for s in self.restricted_symbols
        ):
            raise RiskLimitsError(
                f"RiskLimits.restricted_symbols must be a frozenset of str, "
                f"got {self.restricted_symbols!r}"
            )
        sections = {
            "price_collar": PriceCollar,
            "account_throttle": Throttle,
            "venue_throttle": Throttle,
            "exposure": ExposureLimits,
            "concentration": ConcentrationLimits,
            "buying_power": BuyingPowerLimits,
            "correlation": CorrelationLimits,
            "loss": LossLimits,
        }
        for name, kind in sections.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise RiskLimitsError(
                    f"RiskLimits.{name} must be {kind.__name__} or None, got {type(value).__name__}"
                )
        account = ScopeLimits(**{name: getattr(self, name) for name in _SCOPE_FIELDS})
        set_(self, "account_scope", account)
        set_(self, "has_scopes", bool(self.instruments or self.asset_classes))
        scopes = (account, *self.instruments.values(), *self.asset_classes.values())
        set_(
            self,
            "has_position_limits",
            any(
                s.max_position_quantity is not None or s.max_position_notional is not None
                for s in scopes
            ),
        )
        exposure, concentration = self.exposure, self.concentration
        set_(
            self,
            "uses_portfolio",
            exposure is not None
            or self.buying_power is not None
            or self.correlation is not None
            or (
                concentration is not None
                and (
                    concentration.max_per_sector is not None
                    or concentration.max_per_asset_class is not None
                    or concentration.max_per_venue is not None
                )
            ),
        )
        set_(
            self,
            "uses_equity",
            (exposure is not None and exposure.max_leverage is not None)
            or concentration is not None
            or self.loss is not None
            or (self.correlation is not None and self.correlation.max_cluster_fraction is not None),
        )
        set_(
            self,
            "has_flow_checks",
            bool(self.restricted_symbols)
            or self.price_collar is not None
            or self.duplicate_window_ms is not None
            or self.account_throttle is not None
            or self.venue_throttle is not None,
        )
        set_(
            self,
            "has_loss_checks",
            self.loss is not None or any(s.max_volatility is not None for s in scopes),
        )
        set_(
            self,
            "has_extended_checks",
            self.has_flow_checks
            or self.has_loss_checks
            or self.has_position_limits
            or self.uses_portfolio
            or concentration is not None,
        )
        set_(self, "_scope_cache", {})

    def scope_for(self, instrument: Instrument) -> ScopeLimits:
        """Return the order and position limits that apply to ``instrument``.

        Per field, the instrument's override wins over its asset class's, which wins
        over the account's.
        """
        if not self.has_scopes:
            return self.account_scope
        cached = self._scope_cache.get(instrument.id)
        if cached is not None:
            return cached
        layers = [
            s
            for s in (
                self.instruments.get(instrument.id),
                self.asset_classes.get(instrument.asset_class),
            )
            if s is not None
        ]
        merged: dict[str, Decimal | None] = {}
        for name in _SCOPE_FIELDS:
            value = None
            for layer in layers:
                value = getattr(layer, name)
                if value is not None:
                    break
            merged[name] = value if value is not None else getattr(self.account_scope, name)
        resolved = ScopeLimits(**merged)
        self._scope_cache[instrument.id] = resolved
        return resolved

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, object], *, defaults: RiskLimits | None = None
    ) -> RiskLimits:
        """Build limits from a plain mapping; unknown keys are errors.

        With ``defaults``, ``data`` overlays them field by field (sections and
        per-instrument entries merge); an explicit null resets a field to its built-in
        default, which disables a limit. See `alphintra.risk.limits_mapping`.
        """
        from alphintra.risk.limits_mapping import limits_from_mapping

        return limits_from_mapping(data, defaults=defaults)

    def to_mapping(self) -> dict[str, object]:
        """Return the limits as a plain mapping (non-default fields only; decimals as
        strings); ``from_mapping`` of the result gives back equal limits."""
        from alphintra.risk.limits_mapping import limits_to_mapping

        return limits_to_mapping(self)


__all__ = [
    "BuyingPowerLimits",
    "ConcentrationLimits",
    "CorrelationLimits",
    "ExposureLimits",
    "FrozenMapping",
    "LossLimits",
    "PriceCollar",
    "RiskLimits",
    "RiskLimitsError",
    "ScopeLimits",
    "Throttle",
]
