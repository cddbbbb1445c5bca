"""`Portal.list_orders` pages exactly as a stable sort of every match, newest first.

The portal takes the page with ``heapq.nlargest`` over the matching orders instead of
listing and sorting them all. Against that reference (the sort it replaced), on a real
service with three accounts, working, filled and cancelled orders of two symbols, and
many orders created at the same instant (ties keep the accounts' order): the same page
and the same total for every filter, offset and limit.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.api import views
from alphintra.api.portal import Portal, _api_statuses
from alphintra.api.schemas import OrderView
from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.service.trading import AccountSettings, TradingService
from alphintra.store.directory import Directory
from alphintra.store.journal import open_journal
from alphintra.store.migrate import upgrade

T0 = 1_700_000_000_000_000_000
SEC = 1_000_000_000
EURUSD = InstrumentId("EURUSD")
BTCUSD = InstrumentId("BTCUSD")
ACCOUNTS = ("A", "B", "C")


def _quotes(ts: int) -> list[QuoteTick]:
    return [
        QuoteTick(EURUSD, Decimal("1.1"), Decimal("1.1001"), Decimal(10**6), Decimal(10**6), ts),
        QuoteTick(BTCUSD, Decimal("50000"), Decimal("50001"), Decimal(100), Decimal(100), ts),
    ]


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    url = f"sqlite:///{tmp_path / 'alphintra.db'}"
    upgrade(url)
    journal = open_journal(url)
    directory = Directory(url)
    clock = SimulatedClock(T0)
    service = TradingService(journal=journal, registry=InstrumentRegistry(), clock=clock)
    portal = Portal(service, directory, None)
    for account in ACCOUNTS:
        portal.start_account(AccountSettings(account_id=AccountId(account), owner="u"), [])
    asyncio.run(_trade(service, clock))
    yield portal
    journal.close()
    directory.close()


async def _trade(service: TradingService, clock: SimulatedClock) -> None:
    for quote in _quotes(T0):
        await service.on_market_data(quote)
    sides = itertools.cycle([OrderSide.BUY, OrderSide.SELL])
    for step in range(12):
        if step % 4 == 0:  # several orders per instant: ties in creation time
            clock.advance_to(T0 + (step // 4 + 1) * SEC)
        for account in ACCOUNTS[: 1 + step % 3]:
            symbol = EURUSD if step % 2 else BTCUSD
            resting = step % 3 == 0
            price = (Decimal("1.0") if symbol == EURUSD else Decimal(40000)) if resting else None
            order = await service.place_order(
                account,
                OrderRequest(
                    instrument_id=symbol,
                    side=OrderSide.BUY if resting else next(sides),
                    order_type=OrderType.LIMIT if resting else OrderType.MARKET,
                    quantity=Decimal(1000) if symbol == EURUSD else Decimal("0.01"),
                    price=price,
                ),
                None,
            )
            if resting and step % 2 == 0:
                await service.cancel_order(order.client_order_id, None)
    clock.advance_to(T0 + 10 * SEC)
    for quote in _quotes(T0 + 10 * SEC):
        await service.on_market_data(quote)


def _reference(
    portal: Portal,
    allowed: frozenset[str] | None,
    account_id: str | None,
    status: OrderStatus | None,
    symbol: str | None,
    low: int | None,
    high: int | None,
    offset: int,
    limit: int,
) -> tuple[list[OrderView], int]:
    """The page and total as list_orders computed them before: a list of every match, sorted."""
    wanted = _api_statuses(status)
    items = []
    for runtime in portal._runtimes(allowed, account_id):
        account = runtime.engine.account_id
        for order in runtime.engine.state.orders.values():
            if wanted is not None and order.status not in wanted:
                continue
            if symbol is not None and order.instrument_id != symbol.upper():
                continue
            if (low is not None and order.ts_init < low) or (
                high is not None and order.ts_init > high
            ):
                continue
            items.append((order.ts_init, account, order))
    items.sort(key=lambda item: item[0], reverse=True)
    page = [views.order_view(a, o) for _, a, o in items[offset : offset + limit]]
    return page, len(items)


def test_pages_equal_the_sorted_reference(portal: Portal) -> None:
    statuses = {
        o.status for rt in portal.service.accounts.values() for o in rt.engine.state.orders.values()
    }
    assert {OrderStatus.FILLED, OrderStatus.CANCELLED} <= statuses
    assert statuses & {OrderStatus.ACCEPTED, OrderStatus.SUBMITTED, OrderStatus.NEW}
    windows: list[tuple[datetime | None, datetime | None]] = [
        (None, None),
        (views.when(T0 + 2 * SEC), None),
        (None, views.when(T0 + 2 * SEC)),
        (views.when(T0 + 2 * SEC), views.when(T0 + 2 * SEC)),
    ]
    checked = 0
    for allowed, account_id in [(None, None), (frozenset({"A", "C"}), None), (None, "B")]:
        for status in (None, OrderStatus.NEW, OrderStatus.FILLED, OrderStatus.CANCELLED):
            for symbol in (None, "eurusd", "BTCUSD"):
                for from_time, to_time in windows:
                    low = views.nanos(from_time) if from_time else None
                    high = views.nanos(to_time) if to_time else None
                    for offset, limit in [(0, 1), (0, 2), (1, 3), (2, 1000), (0, 1000), (50, 5)]:
                        result = portal.list_orders(
                            allowed, account_id, status, symbol, from_time, to_time, offset, limit
                        )
                        page, total = _reference(
                            portal, allowed, account_id, status, symbol, low, high, offset, limit
                        )
                        assert result.items == page
                        assert result.total == total
                        checked += total
    assert checked > 0


def test_ties_keep_the_accounts_order(portal: Portal) -> None:
    result = portal.list_orders(None, None, None, None, None, None, 0, 1000)
    newest_first = [(views.nanos(o.createdAt), o.accountId) for o in result.items]
    assert len(newest_first) == result.total > 10
    assert len({ts for ts, _ in newest_first}) < len(newest_first)  # ties exist
    for (ts, account), (next_ts, next_account) in itertools.pairwise(newest_first):
        assert ts > next_ts or (ts == next_ts and account <= next_account)
