"""Interactive Brokers (ib_async against a fake TWS speaking the real wire protocol)."""

from venues.ib.contract_harness import HARNESSES

__all__ = ["HARNESSES"]
