"""Market data for paper trading: real bars replayed as live quotes, or a synthetic feed.

``ReplayFeed`` walks the minute quote files of ``../shared/data/market`` in a loop and
turns each bar's close into a quote stamped with the time it is emitted. When the
folder is absent, ``SyntheticFeed`` makes a seeded random walk with realistic spreads
for the five asset classes.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.market import QuoteBar, QuoteTick
from alphintra.marketdata.csv_bars import load_bars

REPLAY_FILES = {
    "SPY": "equity/minute/SPY_quote.csv",
    "EURUSD": "fx/minute/EURUSD_quote.csv",
    "BTCUSD": "crypto/minute/BTCUSD_quote.csv",
    "ETHUSD": "crypto/minute/ETHUSD_quote.csv",
    "XAUUSD": "commodity/minute/XAUUSD_quote.csv",
    "DE30EUR": "index/minute/DE30EUR_quote.csv",
}

# (start mid, half spread, tick, relative volatility per step)
SYNTHETIC = {
    "SPY": (Decimal("450.00"), Decimal("0.01"), Decimal("0.01"), 0.0004),
    "EURUSD": (Decimal("1.08500"), Decimal("0.00004"), Decimal("0.00001"), 0.0001),
    "BTCUSD": (Decimal("60000.00"), Decimal("2.50"), Decimal("0.01"), 0.001),
    "XAUUSD": (Decimal("2300.000"), Decimal("0.150"), Decimal("0.001"), 0.0003),
    "DE30EUR": (Decimal("18000.0"), Decimal("0.5"), Decimal("0.1"), 0.0004),
}


class ReplayFeed:
    """Real minute quote bars, replayed round-robin across symbols, forever."""

    def __init__(self, data_dir: Path, symbols: list[str] | None = None) -> None:
        self._series: dict[str, list[QuoteBar]] = {}
        for symbol, relative in REPLAY_FILES.items():
            if symbols is not None and symbol not in symbols:
                continue
            path = data_dir / relative
            if path.is_file():
                bars = load_bars(path, InstrumentId(symbol))
                self._series[symbol] = [b for b in bars if isinstance(b, QuoteBar)]
        self._positions = dict.fromkeys(self._series, 0)

    @property
    def symbols(self) -> list[str]:
        """Return the symbols this feed quotes."""
        return sorted(self._series)

    def next_quotes(self, ts: int) -> list[QuoteTick]:
        """Return the next quote of every symbol, stamped ``ts``."""
        quotes = []
        for symbol, bars in self._series.items():
            index = self._positions[symbol]
            bar = bars[index]
            self._positions[symbol] = (index + 1) % len(bars)
            if bar.bid_close >= bar.ask_close:
                continue  # a crossed source quote is skipped, not traded on
            quotes.append(
                QuoteTick(
                    bar.instrument_id, bar.bid_close, bar.ask_close, bar.bid_size, bar.ask_size, ts
                )
            )
        return quotes


class SyntheticFeed:
    """A seeded random walk per symbol with a fixed half spread."""

    def __init__(self, seed: int = 7) -> None:
        self._random = random.Random(seed)
        self._mids = {symbol: spec[0] for symbol, spec in SYNTHETIC.items()}

    @property
    def symbols(self) -> list[str]:
        """Return the symbols this feed quotes."""
        return sorted(self._mids)

    def next_quotes(self, ts: int) -> list[QuoteTick]:
        """Return the next quote of every symbol, stamped ``ts``."""
        quotes = []
        for symbol, (_, half_spread, tick, volatility) in SYNTHETIC.items():
            mid = self._mids[symbol]
            step = Decimal(str(round(self._random.gauss(0.0, volatility), 8))) * mid
            mid = max(tick * 10, ((mid + step) / tick).to_integral_value() * tick)
            self._mids[symbol] = mid
            size = Decimal(1_000_000)
            quotes.append(
                QuoteTick(
                    InstrumentId(symbol), mid - half_spread, mid + half_spread, size, size, ts
                )
            )
        return quotes


def open_feed(data_dir: Path | None) -> ReplayFeed | SyntheticFeed:
    """Return the replay feed when the data folder exists, else the synthetic one."""
    if data_dir is not None and data_dir.is_dir():
        feed = ReplayFeed(data_dir)
        if feed.symbols:
            return feed
    return SyntheticFeed()
