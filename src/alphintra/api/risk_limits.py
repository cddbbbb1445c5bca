"""The risk limits of ``GET``/``PUT /api/v1/risk/limits``: the API form and back.

The body carries the common order and position limits as flat fields, the monitor
thresholds (``monitors``) and, in ``limits``, every limit in the configuration's form
(`alphintra.risk.limits_mapping`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alphintra.api.schemas import MonitorLimitsBody, RiskLimitsBody
from alphintra.risk.limits import RiskLimits
from alphintra.risk.limits_mapping import limits_from_mapping, limits_to_mapping
from alphintra.risk.monitors import MonitorLimits
from alphintra.service.trading import InvalidRequestError


def limits_body(limits: RiskLimits, monitor: MonitorLimits) -> RiskLimitsBody:
    """Return the API form of an account's limits and monitor thresholds."""
    return RiskLimitsBody(
        maxOrderQuantity=limits.max_order_quantity,
        maxOrderNotional=limits.max_order_notional,
        maxPositionQuantity=limits.max_position_quantity,
        maxPositionNotional=limits.max_position_notional,
        enforceMinNotional=limits.enforce_min_notional,
        enforceTradingHours=limits.enforce_trading_hours,
        limits=limits_to_mapping(limits),
        monitors=MonitorLimitsBody(
            maxDrawdown=monitor.max_drawdown,
            dailyLossLimit=monitor.daily_loss_limit,
            flattenOnDrawdown=monitor.flatten_on_drawdown,
            timezone=monitor.timezone,
            volatilityWindow=monitor.volatility_window,
            volatilityThreshold=monitor.volatility_threshold,
            jumpThreshold=monitor.jump_threshold,
            reduceFraction=monitor.reduce_fraction,
            tightenFactor=monitor.tighten_factor,
            cooldownSeconds=monitor.cooldown_ns // 1_000_000_000,
        ),
    )


_FLAT_LIMITS: Final = {
    "maxOrderQuantity": "max_order_quantity",
    "maxOrderNotional": "max_order_notional",
    "maxPositionQuantity": "max_position_quantity",
    "maxPositionNotional": "max_position_notional",
    "enforceMinNotional": "enforce_min_notional",
    "enforceTradingHours": "enforce_trading_hours",
}
"""The flat fields of `RiskLimitsBody` and the `RiskLimits` fields they set."""
MAX_LIMIT_DIGITS: Final = 38
"""Digits a decimal in ``limits`` may have, as for the flat fields (`Positive`)."""
MAX_LIMIT_INTEGER: Final = 2**53 - 1
"""Largest integer in ``limits`` (JSON clients lose precision beyond it)."""
MAX_DETAIL: Final = 500


def _limits_error(detail: str) -> InvalidRequestError:
    if len(detail) > MAX_DETAIL:
        detail = detail[: MAX_DETAIL - 3] + "..."
    return InvalidRequestError("INVALID_RISK_LIMITS", detail)


def requested_limits(body: RiskLimitsBody, current: RiskLimits) -> RiskLimits:
    """The limits a PUT asks for.

    Without ``limits``, the flat fields replace themselves in ``current`` (every one:
    an absent field takes its default). With it, the mapping replaces every limit and
    the flat fields the body carries override it. A malformed mapping is a 422 naming
    the key, its path and the value.
    """
    if body.limits is None:
        flat = {name: getattr(body, field) for field, name in _FLAT_LIMITS.items()}
        return dataclasses.replace(current, **flat)
    sent = {
        name: getattr(body, field)
        for field, name in _FLAT_LIMITS.items()
        if field in body.model_fields_set
    }
    symbols = body.limits.get("restricted_symbols")
    if isinstance(symbols, list):
        # frozenset() of an unhashable entry would be a TypeError without a path.
        bad = [s for s in symbols if not isinstance(s, str) or not s]
        if bad:
            raise _limits_error(
                f"limits.restricted_symbols must hold non-empty strings, got {bad!r}"
            )
    try:
        limits = dataclasses.replace(limits_from_mapping(body.limits, path="limits"), **sent)
    except (ValueError, TypeError) as exc:  # RiskLimitsError is a ValueError
        raise _limits_error(
            str(exc) if str(exc).startswith("limits") else f"limits: {exc}"
        ) from None
    _check_magnitudes(limits_to_mapping(limits), "limits")
    return limits


def _check_magnitudes(mapping: Mapping[str, object], path: str) -> None:
    """Refuse numbers the engine's arithmetic could overflow on (``limits_to_mapping`` form:
    decimals are strings, integers ints, symbol lists lists)."""
    for key, value in mapping.items():
        where = f"{path}.{key}"
        if isinstance(value, Mapping):
            _check_magnitudes(value, where)
        elif isinstance(value, str):
            number = Decimal(value)
            exponent = number.as_tuple().exponent
            places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
            digits = max(number.adjusted() + 1, 0) + places
            if digits > MAX_LIMIT_DIGITS:
                raise _limits_error(
                    f"{where} must have at most {MAX_LIMIT_DIGITS} digits, got {value}"
                )
        elif isinstance(value, int) and value > MAX_LIMIT_INTEGER:
            raise _limits_error(f"{where} must be at most {MAX_LIMIT_INTEGER}, got {value}")


def requested_monitor_limits(body: RiskLimitsBody, current: MonitorLimits) -> MonitorLimits:
    """The monitor thresholds a PUT asks for: ``current`` when the body carries no
    ``monitors`` (a PUT of other limits must not switch the drawdown stop off)."""
    if "monitors" not in body.model_fields_set:
        return current
    return monitor_limits(body.monitors)


def monitor_limits(body: MonitorLimitsBody) -> MonitorLimits:
    """Return the thresholds of ``body``; 422 for an unknown time zone."""
    try:
        ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequestError(
            "UNKNOWN_TIMEZONE", f"monitors.timezone: unknown time zone {body.timezone!r}"
        ) from None
    return MonitorLimits(
        max_drawdown=body.maxDrawdown,
        daily_loss_limit=body.dailyLossLimit,
        flatten_on_drawdown=body.flattenOnDrawdown,
        timezone=body.timezone,
        volatility_window=body.volatilityWindow,
        volatility_threshold=body.volatilityThreshold,
        jump_threshold=body.jumpThreshold,
        reduce_fraction=body.reduceFraction,
        tighten_factor=body.tightenFactor,
        cooldown_ns=body.cooldownSeconds * 1_000_000_000,
    )
