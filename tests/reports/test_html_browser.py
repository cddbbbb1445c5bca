"""The HTML reports render in headless Chromium without console errors; screenshots saved.

The screenshots go to the test's temporary folder, and also to
``$ALPHINTRA_SCREENSHOT_DIR`` when it is set (CI keeps them as artifacts).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest

from alphintra.reports.build import best_execution_day, tca_report, tca_selection
from alphintra.reports.render import ReportFormat, render
from reports.chromium import PageResult, chromium_binary, open_page
from reports.scenario import BARS, BTC, DAY, day_orders

_PROBE = """JSON.stringify({
  svgs: document.querySelectorAll('svg').length,
  bars: Array.from(document.querySelectorAll('rect.bar'))
    .filter(r => r.getBoundingClientRect().height > 0).length,
  curves: document.querySelectorAll('polyline.curve').length,
  width: document.documentElement.scrollWidth,
})"""


@pytest.fixture
def chromium() -> str:
    """Return the Chromium binary; skip without it (fail in CI, which installs it)."""
    binary = chromium_binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is required in CI (scripts/system-deps.sh installs it)")
        pytest.skip("chromium is not installed (scripts/system-deps.sh installs it)")
    return binary


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _load(chromium: str, page: Path, name: str) -> PageResult:
    result = open_page(chromium, page.as_uri(), _PROBE)
    shot = page.with_suffix(".png")
    shot.write_bytes(result.screenshot)
    keep = os.environ.get("ALPHINTRA_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / f"{name}.png").write_bytes(result.screenshot)
    return result


def test_best_execution_html_renders_charts_without_console_errors(
    chromium: str, tmp_path: Path
) -> None:
    page = tmp_path / "best-execution.html"
    report = best_execution_day(DAY, day_orders(), {BTC: BARS})
    page.write_text(render(report, ReportFormat.HTML), encoding="utf-8")
    result = _load(chromium, page, "best-execution")
    assert result.errors == []
    import json

    probe = json.loads(result.value)
    assert probe["svgs"] == 3  # slippage distribution, cost by venue, B1's schedule
    assert probe["bars"] == 2 + 7  # two filled bins; V1, V2 and "none" costs that are not 0
    assert probe["curves"] == 2  # executed and market volume
    width, height = _png_size(result.screenshot)
    assert width >= 1000 and height > 1000


def test_tca_html_renders_without_console_errors(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "tca.html"
    page.write_text(
        render(tca_report(day_orders(), tca_selection()), ReportFormat.HTML), encoding="utf-8"
    )
    result = _load(chromium, page, "tca")
    assert result.errors == []
    assert _png_size(result.screenshot)[0] >= 1000


def test_console_errors_are_caught(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><body><script>console.error('bad chart');"
        "undefinedFunction();</script></body></html>",
        encoding="utf-8",
    )
    errors = open_page(chromium, page.as_uri()).errors
    assert any("bad chart" in e for e in errors)
    assert any("Uncaught" in e for e in errors)
