"""Build account states for the risk tests from real events, applied with ``apply``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from decimal import Decimal

from alphintra.domain.account import AccountState
from alphintra.domain.enums import (
    AssetClass,
    ContingencyType,
    InstrumentKind,
    LiquiditySide,
    OrderSide,
    OrderType,
    TradingState,
)
from alphintra.domain.events import (
    AccountFunded,
    AccountOpened,
    OrderAccepted,
    OrderCancelled,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
    TradingStateChanged,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    OrderListId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.instruments import Instrument
from alphintra.domain.orders import Order
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.values import ONE, ZERO, Price, Quantity

D = Decimal
ACCOUNT = AccountId("RISK")
VENUE = VenueId("SIM")
T0 = 1_700_000_000_000_000_000
"""2023-11-14 22:13:20 UTC, a Tuesday."""

REGISTRY = InstrumentRegistry()
EURUSD = REGISTRY.get("EURUSD")
BTCUSD = REGISTRY.get("BTCUSD")
SPY = REGISTRY.get("SPY")
USDJPY = REGISTRY.get("USDJPY")


def equity(
    symbol: str,
    *,
    sector: str | None = None,
    venue: str | None = None,
    asset_class: AssetClass = AssetClass.EQUITY,
    quote: str = "USD",
    multiplier: Decimal = ONE,
) -> Instrument:
    """Return a plain instrument: tick 0.01, lot 1, no minimums, no trading hours."""
    return Instrument(
        InstrumentId(symbol),
        symbol,
        asset_class,
        InstrumentKind.STOCK,
        symbol,
        quote,
        D("0.01"),
        D(1),
        multiplier=multiplier,
        venue=VenueId(venue) if venue else None,
        sector=sector,
    )


_ids = itertools.count(1)


def make_state(
    instruments: Iterable[Instrument],
    cash: Mapping[str, Decimal] | None = None,
    *,
    base: str = "USD",
) -> AccountState:
    """Return an opened, funded account that knows ``instruments``."""
    known = list(instruments)
    state = AccountState(
        ACCOUNT,
        {i.id: i.multiplier for i in known},
        {i.id: i.quote_currency for i in known},
    )
    state.apply(AccountOpened(account_id=ACCOUNT, ts_event=T0, ts_recv=T0, base_currency=base))
    for currency, amount in (cash if cash is not None else {base: D(1_000_000)}).items():
        state.apply(
            AccountFunded(
                account_id=ACCOUNT, ts_event=T0, ts_recv=T0, currency=currency, amount=amount
            )
        )
    return state


def order(
    instrument: Instrument,
    side: OrderSide,
    quantity: str | Decimal | int,
    *,
    price: str | Decimal | None = None,
    trigger: str | Decimal | None = None,
    reduce_only: bool = False,
    ts: int = T0,
    cid: str | None = None,
    venue: str | None = None,
    parent_id: str | None = None,
    oco_list: str | None = None,
) -> OrderInitialized:
    """Return an order: LIMIT with ``price``, STOP with only ``trigger``, else MARKET."""
    if price is not None:
        order_type = OrderType.STOP_LIMIT if trigger is not None else OrderType.LIMIT
    else:
        order_type = OrderType.STOP if trigger is not None else OrderType.MARKET
    return OrderInitialized(
        account_id=ACCOUNT,
        client_order_id=ClientOrderId(cid or f"C-{next(_ids)}"),
        ts_event=ts,
        ts_recv=ts,
        instrument_id=instrument.id,
        side=side,
        order_type=order_type,
        quantity=Quantity(D(quantity)),
        price=Price(D(price)) if price is not None else None,
        trigger_price=Price(D(trigger)) if trigger is not None else None,
        reduce_only=reduce_only,
        venue=VenueId(venue) if venue else None,
        parent_id=ClientOrderId(parent_id) if parent_id else None,
        contingency=ContingencyType.OCO if oco_list else ContingencyType.NONE,
        order_list_id=OrderListId(oco_list) if oco_list else None,
    )


def work(state: AccountState, init: OrderInitialized) -> Order:
    """Record ``init`` and take it through submission and acceptance: a working order."""
    state.apply(init)
    return release(state, init)


def release(state: AccountState, init: OrderInitialized) -> Order:
    """Take an order already recorded through submission and acceptance."""
    cid, ts = init.client_order_id, init.ts_event
    state.apply(
        OrderSubmitted(
            account_id=ACCOUNT, client_order_id=cid, ts_event=ts, ts_recv=ts, venue=VENUE
        )
    )
    state.apply(
        OrderAccepted(
            account_id=ACCOUNT,
            client_order_id=cid,
            ts_event=ts,
            ts_recv=ts,
            venue_order_id=VenueOrderId(f"V-{cid}"),
        )
    )
    return state.orders[cid]


def fill(
    state: AccountState,
    working: Order,
    quantity: Decimal,
    price: Decimal,
    *,
    fee: Decimal = ZERO,
    ts: int = T0,
) -> None:
    """Fill ``quantity`` of a working order at ``price``."""
    state.apply(
        OrderFilled(
            account_id=ACCOUNT,
            client_order_id=working.client_order_id,
            ts_event=ts,
            ts_recv=ts,
            venue=VENUE,
            venue_order_id=VenueOrderId(f"V-{working.client_order_id}"),
            trade_id=TradeId(f"T-{next(_ids)}"),
            instrument_id=working.instrument_id,
            side=working.side,
            last_quantity=Quantity(quantity),
            last_price=price,
            fee=fee,
            fee_currency=state.quote_currencies[working.instrument_id],
            liquidity=LiquiditySide.TAKER,
        )
    )


def deny(state: AccountState, init: OrderInitialized, code: str = "TEST", reason: str = "") -> None:
    """Record the denial of an order already recorded."""
    state.apply(
        OrderDenied(
            account_id=ACCOUNT,
            client_order_id=init.client_order_id,
            ts_event=init.ts_event,
            ts_recv=init.ts_event,
            reason_code=code,
            reason=reason,
        )
    )


def cancel(state: AccountState, working: Order) -> None:
    """Cancel a working order."""
    state.apply(
        OrderCancelled(
            account_id=ACCOUNT,
            client_order_id=working.client_order_id,
            ts_event=T0,
            ts_recv=T0,
        )
    )


def hold(
    state: AccountState, instrument: Instrument, quantity: str | Decimal, price: str | Decimal
) -> None:
    """Open a position of signed ``quantity`` at ``price`` through a filled order."""
    signed = D(quantity)
    side = OrderSide.BUY if signed > 0 else OrderSide.SELL
    working = work(state, order(instrument, side, abs(signed), price=price))
    fill(state, working, abs(signed), D(price))


def set_trading_state(state: AccountState, trading_state: TradingState) -> None:
    """Change the account's trading state."""
    state.apply(
        TradingStateChanged(
            account_id=ACCOUNT, ts_event=T0, ts_recv=T0, state=trading_state, reason="test"
        )
    )
