"""The prices at which a buy or a sell could execute within one market data point.

Both the simulated venue and the engine's order emulator read market data through
this one view, so an emulated trigger and a native one see the same prices.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import NamedTuple

from alphintra.domain.enums import OrderSide, TrailingOffsetType
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import MarketData, QuoteBar, QuoteTick, TradeBar, TradeTick
from alphintra.domain.values import ZERO, Price


class ExecutableRange(NamedTuple):
    """Open, high and low of the executable price for one side, and the size shown.

    ``size`` of zero means the source reported none (treated as unlimited).
    """

    open: Decimal
    high: Decimal
    low: Decimal
    size: Decimal


def executable_range(data: MarketData, buy: bool, half_spread: Decimal = ZERO) -> ExecutableRange:
    """Return where a buy (the ask side) or a sell (the bid side) could trade.

    Quote data uses the ask for buys and the bid for sells. Trade data uses the trade
    price for both, moved by ``half_spread`` against the order (up for buys).
    """
    kind = type(data)
    if kind is QuoteTick:
        assert isinstance(data, QuoteTick)
        if buy:
            return ExecutableRange(data.ask, data.ask, data.ask, data.ask_size)
        return ExecutableRange(data.bid, data.bid, data.bid, data.bid_size)
    if kind is QuoteBar:
        assert isinstance(data, QuoteBar)
        if buy:
            return ExecutableRange(data.ask_open, data.ask_high, data.ask_low, data.ask_size)
        return ExecutableRange(data.bid_open, data.bid_high, data.bid_low, data.bid_size)
    adjust = half_spread if buy else -half_spread
    if kind is TradeBar:
        assert isinstance(data, TradeBar)
        return ExecutableRange(
            data.open + adjust, data.high + adjust, data.low + adjust, data.volume
        )
    assert isinstance(data, TradeTick)
    price = data.price + adjust
    return ExecutableRange(price, price, price, data.size)


def is_point_in_time(data: MarketData) -> bool:
    """Return True for ticks (one instant), False for bars (an interval)."""
    return type(data) is QuoteTick or type(data) is TradeTick


def trailing_stop_price(
    instrument: Instrument,
    side: OrderSide,
    extreme: Decimal,
    offset: Decimal,
    offset_type: TrailingOffsetType,
) -> Price:
    """Return the stop for a trailing order given the best price seen, rounded away."""
    distance = extreme * offset / 100 if offset_type is TrailingOffsetType.PERCENT else offset
    buy = side is OrderSide.BUY
    raw = extreme + distance if buy else extreme - distance
    ticks = (raw / instrument.tick_size).to_integral_value(
        rounding=ROUND_CEILING if buy else ROUND_FLOOR
    )
    return Price((ticks * instrument.tick_size).quantize(instrument.tick_size))
