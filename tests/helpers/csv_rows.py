"""Read rows of the real market data pack with the stdlib ``csv`` module.

Tests compute expected fills by hand from these rows, independently of alphintra's
own loader, so that a loader bug cannot hide a matching bug (or the reverse).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from helpers.market_data import market_data_dir

Row = dict[str, str]

SPY_QUOTE = "equity/minute/SPY_quote.csv"
SPY_TRADE = "equity/minute/SPY_trade.csv"
EURUSD_QUOTE = "fx/minute/EURUSD_quote.csv"
BTCUSD_QUOTE = "crypto/minute/BTCUSD_quote.csv"
BTCUSD_TRADE = "crypto/minute/BTCUSD_trade.csv"
XAUUSD_QUOTE = "commodity/minute/XAUUSD_quote.csv"
DE30EUR_QUOTE = "index/minute/DE30EUR_quote.csv"


@cache
def _read(relative: str) -> tuple[Row, ...]:
    path = market_data_dir() / relative
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def read_rows(relative: str) -> tuple[Row, ...]:
    """Return every row of a data file (path relative to the data pack), as text."""
    market_data_dir()  # skip (or fail under CI) before touching the cache
    return _read(relative)


def ts_ns(text: str) -> int:
    """Convert ``YYYY-MM-DDTHH:MM:SSZ`` to integer nanoseconds since the epoch, UTC."""
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


def index_of(rows: Sequence[Row], timestamp: str) -> int:
    """Return the index of the row stamped exactly ``timestamp``."""
    for index, row in enumerate(rows):
        if row["timestamp"] == timestamp:
            return index
    raise AssertionError(f"no row stamped {timestamp}")


def first_index(rows: Sequence[Row], start: int, predicate: Callable[[Row], bool]) -> int:
    """Return the index of the first row at or after ``start`` satisfying ``predicate``."""
    for index in range(start, len(rows)):
        if predicate(rows[index]):
            return index
    raise AssertionError(f"no row from index {start} satisfies the condition")


def first_at_or_after(rows: Sequence[Row], timestamp_ns: int) -> int:
    """Return the index of the first row whose timestamp is >= ``timestamp_ns``."""
    return first_index(rows, 0, lambda row: ts_ns(row["timestamp"]) >= timestamp_ns)


def d(row: Row, column: str) -> Decimal:
    """Return one column of a row as an exact decimal."""
    return Decimal(row[column])
