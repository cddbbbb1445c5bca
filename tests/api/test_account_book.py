"""The API's per-account memory stays within its caps and the answers stay whole."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alphintra.api import account_book
from alphintra.api.account_book import AccountBook, trade_page
from alphintra.api.schemas import TradeView
from alphintra.domain.enums import LiquiditySide, OrderSide
from alphintra.domain.events import OrderFilled
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    SignalId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.values import Quantity
from alphintra.store.directory import Directory
from alphintra.store.schema import trades
from api.live import QUANTITY, Deployment, LiveService, get_ok, post_ok, signal_body, wait_order

ACCOUNT = "ACC-1"


def _fill(n: int, ts: int, symbol: str = "BTCUSD") -> OrderFilled:
    return OrderFilled(
        account_id=AccountId(ACCOUNT),
        ts_event=ts,
        ts_recv=ts,
        client_order_id=ClientOrderId(f"O-{n}"),
        venue=VenueId("SIM"),
        venue_order_id=VenueOrderId(f"V-{n}"),
        trade_id=TradeId(f"T-{n:02d}"),
        instrument_id=InstrumentId(symbol),
        side=OrderSide.BUY,
        last_quantity=Quantity.of("0.5", 1),
        last_price=Decimal(100 + n),
        fee=Decimal("0.01"),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
    )


def _row(fill: OrderFilled) -> dict[str, Any]:
    return {
        "account_id": fill.account_id,
        "venue": fill.venue,
        "trade_id": fill.trade_id,
        "order_id": fill.client_order_id,
        "symbol": fill.instrument_id,
        "side": fill.side.value,
        "quantity": format(fill.last_quantity, "f"),
        "price": format(fill.last_price, "f"),
        "fee": format(fill.fee, "f"),
        "fee_currency": fill.fee_currency,
        "liquidity": fill.liquidity.value,
        "executed_at_ns": fill.ts_event,
    }


def test_account_book_caps_fills_points_and_arrival_mids_oldest_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(account_book, "RECENT_FILLS", 4)
    monkeypatch.setattr(account_book, "HISTORY_POINTS", 3)
    monkeypatch.setattr(account_book, "ARRIVAL_MIDS", 2)
    book = AccountBook()
    book.add_fills(_fill(n, n, "ETHUSD" if n % 2 else "BTCUSD") for n in range(10))
    for n in range(10):
        book.history.append((n, Decimal(n), Decimal(n)))
        book.note_arrival(SignalId(f"S-{n}"), Decimal(n))
    book.note_arrival(SignalId("S-9"), Decimal(99))  # the first mid seen is kept

    assert [f.trade_id for f in book.fills] == ["T-06", "T-07", "T-08", "T-09"]
    assert (book.count(None), book.count("BTCUSD"), book.count("ETHUSD")) == (10, 5, 5)
    assert book.count("XAUUSD") == 0
    assert [p[0] for p in book.history] == [7, 8, 9]
    assert book.arrival_mids == {SignalId("S-8"): Decimal(8), SignalId("S-9"): Decimal(9)}


def test_account_book_full_of_arrival_mids_drops_the_oldest_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Dropping a plain dict's first key again and again leaves the dropped slots in
    # front: each next(iter()) walks past all of them, so a full book got slower with
    # every signal (tens of microseconds a signal at the real cap).
    monkeypatch.setattr(account_book, "ARRIVAL_MIDS", 20_000)
    ids = [SignalId(f"S-{n}") for n in range(60_000)]
    mid = Decimal(1)
    ratios = []
    for _ in range(3):
        book = AccountBook()
        start = time.perf_counter()
        for signal_id in ids[:20_000]:
            book.note_arrival(signal_id, mid)
        filled = time.perf_counter()
        for signal_id in ids[20_000:]:
            book.note_arrival(signal_id, mid)
        ratios.append((time.perf_counter() - filled) / 2 / (filled - start))
        assert list(book.arrival_mids) == ids[40_000:]
    # Per signal, a full book costs about what a filling one does (about 60 times before).
    assert min(ratios) < 10


def test_trade_page_dropped_fills_come_from_the_trades_table_equal_times_included(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(account_book, "RECENT_FILLS", 2)
    directory = Directory(f"sqlite:///{tmp_path / 'book.db'}")
    directory.create_tables()
    try:
        times = [1, 2, 3, 3, 3, 3, 4, 5]
        fills = [_fill(n, ts) for n, ts in enumerate(times)]
        book = AccountBook()
        book.add_fills(fills)
        with directory.engine.begin() as connection:
            # The newest fill is not committed yet: only the book holds it.
            connection.execute(trades.insert(), [_row(f) for f in fills[:-1]])
        expected = [f.trade_id for f in sorted(fills, key=lambda f: (-f.ts_event, f.trade_id))]
        assert len(book.fills) == 2

        for limit in range(1, 10):
            for offset in range(10):
                page = trade_page(directory, [(ACCOUNT, book)], None, offset, limit)
                assert page.total == len(fills)
                assert [t.tradeId for t in page.items] == expected[offset : offset + limit]
        oldest = trade_page(directory, [(ACCOUNT, book)], "btcusd", 7, 1).items[0]
        assert (oldest.tradeId, oldest.orderId, oldest.price) == ("T-00", "O-0", "100")
        assert (oldest.quantity, oldest.fee, oldest.side) == ("0.5", "0.01", OrderSide.BUY)
        other = trade_page(directory, [(ACCOUNT, book)], "ETHUSD", 0, 10)
        assert (other.total, other.items) == (0, [])
    finally:
        directory.close()


def test_trade_page_deep_in_the_table_reads_only_its_own_rows_in_full(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A page at offset N ranks the newest N + limit fills by their keys; only the
    # page's own rows are read and built in full (before: every candidate row became a
    # TradeRecord and a TradeView, about 5 s on the event loop at offset 199,000).
    monkeypatch.setattr(account_book, "RECENT_FILLS", 2)
    built: list[str] = []
    real_view = account_book._record_view

    def counting_view(record: Any) -> TradeView:
        built.append(record.trade_id)
        return real_view(record)

    monkeypatch.setattr(account_book, "_record_view", counting_view)
    directory = Directory(f"sqlite:///{tmp_path / 'deep.db'}")
    directory.create_tables()
    try:
        fills = [_fill(n, 1 + n // 3) for n in range(60)]
        book = AccountBook()
        book.add_fills(fills)
        with directory.engine.begin() as connection:
            connection.execute(trades.insert(), [_row(f) for f in fills[:-1]])
        expected = [f.trade_id for f in sorted(fills, key=lambda f: (-f.ts_event, f.trade_id))]

        page = trade_page(directory, [(ACCOUNT, book)], None, 50, 5)

        assert [t.tradeId for t in page.items] == expected[50:55]
        assert sorted(built) == sorted(expected[50:55])
        assert page.items[0].price == str(100 + int(expected[50][2:]))
    finally:
        directory.close()


def test_service_many_fills_memory_capped_every_fill_and_signal_still_served(
    monkeypatch: pytest.MonkeyPatch, deployment: Deployment
) -> None:
    monkeypatch.setattr(account_book, "RECENT_FILLS", 3)
    monkeypatch.setattr(account_book, "ARRIVAL_MIDS", 2)
    monkeypatch.setattr(account_book, "HISTORY_POINTS", 4)
    alice = deployment.users["alice"]
    signals = [f"cap-{n}" for n in range(7)]
    live = deployment.start()
    with live.client(alice) as client:
        order_ids = []
        for signal_id in signals:
            (order_id,) = post_ok(client, "/signals", signal_body(signal_id))["orderIds"]
            wait_order(client, order_id, "FILLED")
            order_ids.append(order_id)
        book = live.runtime.portal.books["ALICE-1"]
        assert len(book.fills) <= 3
        assert len(book.arrival_mids) <= 2
        assert len(book.history) <= 4

        everything = get_ok(client, "/trades", limit="100")
        assert everything["total"] == len(signals)
        assert sorted(t["orderId"] for t in everything["items"]) == sorted(order_ids)
        paged = [
            t
            for offset in range(0, len(signals), 2)
            for t in get_ok(client, "/trades", offset=str(offset), limit="2")["items"]
        ]
        assert paged == everything["items"]
        first = next(t for t in everything["items"] if t["orderId"] == order_ids[0])

        feedback = get_ok(client, f"/signals/{signals[0]}")["feedback"]
        assert (feedback["orders"], feedback["fills"]) == (1, 1)
        assert Decimal(feedback["filledQuantity"]) == QUANTITY
        assert Decimal(feedback["averagePrice"]) == Decimal(first["price"])
        # Beyond ARRIVAL_MIDS signals without an entry price: no arrival mid to measure from.
        assert (feedback["reference"], feedback["slippageBps"]) == (None, None)
        assert get_ok(client, f"/signals/{signals[-1]}")["feedback"]["reference"] is not None
        history = get_ok(client, "/portfolio/history", accountId="ALICE-1", limit="1000")
        assert history
    live.stop()

    again = deployment.start()
    with again.client(alice) as client:
        book = again.runtime.portal.books["ALICE-1"]
        assert len(book.fills) <= 3
        assert book.fill_count == len(signals)
        assert get_ok(client, "/trades", limit="100") == everything


def test_algo_signal_feedback_counts_each_child_fill_once(
    live: LiveService, deployment: Deployment
) -> None:
    # A TWAP parent mirrors each child's fill (OrderChildFilled, same trade ID): the
    # signal's orders are the parent and its children, yet each fill is one fill.
    end = datetime.now(UTC) + timedelta(seconds=2)
    execution = {"type": "TWAP", "endTime": end.isoformat().replace("+00:00", "Z"), "slices": 3}
    body = signal_body("twap-feedback", quantity=Decimal("0.03"))
    with live.client(deployment.users["alice"]) as client:
        result = post_ok(client, "/signals", {**body, "metadata": {"execution": execution}})
        parent = wait_order(client, result["orderIds"][0], "FILLED")
        children = {c["orderId"] for c in parent["children"]}
        fills = [
            t for t in get_ok(client, "/trades", limit="100")["items"] if t["orderId"] in children
        ]
        assert fills
        feedback = get_ok(client, "/signals/twap-feedback")["feedback"]
        assert feedback["fills"] == len(fills)
        filled = sum(Decimal(t["quantity"]) for t in fills)
        notional = sum(Decimal(t["quantity"]) * Decimal(t["price"]) for t in fills)
        assert Decimal(feedback["filledQuantity"]) == filled == Decimal("0.03")
        assert Decimal(feedback["averagePrice"]) == notional / filled
