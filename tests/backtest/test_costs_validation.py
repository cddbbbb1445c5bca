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
    signals = tmp_path / "signals.jsonl"
    signals.write_text("", encoding="utf-8")
    argv = [
        "backtest",
        "--data",
        f"SPY={market_data_dir() / SPY_QUOTE}",
        "--signals",
        str(signals),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        f"{option}={value}",
    ]
    assert main(argv) == EXIT_BAD_INPUT
    assert problem in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "out").exists()


def test_backtest_cli_accepts_a_maker_rebate(tmp_path: Path) -> None:
    signals = tmp_path / "signals.jsonl"
    signals.write_text("", encoding="utf-8")
    argv = [
        "backtest",
        "--data",
        f"SPY={market_data_dir() / SPY_QUOTE}",
        "--signals",
        str(signals),
        "--out",
        str(tmp_path / "out"),
        "--quiet",
        "--maker-fees-bps=-0.2",
    ]
    assert main(argv) == 0


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
