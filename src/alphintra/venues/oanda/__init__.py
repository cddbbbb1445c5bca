"""OANDA v20: FX, metals and index CFDs through a typed client written against the spec."""

from alphintra.venues.oanda.adapter import (
    OANDA_CAPABILITIES,
    OANDA_RATE_LIMIT,
    ON_FILL_DETAILS,
    OandaAdapter,
)
from alphintra.venues.oanda.client import OandaClient
from alphintra.venues.oanda.config import OandaConfig

__all__ = [
    "OANDA_CAPABILITIES",
    "OANDA_RATE_LIMIT",
    "ON_FILL_DETAILS",
    "OandaAdapter",
    "OandaClient",
    "OandaConfig",
]
