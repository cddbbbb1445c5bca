"""Translate the API's ``algo`` body into the engine's execution-algorithm specs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import ValidationError

from alphintra.api.schemas import AlgoIn, SignalIn
from alphintra.api.views import nanos
from alphintra.domain.identifiers import VenueId
from alphintra.execution.algorithms import (
    AlgoSpec,
    IcebergSpec,
    PovSpec,
    SorSpec,
    TwapSpec,
    VwapSpec,
    volume_profile,
)
from alphintra.execution.routing import CostModel, FailurePolicy
from alphintra.marketdata.daily_closes import minute_trade_bars
from alphintra.orders.factory import OrderValidationError
from alphintra.service.trading import InvalidRequestError

if TYPE_CHECKING:
    from alphintra.api.portal import Portal

VWAP_BUCKET_NS = 15 * 60 * 1_000_000_000
"""VWAP profiles use 15-minute time-of-day buckets."""


def _ns(moment: datetime | None, default: int) -> int:
    return nanos(moment) if moment is not None else default


def _iso(ns: int) -> str:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
    return moment.isoformat().replace("+00:00", "Z")


_WINDOW = frozenset({"startTime", "endTime", "finishAggressively"})
FIELDS: dict[str, frozenset[str]] = {
    "TWAP": _WINDOW | {"slices", "intervalSeconds", "sizeJitter", "timeJitter"},
    "VWAP": _WINDOW,
    "POV": _WINDOW | {"participation", "minChildQuantity", "maxChildQuantity"},
    "ICEBERG": frozenset({"displayQuantity"}),
    "SOR": frozenset(
        {"venues", "impactCoefficient", "volatilityPerMs", "rerouteCost", "maxAttempts"}
        | {"failurePolicy"}
    ),
}
"""The fields of the algo body each type reads (besides ``type``)."""


def _check_fields(algo: AlgoIn) -> None:
    """Refuse a field the algo type would drop (a TWAP's venues, an SOR's startTime)."""
    extra = sorted(algo.model_fields_set - FIELDS[algo.type] - {"type"})
    if extra:
        shown = ", ".join(f"{name}={getattr(algo, name)!r}" for name in extra)
        raise InvalidRequestError(
            "INVALID_ALGO",
            f"{algo.type} does not take {', '.join(extra)} (got {shown}); it takes "
            f"{', '.join(sorted(FIELDS[algo.type]))}",
        )


def _check_times(algo: AlgoIn, now: int) -> None:
    """Refuse an end time that leaves the algo no time, naming the times as sent."""
    if algo.endTime is None:
        return
    start, end = _ns(algo.startTime, now), nanos(algo.endTime)
    if end <= start:
        given = "" if algo.startTime is not None else " (now)"
        raise InvalidRequestError(
            "INVALID_ALGO", f"endTime {_iso(end)} is not after startTime {_iso(start)}{given}"
        )
    if end <= now:
        raise InvalidRequestError(
            "INVALID_ALGO", f"endTime {_iso(end)} is already past: now is {_iso(now)}"
        )


def algo_spec(algo: AlgoIn, now: int, portal: Portal, instrument_id: str) -> AlgoSpec:
    """Translate the API's algo body into an engine spec; 422 on a missing parameter.

    A field the type does not read is refused (``FIELDS``): ICEBERG and SOR work at
    once and take no start or end time, only SOR takes venues. An end time must be
    after the start (now by default) and not past.
    """
    _check_fields(algo)
    _check_times(algo, now)
    start = _ns(algo.startTime, now)
    try:
        if algo.type == "ICEBERG":
            if algo.displayQuantity is None:
                raise InvalidRequestError(
                    "MISSING_DISPLAY_QUANTITY", "ICEBERG needs displayQuantity"
                )
            return IcebergSpec(display_quantity=algo.displayQuantity)
        if algo.type == "SOR":
            return SorSpec(
                venues=tuple(VenueId(v) for v in algo.venues or ()),
                cost_model=CostModel(
                    impact_coefficient=algo.impactCoefficient,
                    volatility_per_ms=algo.volatilityPerMs,
                    reroute_cost=algo.rerouteCost,
                ),
                max_attempts=algo.maxAttempts,
                policy=FailurePolicy(algo.failurePolicy),
            )
        if algo.type == "POV":
            if algo.participation is None:
                raise InvalidRequestError("MISSING_PARTICIPATION", "POV needs participation")
            return PovSpec(
                participation=algo.participation,
                start_ns=start,
                end_ns=_ns(algo.endTime, 0) or None,
                min_child_quantity=algo.minChildQuantity or Decimal(0),
                max_child_quantity=algo.maxChildQuantity,
                finish_aggressively=bool(algo.finishAggressively),
            )
        if algo.endTime is None:
            raise InvalidRequestError("MISSING_END_TIME", f"{algo.type} needs endTime")
        end = _ns(algo.endTime, now)
        aggressive = True if algo.finishAggressively is None else algo.finishAggressively
        if algo.type == "TWAP":
            return TwapSpec(
                start_ns=start,
                end_ns=end,
                slices=algo.slices,
                interval_ns=algo.intervalSeconds * 1_000_000_000 if algo.intervalSeconds else None,
                size_jitter=algo.sizeJitter,
                time_jitter=algo.timeJitter,
                finish_aggressively=aggressive,
            )
        bars = minute_trade_bars(portal.daily.data_dir, instrument_id)
        if not bars:
            raise InvalidRequestError(
                "NO_VOLUME_HISTORY", f"VWAP needs minute volume history for {instrument_id}"
            )
        profile = volume_profile(bars, bucket_ns=VWAP_BUCKET_NS)
        return VwapSpec(start_ns=start, end_ns=end, profile=profile, finish_aggressively=aggressive)
    except (ValueError, OrderValidationError) as exc:
        if isinstance(exc, InvalidRequestError):
            raise
        raise InvalidRequestError("INVALID_ALGO", str(exc)) from None


def execution_algo(signal: SignalIn, now: int, portal: Portal) -> AlgoSpec | None:
    """Return the algo a signal names in ``metadata.execution``, or None.

    ``metadata.execution`` has the shape of the ``algo`` body of ``POST /orders``.
    """
    raw = signal.metadata.get("execution")
    if raw is None:
        return None
    try:
        algo = AlgoIn.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidRequestError(
            "INVALID_EXECUTION",
            f"metadata.execution.{where}: {first['msg']} (got {first.get('input')!r})",
        ) from None
    return algo_spec(algo, now, portal, signal.symbol.upper())
