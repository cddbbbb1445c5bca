"""One type per identifier, so that a trade ID can never be passed as an order ID."""

from __future__ import annotations

from typing import NewType

AccountId = NewType("AccountId", str)
InstrumentId = NewType("InstrumentId", str)
"""The engine's symbol for an instrument, such as ``EURUSD`` or ``SPY``."""
VenueId = NewType("VenueId", str)
ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", str)
TradeId = NewType("TradeId", str)
SignalId = NewType("SignalId", str)
ModelId = NewType("ModelId", str)
OrderListId = NewType("OrderListId", str)
"""Groups linked orders: a bracket, or an OCO pair."""
