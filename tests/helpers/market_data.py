"""Locate the shared pack of real market data that tests read in place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import pytest

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
MARKET_DATA_DIR: Final = REPO_ROOT.parent / "shared" / "data" / "market"


def market_data_dir() -> Path:
    """Return the market data directory; skip the calling test when it is absent.

    Under ``CI=true`` an absent directory fails the test instead of skipping it.
    """
    if MARKET_DATA_DIR.is_dir():
        return MARKET_DATA_DIR
    reason = f"real market data not found at {MARKET_DATA_DIR}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true requires it")
    pytest.skip(reason)
