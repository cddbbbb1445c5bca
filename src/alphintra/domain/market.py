"""Market data: quote and trade ticks, and quote and trade bars.

Timestamps are integer nanoseconds since the Unix epoch, UTC. A bar's timestamp is
the start of its interval. Market data prices are kept exactly as the source gave
them; they are not forced onto an instrument's tick grid.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from alphintra.domain.identifiers import InstrumentId


class QuoteTick(msgspec.Struct, frozen=True, gc=False):
    """Best bid and ask at one instant. A size of 0 means the source gave none."""

    instrument_id: InstrumentId
    bid: Decimal
    ask: Decimal
    bid_size: Decimal
    ask_size: Decimal
    ts: int
    indicative: bool = False
    """The venue says the instrument cannot be traded now (a closed market, a halt): the
    prices are a mark, not a market. Emulated orders do not trigger on it."""


class TradeTick(msgspec.Struct, frozen=True, gc=False):
    """One trade print."""

    instrument_id: InstrumentId
    price: Decimal
    size: Decimal
    ts: int


class TradeBar(msgspec.Struct, frozen=True, gc=False):
    """OHLC of trade prices over ``[ts, ts + interval_ns)``, with traded volume."""

    instrument_id: InstrumentId
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    ts: int
    interval_ns: int


class QuoteBar(msgspec.Struct, frozen=True, gc=False):
    """Bid and ask OHLC over ``[ts, ts + interval_ns)``, with the last size at each side."""

    instrument_id: InstrumentId
    bid_open: Decimal
    bid_high: Decimal
    bid_low: Decimal
    bid_close: Decimal
    ask_open: Decimal
    ask_high: Decimal
    ask_low: Decimal
    ask_close: Decimal
    bid_size: Decimal
    ask_size: Decimal
    ts: int
    interval_ns: int


MarketData = QuoteTick | TradeTick | TradeBar | QuoteBar


def closing_mid(data: MarketData) -> Decimal:
    """Return the mark a data point leaves behind: the last mid, or the last trade."""
    if type(data) is QuoteTick:
        return (data.bid + data.ask) / 2
    if type(data) is QuoteBar:
        return (data.bid_close + data.ask_close) / 2
    if type(data) is TradeBar:
        return data.close
    assert type(data) is TradeTick
    return data.price
