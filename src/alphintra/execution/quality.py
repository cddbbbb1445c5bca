"""Execution quality of one order and of each of its fills.

Sign convention
---------------
Every cost metric is **positive when it cost us**, for buys and sells alike. With the
side sign ``s`` (+1 buy, -1 sell), a price ``P`` measured against a benchmark ``B``
costs ``s × (P - B) / B × 10 000`` basis points: buying at 100.05 against a mid of
100.00 costs +5 bps, and so does selling at 99.95. Price improvement is the one
measure signed the other way, and its name says so: positive means we traded better
than the quote at arrival (a buy below the arrival ask, a sell above the arrival bid).

Definitions (``A`` arrival mid, ``D`` decision price, ``m`` mid at the fill, ``m+``
the mid ``horizon_ns`` after it, ``q`` quantity, ``x`` the contract multiplier)
-------------------------------------------------------------------------------------
- arrival mid ``A``: the mid of the last quote at or before the order's arrival;
- slippage vs arrival: ``s (P - A) / A`` in bps, ``P`` the fill (or average) price;
- implementation shortfall vs ``D`` (the signal's entry price when given, else ``A``),
  over the filled quantity, in money: ``Σ s q (P - D) x + fees``; in bps of the
  decision notional ``D × filled × x``. It splits exactly into::

      spread  = Σ s q (P - m) x      paid against the mid prevailing at each fill
      impact  = Σ s q (m - A) x      how the mid moved from arrival to each fill
      timing  = Σ s q (A - D) x      how the mid moved from decision to arrival
      fees    = Σ fee                in the quote currency

  (the three price terms telescope to ``s q (P - D) x``). The shortfall of the
  unfilled quantity is reported apart as ``opportunity_cost = s × unfilled × (M_end -
  D) × x``, ``M_end`` the mid when the order stopped working;
- VWAP and TWAP over the order's life ``[arrival, end)`` (see `interval_vwap` and
  `interval_twap`), slippage against them as above;
- effective spread ``2 |P - m| / m`` and realised spread ``2 s (P - m+) / m``, in bps;
- market impact: ``s (M_last+ - A) / A`` in bps, ``M_last+`` the mid ``horizon_ns``
  after the last fill;
- fill rate ``filled / ordered``; execution time: last fill minus arrival, in ns;
- price improvement per unit: ``ask_A - P`` for a buy, ``P - bid_A`` for a sell.

A mid ``horizon_ns`` after a time ``t`` is known only when the quotes reach ``t +
horizon_ns``; otherwise the metrics that need it are None. Money amounts are exact
(an inexact step raises); ratios and bps are rounded to 34 significant digits. The
decimal contexts and the market look-ups (quotes, mids, interval VWAP and TWAP) live
in `alphintra.execution.quality_benchmarks`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields, make_dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeVar

from alphintra.domain.enums import OrderSide
from alphintra.domain.events import OrderFilled
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    ModelId,
    TradeId,
    VenueId,
)
from alphintra.domain.market import QuoteTick, TradeBar, TradeTick
from alphintra.domain.values import Currency
from alphintra.execution.quality_benchmarks import (
    _ZERO,
    MONEY,
    RATIO,
    _after,
    _at,
    _check_order,
    _m_add,
    _m_mul,
    _m_sub,
    _mid,
    _r_add,
    _r_div,
    _r_mul,
    _r_sub,
    interval_twap,
    interval_vwap,
    mid_after,
    quote_at,
)

_ONE: Final = Decimal(1)
_BPS: Final = Decimal(10_000)

_T = TypeVar("_T")


def _quick_init(cls: type[_T]) -> Callable[..., _T]:
    """Return a constructor of the frozen, slotted dataclass ``cls``, several times quicker.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``
    (about 0.1 us a field; `OrderQuality` has 38). The constructor returned builds an
    unfrozen twin with the same slots in the same order (plain stores), whose
    ``__post_init__`` turns it into a ``cls`` (the layout is the same, so Python allows
    the ``__class__`` change) and then runs ``cls.__post_init__`` when there is one. The
    result is an ordinary ``cls``: equal, hashed, frozen and printed as ``cls(...)`` is.
    """
    check = getattr(cls, "__post_init__", None)

    def post_init(self: object) -> None:
        self.__class__ = cls
        if check is not None:
            check(self)

    specs: list[tuple[str, Any, Any]] = [
        (f.name, f.type, field(default=f.default) if f.default is not MISSING else field())
        for f in fields(cls)  # type: ignore[arg-type]
    ]
    twin: Callable[..., _T] = make_dataclass(
        f"_{cls.__name__}Init",
        specs,
        namespace={"__post_init__": post_init},
        slots=True,
        eq=False,
        repr=False,
        match_args=False,
    )
    return twin


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill of the order, as the quality measures need it. ``fee`` is in quote currency."""

    ts: int
    price: Decimal
    quantity: Decimal
    fee: Decimal = _ZERO
    venue: VenueId | None = None
    trade_id: TradeId | None = None

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"fill quantity must be positive, got {self.quantity}")
        if self.price <= 0:
            raise ValueError(f"fill price must be positive, got {self.price}")

    @classmethod
    def from_event(cls, event: OrderFilled, *, fee_in_quote: Decimal | None = None) -> Execution:
        """Build from an `OrderFilled`; pass ``fee_in_quote`` when its fee currency differs."""
        build = _new_execution if cls is Execution else cls
        return build(
            ts=event.ts_event,
            price=event.last_price,
            quantity=event.last_quantity,
            fee=event.fee if fee_in_quote is None else fee_in_quote,
            venue=event.venue,
            trade_id=event.trade_id,
        )


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order to measure: what was asked, when it arrived, and how it filled.

    ``decision_price`` is the signal's entry price (None: use the arrival mid).
    ``end_ts`` is when the order stopped working (filled, cancelled or expired);
    None means the last fill, or the arrival when nothing filled. ``currency`` is the
    quote currency every money amount is in.
    """

    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    side: OrderSide
    quantity: Decimal
    arrival_ts: int
    fills: tuple[Execution, ...]
    currency: Currency
    decision_price: Decimal | None = None
    end_ts: int | None = None
    multiplier: Decimal = _ONE
    account_id: AccountId | None = None
    model_id: ModelId | None = None
    strategy: str | None = None

    def __post_init__(self) -> None:
        name = self.client_order_id
        if self.quantity <= 0:
            raise ValueError(f"order {name}: quantity must be positive, got {self.quantity}")
        if self.decision_price is not None and self.decision_price <= 0:
            raise ValueError(
                f"order {name}: decision_price must be positive, got {self.decision_price}"
            )
        filled, early, last = _ZERO, None, None  # one pass over the fills
        for fill in self.fills:
            filled += fill.quantity
            if early is None and fill.ts < self.arrival_ts:
                early = fill.ts
            if last is None or fill.ts > last:
                last = fill.ts
        if filled > self.quantity:
            raise ValueError(f"order {name}: fills total {filled}, above ordered {self.quantity}")
        if early is not None:
            raise ValueError(f"order {name}: fill at {early} precedes arrival at {self.arrival_ts}")
        if self.end_ts is not None and self.end_ts < (self.arrival_ts if last is None else last):
            raise ValueError(f"order {name}: end_ts {self.end_ts} precedes its arrival or fills")

    @property
    def life_end(self) -> int:
        """Return when the order stopped working (see ``end_ts``)."""
        if self.end_ts is not None:
            return self.end_ts
        return max((fill.ts for fill in self.fills), default=self.arrival_ts)


@dataclass(frozen=True, slots=True)
class FillQuality:
    """Quality of one fill (see the module docstring for every definition and sign)."""

    ts: int
    venue: VenueId | None
    trade_id: TradeId | None
    price: Decimal
    quantity: Decimal
    fee: Decimal
    mid: Decimal
    slippage_bps: Decimal
    effective_spread_bps: Decimal
    realised_spread_bps: Decimal | None
    mid_after: Decimal | None
    price_improvement: Decimal
    spread_cost: Decimal
    impact_cost: Decimal
    timing_cost: Decimal

    @property
    def improved(self) -> bool:
        """Return True when the fill beat the far side of the arrival quote."""
        return self.price_improvement > 0

    @property
    def shortfall(self) -> Decimal:
        """Return spread + impact + timing + fee: this fill's implementation shortfall."""
        return MONEY.add(
            MONEY.add(self.spread_cost, self.impact_cost), MONEY.add(self.timing_cost, self.fee)
        )


@dataclass(frozen=True, slots=True)
class OrderQuality:
    """Quality of one order (see the module docstring for every definition and sign).

    Money fields are in ``currency``; ``spread_cost + impact_cost + timing_cost +
    fees == implementation_shortfall`` exactly. Metrics that need fills are None for
    an order that never filled.
    """

    client_order_id: ClientOrderId
    instrument_id: InstrumentId
    side: OrderSide
    currency: Currency
    account_id: AccountId | None
    model_id: ModelId | None
    strategy: str | None
    multiplier: Decimal
    ordered_quantity: Decimal
    filled_quantity: Decimal
    fill_rate: Decimal
    arrival_ts: int
    arrival_bid: Decimal
    arrival_ask: Decimal
    arrival_mid: Decimal
    decision_price: Decimal
    decision_from_signal: bool
    average_price: Decimal | None
    filled_notional: Decimal
    decision_notional: Decimal
    slippage_bps: Decimal | None
    implementation_shortfall: Decimal
    implementation_shortfall_bps: Decimal | None
    spread_cost: Decimal
    impact_cost: Decimal
    timing_cost: Decimal
    fees: Decimal
    opportunity_cost: Decimal | None
    interval_vwap: Decimal | None
    vwap_slippage_bps: Decimal | None
    interval_twap: Decimal | None
    twap_slippage_bps: Decimal | None
    effective_spread_bps: Decimal | None
    realised_spread_bps: Decimal | None
    market_impact_bps: Decimal | None
    execution_time_ns: int | None
    price_improvement_bps: Decimal | None
    fills: tuple[FillQuality, ...]

    @property
    def venues(self) -> tuple[VenueId, ...]:
        """Return the venues that filled the order, in order of first fill."""
        fills = self.fills
        if len(fills) == 1:  # most orders: no generator, no dict
            venue = fills[0].venue
            return () if venue is None else (venue,)
        return tuple(dict.fromkeys(f.venue for f in fills if f.venue is not None))


if TYPE_CHECKING:  # the constructors' own signatures, for the type checker
    _new_execution, _new_fill_quality, _new_order_quality = Execution, FillQuality, OrderQuality
else:
    _new_execution = _quick_init(Execution)
    _new_fill_quality = _quick_init(FillQuality)
    _new_order_quality = _quick_init(OrderQuality)


# --- measures ---------------------------------------------------------------------------


def _bps(sign: int, price: Decimal, benchmark: Decimal) -> Decimal:
    return _r_div(_r_mul(sign * _BPS, _r_sub(price, benchmark)), benchmark)


def _ts(fill: FillQuality) -> int:
    return fill.ts


def _realised(s: int, price: Decimal, later: Decimal, mid: Decimal) -> Decimal:
    """Return the realised spread ``2 s (P - m+) / m`` in bps."""
    return _r_div(_r_mul(2 * s * _BPS, _r_sub(price, later)), mid)


def fill_quality(
    fill: Execution,
    *,
    side: OrderSide,
    arrival: QuoteTick,
    decision_price: Decimal,
    quotes: Sequence[QuoteTick],
    horizon_ns: int,
    multiplier: Decimal = _ONE,
) -> FillQuality:
    """Measure one fill against the arrival quote and the quotes around it."""
    times = [q.ts for q in quotes]
    return _fill_quality(
        fill, side, arrival, _mid(arrival), decision_price, quotes, times, horizon_ns, multiplier
    )


def _fill_quality(
    fill: Execution,
    side: OrderSide,
    arrival: QuoteTick,
    arrival_mid: Decimal,
    decision_price: Decimal,
    quotes: Sequence[QuoteTick],
    times: Sequence[int],
    horizon_ns: int,
    multiplier: Decimal,
) -> FillQuality:
    s = side.sign
    quote = _at(quotes, times, fill.ts)
    if quote is None:
        raise ValueError(f"no quote at or before the fill at ts {fill.ts}")
    mid = arrival_mid if quote is arrival else _mid(quote)
    later = _after(quotes, times, fill.ts, horizon_ns)
    realised = None if later is None else _realised(s, fill.price, later, mid)
    if side is OrderSide.BUY:
        improvement = _m_sub(arrival.ask, fill.price)
    else:
        improvement = _m_sub(fill.price, arrival.bid)
    units = _m_mul(s * fill.quantity, multiplier)
    return _new_fill_quality(
        ts=fill.ts,
        venue=fill.venue,
        trade_id=fill.trade_id,
        price=fill.price,
        quantity=fill.quantity,
        fee=fill.fee,
        mid=mid,
        slippage_bps=_bps(s, fill.price, arrival_mid),
        effective_spread_bps=_r_div(_r_mul(2 * _BPS, abs(_m_sub(fill.price, mid))), mid),
        realised_spread_bps=realised,
        mid_after=later,
        price_improvement=improvement,
        spread_cost=_m_mul(units, _m_sub(fill.price, mid)),
        impact_cost=_m_mul(units, _m_sub(mid, arrival_mid)),
        timing_cost=_m_mul(units, _m_sub(arrival_mid, decision_price)),
    )


def _money_sum(values: Sequence[Decimal]) -> Decimal:
    total = _ZERO
    for value in values:
        total = _m_add(total, value)
    return total


def _weighted(values: Sequence[tuple[Decimal | None, Decimal]]) -> Decimal | None:
    """Return the quantity-weighted mean, or None if empty or any value is missing."""
    if not values:
        return None
    total = weighted = _ZERO  # each sum in order, as `_ratio_sum` adds
    for value, weight in values:
        if value is None:
            return None
        total = _r_add(total, weight)
        weighted = _r_add(weighted, _r_mul(value, weight))
    return _r_div(weighted, total)


def order_quality(
    order: OrderRecord,
    quotes: Sequence[QuoteTick],
    trades: Sequence[TradeBar] | Sequence[TradeTick] = (),
    *,
    horizon_ns: int,
) -> OrderQuality:
    """Measure ``order`` against the quotes and trades (each in time order) of its instrument.

    ``horizon_ns`` is the ``N`` of the realised spread and the market impact. Raise
    ``ValueError`` when the data is out of order, belongs to another instrument, or
    has no quote at or before the arrival.
    """
    _check_order(quotes, "quotes")
    _check_order(trades, "trades")
    for item in (*quotes, *trades):
        if item.instrument_id != order.instrument_id:
            raise ValueError(
                f"order {order.client_order_id} is for {order.instrument_id}, "
                f"got market data for {item.instrument_id}"
            )
    return measure(order, quotes, [q.ts for q in quotes], trades, horizon_ns=horizon_ns)


def measure(
    order: OrderRecord,
    quotes: Sequence[QuoteTick],
    times: Sequence[int],
    trades: Sequence[TradeBar] | Sequence[TradeTick] = (),
    *,
    horizon_ns: int,
) -> OrderQuality:
    """Return `order_quality` for quotes and trades already known to be valid.

    The caller vouches that the quotes and trades are in time order and of the order's
    instrument (nothing is checked); ``times`` are the quotes' timestamps. Every quote
    look-up is a bisection of ``times``, so ``quotes`` may be a whole history (the
    recorder's) rather than the order's window. Raise ``ValueError`` when no quote is
    at or before the arrival or a fill.
    """
    arrival = _at(quotes, times, order.arrival_ts)
    if arrival is None:
        raise ValueError(
            f"order {order.client_order_id}: no quote at or before arrival ts {order.arrival_ts}"
        )
    if len(order.fills) == 1 and not trades:
        return _measure_one(order, arrival, quotes, times, horizon_ns)
    return _measure_any(order, arrival, quotes, times, trades, horizon_ns)


def _measure_any(
    order: OrderRecord,
    arrival: QuoteTick,
    quotes: Sequence[QuoteTick],
    times: Sequence[int],
    trades: Sequence[TradeBar] | Sequence[TradeTick],
    horizon_ns: int,
) -> OrderQuality:
    """`measure` in general: any number of fills, with or without trades."""
    side, multiplier = order.side, order.multiplier
    s, arrival_mid = side.sign, _mid(arrival)
    decision = arrival_mid if order.decision_price is None else order.decision_price
    fills = tuple(
        _fill_quality(
            fill, side, arrival, arrival_mid, decision, quotes, times, horizon_ns, multiplier
        )
        for fill in order.fills
    )
    # One pass, each sum in the order and from the zero `_money_sum` starts at.
    filled = notional = spread = impact = timing = fees = _ZERO
    for f in fills:
        filled = _m_add(filled, f.quantity)
        notional = _m_add(notional, _m_mul(f.price, f.quantity))
        spread = _m_add(spread, f.spread_cost)
        impact = _m_add(impact, f.impact_cost)
        timing = _m_add(timing, f.timing_cost)
        fees = _m_add(fees, f.fee)
    notional = _m_mul(notional, multiplier)
    decision_notional = _m_mul(_m_mul(decision, filled), multiplier)
    shortfall = _money_sum([spread, impact, timing, fees])
    average = _r_div(notional, _m_mul(filled, multiplier)) if fills else None
    end = order.life_end
    end_quote = _at(quotes, times, end)
    unfilled = _m_sub(order.quantity, filled)
    opportunity = None
    if end_quote is not None:
        end_mid = arrival_mid if end_quote is arrival else _mid(end_quote)
        moved = _m_sub(end_mid, decision)
        opportunity = _m_mul(_m_mul(s * unfilled, moved), multiplier)
    # Without trades, interval_vwap and interval_twap are None.
    vwap = interval_vwap(trades, order.arrival_ts, end) if fills and trades else None
    twap = interval_twap(trades, order.arrival_ts, end) if fills and trades else None
    last = max(fills, key=_ts) if fills else None  # the mid after it: the order's
    realised, market_impact = _order_horizon(
        s,
        arrival_mid,
        [(f.realised_spread_bps, f.quantity) for f in fills],
        None if last is None else last.mid_after,
    )
    last_ts = None if last is None else last.ts
    far = arrival.ask if side is OrderSide.BUY else arrival.bid
    return _new_order_quality(
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        side=side,
        currency=order.currency,
        account_id=order.account_id,
        model_id=order.model_id,
        strategy=order.strategy,
        multiplier=multiplier,
        ordered_quantity=order.quantity,
        filled_quantity=filled,
        fill_rate=_r_div(filled, order.quantity),
        arrival_ts=order.arrival_ts,
        arrival_bid=arrival.bid,
        arrival_ask=arrival.ask,
        arrival_mid=arrival_mid,
        decision_price=decision,
        decision_from_signal=order.decision_price is not None,
        average_price=average,
        filled_notional=notional,
        decision_notional=decision_notional,
        slippage_bps=None if average is None else _bps(s, average, arrival_mid),
        implementation_shortfall=shortfall,
        implementation_shortfall_bps=(
            _r_div(_r_mul(shortfall, _BPS), decision_notional) if fills else None
        ),
        spread_cost=spread,
        impact_cost=impact,
        timing_cost=timing,
        fees=fees,
        opportunity_cost=opportunity,
        interval_vwap=vwap,
        vwap_slippage_bps=None if vwap is None or average is None else _bps(s, average, vwap),
        interval_twap=twap,
        twap_slippage_bps=None if twap is None or average is None else _bps(s, average, twap),
        effective_spread_bps=_weighted([(f.effective_spread_bps, f.quantity) for f in fills]),
        realised_spread_bps=realised,
        market_impact_bps=market_impact,
        execution_time_ns=None if last_ts is None else last_ts - order.arrival_ts,
        price_improvement_bps=(None if average is None else RATIO.minus(_bps(s, average, far))),
        fills=fills,
    )


def _measure_one(
    order: OrderRecord,
    arrival: QuoteTick,
    quotes: Sequence[QuoteTick],
    times: Sequence[int],
    horizon_ns: int,
) -> OrderQuality:
    """`_measure_any` of one fill and no trades: its very operations, in order (the fill's
    through `_fill_quality`, the order's sums inline).

    Sums still start from zero, as there: that can change an exponent or a zero's sign.
    """
    fill = order.fills[0]
    buy = order.side is OrderSide.BUY
    s = 1 if buy else -1
    multiplier, price, quantity, ts = order.multiplier, fill.price, fill.quantity, fill.ts
    bid, ask = arrival.bid, arrival.ask
    arrival_mid = _mid(arrival)
    decision = arrival_mid if order.decision_price is None else order.decision_price
    quality = _fill_quality(
        fill, order.side, arrival, arrival_mid, decision, quotes, times, horizon_ns, multiplier
    )
    later, effective, realised = (
        quality.mid_after,
        quality.effective_spread_bps,
        quality.realised_spread_bps,
    )
    spread_cost, impact_cost, timing_cost = (
        quality.spread_cost,
        quality.impact_cost,
        quality.timing_cost,
    )
    fee = fill.fee
    filled = _m_add(_ZERO, quantity)
    notional = _m_mul(_m_add(_ZERO, _m_mul(price, quantity)), multiplier)
    spread = _m_add(_ZERO, spread_cost)
    impact = _m_add(_ZERO, impact_cost)
    timing = _m_add(_ZERO, timing_cost)
    fees = _m_add(_ZERO, fee)
    decision_notional = _m_mul(_m_mul(decision, filled), multiplier)
    shortfall = _m_add(_m_add(_m_add(_m_add(_ZERO, spread), impact), timing), fees)
    average = _r_div(notional, _m_mul(filled, multiplier))
    end = ts if order.end_ts is None else order.end_ts
    opportunity = None
    end_mid: Decimal | None = None
    if end == ts:  # the fill's own quote, whose mid the fill's measure holds
        end_mid = quality.mid
    elif (end_quote := _at(quotes, times, end)) is not None:
        end_mid = arrival_mid if end_quote is arrival else _mid(end_quote)
    if end_mid is not None:
        unfilled = _m_sub(order.quantity, filled)
        opportunity = _m_mul(_m_mul(s * unfilled, _m_sub(end_mid, decision)), multiplier)
    weight = _r_add(_ZERO, quantity)  # `_weighted` of the one fill
    market_impact = None if later is None else _bps(s, later, arrival_mid)
    return _new_order_quality(
        client_order_id=order.client_order_id,
        instrument_id=order.instrument_id,
        side=order.side,
        currency=order.currency,
        account_id=order.account_id,
        model_id=order.model_id,
        strategy=order.strategy,
        multiplier=multiplier,
        ordered_quantity=order.quantity,
        filled_quantity=filled,
        fill_rate=_r_div(filled, order.quantity),
        arrival_ts=order.arrival_ts,
        arrival_bid=bid,
        arrival_ask=ask,
        arrival_mid=arrival_mid,
        decision_price=decision,
        decision_from_signal=order.decision_price is not None,
        average_price=average,
        filled_notional=notional,
        decision_notional=decision_notional,
        slippage_bps=_bps(s, average, arrival_mid),
        implementation_shortfall=shortfall,
        implementation_shortfall_bps=_r_div(_r_mul(shortfall, _BPS), decision_notional),
        spread_cost=spread,
        impact_cost=impact,
        timing_cost=timing,
        fees=fees,
        opportunity_cost=opportunity,
        interval_vwap=None,
        vwap_slippage_bps=None,
        interval_twap=None,
        twap_slippage_bps=None,
        effective_spread_bps=_r_div(_r_add(_ZERO, _r_mul(effective, quantity)), weight),
        realised_spread_bps=(
            None if realised is None else _r_div(_r_add(_ZERO, _r_mul(realised, quantity)), weight)
        ),
        market_impact_bps=market_impact,
        execution_time_ns=ts - order.arrival_ts,
        price_improvement_bps=RATIO.minus(_bps(s, average, ask if buy else bid)),
        fills=(quality,),
    )


def _order_horizon(
    s: int,
    arrival_mid: Decimal,
    realised: Sequence[tuple[Decimal | None, Decimal]],
    after_last: Decimal | None,
) -> tuple[Decimal | None, Decimal | None]:
    """Return the order's realised spread and market impact, in bps (None: not yet known).

    ``realised`` holds each fill's (realised spread, quantity); ``after_last`` is the mid
    ``horizon_ns`` after the last fill.
    """
    impact = None if after_last is None else _bps(s, after_last, arrival_mid)
    return _weighted(realised), impact


@dataclass(frozen=True, slots=True)
class HorizonMeasures:
    """The measures of an order that need the mid ``horizon_ns`` after its fills.

    ``fills`` holds each fill's ``(mid_after, realised_spread_bps)``, in the order of
    `OrderQuality.fills`.
    """

    fills: tuple[tuple[Decimal | None, Decimal | None], ...]
    realised_spread_bps: Decimal | None
    market_impact_bps: Decimal | None


def horizon_measures(
    quality: OrderQuality, quotes: Sequence[QuoteTick], times: Sequence[int], horizon_ns: int
) -> HorizonMeasures:
    """Return the horizon measures `measure` would give ``quality``'s order on these quotes.

    Quotes later than an order's end change only these measures: the rest of
    ``quality`` stays as it is. ``quotes`` and ``times`` are as for `measure`.
    """
    s = quality.side.sign
    if len(quality.fills) == 1:  # `_horizon_any` of one fill, the same operations inline
        f = quality.fills[0]
        later = _after(quotes, times, f.ts, horizon_ns)
        if later is None:
            return HorizonMeasures(((None, None),), None, None)
        spread = _realised(s, f.price, later, f.mid)
        realised = _r_div(_r_add(_ZERO, _r_mul(spread, f.quantity)), _r_add(_ZERO, f.quantity))
        return HorizonMeasures(((later, spread),), realised, _bps(s, later, quality.arrival_mid))
    return _horizon_any(quality, quotes, times, horizon_ns)


def _horizon_any(
    quality: OrderQuality, quotes: Sequence[QuoteTick], times: Sequence[int], horizon_ns: int
) -> HorizonMeasures:
    """`horizon_measures` of an order with any number of fills."""
    s = quality.side.sign
    fills: list[tuple[Decimal | None, Decimal | None]] = []
    realised: list[tuple[Decimal | None, Decimal]] = []
    after_last, last_ts = None, None
    for f in quality.fills:
        later = _after(quotes, times, f.ts, horizon_ns)
        spread = None if later is None else _realised(s, f.price, later, f.mid)
        fills.append((later, spread))
        realised.append((spread, f.quantity))
        if last_ts is None or f.ts > last_ts:
            after_last, last_ts = later, f.ts
    order = _order_horizon(s, quality.arrival_mid, realised, after_last)
    return HorizonMeasures(tuple(fills), *order)


__all__ = [
    "MONEY",
    "RATIO",
    "Execution",
    "FillQuality",
    "HorizonMeasures",
    "OrderQuality",
    "OrderRecord",
    "fill_quality",
    "horizon_measures",
    "interval_twap",
    "interval_vwap",
    "measure",
    "mid_after",
    "order_quality",
    "quote_at",
]
