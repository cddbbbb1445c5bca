"""The ``GET /api/v1/risk/metrics`` view of a risk report."""

from __future__ import annotations

import math
from decimal import Decimal

from alphintra.api.schemas import ExposureView, ReturnRiskView, RiskMetricsView, VarFigure
from alphintra.api.views import when
from alphintra.domain.account import AccountState
from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.marketdata.daily_closes import DailyCloses
from alphintra.portfolio.exposure import Exposure
from alphintra.portfolio.fx import FxRates
from alphintra.portfolio.risk_metrics import ReturnRisk, build_risk_report
from alphintra.portfolio.statistics import EquityPoint
from alphintra.store.directory import RiskSnapshot


def _exposure(exposure: Exposure) -> ExposureView:
    return ExposureView(gross=format(exposure.gross, "f"), net=format(exposure.net, "f"))


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _return_risk(risk: ReturnRisk | None) -> ReturnRiskView | None:
    if risk is None:
        return None
    figures = [
        VarFigure(
            method="historical",
            confidence=h.confidence,
            horizonDays=h.horizon_days,
            valueAtRisk=h.value_at_risk,
            valueAtRiskAmount=_amount(h.value_at_risk_amount),
            expectedShortfall=h.expected_shortfall,
            expectedShortfallAmount=_amount(h.expected_shortfall_amount),
        )
        for h in risk.historical
    ] + [
        VarFigure(
            method="parametric",
            confidence=p.confidence,
            horizonDays=p.horizon_days,
            valueAtRisk=p.value_at_risk,
            valueAtRiskAmount=_amount(p.value_at_risk_amount),
        )
        for p in risk.parametric
    ]
    return ReturnRiskView(
        source=str(risk.source),
        firstDate=risk.first_date.isoformat(),
        lastDate=risk.last_date.isoformat(),
        observations=risk.observations,
        var=figures,
        sharpeRatio=risk.sharpe_ratio,
        sortinoRatio=risk.sortino_ratio,
        maxDrawdown=format(risk.max_drawdown, "f"),
        beta=risk.beta,
    )


def risk_metrics_view(
    account_id: str,
    state: AccountState,
    registry: InstrumentRegistry,
    fx: FxRates,
    equity_curve: list[EquityPoint],
    daily: DailyCloses,
    benchmark: str,
    now_ns: int,
) -> RiskMetricsView:
    """Build the risk report of an account and its API view.

    Held instruments without daily history leave the current-weights section empty.
    """
    held = [p.instrument_id for p in state.positions.values() if p.quantity]
    closes = {symbol: daily.closes(symbol) for symbol in held}
    complete = all(series for series in closes.values())
    report = build_risk_report(
        state,
        registry.get,
        fx.convert,
        equity_curve=equity_curve or None,
        closes={InstrumentId(k): v for k, v in closes.items() if v} if complete and held else None,
        benchmark_closes=daily.closes(benchmark),
    )
    exposure = report.exposure
    correlation = None
    if report.correlation is not None:
        matrix = report.correlation
        correlation = {
            str(a): {
                str(b): (None if math.isnan(matrix.values[i][j]) else matrix.values[i][j])
                for j, b in enumerate(matrix.names)
            }
            for i, a in enumerate(matrix.names)
        }
    return RiskMetricsView(
        accountId=account_id,
        currency=report.currency,
        equity=format(exposure.equity, "f"),
        leverage=_amount(exposure.leverage),
        exposure=_exposure(exposure.total),
        exposureBySector={k: _exposure(v) for k, v in exposure.by_sector.items()},
        exposureByAssetClass={str(k): _exposure(v) for k, v in exposure.by_asset_class.items()},
        weights={str(k): v for k, v in report.weights.items()},
        equityCurve=_return_risk(report.equity_curve_risk),
        currentWeights=_return_risk(report.current_weights_risk),
        instrumentBetas={str(k): v for k, v in report.instrument_betas.items()},
        correlation=correlation,
        benchmark=benchmark,
        computedAt=when(now_ns),
    )


def _headline(view: RiskMetricsView, confidence: float) -> tuple[Decimal | None, Decimal | None]:
    """Return the one-day historical VaR and ES amounts, preferring the portfolio's
    own return history over instrument returns at current weights."""
    for risk in (view.equityCurve, view.currentWeights):
        if risk is None:
            continue
        for figure in risk.var:
            if (
                figure.method == "historical"
                and figure.horizonDays == 1
                and figure.confidence == confidence
                and figure.valueAtRiskAmount is not None
            ):
                es = figure.expectedShortfallAmount
                return Decimal(figure.valueAtRiskAmount), None if es is None else Decimal(es)
    return None, None


def risk_snapshot(view: RiskMetricsView, ts_ns: int) -> RiskSnapshot:
    """Return the stored form of a risk report: headline figures plus the whole JSON."""
    var95, es95 = _headline(view, 0.95)
    var99, es99 = _headline(view, 0.99)
    curve = view.equityCurve or view.currentWeights
    return RiskSnapshot(
        account_id=view.accountId,
        ts_ns=ts_ns,
        currency=view.currency,
        equity=Decimal(view.equity),
        gross_exposure=Decimal(view.exposure.gross),
        net_exposure=Decimal(view.exposure.net),
        leverage=None if view.leverage is None else Decimal(view.leverage),
        var_95_1d=var95,
        es_95_1d=es95,
        var_99_1d=var99,
        es_99_1d=es99,
        max_drawdown=None if curve is None else Decimal(curve.maxDrawdown),
        report=view.model_dump_json(),
    )
