"""Tests for the offline HTML backtest report."""

from __future__ import annotations

import dataclasses
import math
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from alphintra.backtest.report import MAX_FILL_ROWS, downsample_indices, write_report
from alphintra.portfolio.statistics import CALENDAR_DAYS_PER_YEAR, NS_PER_DAY, summarize

HOUR = 3_600 * 10**9
START_TS = 1_577_836_800 * 10**9  # 2020-01-01 00:00:00 UTC
CHROMIUM = Path("/usr/bin/chromium")


def _synthetic_curve(count: int) -> tuple[list[tuple[int, Decimal]], list[Decimal]]:
    """Return an hourly curve that rises, falls about 30 % mid-way, and recovers."""
    equity: list[tuple[int, Decimal]] = []
    for index in range(count):
        phase = index / count
        level = 100_000 * (1 + 0.4 * phase) * (1 - 0.3 * math.exp(-(((phase - 0.5) / 0.05) ** 2)))
        wiggle = 800 * math.sin(index / 15)
        equity.append((START_TS + index * HOUR, Decimal(f"{level + wiggle:.2f}")))
    peak = Decimal(0)
    drawdown: list[Decimal] = []
    for _, value in equity:
        peak = max(peak, value)
        drawdown.append(value / peak - 1)
    return equity, drawdown


def _fills(count: int) -> list[dict[str, object]]:
    return [
        {
            "ts_ns": START_TS + index * HOUR,
            "symbol": "<SPY>" if index == 0 else "SPY",
            "side": "BUY" if index % 2 == 0 else "SELL",
            "qty": Decimal("10"),
            "price": Decimal("321.25"),
            "fee": Decimal("0.35"),
        }
        for index in range(count)
    ]


def _summary() -> dict[str, object]:
    return {
        "sharpe_ratio": 1.2345,
        "starting_equity": Decimal("100000.00"),
        "final_equity": Decimal("108900.00"),
        "total_return": Decimal("0.089"),
        "realized_pnl": Decimal("9250.50"),
        "fees": Decimal("350.50"),
        "orders": 250,
        "fills": 250,
        "max_drawdown": Decimal("0.125"),
        "sortino_ratio": None,
        "strategy": "mean <reversion> & co",
    }


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "nested" / "report.html"
    equity, drawdown = _synthetic_curve(20_000)
    write_report(
        path,
        title="Backtest <SMA & crossover>",
        summary=_summary(),
        equity=equity,
        drawdown=drawdown,
        fills=_fills(250),
    )
    return path


def test_write_report_synthetic_curve_contains_escaped_title(report_path: Path) -> None:
    text = report_path.read_text(encoding="utf-8")

    assert "<title>Backtest &lt;SMA &amp; crossover&gt;</title>" in text
    assert "<h1>Backtest &lt;SMA &amp; crossover&gt;</h1>" in text
    assert "<SMA" not in text


def test_write_report_synthetic_curve_contains_summary_figures(report_path: Path) -> None:
    text = report_path.read_text(encoding="utf-8")

    for label, value in [
        ("Starting equity", "100,000.00"),
        ("Final equity", "108,900.00"),
        ("Total return", "8.90%"),
        ("Realised P&amp;L", "9,250.50"),
        ("Fees", "350.50"),
        ("Orders", "250"),
        ("Fills", "250"),
        ("Sharpe ratio", "1.23"),
        ("Sortino ratio", "n/a"),
        ("Max drawdown", "12.50%"),
        ("Strategy", "mean &lt;reversion&gt; &amp; co"),
    ]:
        assert f'<th scope="row">{label}</th><td class="num">{value}</td>' in text
    # Well-known keys come first in a fixed order, whatever order the mapping has.
    assert text.index("Starting equity") < text.index("Sharpe ratio") < text.index("Strategy")


def test_write_report_synthetic_curve_has_two_inline_charts(report_path: Path) -> None:
    text = report_path.read_text(encoding="utf-8")

    assert text.count('class="plotly-graph-div"') == 2
    assert 'id="equity-chart"' in text
    assert 'id="drawdown-chart"' in text
    # plotly.js is embedded exactly once, inline.
    assert text.count("window.PlotlyConfig") == 1
    assert "Plotly.newPlot" in text


def test_write_report_synthetic_curve_loads_nothing_from_network(report_path: Path) -> None:
    text = report_path.read_text(encoding="utf-8")

    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?(https?:)?//", text, re.IGNORECASE)


def test_write_report_many_fills_lists_first_200_escaped(report_path: Path) -> None:
    text = report_path.read_text(encoding="utf-8")
    fills_table = text[text.index('<table class="fills">') :]

    assert "First 200 of 250 fills" in text
    assert fills_table.count("<tr><td>") == MAX_FILL_ROWS
    assert "<td>2020-01-01 00:00:00</td><td>&lt;SPY&gt;</td><td>BUY</td>" in fills_table
    assert '<td class="num">321.25</td><td class="num">0.35</td>' in fills_table


def test_write_report_downsampled_file_stays_small(report_path: Path) -> None:
    # plotly.js is about 4.8 MB; 20,000 points must not add much on top of it.
    assert report_path.stat().st_size < 6_000_000


def test_write_report_without_fills_has_no_fills_table(tmp_path: Path) -> None:
    equity, drawdown = _synthetic_curve(10)
    path = tmp_path / "report.html"

    write_report(path, title="t", summary={}, equity=equity, drawdown=drawdown)

    text = path.read_text(encoding="utf-8")
    assert "<h2>Fills</h2>" not in text
    assert text.count('class="plotly-graph-div"') == 2


def test_write_report_empty_curve_still_writes(tmp_path: Path) -> None:
    path = tmp_path / "report.html"

    write_report(path, title="empty", summary={"orders": 0}, equity=[], drawdown=[], fills=[])

    text = path.read_text(encoding="utf-8")
    assert "No equity points recorded." in text
    assert "0 fills" in text


def test_write_report_drawdown_length_mismatch_raises(tmp_path: Path) -> None:
    equity, drawdown = _synthetic_curve(10)

    with pytest.raises(ValueError, match="got 9 drawdown values for 10 equity points"):
        write_report(
            tmp_path / "r.html", title="t", summary={}, equity=equity, drawdown=drawdown[:-1]
        )


def test_downsample_indices_short_series_keeps_every_point() -> None:
    assert downsample_indices(np.array([3.0, 1.0, 2.0])).tolist() == [0, 1, 2]


def test_downsample_indices_long_series_keeps_extremes_and_ends() -> None:
    rng = np.random.default_rng(7)
    values = np.cumsum(rng.normal(size=100_003))

    keep = downsample_indices(values, max_points=5_000)

    assert len(keep) <= 5_002
    assert keep[0] == 0
    assert keep[-1] == len(values) - 1
    assert np.all(np.diff(keep) > 0)
    assert int(np.argmin(values)) in keep
    assert int(np.argmax(values)) in keep
    assert values[keep].min() == values.min()


def test_downsample_indices_too_few_points_allowed_raises() -> None:
    with pytest.raises(ValueError, match="at least 2, got 1"):
        downsample_indices(np.zeros(10), max_points=1)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium")
def test_write_report_headless_chromium_renders_screenshot(
    report_path: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "shot.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=10000",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,1600",
        report_path.as_uri(),
    ]

    subprocess.run(command, check=True, capture_output=True, timeout=120)

    assert shot.exists()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A blank 1200x1600 page compresses to a few kB; charts and tables make it larger.
    assert shot.stat().st_size > 30_000


def test_write_report_performance_summary_fields_labelled(tmp_path: Path) -> None:
    equity, drawdown = _synthetic_curve(24 * 40)
    summary = summarize(equity, Decimal(100_000), CALENDAR_DAYS_PER_YEAR, NS_PER_DAY)
    path = tmp_path / "report.html"

    write_report(
        path, title="t", summary=dataclasses.asdict(summary), equity=equity, drawdown=drawdown
    )

    text = path.read_text(encoding="utf-8")
    assert '<th scope="row">Return period</th><td class="num">1 day</td>' in text
    assert '<th scope="row">Periods per year</th><td class="num">365</td>' in text
    expected_count = f"{summary.return_count:,}"
    assert f'<th scope="row">Returns measured</th><td class="num">{expected_count}</td>' in text
    expected_total = f"{summary.total_return:,.2%}"
    assert f'<th scope="row">Total return</th><td class="num">{expected_total}</td>' in text
