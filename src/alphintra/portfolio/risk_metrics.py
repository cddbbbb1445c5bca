"""Portfolio risk metrics: value at risk, expected shortfall, beta, correlation, a report.

Returns are simple daily returns in float64 (statistics, not money); money amounts
and exposures are exact ``Decimal``. The conventions, precisely:

**Historical simulation.** For a confidence level α (0.95, 0.99) and ``n`` returns,
let ``k = ceil(n × (1 − α))``, where α is taken as the decimal it prints as (0.95 is
exactly 19/20, so 100 returns give k = 5, not the 6 that float rounding of
``1 − 0.95`` would give). The VaR return ``q`` is the k-th smallest return: the
inverse of the empirical distribution function at ``1 − α``, without interpolation
(numpy's ``quantile(..., method="inverted_cdf")``, Hyndman–Fan type 1), so ``q`` is
always an observed return. ``VaR = −q`` and ``ES = −mean(every return ≤ q)``, ties
with ``q`` included; ES is never reported below VaR (a guard against the last-bit
rounding of the mean). Over ``h`` days both are scaled by ``√h``
(square-root-of-time rule, which assumes independent, identically distributed
daily returns).

**Parametric (variance–covariance, normal).** ``VaR = z(α)·σ·√h − μ·h``, where
``z(α)`` is the standard normal α-quantile (`statistics.NormalDist.inv_cdf`), ``μ``
the mean and ``σ`` the sample standard deviation (ddof=1) of the daily returns. The
mean is included unless ``include_mean=False`` (then ``z(α)·σ·√h``). For weights
``w`` over instruments, ``μ_p = wᵀμ`` and ``σ_p = √(wᵀΣw)`` with ``Σ`` the sample
covariance matrix (ddof=1).

**Sign and money.** VaR and ES are losses as positive fractions of portfolio value
(0.02 is 2 %); a negative value means even the tail outcome is a gain. A money
amount is the fraction × the portfolio value (`loss_amount`), rounded half-even.

**Beta** ``= cov(asset, benchmark) / var(benchmark)``, both with ddof=1 (the ddof
cancels), over the dates on which both series have a return. **Correlation** is
Pearson's, from the sample covariance: symmetric, with a unit diagonal; entries that
involve a constant series are NaN.

Every function here is pure: no I/O, no clocks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation, Overflow
from enum import StrEnum
from fractions import Fraction
from statistics import NormalDist
from typing import Final, Generic

import numpy as np
import numpy.typing as npt

from alphintra.domain.account import AccountState
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.values import ZERO, Currency
from alphintra.portfolio.exposure import (
    AccountExposure,
    FxConvert,
    InstrumentLookup,
    account_exposure,
)
from alphintra.portfolio.return_series import (
    AlignedReturns,
    K,
    align_returns,
    daily_equity_returns,
    simple_returns,
)
from alphintra.portfolio.statistics import (
    TRADING_DAYS_PER_YEAR,
    EquityPoint,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
)

FloatArray = npt.NDArray[np.float64]
Returns = Sequence[float] | FloatArray
"""A one-dimensional series of simple returns."""

_ONE: Final = Decimal(1)
_CONTEXT: Final = Context(
    prec=34,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
_STANDARD_NORMAL: Final = NormalDist()


def _tail_probability(confidence: float) -> Fraction:
    # 1 − confidence exactly, reading the confidence as the decimal it prints as.
    if not (isinstance(confidence, int | float) and math.isfinite(confidence)):
        raise ValueError(f"confidence must be a finite number in (0, 1), got {confidence!r}")
    level = Fraction(repr(float(confidence)))
    if not 0 < level < 1:
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence}")
    return 1 - level


def _horizon_scale(horizon_days: int) -> float:
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise ValueError(f"horizon_days must be a whole number of days >= 1, got {horizon_days!r}")
    return math.sqrt(horizon_days)


# --- value at risk and expected shortfall -------------------------------------------------


def historical_var(returns: Returns, confidence: float = 0.95, horizon_days: int = 1) -> float:
    """Return the historical-simulation VaR of ``returns`` as a positive loss fraction.

    ``VaR = −q × √horizon_days`` with ``q`` the ``ceil(n × (1 − confidence))``-th
    smallest return (see the module docstring). Raise ``ValueError`` for no returns,
    a non-finite return, a confidence outside (0, 1) or a horizon below one day.
    """
    value_at_risk, _ = _historical(returns, confidence)
    return value_at_risk * _horizon_scale(horizon_days)


def historical_expected_shortfall(
    returns: Returns, confidence: float = 0.95, horizon_days: int = 1
) -> float:
    """Return the historical-simulation expected shortfall as a positive loss fraction.

    ``ES = −mean(returns ≤ q) × √horizon_days``, with ``q`` the VaR return of
    `historical_var`; never less than the VaR at the same level. Raise as
    `historical_var` does.
    """
    _, shortfall = _historical(returns, confidence)
    return shortfall * _horizon_scale(horizon_days)


def parametric_var(
    mean: float,
    std: float,
    confidence: float = 0.95,
    horizon_days: int = 1,
    *,
    include_mean: bool = True,
) -> float:
    """Return the normal VaR ``z(confidence)·std·√h − mean·h`` as a positive loss fraction.

    ``mean`` and ``std`` are of daily returns; ``include_mean=False`` drops the
    ``mean·h`` term. Raise ``ValueError`` for a negative or non-finite ``std``, a
    non-finite ``mean``, a confidence outside (0, 1) or a horizon below one day.
    """
    _tail_probability(confidence)
    scale = _horizon_scale(horizon_days)
    if not (math.isfinite(std) and std >= 0):
        raise ValueError(f"std must be finite and non-negative, got {std}")
    if not math.isfinite(mean):
        raise ValueError(f"mean must be finite, got {mean}")
    drift = mean * horizon_days if include_mean else 0.0
    return _STANDARD_NORMAL.inv_cdf(confidence) * std * scale - drift


def parametric_var_of_returns(
    returns: Returns,
    confidence: float = 0.95,
    horizon_days: int = 1,
    *,
    include_mean: bool = True,
) -> float:
    """Return the normal VaR from the mean and sample std (ddof=1) of ``returns``.

    Raise ``ValueError`` for fewer than two returns, or as `parametric_var` does.
    """
    values = _as_returns(returns)
    if values.size < 2:
        raise ValueError(f"parametric VaR needs at least 2 returns, got {values.size}")
    return parametric_var(
        float(np.mean(values)),
        float(np.std(values, ddof=1)),
        confidence,
        horizon_days,
        include_mean=include_mean,
    )


def portfolio_returns(matrix: FloatArray, weights: Sequence[float] | FloatArray) -> FloatArray:
    """Return the portfolio's return series ``matrix @ weights``.

    ``matrix`` has one row per date and one column per instrument (as
    `AlignedReturns.matrix`); ``weights`` are the instruments' signed values as
    fractions of portfolio value (cash earns nothing). Raise ``ValueError`` when the
    shapes do not match.
    """
    columns, vector = _check_weights(matrix, weights)
    return np.asarray(columns @ vector, dtype=np.float64)


def portfolio_mean_std(
    matrix: FloatArray, weights: Sequence[float] | FloatArray
) -> tuple[float, float]:
    """Return ``(wᵀμ, √(wᵀΣw))``: the portfolio's mean and std of returns from the moments.

    ``μ`` is the column means and ``Σ`` the sample covariance matrix (ddof=1) of
    ``matrix``. Raise ``ValueError`` for fewer than two rows or mismatched shapes.
    """
    columns, vector = _check_weights(matrix, weights)
    if columns.shape[0] < 2:
        raise ValueError(f"portfolio moments need at least 2 rows, got {columns.shape[0]}")
    covariance = np.atleast_2d(np.cov(columns, rowvar=False, ddof=1))
    variance = float(vector @ covariance @ vector)
    return float(np.mean(columns, axis=0) @ vector), math.sqrt(max(variance, 0.0))


def loss_amount(fraction: float, portfolio_value: Decimal, places: int = 2) -> Decimal:
    """Return ``fraction × portfolio_value`` as money, rounded half-even to ``places``.

    The fraction is taken as the decimal it prints as. Raise ``ValueError`` for a
    non-finite fraction.
    """
    if not math.isfinite(fraction):
        raise ValueError(f"a loss fraction must be finite, got {fraction}")
    exact = _CONTEXT.multiply(Decimal(repr(fraction)), portfolio_value)
    return exact.quantize(_ONE.scaleb(-places), context=_CONTEXT)


# --- beta and correlation -----------------------------------------------------------------


def beta(asset: Mapping[date, float], benchmark: Mapping[date, float]) -> float | None:
    """Return the beta of dated ``asset`` returns against dated ``benchmark`` returns.

    The series are aligned on the dates both have (inner join). Return None with
    fewer than two common dates or a constant benchmark.
    """
    dates = sorted(asset.keys() & benchmark.keys())
    return _beta(
        np.array([asset[d] for d in dates], dtype=np.float64),
        np.array([benchmark[d] for d in dates], dtype=np.float64),
    )


def beta_from_closes(
    asset_closes: Mapping[date, Decimal], benchmark_closes: Mapping[date, Decimal]
) -> float | None:
    """Return the beta of an asset against a benchmark from their daily closes.

    The closes are aligned first (inner join, see `align_returns`), so both returns
    of every pair span the same dates. Return None as `beta` does.
    """
    aligned = align_returns({"asset": asset_closes, "benchmark": benchmark_closes})
    return _beta(aligned.column("asset"), aligned.column("benchmark"))


@dataclass(frozen=True, slots=True)
class CorrelationMatrix(Generic[K]):
    """Pearson correlations; ``values[i][j]`` correlates ``names[i]`` with ``names[j]``."""

    names: tuple[K, ...]
    values: tuple[tuple[float, ...], ...]

    def between(self, first: K, second: K) -> float:
        """Return the correlation of two named series; raise ``KeyError`` when absent."""
        return self.values[self._index(first)][self._index(second)]

    def _index(self, name: K) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no series named {name!r}; series are {list(self.names)}") from None


def correlation_matrix(aligned: AlignedReturns[K]) -> CorrelationMatrix[K]:
    """Return the correlation matrix of aligned return series.

    Exactly symmetric, with 1.0 on the diagonal; rows and columns that involve a
    constant series are NaN. Raise ``ValueError`` with fewer than two dates.
    """
    matrix = aligned.matrix
    rows = matrix.shape[0]
    if rows < 2:
        raise ValueError(f"a correlation needs at least 2 aligned returns, got {rows}")
    centred = matrix - np.mean(matrix, axis=0)
    covariance = centred.T @ centred / (rows - 1)
    std = np.sqrt(np.diag(covariance))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.clip(covariance / np.outer(std, std), -1.0, 1.0)
    upper = np.triu(scaled, 1)
    result = upper + upper.T
    np.fill_diagonal(result, np.where(std > 0, 1.0, np.nan))
    nan_rows = ~(std > 0)
    result[nan_rows, :] = np.nan
    result[:, nan_rows] = np.nan
    return CorrelationMatrix(
        names=aligned.names,
        values=tuple(tuple(float(v) for v in row) for row in result),
    )


# --- the report ---------------------------------------------------------------------------


class ReturnSource(StrEnum):
    """Where a return series came from."""

    EQUITY_CURVE = "EQUITY_CURVE"
    """The account's own history: daily returns of its equity curve."""
    CURRENT_WEIGHTS = "CURRENT_WEIGHTS"
    """Today's positions held through history: instrument returns @ current weights."""


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """What the report measures: confidence levels, horizons and annualisation.

    Raise ``ValueError`` on creation for a confidence outside (0, 1), a horizon below
    one day, non-positive periods per year or negative money places.
    """

    confidences: tuple[float, ...] = (0.95, 0.99)
    horizons_days: tuple[int, ...] = (1, 10)
    periods_per_year: float = float(TRADING_DAYS_PER_YEAR)
    """Annualisation of Sharpe and Sortino (252 trading days by default)."""
    risk_free_per_period: float = 0.0
    include_mean: bool = True
    """Whether parametric VaR subtracts the mean return (``μ·h``)."""
    money_places: int = 2

    def __post_init__(self) -> None:
        for confidence in self.confidences:
            _tail_probability(confidence)
        for horizon in self.horizons_days:
            _horizon_scale(horizon)
        if not (math.isfinite(self.periods_per_year) and self.periods_per_year > 0):
            raise ValueError(f"periods_per_year must be positive, got {self.periods_per_year}")
        if self.money_places < 0:
            raise ValueError(f"money_places must be non-negative, got {self.money_places}")


DEFAULT_RISK_SETTINGS: Final = RiskSettings()


@dataclass(frozen=True, slots=True)
class HistoricalVar:
    """Historical-simulation VaR and ES at one confidence level and horizon.

    The amounts are None when the portfolio value is unknown or not positive.
    """

    confidence: float
    horizon_days: int
    value_at_risk: float
    expected_shortfall: float
    value_at_risk_amount: Decimal | None
    expected_shortfall_amount: Decimal | None


@dataclass(frozen=True, slots=True)
class ParametricVar:
    """Normal (variance–covariance) VaR at one confidence level and horizon."""

    confidence: float
    horizon_days: int
    include_mean: bool
    value_at_risk: float
    value_at_risk_amount: Decimal | None


@dataclass(frozen=True, slots=True)
class ReturnRisk:
    """Risk and performance statistics of one daily return series.

    ``mean`` and ``std`` (ddof=1) are of daily returns. ``max_drawdown`` is a
    non-negative fraction: of the equity curve itself for `ReturnSource.EQUITY_CURVE`,
    of the growth index ``∏(1 + r)`` for `ReturnSource.CURRENT_WEIGHTS`. ``beta`` is
    None without a benchmark.
    """

    source: ReturnSource
    first_date: date
    last_date: date
    observations: int
    mean: float
    std: float
    historical: tuple[HistoricalVar, ...]
    parametric: tuple[ParametricVar, ...]
    sharpe_ratio: float | None
    sortino_ratio: float | None
    max_drawdown: Decimal
    beta: float | None

    def historical_at(self, confidence: float, horizon_days: int = 1) -> HistoricalVar:
        """Return the historical estimate at a level and horizon; raise ``KeyError``."""
        for estimate in self.historical:
            if (estimate.confidence, estimate.horizon_days) == (confidence, horizon_days):
                return estimate
        raise KeyError(f"no historical VaR at confidence {confidence}, {horizon_days} days")

    def parametric_at(self, confidence: float, horizon_days: int = 1) -> ParametricVar:
        """Return the parametric estimate at a level and horizon; raise ``KeyError``."""
        for estimate in self.parametric:
            if (estimate.confidence, estimate.horizon_days) == (confidence, horizon_days):
                return estimate
        raise KeyError(f"no parametric VaR at confidence {confidence}, {horizon_days} days")


@dataclass(frozen=True, slots=True)
class RiskMetricsReport:
    """Risk metrics of one account at its current marks.

    ``equity_curve_risk`` is measured on the account's own equity history,
    ``current_weights_risk`` on today's positions held through the instruments'
    history; each is None when its input was not given or yields fewer than two
    daily returns (the latter also when equity is not positive, as weights are then
    undefined). Money amounts are fractions of ``exposure.equity``.
    """

    currency: Currency
    exposure: AccountExposure
    equity_curve_risk: ReturnRisk | None
    current_weights_risk: ReturnRisk | None
    weights: Mapping[InstrumentId, float]
    """Each open position's signed value / equity (empty unless equity > 0)."""
    instrument_betas: Mapping[InstrumentId, float | None]
    """Beta of every instrument with closes against the benchmark (empty without one)."""
    correlation: CorrelationMatrix[InstrumentId] | None
    """Correlations of the open positions' instruments (None without enough closes)."""
    settings: RiskSettings

    @property
    def leverage(self) -> Decimal | None:
        """Return gross exposure / equity, or None when equity is not positive."""
        return self.exposure.leverage


def build_risk_report(
    state: AccountState,
    instrument_of: InstrumentLookup,
    convert: FxConvert,
    *,
    equity_curve: Sequence[EquityPoint] | None = None,
    closes: Mapping[InstrumentId, Mapping[date, Decimal]] | None = None,
    benchmark_closes: Mapping[date, Decimal] | None = None,
    settings: RiskSettings = DEFAULT_RISK_SETTINGS,
) -> RiskMetricsReport:
    """Build the risk report of ``state`` at its current marks.

    ``equity_curve`` is the account's ``(ts_ns, equity)`` history, sampled at the last
    point of each UTC day. ``closes`` are daily closes per instrument; every open
    position needs a series (instruments not held may be given, for their betas).
    ``benchmark_closes`` are the benchmark's daily closes, for beta. Exposure and
    equity come from `account_exposure`. Raise ``ValueError`` when an open position
    has no closes, and `MissingFxRateError` when an amount cannot be converted.
    """
    exposure = account_exposure(state, instrument_of, convert)
    value = exposure.equity if exposure.equity > ZERO else None
    benchmark = simple_returns(benchmark_closes) if benchmark_closes is not None else None
    curve_risk = None
    if equity_curve is not None:
        daily = daily_equity_returns(equity_curve)
        if len(daily) >= 2:
            curve_risk = _return_risk(
                daily,
                None,
                ReturnSource.EQUITY_CURVE,
                max_drawdown(equity_curve),
                value,
                benchmark,
                settings,
            )
    decimal_weights = exposure.weights() or {}
    weights = {instrument: float(w) for instrument, w in decimal_weights.items()}
    weights_risk = None
    correlation = None
    if closes is not None:
        held = [p.instrument_id for p in exposure.positions]
        missing = [instrument for instrument in held if instrument not in closes]
        if missing:
            raise ValueError(
                f"no daily closes for open positions {missing}; closes were given for "
                f"{sorted(closes)}"
            )
        aligned = align_returns({instrument: closes[instrument] for instrument in held})
        if len(aligned.dates) >= 2:
            correlation = correlation_matrix(aligned)
            if weights:
                weights_risk = _weights_risk(aligned, weights, value, benchmark, settings)
    betas: dict[InstrumentId, float | None] = {}
    if closes is not None and benchmark_closes is not None:
        betas = {i: beta_from_closes(closes[i], benchmark_closes) for i in sorted(closes)}
    return RiskMetricsReport(
        currency=exposure.currency,
        exposure=exposure,
        equity_curve_risk=curve_risk,
        current_weights_risk=weights_risk,
        weights=weights,
        instrument_betas=betas,
        correlation=correlation,
        settings=settings,
    )


def _weights_risk(
    aligned: AlignedReturns[InstrumentId],
    weights: Mapping[InstrumentId, float],
    value: Decimal | None,
    benchmark: Mapping[date, float] | None,
    settings: RiskSettings,
) -> ReturnRisk:
    vector = np.array([weights[name] for name in aligned.names], dtype=np.float64)
    series = portfolio_returns(aligned.matrix, vector)
    growth = np.cumprod(1.0 + series)
    index_curve = [(day, Decimal(float(level))) for day, level in enumerate(growth, start=1)]
    return _return_risk(
        dict(zip(aligned.dates, (float(r) for r in series), strict=True)),
        portfolio_mean_std(aligned.matrix, vector),
        ReturnSource.CURRENT_WEIGHTS,
        max_drawdown(index_curve, opening_equity=_ONE),
        value,
        benchmark,
        settings,
    )


def _return_risk(
    dated: Mapping[date, float],
    moments: tuple[float, float] | None,
    source: ReturnSource,
    drawdown: Decimal,
    value: Decimal | None,
    benchmark: Mapping[date, float] | None,
    settings: RiskSettings,
) -> ReturnRisk:
    # ``moments``, when given, overrides the (mean, std) that parametric VaR uses.
    values = np.array(list(dated.values()), dtype=np.float64)
    mean, std = float(np.mean(values)), float(np.std(values, ddof=1))
    parametric_mean, parametric_std = moments if moments is not None else (mean, std)
    places = settings.money_places

    def amount(fraction: float) -> Decimal | None:
        return None if value is None else loss_amount(fraction, value, places)

    historical: list[HistoricalVar] = []
    parametric: list[ParametricVar] = []
    for confidence in settings.confidences:
        one_day_var, one_day_es = _historical(values, confidence)
        for horizon in settings.horizons_days:
            scale = _horizon_scale(horizon)
            var_h, es_h = one_day_var * scale, one_day_es * scale
            historical.append(
                HistoricalVar(confidence, horizon, var_h, es_h, amount(var_h), amount(es_h))
            )
            normal = parametric_var(
                parametric_mean,
                parametric_std,
                confidence,
                horizon,
                include_mean=settings.include_mean,
            )
            parametric.append(
                ParametricVar(confidence, horizon, settings.include_mean, normal, amount(normal))
            )
    returns = list(dated.values())
    dates = list(dated)
    return ReturnRisk(
        source=source,
        first_date=dates[0],
        last_date=dates[-1],
        observations=len(returns),
        mean=mean,
        std=std,
        historical=tuple(historical),
        parametric=tuple(parametric),
        sharpe_ratio=sharpe_ratio(
            returns, settings.periods_per_year, settings.risk_free_per_period
        ),
        sortino_ratio=sortino_ratio(
            returns, settings.periods_per_year, settings.risk_free_per_period
        ),
        max_drawdown=drawdown,
        beta=beta(dated, benchmark) if benchmark is not None else None,
    )


# --- helpers ------------------------------------------------------------------------------


def _historical(returns: Returns, confidence: float) -> tuple[float, float]:
    # The one-day (VaR, ES) of the returns at the confidence level.
    tail = _tail_probability(confidence)
    ordered = np.sort(_as_returns(returns))
    count = math.ceil(ordered.size * tail)  # at least 1: tail > 0 and size > 0
    threshold = float(ordered[count - 1])
    tail_mean = float(np.mean(ordered[ordered <= threshold]))
    return -threshold, -min(tail_mean, threshold)


def _as_returns(returns: Returns) -> FloatArray:
    values = np.asarray(returns, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"returns must be a non-empty 1-D series, got shape {values.shape}")
    if not bool(np.all(np.isfinite(values))):
        raise ValueError("returns must all be finite; got NaN or infinity")
    return values


def _check_weights(
    matrix: FloatArray, weights: Sequence[float] | FloatArray
) -> tuple[FloatArray, FloatArray]:
    columns = np.asarray(matrix, dtype=np.float64)
    vector = np.asarray(weights, dtype=np.float64)
    if columns.ndim != 2 or vector.ndim != 1 or columns.shape[1] != vector.size:
        raise ValueError(
            f"weights must have one entry per matrix column; got matrix shape "
            f"{columns.shape} and weights shape {vector.shape}"
        )
    return columns, vector


def _beta(asset: FloatArray, benchmark: FloatArray) -> float | None:
    if asset.size < 2:
        return None
    asset_dev = asset - np.mean(asset)
    benchmark_dev = benchmark - np.mean(benchmark)
    variance = float(benchmark_dev @ benchmark_dev)
    if not math.isfinite(variance) or variance == 0.0:
        return None
    return float(asset_dev @ benchmark_dev) / variance
