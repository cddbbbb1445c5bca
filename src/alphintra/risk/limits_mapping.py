"""Load risk limits from plain mappings (YAML, JSON, environment) and write them back.

The mapping mirrors the dataclass tree, with snake_case keys equal to the field
names::

    max_order_quantity: "1000"
    instruments: {BTCUSD: {max_order_quantity: "2"}}
    asset_classes: {CRYPTO: {max_volatility: "1.2"}}
    restricted_symbols: [GME]
    price_collar: {max_fraction: "0.05", max_ticks: 50, min_band: "0.05"}
    duplicate_window_ms: 500
    account_throttle: {window_ms: 1000, max_orders: 50, max_messages: 200}
    venue_throttle: {window_ms: 1000, max_orders: 20}
    exposure: {max_gross_exposure: "5000000", max_net_exposure: "2000000", max_leverage: "3"}
    concentration: {max_per_instrument: "0.25", max_per_sector: "0.4"}
    buying_power: {fee_rate: "0.001", short_margin_rate: "0.5"}
    correlation: {max_cluster_exposure: "1000000", min_correlation: "0.8", window: 60,
                  sample_ms: 60000}
    loss: {max_daily_loss: "25000", max_drawdown: "0.1"}

Decimals are given as strings or integers (floats are refused: ``0.1`` is not the
decimal it prints as). Unknown keys are errors naming the key, its path and the keys
allowed there. A per-account mapping overlays the global defaults (`RiskLimitsBook`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from typing import Any, Final

from alphintra.domain.enums import AssetClass
from alphintra.domain.values import ValueRangeError, to_decimal
from alphintra.risk.limits import (
    BuyingPowerLimits,
    ConcentrationLimits,
    CorrelationLimits,
    ExposureLimits,
    FrozenMapping,
    LossLimits,
    PriceCollar,
    RiskLimits,
    RiskLimitsError,
    ScopeLimits,
    Throttle,
)

_DEC: Final = "decimal"
_INT: Final = "int"
_BOOL: Final = "bool"
_SYMBOLS: Final = "symbols"
_BY_INSTRUMENT: Final = "by_instrument"
_BY_ASSET_CLASS: Final = "by_asset_class"

_SECTIONS: Final[dict[str, type[Any]]] = {
    "price_collar": PriceCollar,
    "account_throttle": Throttle,
    "venue_throttle": Throttle,
    "exposure": ExposureLimits,
    "concentration": ConcentrationLimits,
    "buying_power": BuyingPowerLimits,
    "correlation": CorrelationLimits,
    "loss": LossLimits,
}

_SPECS: Final[dict[type[Any], dict[str, str]]] = {
    ScopeLimits: {f.name: _DEC for f in fields(ScopeLimits)},
    PriceCollar: {"max_fraction": _DEC, "max_ticks": _INT, "min_band": _DEC},
    Throttle: {"window_ms": _INT, "max_orders": _INT, "max_messages": _INT},
    ExposureLimits: {f.name: _DEC for f in fields(ExposureLimits)},
    ConcentrationLimits: {f.name: _DEC for f in fields(ConcentrationLimits)},
    BuyingPowerLimits: {f.name: _DEC for f in fields(BuyingPowerLimits)},
    CorrelationLimits: {
        "max_cluster_exposure": _DEC,
        "max_cluster_fraction": _DEC,
        "min_correlation": _DEC,
        "window": _INT,
        "sample_ms": _INT,
        "min_observations": _INT,
    },
    LossLimits: {f.name: _DEC for f in fields(LossLimits)},
    RiskLimits: {
        "max_order_quantity": _DEC,
        "max_order_notional": _DEC,
        "max_position_quantity": _DEC,
        "max_position_notional": _DEC,
        "enforce_min_notional": _BOOL,
        "enforce_trading_hours": _BOOL,
        "max_volatility": _DEC,
        "instruments": _BY_INSTRUMENT,
        "asset_classes": _BY_ASSET_CLASS,
        "restricted_symbols": _SYMBOLS,
        "duplicate_window_ms": _INT,
        **dict.fromkeys(_SECTIONS, "section"),
    },
}


def _mapping(value: object, path: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise RiskLimitsError(f"{path}: expected a mapping, got {type(value).__name__} {value!r}")
    for key in value:
        if not isinstance(key, str):
            raise RiskLimitsError(f"{path}: keys must be strings, got {key!r}")
    return value


def _parse(kind: str, key: str, value: object, path: str) -> object:
    if kind == _DEC:
        try:
            return to_decimal(value, path)
        except ValueRangeError as exc:
            raise RiskLimitsError(str(exc)) from None
    if kind == _INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RiskLimitsError(f"{path} must be an integer, got {value!r}")
        return value
    if kind == _BOOL:
        if not isinstance(value, bool):
            raise RiskLimitsError(f"{path} must be true or false, got {value!r}")
        return value
    if kind == _SYMBOLS:
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
            raise RiskLimitsError(f"{path} must be a list of symbols, got {value!r}")
        bad = [s for s in value if not isinstance(s, str) or not s]
        if bad:  # before frozenset(), which an unhashable entry would break without a path
            raise RiskLimitsError(f"{path} must hold non-empty strings, got {bad!r}")
        return frozenset(value)
    if kind == _BY_INSTRUMENT:
        entries = _mapping(value, path)
        return {
            symbol: _load(ScopeLimits, spec, f"{path}.{symbol}") for symbol, spec in entries.items()
        }
    if kind == _BY_ASSET_CLASS:
        entries = _mapping(value, path)
        classes: dict[AssetClass, ScopeLimits] = {}
        for name, spec in entries.items():
            try:
                asset_class = AssetClass(name)
            except ValueError:
                raise RiskLimitsError(
                    f"{path}: unknown asset class {name!r}; "
                    f"known: {sorted(a.value for a in AssetClass)}"
                ) from None
            classes[asset_class] = _load(ScopeLimits, spec, f"{path}.{name}")
        return classes
    return _load(_SECTIONS[key], value, path)


def _load(cls: type[Any], data: object, path: str) -> Any:
    entries = _mapping(data, path)
    spec = _SPECS[cls]
    unknown = sorted(set(entries) - set(spec))
    if unknown:
        raise RiskLimitsError(
            f"{path}: unknown key{'s' if len(unknown) > 1 else ''} {unknown}; "
            f"allowed: {sorted(spec)}"
        )
    kwargs = {
        key: _parse(spec[key], key, value, f"{path}.{key}")
        for key, value in entries.items()
        if value is not None
    }
    try:
        return cls(**kwargs)
    except RiskLimitsError as exc:
        raise RiskLimitsError(f"{path}: {exc}") from None
    except TypeError as exc:  # a required field (Throttle.window_ms) is missing
        raise RiskLimitsError(f"{path}: {exc}") from None


def _merge(base: Mapping[str, object], over: Mapping[str, object]) -> dict[str, object]:
    merged = dict(base)
    for key, value in over.items():
        if value is None:
            merged.pop(key, None)
            continue
        below = merged.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            merged[key] = _merge(below, value)
        else:
            merged[key] = value
    return merged


def limits_from_mapping(
    data: Mapping[str, object], *, defaults: RiskLimits | None = None, path: str = "risk"
) -> RiskLimits:
    """Build `RiskLimits` from ``data`` overlaid on ``defaults`` (see the module doc)."""
    entries = _mapping(data, path)
    if defaults is not None:
        entries = _merge(limits_to_mapping(defaults), entries)
    limits: RiskLimits = _load(RiskLimits, entries, path)
    return limits


def _dump_value(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, Mapping):
        return {str(k): _dump(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, bool | int):
        return value
    return _dump(value)


def _dump(obj: object) -> dict[str, object]:
    out: dict[str, object] = {}
    spec = _SPECS[type(obj)]
    for f in fields(obj):  # type: ignore[arg-type]
        if f.name not in spec:
            continue
        value = getattr(obj, f.name)
        if f.default is not MISSING:
            default: object = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = MISSING
        if value == default:
            continue
        out[f.name] = _dump_value(value)
    return out


def limits_to_mapping(limits: RiskLimits) -> dict[str, object]:
    """Return ``limits`` as a plain mapping: non-default fields only, decimals as strings.

    A section that is enabled with all its defaults appears as an empty mapping.
    """
    return _dump(limits)


def _diff(base: Mapping[str, object], target: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in target.items():
        below = base.get(key)
        if below == value:
            continue
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            out[key] = _diff(below, value)
        else:
            out[key] = value
    for key in base:
        if key not in target:
            out[key] = None
    return out


@dataclass(frozen=True, slots=True)
class RiskLimitsBook:
    """Global default limits, and the limits of accounts that override them."""

    defaults: RiskLimits = field(default_factory=RiskLimits)
    accounts: Mapping[str, RiskLimits] = field(default_factory=FrozenMapping)

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts", FrozenMapping(self.accounts))

    def for_account(self, account_id: str) -> RiskLimits:
        """Return the limits of ``account_id`` (the defaults when it overrides none)."""
        return self.accounts.get(account_id, self.defaults)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> RiskLimitsBook:
        """Build from ``{"defaults": {...}, "accounts": {ACCOUNT_ID: {...}}}``.

        Each account's mapping overlays the defaults (see `limits_from_mapping`).
        """
        entries = _mapping(data, "risk")
        unknown = sorted(set(entries) - {"defaults", "accounts"})
        if unknown:
            raise RiskLimitsError(
                f"risk: unknown keys {unknown}; allowed: ['accounts', 'defaults']"
            )
        raw_defaults = entries.get("defaults")
        defaults = (
            RiskLimits()
            if raw_defaults is None
            else limits_from_mapping(_mapping(raw_defaults, "risk.defaults"), path="risk.defaults")
        )
        raw_accounts = entries.get("accounts")
        accounts = _mapping(raw_accounts, "risk.accounts") if raw_accounts is not None else {}
        return cls(
            defaults,
            {
                account: limits_from_mapping(
                    _mapping(spec or {}, f"risk.accounts.{account}"),
                    defaults=defaults,
                    path=f"risk.accounts.{account}",
                )
                for account, spec in accounts.items()
            },
        )

    def to_mapping(self) -> dict[str, object]:
        """Return the book as a mapping; accounts hold only their differences from the
        defaults (null where an account disables a default limit)."""
        base = limits_to_mapping(self.defaults)
        return {
            "defaults": base,
            "accounts": {
                account: _diff(base, limits_to_mapping(limits))
                for account, limits in sorted(self.accounts.items())
            },
        }
