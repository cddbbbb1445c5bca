"""The report aggregates on the hand-worked day of ``scenario`` (buys and sells)."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from alphintra.domain.identifiers import VenueId
from alphintra.execution.quality import RATIO
from alphintra.execution.tca import CostBreakdown, ExecutionStats
from alphintra.reports.build import (
    best_execution_day,
    previous_day,
    slippage_histogram,
    tca_report,
    tca_selection,
)
from alphintra.reports.records import COLUMNS, order_rows, orders_from_rows
from alphintra.reports.render import ReportFormat, jsonable, render
from reports.scenario import BARS, BTC, DAY, SEC, T0, D, day_orders


def _row(rows: tuple[ExecutionStats, ...], venue: str | None) -> ExecutionStats:
    return next(r for r in rows if r.venue == venue)


def test_best_execution_instrument_row_counts_parents_not_children_with_percentiles() -> None:
    report = best_execution_day(DAY, day_orders())
    assert report.order_count == 4  # B1, S1, S2, C1: the child slice B1-c1 is not counted
    row = _row(report.execution.instruments, None)
    assert (row.order_count, row.fill_count, row.filled_quantity) == (4, 4, D(4))
    assert row.fill_rate == D("0.8")  # 4 filled of 5 ordered
    slippage = row.slippage_bps  # per order: -5 (S2), 10 (S1), 12.5 (B1)
    assert slippage.count == 3
    assert slippage.mean == RATIO.divide(D("17.5"), D(3))
    assert slippage.p50 == D(10)
    assert slippage.p90 == D(10) + D("0.8") * D("2.5")  # rank 1.8
    assert slippage.p99 == D(10) + D("0.98") * D("2.5")  # rank 1.98
    times = row.execution_time_ns
    assert (times.p50, times.mean) == (D(2 * SEC), D(2 * SEC))
    assert row.price_improvement_rate == D("0.5")  # B1's first fill and S2 of four fills


def test_best_execution_venue_rows_slice_orders_by_venue() -> None:
    report = best_execution_day(DAY, day_orders())
    v1, v2 = _row(report.execution.venues, "V1"), _row(report.execution.venues, "V2")
    # V1: B1's first fill (buy 100.05: +5 bps) and S1 (sell 99.90: +10 bps).
    assert (v1.order_count, v1.slippage_bps.mean) == (2, D("7.5"))
    assert (v1.slippage_bps.p50, v1.quantity_share) == (D("7.5"), D("0.5"))
    # V2: B1's second fill (buy 100.20: +20 bps, at 1 s) and S2 (sell 100.05: -5 bps, a
    # gain, at 3 s): the p99 execution time is 1 s + 0.99 x 2 s.
    assert (v2.slippage_bps.mean, v2.execution_time_ns.p99) == (D("7.5"), D("2.98") * SEC)
    assert v1.price_improvement_rate == v2.price_improvement_rate == D("0.5")
    assert report.execution.venue_breakdown(BTC) == {
        VenueId("V1"): D("0.5"),
        VenueId("V2"): D("0.5"),
    }


def _costs(cost: CostBreakdown) -> tuple[Decimal, ...]:
    return (cost.spread, cost.impact, cost.timing, cost.fees, cost.implementation_shortfall)


def test_tca_total_decomposes_buys_and_sells_exactly() -> None:
    report = tca_report(day_orders(), tca_selection())
    (usd,) = report.costs
    assert usd.currency == "USD"
    # spread .15 + .20 + .05; impact .10 - .10 - .10; timing 1.00; fees .20 + .05.
    assert _costs(usd.total) == (D("0.40"), D("-0.10"), D("1.00"), D("0.25"), D("1.55"))
    assert usd.total.decision_notional == D("399.00")  # 99.50 x 2 + 100.00 + 100.00
    assert usd.total.implementation_shortfall_bps == RATIO.divide(D(15_500), D("399.00"))
    assert usd.total.opportunity_cost == D("0.10")  # C1: 1 unfilled, mid 100.00 -> 100.10


def test_tca_by_venue_and_by_model_add_up_to_the_total() -> None:
    (usd,) = tca_report(day_orders(), tca_selection()).costs
    venues = {g.key: g.cost for g in usd.by_venue}
    assert _costs(venues["V1"]) == (D("0.25"), D("-0.10"), D("0.50"), D("0.15"), D("0.80"))
    assert _costs(venues["V2"]) == (D("0.15"), D("0.00"), D("0.50"), D("0.10"), D("0.75"))
    assert venues[None].order_count == 1  # C1, unfilled
    models = {g.key: g.cost.implementation_shortfall for g in usd.by_model}
    assert models == {"m1": D("1.45"), "m2": D("0.10")}
    strategies = {g.key for g in usd.by_strategy}
    assert strategies == {"TWAP", "MARKET", "LIMIT"}


def test_tca_model_and_period_filters_select_orders() -> None:
    m2 = tca_report(day_orders(), tca_selection(model_id="m2"))
    assert m2.order_count == 2
    assert _costs(m2.costs[0].total) == (D("0.25"), D("-0.20"), D(0), D("0.05"), D("0.10"))
    later = tca_report(day_orders(), tca_selection(start_ts=T0 + 1))
    assert (later.order_count, later.costs) == (0, ())


def test_tca_selection_period_ending_before_start_names_both_values() -> None:
    with pytest.raises(ValueError, match=f"got {T0} to {T0}"):
        tca_selection(start_ts=T0, end_ts=T0)


def test_slippage_histogram_bins_sell_gain_below_zero_and_costs_above() -> None:
    report = best_execution_day(DAY, day_orders())
    counts = {(b.low, b.high): b.count for b in report.slippage_histogram if b.count}
    assert counts == {(D(-5), D(-2)): 1, (D(10), D(20)): 2}
    assert len(slippage_histogram([])) == 14 and report.slippage_histogram[0].low is None


def test_algo_schedule_against_market_volume_curve() -> None:
    report = best_execution_day(DAY, day_orders(), {BTC: BARS})
    (schedule,) = report.schedules
    assert (schedule.order_id, schedule.algo, schedule.end_ts) == ("B1", "TWAP", T0 + 2 * SEC)
    assert [(p.ts - T0, p.fraction) for p in schedule.executed] == [
        (0, D(0)),
        (0, D("0.5")),
        (SEC, D(1)),
    ]
    assert [(p.ts - T0, p.fraction) for p in schedule.market_volume] == [
        (0, D(0)),
        (SEC, D("0.75")),
        (2 * SEC, D(1)),
    ]
    assert best_execution_day(DAY, day_orders()).schedules[0].market_volume == ()


def test_other_days_orders_are_not_in_the_day_report() -> None:
    report = best_execution_day(previous_day(T0), day_orders())
    assert report.order_count == 0 and report.execution.instruments == ()


def test_rows_round_trip_every_figure() -> None:
    orders = day_orders()
    rows = [dict(zip(COLUMNS, row, strict=True)) for o in orders for row in order_rows(o)]
    assert len(rows) == 5 + 5  # one ORDER row per order, one FILL row per fill
    text_rows = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in r.items()} for r in rows]
    assert orders_from_rows(text_rows) == sorted(
        orders, key=lambda o: (o.quality.arrival_ts, o.quality.client_order_id)
    )


def test_json_writes_decimals_as_exact_strings() -> None:
    report = best_execution_day(DAY, day_orders())
    data = json.loads(render(report, ReportFormat.JSON))
    instrument = data["execution"]["instruments"][0]
    assert instrument["filledNotional"] == "400.20"  # 100.05 + 100.20 + 99.90 + 100.05
    assert instrument["slippageBps"]["count"] == 3
    assert D(instrument["slippageBps"]["p50"]) == D(10)
    assert data["day"] == "2026-03-02"
    assert jsonable(D("1E+1")) == "10"


def test_best_execution_csv_has_instrument_then_venue_lines() -> None:
    text = render(best_execution_day(DAY, day_orders()), ReportFormat.CSV)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["venue"] for r in rows] == ["ALL", "V1", "V2"]
    assert rows[0]["order_count"] == "4" and D(rows[0]["fill_rate"]) == D("0.8")
    assert D(rows[1]["slippage_bps_mean"]) == D("7.5")


def test_tca_csv_lists_total_then_groups() -> None:
    text = render(tca_report(day_orders(), tca_selection()), ReportFormat.CSV)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert (rows[0]["dimension"], rows[0]["implementation_shortfall"]) == ("TOTAL", "1.55")
    venue = next(r for r in rows if r["dimension"] == "VENUE" and r["key"] == "V2")
    assert D(venue["implementation_shortfall"]) == D("0.75")


def test_html_has_the_three_charts() -> None:
    page = render(best_execution_day(DAY, day_orders(), {BTC: BARS}), ReportFormat.HTML)
    assert page.count("<svg") == 3  # slippage distribution, cost by venue, B1's schedule
    assert "Schedule of B1" in page and "Slippage distribution" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
