"""Fixtures for the market data tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import market_data


@pytest.fixture(scope="session")
def market_data_dir() -> Path:
    """Return the shared real market data directory, or skip (fail under CI=true)."""
    return market_data.market_data_dir()
