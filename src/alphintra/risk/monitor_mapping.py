"""Load the monitors' thresholds (`MonitorLimits`) from plain mappings and write them back.

The mapping has the field names as snake_case keys, with the same bounds as the API's
``monitors`` object::

    max_drawdown: "0.10"          # fraction of the high-water mark, in (0, 1)
    daily_loss_limit: "25000"     # in the base currency, positive
    flatten_on_drawdown: true
    timezone: America/New_York    # the trading day starts at its midnight
    volatility_window: 30         # returns, 2 to 10,000
    volatility_threshold: 0.004   # standard deviation of the returns (a float)
    jump_threshold: 0.05          # move across the window, as a fraction (a float)
    reduce_fraction: "0.5"        # in [0, 1]
    tighten_factor: "0.5"         # in (0, 1]
    cooldown_ns: 300000000000     # 0 to one day

Decimals are strings or integers (floats are refused, as in `limits_mapping`); the two
volatility thresholds are statistics, not money, and are floats. A null or missing key
keeps the default (for the thresholds: disabled). Every error names the key's path and
the value received.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alphintra.domain.values import ValueRangeError, to_decimal
from alphintra.risk.limits import FrozenMapping, RiskLimitsError
from alphintra.risk.monitors import NANOS_PER_SECOND, MonitorLimits

NANOS_PER_DAY: Final = 86_400 * NANOS_PER_SECOND
_DEFAULTS: Final = MonitorLimits()


def _decimal(
    value: object, path: str, low: Decimal, high: Decimal | None, *, open_low: bool, open_high: bool
) -> Decimal:
    try:
        number = to_decimal(value, path)
    except ValueRangeError as exc:
        raise RiskLimitsError(str(exc)) from None
    if (number <= low if open_low else number < low) or (
        high is not None and (number >= high if open_high else number > high)
    ):
        lower = f"{'>' if open_low else '>='} {low}"
        upper = "" if high is None else f" and {'<' if open_high else '<='} {high}"
        raise RiskLimitsError(f"{path} must be {lower}{upper}, got {value!r}")
    return number


def _integer(value: object, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RiskLimitsError(f"{path} must be an integer, got {value!r}")
    if not low <= value <= high:
        raise RiskLimitsError(f"{path} must be from {low} to {high}, got {value!r}")
    return value


def _positive_float(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RiskLimitsError(f"{path} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise RiskLimitsError(f"{path} must be a finite number > 0, got {value!r}")
    return number


def _timezone(value: object, path: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise RiskLimitsError(f"{path} must be a time zone name, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise RiskLimitsError(f"{path}: unknown time zone {value!r}") from None
    return value


def _parse(key: str, value: object, path: str) -> object:
    one = Decimal(1)
    if key == "max_drawdown":
        return _decimal(value, path, Decimal(0), one, open_low=True, open_high=True)
    if key == "daily_loss_limit":
        return _decimal(value, path, Decimal(0), None, open_low=True, open_high=False)
    if key == "reduce_fraction":
        return _decimal(value, path, Decimal(0), one, open_low=False, open_high=False)
    if key == "tighten_factor":
        return _decimal(value, path, Decimal(0), one, open_low=True, open_high=False)
    if key == "flatten_on_drawdown":
        if not isinstance(value, bool):
            raise RiskLimitsError(f"{path} must be true or false, got {value!r}")
        return value
    if key == "timezone":
        return _timezone(value, path)
    if key == "volatility_window":
        return _integer(value, path, 2, 10_000)
    if key == "cooldown_ns":
        return _integer(value, path, 0, NANOS_PER_DAY)
    return _positive_float(value, path)  # volatility_threshold, jump_threshold


_KEYS: Final = tuple(f.name for f in fields(MonitorLimits))


def monitor_limits_from_mapping(
    data: object, *, defaults: MonitorLimits | None = None, path: str = "monitors"
) -> MonitorLimits:
    """Build `MonitorLimits` from ``data``: its keys overlay ``defaults`` (else the class
    defaults); a null value restores the class default. Raise `RiskLimitsError` naming
    the path and value of the first bad entry."""
    if not isinstance(data, Mapping):
        raise RiskLimitsError(f"{path}: expected a mapping, got {type(data).__name__} {data!r}")
    unknown = sorted(str(key) for key in data if key not in _KEYS)
    if unknown:
        raise RiskLimitsError(
            f"{path}: unknown key{'s' if len(unknown) > 1 else ''} {unknown}; "
            f"allowed: {sorted(_KEYS)}"
        )
    base = defaults if defaults is not None else _DEFAULTS
    values = {key: getattr(base, key) for key in _KEYS}
    for key, value in data.items():
        values[key] = (
            getattr(_DEFAULTS, key) if value is None else _parse(key, value, f"{path}.{key}")
        )
    return MonitorLimits(**values)


def monitor_limits_to_mapping(limits: MonitorLimits) -> dict[str, object]:
    """Return ``limits`` as a plain mapping: non-default fields only, decimals as strings
    (`monitor_limits_from_mapping` reads it back to an equal value)."""
    out: dict[str, object] = {}
    for key in _KEYS:
        value = getattr(limits, key)
        if value == getattr(_DEFAULTS, key):
            continue
        out[key] = str(value) if isinstance(value, Decimal) else value
    return out


@dataclass(frozen=True, slots=True)
class MonitorLimitsBook:
    """Global default monitor thresholds, and those of accounts that override them."""

    defaults: MonitorLimits = field(default_factory=MonitorLimits)
    accounts: Mapping[str, MonitorLimits] = field(default_factory=FrozenMapping)

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts", FrozenMapping(self.accounts))

    def for_account(self, account_id: str) -> MonitorLimits:
        """Return the thresholds of ``account_id`` (the defaults when it overrides none)."""
        return self.accounts.get(account_id, self.defaults)

    @classmethod
    def from_mapping(cls, data: object) -> MonitorLimitsBook:
        """Build from ``{"defaults": {...}, "accounts": {ACCOUNT_ID: {...}}}``; each
        account's mapping overlays the defaults."""
        path = "risk_monitors"
        if not isinstance(data, Mapping):
            raise RiskLimitsError(f"{path}: expected a mapping, got {type(data).__name__} {data!r}")
        unknown = sorted(str(key) for key in data if key not in ("defaults", "accounts"))
        if unknown:
            raise RiskLimitsError(
                f"{path}: unknown keys {unknown}; allowed: ['accounts', 'defaults']"
            )
        raw = data.get("defaults")
        defaults = (
            MonitorLimits()
            if raw is None
            else monitor_limits_from_mapping(raw, path=f"{path}.defaults")
        )
        accounts = data.get("accounts") or {}
        if not isinstance(accounts, Mapping):
            raise RiskLimitsError(
                f"{path}.accounts: expected a mapping, got {type(accounts).__name__} {accounts!r}"
            )
        return cls(
            defaults,
            {
                str(account): monitor_limits_from_mapping(
                    spec or {}, defaults=defaults, path=f"{path}.accounts.{account}"
                )
                for account, spec in accounts.items()
            },
        )
