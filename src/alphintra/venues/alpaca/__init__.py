"""The Alpaca adapter (US stocks and ETFs) through the official ``alpaca-py`` SDK."""

from alphintra.venues.alpaca.adapter import AlpacaAdapter
from alphintra.venues.alpaca.capabilities import ALPACA_CAPABILITIES, ALPACA_RATE_LIMIT
from alphintra.venues.alpaca.config import AlpacaConfig

__all__ = ["ALPACA_CAPABILITIES", "ALPACA_RATE_LIMIT", "AlpacaAdapter", "AlpacaConfig"]
