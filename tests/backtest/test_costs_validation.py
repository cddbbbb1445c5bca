"""Trading-cost settings that would pay the trader for every fill are refused with the
option and the value, before anything runs: a negative spread or per-unit commission,
and fees outside (-10000, 10000) basis points (a negative fee is a maker rebate)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.app.backtest_command import EXIT_BAD_INPUT
from alphintra.app.cli import main
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from helpers.csv_rows import SPY_QUOTE
from helpers.market_data import market_data_dir


def _argv(tmp_path: Path, option: str) -> list[str]:
    """A backtest of SPY with no signals and ``option``."""
    signals = tmp_path / "signals.jsonl"
    signals.write_text("", encoding="utf-8")
    data = f"SPY={market_data_dir() / SPY_QUOTE}"
    out = str(tmp_path / "out")
    return ["backtest", "--data", data, "--signals", str(signals), "--out", out, "--quiet", option]


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--half-spread", "-0.01", "--half-spread must be finite and not negative, got -0.01"),
        (
            "--commission-per-unit",
            "-1",
            "--commission-per-unit must be finite and not negative, got -1",
        ),
        ("--fees-bps", "10000", "--fees-bps must be above -10000 and below 10000"),
        ("--maker-fees-bps", "-10000", "--maker-fees-bps must be above -10000"),
    ],
)
def test_backtest_cli_refuses_costs_that_pay_the_trader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, problem: str
) -> None:
    assert main(_argv(tmp_path, f"{option}={value}")) == EXIT_BAD_INPUT
    assert problem in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "out").exists()


def test_backtest_cli_accepts_a_maker_rebate(tmp_path: Path) -> None:
    assert main(_argv(tmp_path, "--maker-fees-bps=-0.2")) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("trade_half_spread", Decimal("-0.5")),
        ("commission_per_unit", Decimal("-0.01")),
        ("taker_fee_bps", Decimal("NaN")),
        ("maker_fee_bps", Decimal(-10_000)),
        ("latency_ns", -1),
    ],
)
def test_simulated_venue_config_refuses_costs_that_pay_the_trader(
    field: str, value: object
) -> None:
    with pytest.raises(ValueError, match=f"SimulatedVenueConfig.{field}"):
        SimulatedVenueConfig(**{field: value})  # type: ignore[arg-type]
