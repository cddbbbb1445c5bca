"""Which instruments OANDA trades now, as its latest prices say.

OANDA keeps quoting an instrument it does not trade (the market is closed, a weekend, a
halt): the price says ``tradeable: false`` (``status: non-tradeable`` in the older
field) and its bids and asks are indicative. They are still OANDA's best mark, so the
adapter publishes them as quotes; what changes is that a market order on such an
instrument would be created and cancelled at once with reason ``MARKET_HALTED``. The
adapter keeps here the latest word of the prices it reads (streamed or polled), refuses
a market order while it says "not tradeable", and logs each change once (not per tick).
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from alphintra.venues.oanda.wire import ClientPrice

log = structlog.get_logger("alphintra.venues.oanda")

MARKET_HALTED = "MARKET_HALTED"
"""OANDA's ``OrderCancelReason`` for an order it cancels because the market is halted."""
_NOT_TRADEABLE_STATUS = frozenset({"non-tradeable", "invalid"})


def is_tradeable(price: ClientPrice) -> bool:
    """Return False when ``price`` says its instrument cannot be traded now.

    ``tradeable`` decides; a price without it falls back to the deprecated ``status``.
    A price that says neither is taken as tradeable (OANDA decides on the order).
    """
    if price.tradeable is not None:
        return price.tradeable
    return price.status not in _NOT_TRADEABLE_STATUS


def halted_reason(instrument: str) -> str:
    """Return the reason given for a market order OANDA cancelled with MARKET_HALTED."""
    return (
        f"{MARKET_HALTED}: OANDA cancelled the market order unfilled: {instrument} is not "
        "tradeable now (market closed or halted)"
    )


class Tradeability:
    """The instruments whose latest price said ``tradeable: false``, by OANDA name."""

    def __init__(self) -> None:
        self._closed: dict[str, str] = {}
        """Instrument name -> the time of the untradeable price that says so."""
        self._logged: dict[str, bool] = {}
        """The tradeability last logged per instrument (a change is logged once)."""

    def note(self, price: ClientPrice) -> None:
        """Take the word of the latest ``price`` of its instrument."""
        name = price.instrument
        tradeable = is_tradeable(price)
        if tradeable:
            self._closed.pop(name, None)
        else:
            self._closed[name] = price.time
        if self._logged.get(name, True) is tradeable:
            return
        self._logged[name] = tradeable
        if tradeable:
            log.info("oanda_instrument_tradeable", instrument=name, price_time=price.time)
        else:
            log.warning(
                "oanda_instrument_not_tradeable",
                instrument=name,
                price_time=price.time,
                status=price.status,
                detail="indicative prices are still published; market orders are refused",
            )

    def forget(self, names: Iterable[str]) -> None:
        """Drop what stale prices said (a stream ended): OANDA decides until a new price.

        What was logged is kept, so the snapshot after a reconnect that says the same
        logs nothing.
        """
        for name in names:
            self._closed.pop(name, None)

    def refusal(self, name: str) -> str | None:
        """Return why a market order on ``name`` is not sent, or None to send it."""
        since = self._closed.get(name)
        if since is None:
            return None
        return (
            f"market order not sent: OANDA reports {name} not tradeable (its latest price, "
            f"of {since}, says tradeable false: market closed or halted); OANDA would "
            f"cancel it with {MARKET_HALTED}"
        )


__all__ = ["MARKET_HALTED", "Tradeability", "halted_reason", "is_tradeable"]
