"""The simulated venue: a deterministic matching engine for paper trading and backtests.

Rules (the README states them too, and tests check them against hand-computed fills):

* An order submitted at time t is matched only against data whose timestamp is >= t
  (plus the configured latency). A bar the venue has already processed is never used
  for an order that arrives after it; a tick whose timestamp is >= t is.
* Buys execute against the ask side, sells against the bid side (quote data); trade
  data serves both sides, moved against the order by an optional half-spread.
* MARKET fills at the open of the first eligible bar (the tick price for ticks).
* LIMIT buy at L fills when ask low <= L, at min(L, ask open); sell when bid high >= L,
  at max(L, bid open).
* STOP buy at S triggers when ask high >= S and fills at max(S, ask open); sell when
  bid low <= S, at min(S, bid open). STOP_LIMIT fills on its trigger bar only if that
  price respects the limit, otherwise it rests as a limit from the next data point.
* TAKE_PROFIT (if-touched) buy at T triggers when ask low <= T and fills at
  min(T, ask open); sell when bid high >= T, at max(T, bid open).
* TRAILING_STOP is checked against its current stop first, then its stop is moved
  using the bar's favourable extreme, so a bar never both moves and triggers it.
* OCO: when several members of one OCO list could trigger in the same data point,
  the stop is taken (the conservative choice) and the others are cancelled.
* Fees: maker and taker rates in basis points of notional plus a per-unit commission,
  in the quote currency. Partial fills, when enabled, are limited by the size shown
  in the data point, rounded down to the lot size (a size of 0 means none was
  reported: unlimited). Once part of a stop or if-touched order has filled, it has
  triggered: its remainder trades as a market order (or rests as its limit) from the
  next data point.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from alphintra.domain.commands import (
    CancelAtVenue,
    ModifyAtVenue,
    SubmitToVenue,
    VenueCommand,
)
from alphintra.domain.enums import (
    ContingencyType,
    LiquiditySide,
    OrderSide,
    OrderType,
    TimeInForce,
)
from alphintra.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderEvents,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModified,
    OrderModifyRejected,
    OrderRejected,
    OrderTriggered,
)
from alphintra.domain.executable import (
    executable_range,
    is_point_in_time,
    trailing_stop_price,
)
from alphintra.domain.identifiers import InstrumentId, OrderListId, TradeId, VenueId, VenueOrderId
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import MarketData, QuoteTick
from alphintra.domain.orders import time_in_force_over
from alphintra.domain.values import ZERO, Price, Quantity
from alphintra.venues.capabilities import VenueCapabilities

# Enum members as module constants: an attribute lookup on an enum class is slow.
_BUY: Final = OrderSide.BUY
_MARKET: Final = OrderType.MARKET
_LIMIT: Final = OrderType.LIMIT
_STOP_LIMIT: Final = OrderType.STOP_LIMIT
_TAKE_PROFIT: Final = OrderType.TAKE_PROFIT
_TRAILING_STOP: Final = OrderType.TRAILING_STOP
_TAKER: Final = LiquiditySide.TAKER
_MAKER: Final = LiquiditySide.MAKER
_OCO: Final = ContingencyType.OCO
_GTD: Final = TimeInForce.GTD
_IOC: Final = TimeInForce.IOC
_FOK: Final = TimeInForce.FOK
_BPS = Decimal(10_000)
_STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP})

SIMULATED_CAPABILITIES = VenueCapabilities(
    order_types=frozenset(
        {
            OrderType.MARKET,
            OrderType.LIMIT,
            OrderType.STOP,
            OrderType.STOP_LIMIT,
            OrderType.TAKE_PROFIT,
            OrderType.TRAILING_STOP,
        }
    ),
    native_oco=True,
)


@dataclass(frozen=True, slots=True)
class SimulatedVenueConfig:
    """Fees, spread, partial fills and latency of the simulated venue."""

    venue_id: VenueId = VenueId("SIM")  # noqa: RUF009 - NewType, no call at runtime cost
    maker_fee_bps: Decimal = ZERO
    taker_fee_bps: Decimal = ZERO
    commission_per_unit: Decimal = ZERO
    trade_half_spread: Decimal = ZERO
    """Added to trade prices for buys and subtracted for sells (trade data only)."""
    partial_fills: bool = False
    latency_ns: int = 0
    capabilities: VenueCapabilities = field(default=SIMULATED_CAPABILITIES)

    def __post_init__(self) -> None:
        for name in ("taker_fee_bps", "maker_fee_bps"):
            fee = getattr(self, name)
            if not (fee.is_finite() and -10_000 < fee < 10_000):  # negative: a rebate
                raise ValueError(
                    f"SimulatedVenueConfig.{name} must be above -10000 and below 10000 "
                    f"basis points, got {fee}"
                )
        for name in ("commission_per_unit", "trade_half_spread"):
            value = getattr(self, name)
            if not (value.is_finite() and value >= 0):
                raise ValueError(
                    f"SimulatedVenueConfig.{name} must be finite and not negative, got {value}"
                )
        if self.latency_ns < 0:
            raise ValueError(
                f"SimulatedVenueConfig.latency_ns must not be negative, got {self.latency_ns}"
            )


class _Working:
    """The venue's view of one working order."""

    __slots__ = (
        "eligible_ts",
        "evaluated",
        "extreme",
        "filled",
        "order",
        "price",
        "quantity",
        "trigger_price",
        "triggered",
        "venue_order_id",
    )

    def __init__(self, order: OrderInitialized, venue_order_id: VenueOrderId, eligible_ts: int):
        self.order = order
        self.venue_order_id = venue_order_id
        self.eligible_ts = eligible_ts
        self.quantity: Decimal = order.quantity
        self.filled: Decimal = ZERO
        self.price: Decimal | None = order.price
        self.trigger_price: Decimal | None = order.trigger_price
        self.triggered = False
        self.evaluated = False
        self.extreme: Decimal | None = None


class _Match:
    __slots__ = ("liquidity", "price", "triggered_now", "working")

    def __init__(
        self, working: _Working, price: Decimal, liquidity: LiquiditySide, triggered_now: bool
    ):
        self.working = working
        self.price = price
        self.liquidity = liquidity
        self.triggered_now = triggered_now


class SimulatedVenue:
    """A matching engine over historical or synthetic market data."""

    def __init__(
        self, config: SimulatedVenueConfig, instruments: Mapping[InstrumentId, Instrument]
    ) -> None:
        self.config = config
        self.venue_id = config.venue_id
        self.capabilities = config.capabilities
        self._instruments = instruments
        self._working: dict[InstrumentId, list[_Working]] = {}
        self._by_id: dict[str, _Working] = {}
        self._last_data: dict[InstrumentId, MarketData] = {}
        self._order_seq = 0
        self._trade_seq = 0
        self.fills_count = 0

    def continue_numbering(self, last_order: int, last_trade: int) -> None:
        """Number new orders and trades after these (a restarted venue must not reuse IDs)."""
        self._order_seq = max(self._order_seq, last_order)
        self._trade_seq = max(self._trade_seq, last_trade)

    # Commands -------------------------------------------------------------------

    def handle(self, command: VenueCommand) -> list[OrderEvents]:
        """Process one command and return the execution reports it produced."""
        if type(command) is SubmitToVenue:
            return self._submit(command.order)
        if type(command) is CancelAtVenue:
            return self._cancel(command)
        assert type(command) is ModifyAtVenue
        return self._modify(command)

    def _submit(self, order: OrderInitialized) -> list[OrderEvents]:
        reason = self._refusal(order)
        if reason is not None:
            return [
                OrderRejected(
                    account_id=order.account_id,
                    client_order_id=order.client_order_id,
                    ts_event=order.ts_event,
                    ts_recv=order.ts_event,
                    reason=reason,
                )
            ]
        self._order_seq += 1
        venue_order_id = VenueOrderId(f"{self.venue_id}-{self._order_seq}")
        eligible_ts = order.ts_event + self.config.latency_ns
        accepted = OrderAccepted(
            account_id=order.account_id,
            client_order_id=order.client_order_id,
            ts_event=order.ts_event,
            ts_recv=order.ts_event,
            venue_order_id=venue_order_id,
        )
        last = self._last_data.get(order.instrument_id)
        if type(last) is QuoteTick and last.ts >= eligible_ts:
            fill = self._immediate_fill(order, venue_order_id, last)
            if fill is not None:
                return [accepted, fill]
        working = _Working(order, venue_order_id, eligible_ts)
        reports: list[OrderEvents] = [accepted]
        if order.order_type is _TRAILING_STOP and working.trigger_price is None:
            if last is None:
                reports.append(
                    OrderCancelled(
                        account_id=order.account_id,
                        client_order_id=order.client_order_id,
                        ts_event=order.ts_event,
                        ts_recv=order.ts_event,
                        reason="trailing stop needs a reference price: no market data yet",
                    )
                )
                return reports
            buy = order.side is _BUY
            reference = executable_range(last, buy, self.config.trade_half_spread).open
            working.extreme = reference
            stop = self._trail(working, reference)
            working.trigger_price = stop
            reports.append(self._modified(working, order.ts_event, trigger_price=stop))
        self._working.setdefault(order.instrument_id, []).append(working)
        self._by_id[order.client_order_id] = working
        if last is not None and is_point_in_time(last) and last.ts >= working.eligible_ts:
            reports.extend(self._match(order.instrument_id, last, (working,)))
        return reports

    def _immediate_fill(
        self, order: OrderInitialized, venue_order_id: VenueOrderId, tick: QuoteTick
    ) -> OrderFilled | None:
        """Fill a new market or marketable limit order in full against ``tick``, or None.

        The shortcut of ``_match`` for one new order that takes the whole quantity at
        once (no partial fills, no OCO list, not post-only): it returns the fill that
        the general path would report, and leaves the venue in the same state (the
        order never rests). Anything else returns None and takes the general path.
        """
        if self.config.partial_fills or (
            order.contingency is _OCO and order.order_list_id is not None
        ):
            return None
        buy = order.side is _BUY
        order_type = order.order_type
        if order_type is _MARKET:
            price = tick.ask if buy else tick.bid
        elif order_type is _LIMIT and not order.post_only:
            limit = order.price
            assert limit is not None, "limit orders carry a price"
            # As _evaluate_limit on an order's first data point: a quote tick's open,
            # high and low are all the one price, so it either crosses (taker) or rests.
            if buy:
                if tick.ask > limit:
                    return None
                price = min(limit, tick.ask)
            else:
                if tick.bid < limit:
                    return None
                price = max(limit, tick.bid)
        else:
            return None
        quantity = order.quantity - ZERO  # the leaves, computed as _match does
        if not quantity > 0:
            return None
        return self._fill_report(order, venue_order_id, quantity, price, _TAKER, tick.ts)

    def _refusal(self, order: OrderInitialized) -> str | None:
        if order.order_type not in self.capabilities.order_types:
            return f"order type {order.order_type} is not supported by venue {self.venue_id}"
        if order.time_in_force not in self.capabilities.times_in_force:
            return f"time in force {order.time_in_force} is not supported by {self.venue_id}"
        if order.instrument_id not in self._instruments:
            return f"instrument {order.instrument_id} is not listed on {self.venue_id}"
        if order.client_order_id in self._by_id:
            return f"duplicate client order ID {order.client_order_id} among open orders"
        if order.time_in_force is _GTD and order.expire_ts is None:
            return "GTD order without an expire time"
        return None

    def _cancel(self, command: CancelAtVenue) -> list[OrderEvents]:
        working = self._by_id.get(command.client_order_id)
        if working is None:
            return [
                OrderCancelRejected(
                    account_id=command.account_id,
                    client_order_id=command.client_order_id,
                    ts_event=command.ts,
                    ts_recv=command.ts,
                    reason="order is not open at the venue",
                )
            ]
        self._remove(working)
        return [self._cancelled(working, command.ts, "cancelled by request")]

    def _modify(self, command: ModifyAtVenue) -> list[OrderEvents]:
        working = self._by_id.get(command.client_order_id)
        reason: str | None = None
        if working is None:
            reason = "order is not open at the venue"
        elif command.quantity is not None and command.quantity <= working.filled:
            reason = f"new quantity {command.quantity} is not above the filled {working.filled}"
        if reason is not None or working is None:
            return [
                OrderModifyRejected(
                    account_id=command.account_id,
                    client_order_id=command.client_order_id,
                    ts_event=command.ts,
                    ts_recv=command.ts,
                    reason=reason or "",
                )
            ]
        if command.quantity is not None:
            working.quantity = command.quantity
        if command.price is not None:
            working.price = command.price
        if command.trigger_price is not None:
            working.trigger_price = command.trigger_price
        return [
            self._modified(
                working,
                command.ts,
                quantity=command.quantity,
                price=command.price,
                trigger_price=command.trigger_price,
            )
        ]

    # Market data ------------------------------------------------------------------

    def on_market_data(self, data: MarketData) -> list[OrderEvents]:
        """Match working orders against one data point; return the reports produced."""
        instrument_id = data.instrument_id
        self._last_data[instrument_id] = data
        working = self._working.get(instrument_id)
        if not working:
            return []
        ts = data.ts
        reports = self._expire(working, ts)
        eligible = tuple([w for w in working if w.eligible_ts <= ts])
        if eligible:
            reports.extend(self._match(instrument_id, data, eligible))
        return reports

    def _expire(self, working: list[_Working], ts: int) -> list[OrderEvents]:
        reports: list[OrderEvents] = []
        for w in tuple(working):
            order = w.order
            if time_in_force_over(order.time_in_force, order.expire_ts, order.ts_event, ts):
                self._remove(w)
                reports.append(
                    OrderExpired(
                        account_id=order.account_id,
                        client_order_id=order.client_order_id,
                        ts_event=ts,
                        ts_recv=ts,
                    )
                )
        return reports

    def _match(
        self, instrument_id: InstrumentId, data: MarketData, candidates: tuple[_Working, ...]
    ) -> list[OrderEvents]:
        reports: list[OrderEvents] = []
        matches: list[_Match] = []
        for w in candidates:
            match = self._evaluate(w, data, reports)
            if match is not None:
                matches.append(match)
        if len(matches) > 1:
            matches = self._resolve_oco(matches, data.ts, reports)
        buy_left: Decimal | None = None
        sell_left: Decimal | None = None
        if self.config.partial_fills:
            # A fill is on the instrument's lot grid: the size shown is rounded down.
            instrument = self._instruments[instrument_id]
            buy_size = executable_range(data, True).size
            sell_size = executable_range(data, False).size
            buy_left = instrument.round_quantity_down(buy_size) if buy_size > 0 else None
            sell_left = instrument.round_quantity_down(sell_size) if sell_size > 0 else None
        for match in matches:
            w = match.working
            if w.order.client_order_id not in self._by_id:
                continue  # cancelled by an OCO sibling earlier in this data point
            buy = w.order.side is _BUY
            leaves = w.quantity - w.filled
            available = buy_left if buy else sell_left
            quantity = leaves if available is None else min(leaves, available)
            tif = w.order.time_in_force
            if tif is _FOK and quantity < leaves:
                self._remove(w)
                reports.append(self._cancelled(w, data.ts, "FOK order could not fill in full"))
                continue
            if match.triggered_now:
                # Reported as triggered: it stays so (a limit from now on) even when the
                # size shown is taken and nothing fills on this data point.
                w.triggered = True
                reports.append(self._triggered(w, data.ts))
            if quantity > 0:
                w.triggered = True  # once part of it has traded, an order has triggered
                if available is not None:
                    if buy:
                        buy_left = available - quantity
                    else:
                        sell_left = available - quantity
                reports.append(self._fill(w, quantity, match.price, match.liquidity, data.ts))
                reports.extend(self._after_fill(w, quantity, data.ts))
        for w in candidates:
            if w.order.time_in_force in (_IOC, _FOK) and (w.order.client_order_id in self._by_id):
                self._remove(w)
                reports.append(
                    self._cancelled(w, data.ts, f"{w.order.time_in_force} remainder cancelled")
                )
        return reports

    def _evaluate(self, w: _Working, data: MarketData, reports: list[OrderEvents]) -> _Match | None:
        order = w.order
        buy = order.side is _BUY
        first = not w.evaluated
        w.evaluated = True
        if type(data) is QuoteTick:
            # A quote tick's range is one price: executable_range without the tuple.
            open_ = high = low = data.ask if buy else data.bid
        else:
            r = executable_range(data, buy, self.config.trade_half_spread)
            open_, high, low = r.open, r.high, r.low
        order_type = order.order_type
        if order_type is _MARKET or (w.triggered and w.price is None):
            # A stop or if-touched order without a limit works as a market order once
            # it has triggered (its remainder after a partial fill).
            return _Match(w, open_, _TAKER, False)
        if order_type is _LIMIT or w.triggered:
            return self._evaluate_limit(w, open_, high, low, first, data.ts, reports)
        trigger = w.trigger_price
        assert trigger is not None, "stop and if-touched orders carry a trigger price"
        if order_type is _TAKE_PROFIT:
            touched = low <= trigger if buy else high >= trigger
            if not touched:
                return None
            price = min(trigger, open_) if buy else max(trigger, open_)
        else:
            hit = high >= trigger if buy else low <= trigger
            if not hit:
                if order_type is _TRAILING_STOP:
                    self._ratchet(w, low if buy else high, data.ts, reports)
                return None
            price = max(trigger, open_) if buy else min(trigger, open_)
        limit = w.price
        if order_type is _STOP_LIMIT or (order_type is _TAKE_PROFIT and limit is not None):
            assert limit is not None
            if (buy and price > limit) or (not buy and price < limit):
                w.triggered = True  # rests as a limit from the next data point
                reports.append(self._triggered(w, data.ts))
                return None
        triggered_now = order_type is _STOP_LIMIT or (
            order_type is _TAKE_PROFIT and limit is not None
        )
        return _Match(w, price, _TAKER, triggered_now)

    def _evaluate_limit(
        self,
        w: _Working,
        open_: Decimal,
        high: Decimal,
        low: Decimal,
        first: bool,
        ts: int,
        reports: list[OrderEvents],
    ) -> _Match | None:
        limit = w.price
        assert limit is not None, "limit orders carry a price"
        if w.order.side is _BUY:
            if low > limit:
                return None
            marketable = open_ <= limit
            price = min(limit, open_)
        else:
            if high < limit:
                return None
            marketable = open_ >= limit
            price = max(limit, open_)
        if first and marketable and w.order.post_only:
            self._remove(w)
            reports.append(
                OrderRejected(
                    account_id=w.order.account_id,
                    client_order_id=w.order.client_order_id,
                    ts_event=ts,
                    ts_recv=ts,
                    reason=f"post-only order at {limit} would take liquidity at {open_}",
                )
            )
            return None
        liquidity = _TAKER if first and marketable else _MAKER
        return _Match(w, price, liquidity, False)

    def _trail(self, w: _Working, extreme: Decimal) -> Price:
        order = w.order
        assert order.trailing_offset is not None and order.trailing_offset_type is not None
        return trailing_stop_price(
            self._instruments[order.instrument_id],
            order.side,
            extreme,
            order.trailing_offset,
            order.trailing_offset_type,
        )

    def _ratchet(self, w: _Working, extreme: Decimal, ts: int, reports: list[OrderEvents]) -> None:
        buy = w.order.side is _BUY
        current = w.extreme
        if current is not None and (
            (buy and extreme >= current) or (not buy and extreme <= current)
        ):
            return
        w.extreme = extreme
        stop = self._trail(w, extreme)
        previous = w.trigger_price
        if previous is None or (buy and stop < previous) or (not buy and stop > previous):
            w.trigger_price = stop
            reports.append(self._modified(w, ts, trigger_price=stop))

    def _resolve_oco(
        self, matches: list[_Match], ts: int, reports: list[OrderEvents]
    ) -> list[_Match]:
        by_list: dict[OrderListId, list[_Match]] = {}
        for match in matches:
            order = match.working.order
            if order.contingency is _OCO and order.order_list_id is not None:
                by_list.setdefault(order.order_list_id, []).append(match)
        dropped: set[int] = set()
        for members in by_list.values():
            if len(members) < 2:
                continue
            stops = [m for m in members if m.working.order.order_type in _STOP_TYPES]
            keep = stops[0] if stops else members[0]
            for m in members:
                if m is not keep:
                    dropped.add(id(m))
        return [m for m in matches if id(m) not in dropped]

    def _after_fill(self, w: _Working, quantity: Decimal, ts: int) -> list[OrderEvents]:
        order = w.order
        done = w.filled >= w.quantity
        if done:
            self._remove(w)
        if order.contingency is not _OCO or order.order_list_id is None:
            return []
        reports: list[OrderEvents] = []
        for sibling in tuple(self._working.get(order.instrument_id, ())):
            sibling_order = sibling.order
            if (
                sibling is w
                or sibling_order.order_list_id != order.order_list_id
                or sibling_order.contingency is not _OCO
            ):
                continue  # a bracket's entry (OTO) shares the list but is no OCO member
            remaining = sibling.quantity - quantity
            if done or remaining <= sibling.filled:
                self._remove(sibling)
                reports.append(self._cancelled(sibling, ts, "OCO sibling filled"))
            else:
                sibling.quantity = remaining
                reports.append(self._modified(sibling, ts, quantity=Quantity(remaining)))
        return reports

    # Reports --------------------------------------------------------------------------

    def _remove(self, w: _Working) -> None:
        self._by_id.pop(w.order.client_order_id, None)
        book = self._working.get(w.order.instrument_id)
        if book is not None:
            book.remove(w)

    def _fill(
        self,
        w: _Working,
        quantity: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        ts: int,
    ) -> OrderFilled:
        w.filled += quantity
        return self._fill_report(w.order, w.venue_order_id, quantity, price, liquidity, ts)

    def _fill_report(
        self,
        order: OrderInitialized,
        venue_order_id: VenueOrderId,
        quantity: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        ts: int,
    ) -> OrderFilled:
        instrument = self._instruments[order.instrument_id]
        config = self.config
        rate = config.maker_fee_bps if liquidity is _MAKER else config.taker_fee_bps
        fee = quantity * price * instrument.multiplier * rate / _BPS
        if config.commission_per_unit:
            fee += quantity * config.commission_per_unit
        self._trade_seq += 1
        self.fills_count += 1
        return OrderFilled(
            account_id=order.account_id,
            client_order_id=order.client_order_id,
            ts_event=ts,
            ts_recv=ts,
            venue=self.venue_id,
            venue_order_id=venue_order_id,
            trade_id=TradeId(f"{self.venue_id}-T{self._trade_seq}"),
            instrument_id=order.instrument_id,
            side=order.side,
            last_quantity=Quantity(quantity),
            last_price=price,
            fee=fee,
            fee_currency=instrument.quote_currency,
            liquidity=liquidity,
        )

    def _cancelled(self, w: _Working, ts: int, reason: str) -> OrderCancelled:
        return OrderCancelled(
            account_id=w.order.account_id,
            client_order_id=w.order.client_order_id,
            ts_event=ts,
            ts_recv=ts,
            reason=reason,
        )

    def _triggered(self, w: _Working, ts: int) -> OrderTriggered:
        return OrderTriggered(
            account_id=w.order.account_id,
            client_order_id=w.order.client_order_id,
            ts_event=ts,
            ts_recv=ts,
        )

    def _modified(
        self,
        w: _Working,
        ts: int,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> OrderModified:
        return OrderModified(
            account_id=w.order.account_id,
            client_order_id=w.order.client_order_id,
            ts_event=ts,
            ts_recv=ts,
            quantity=quantity,
            price=price,
            trigger_price=trigger_price,
        )

    def open_order_ids(self) -> list[str]:
        """Return the client order IDs the venue is working, in priority order."""
        return [w.order.client_order_id for book in self._working.values() for w in book]
