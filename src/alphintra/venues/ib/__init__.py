"""Interactive Brokers through ``ib_async``: stocks, FX, futures, metals and index CFDs.

See ``README.md`` in this folder for running against a paper TWS or IB Gateway.
"""

from alphintra.venues.ib.adapter import IB_CAPABILITIES, IB_RATE_LIMIT, IbAdapter
from alphintra.venues.ib.config import IbConfig

__all__ = ["IB_CAPABILITIES", "IB_RATE_LIMIT", "IbAdapter", "IbConfig"]
