"""What the API keeps in memory per account beyond the engine's state, with its caps.

Each account's book holds its most recent fills, its recent equity curve and the mid
at each signal's arrival. All three are bounded, so that a service running for weeks
keeps the same memory however many fills and signals it sees:

- ``RECENT_FILLS`` fills. Older fills are read from the ``trades`` read table, which
  the journal's commit writes (`alphintra.store.projection`), so ``/trades`` still
  lists every fill. The window only needs to span the fills not yet committed (a
  group commit holds at most a few hundred events).
- ``HISTORY_POINTS`` equity points (one a second at most). ``/portfolio/history``
  reads older points from ``portfolio_snapshots``; the drawdown and risk figures are
  over the points kept.
- ``ARRIVAL_MIDS`` arrival mids, oldest signal dropped first. Only signals without an
  entry price need one (the entry price is journaled and takes precedence), so only
  those are kept; a signal older than the newest ``ARRIVAL_MIDS`` such signals of its
  account reports no ``reference`` and no ``slippageBps``.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from alphintra.api import views
from alphintra.api.schemas import TradeList, TradeView
from alphintra.domain.enums import OrderSide
from alphintra.domain.events import OrderFilled
from alphintra.domain.identifiers import SignalId
from alphintra.domain.values import ZERO
from alphintra.store.directory import Directory, TradeRecord

RECENT_FILLS = 10_000
"""Fills an account's book keeps in memory (the newest)."""
HISTORY_POINTS = 100_000
"""Equity points an account's book keeps in memory (the newest; about 28 hours)."""
ARRIVAL_MIDS = 100_000
"""Arrival mids an account's book keeps (of the newest signals without an entry price)."""

EquityPoint = tuple[int, Decimal, Decimal]
"""(time in nanoseconds, total value, cash)."""


def _recent_fills() -> deque[OrderFilled]:
    return deque(maxlen=RECENT_FILLS)


def _recent_points() -> deque[EquityPoint]:
    return deque(maxlen=HISTORY_POINTS)


@dataclass(slots=True)
class AccountBook:
    """Per-account data the API serves that the engine state does not keep."""

    fills: deque[OrderFilled] = field(default_factory=_recent_fills)
    """The newest fills, oldest first (at most ``RECENT_FILLS``)."""
    fill_count: int = 0
    """Every fill the account ever had (the book's and older ones)."""
    symbol_fills: dict[str, int] = field(default_factory=dict)
    """``fill_count`` by instrument."""
    history: deque[EquityPoint] = field(default_factory=_recent_points)
    arrival_mids: OrderedDict[SignalId, Decimal] = field(default_factory=OrderedDict)
    """Mids at arrival, oldest signal first (at most ``ARRIVAL_MIDS``). Ordered: a plain
    dict drops its first key in time growing with the keys dropped before it."""
    day: int = -1
    day_start: Decimal = ZERO
    persisted: int = 0
    risk_persisted: int = 0

    def add_fills(self, fills: Iterable[OrderFilled]) -> None:
        """Count ``fills`` and keep the newest of them."""
        for fill in fills:
            self.add_fill(fill)

    def add_fill(self, fill: OrderFilled) -> None:
        """Count ``fill`` and keep it (dropping the oldest kept fill when full)."""
        self.fills.append(fill)
        self.fill_count += 1
        counts = self.symbol_fills
        symbol = fill.instrument_id
        counts[symbol] = counts.get(symbol, 0) + 1

    def replace_fills(self, fills: Iterable[OrderFilled]) -> None:
        """Forget the fills counted so far and count ``fills`` instead (an account rebuilt
        from its journal: fills its stopped memory held but the journal lost are gone)."""
        self.fills.clear()
        self.fill_count = 0
        self.symbol_fills.clear()
        self.add_fills(fills)

    def count(self, symbol: str | None) -> int:
        """Return how many fills the account had (of ``symbol`` only, when given)."""
        return self.fill_count if symbol is None else self.symbol_fills.get(symbol, 0)

    def note_arrival(self, signal_id: SignalId, mid: Decimal) -> None:
        """Remember the first mid seen for ``signal_id``, dropping the oldest when full."""
        mids = self.arrival_mids
        if signal_id in mids:
            return
        mids[signal_id] = mid
        if len(mids) > ARRIVAL_MIDS:
            mids.popitem(last=False)


_Keyed = tuple[int, int, str, str, OrderFilled | None]
"""(minus the execution time, account rank, venue, trade ID, the fill: None for one read
from the ``trades`` table)."""


def trade_page(
    directory: Directory,
    books: Sequence[tuple[str, AccountBook]],
    symbol: str | None,
    offset: int,
    limit: int,
) -> TradeList:
    """Return a page of the accounts' fills, newest first.

    Equal times list the accounts in the order given, then by venue and trade ID. An
    account whose book still holds every fill it had is served from memory; for one
    whose oldest fills were dropped, the keys of the newest ``offset + limit`` fills are
    read from the ``trades`` table and joined with the book's (which holds those not
    committed yet); only the page's rows are then read in full.
    """
    wanted = symbol.upper() if symbol is not None else None
    count = offset + limit
    total = 0
    keyed: list[_Keyed] = []
    for rank, (account, book) in enumerate(books):
        total += book.count(wanted)
        seen: set[tuple[str, str]] = set()
        for fill in book.fills:
            if wanted is None or fill.instrument_id == wanted:
                seen.add((fill.venue, fill.trade_id))
                keyed.append((-fill.ts_event, rank, fill.venue, fill.trade_id, fill))
        if len(seen) >= book.count(wanted):
            continue
        for executed_at_ns, venue, trade_id in directory.newest_trade_keys(account, wanted, count):
            if (venue, trade_id) not in seen:
                keyed.append((-executed_at_ns, rank, venue, trade_id, None))
    newest = heapq.nsmallest(count, keyed, key=_order)[offset:]
    stored: dict[int, set[tuple[str, str]]] = {}
    for _, rank, venue, trade_id, item in newest:
        if item is None:
            stored.setdefault(rank, set()).add((venue, trade_id))
    records = {
        (rank, record.venue, record.trade_id): _record_view(record)
        for rank, keys in stored.items()
        for record in directory.trades_by_id(books[rank][0], keys)
    }
    page = [
        views.trade_view(books[rank][0], item)
        if item is not None
        else records[rank, venue, trade_id]
        for _, rank, venue, trade_id, item in newest
    ]
    return TradeList(items=page, total=total, offset=offset, limit=limit)


def _order(item: _Keyed) -> tuple[int, int, str, str]:
    return item[0], item[1], item[2], item[3]


def _record_view(record: TradeRecord) -> TradeView:
    return TradeView(
        tradeId=record.trade_id,
        orderId=record.order_id,
        accountId=record.account_id,
        symbol=record.symbol,
        side=OrderSide(record.side),
        quantity=format(record.quantity, "f"),
        price=format(record.price, "f"),
        fee=format(record.fee, "f"),
        feeCurrency=record.fee_currency,
        liquidity=record.liquidity,
        venue=record.venue,
        executedAt=views.when(record.executed_at_ns),
    )


__all__ = [
    "ARRIVAL_MIDS",
    "HISTORY_POINTS",
    "RECENT_FILLS",
    "AccountBook",
    "trade_page",
]
