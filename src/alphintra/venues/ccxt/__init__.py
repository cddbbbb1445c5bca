"""Crypto exchanges through ccxt (async): one adapter for any ccxt exchange id."""

from alphintra.venues.ccxt.adapter import CcxtAdapter
from alphintra.venues.ccxt.config import CcxtConfig, CcxtConfigError, MarketType

__all__ = ["CcxtAdapter", "CcxtConfig", "CcxtConfigError", "MarketType"]
