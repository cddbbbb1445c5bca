"""Daily closes per symbol from the data pack, for risk metrics (betas, correlations)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.market import QuoteBar, TradeBar
from alphintra.marketdata.csv_bars import MarketDataFileError, load_bars

DAILY_FILES = {
    "SPY": "equity/daily/SPY.csv",
    "QQQ": "equity/daily/QQQ.csv",
    "IWM": "equity/daily/IWM.csv",
    "AAPL": "equity/daily/AAPL.csv",
    "IBM": "equity/daily/IBM.csv",
    "BAC": "equity/daily/BAC.csv",
    "AIG": "equity/daily/AIG.csv",
    "GOOG": "equity/daily/GOOG.csv",
    "USO": "equity/daily/USO.csv",
    "EEM": "equity/daily/EEM.csv",
    "EURUSD": "fx/daily/EURUSD.csv",
    "GBPUSD": "fx/daily/GBPUSD.csv",
    "EURGBP": "fx/daily/EURGBP.csv",
    "NZDUSD": "fx/daily/NZDUSD.csv",
    "BTCUSD": "crypto/daily/BTCUSD_trade.csv",
    "XAUUSD": "commodity/daily/XAUUSD.csv",
}


class DailyCloses:
    """Daily closes (mid for quote files) loaded on demand from a data folder."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir

    def closes(self, symbol: str) -> dict[date, Decimal] | None:
        """Return the closes of ``symbol`` by date, or None when no file holds them."""
        relative = DAILY_FILES.get(symbol)
        if self.data_dir is None or relative is None:
            return None
        return _load(self.data_dir / relative, symbol)


@cache
def _load(path: Path, symbol: str) -> dict[date, Decimal] | None:
    if not path.is_file():
        return None
    try:
        bars = load_bars(path, InstrumentId(symbol))
    except MarketDataFileError:
        return None
    closes: dict[date, Decimal] = {}
    for bar in bars:
        day = datetime.fromtimestamp(bar.ts / 1e9, tz=UTC).date()
        if isinstance(bar, QuoteBar):
            closes[day] = (bar.bid_close + bar.ask_close) / 2
        elif isinstance(bar, TradeBar):
            closes[day] = bar.close
    return closes


MINUTE_TRADE_FILES = {
    "SPY": "equity/minute/SPY_trade.csv",
    "BTCUSD": "crypto/minute/BTCUSD_trade.csv",
    "ETHUSD": "crypto/minute/ETHUSD_trade.csv",
    "LTCUSD": "crypto/minute/LTCUSD_trade.csv",
}


def minute_trade_bars(data_dir: Path | None, symbol: str) -> list[TradeBar]:
    """Return the minute trade bars of ``symbol`` from the data pack (empty when none)."""
    relative = MINUTE_TRADE_FILES.get(symbol)
    if data_dir is None or relative is None or not (data_dir / relative).is_file():
        return []
    try:
        bars = load_bars(data_dir / relative, InstrumentId(symbol))
    except MarketDataFileError:
        return []
    return [bar for bar in bars if isinstance(bar, TradeBar)]
