"""Brackets (entry, stop-loss, take-profit) and icebergs against hand-computed fills."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import NamedTuple

import pytest

from alphintra.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType
from alphintra.domain.events import OrderChildFilled, OrderModified
from alphintra.domain.orders import Order
from alphintra.venues.simulated.matching import SimulatedVenueConfig
from helpers.csv_rows import (
    BTCUSD_QUOTE,
    DE30EUR_QUOTE,
    SPY_QUOTE,
    XAUUSD_QUOTE,
    Row,
    d,
    first_at_or_after,
    first_index,
    read_rows,
    ts_ns,
)
from helpers.sim_harness import SimHarness

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def closing_mid(row: Row) -> Decimal:
    return (d(row, "bid_close") + d(row, "ask_close")) / 2


# Brackets ---------------------------------------------------------------------------


def test_bracket_stop_and_target_inside_same_bar_fills_stop_loss_and_cancels_target() -> None:
    # DE30EUR 2019-02-21: the entry fills at 09:00; the 09:01 and 09:02 bid ranges stay
    # inside (11417.0, 11425.5); the 09:03 bid range contains both levels.
    submit_at = "2019-02-21T08:59:30Z"
    stop, target = Decimal("11417.0"), Decimal("11425.5")
    rows = read_rows(DE30EUR_QUOTE)
    entry_i = first_at_or_after(rows, ts_ns(submit_at))
    assert stop < closing_mid(rows[entry_i - 1]) < target  # a valid bracket when sent
    entry_row = rows[entry_i]
    assert entry_row["timestamp"] == "2019-02-21T09:00:00Z"
    # The exits work from the bar after the entry's fill.
    exit_i = first_index(
        rows, entry_i + 1, lambda r: d(r, "bid_low") <= stop or d(r, "bid_high") >= target
    )
    exit_row = rows[exit_i]
    assert exit_row["timestamp"] == "2019-02-21T09:03:00Z"
    assert d(exit_row, "bid_low") <= stop and d(exit_row, "bid_high") >= target
    stop_price = min(stop, d(exit_row, "bid_open"))

    h = SimHarness("DE30EUR", DE30EUR_QUOTE)
    h.begin(submit_at)
    entry, stop_loss, take_profit = h.submit_bracket(
        h.request(BUY, OrderType.MARKET, "2"), stop_loss=stop, take_profit=target
    )
    h.feed_through("2019-02-21T09:05:00Z")

    [entry_fill] = h.fills(entry)
    assert entry_fill.ts_event == ts_ns("2019-02-21T09:00:00Z")
    assert entry_fill.last_price == d(entry_row, "ask_open")
    [stop_fill] = h.fills(stop_loss)
    assert stop_fill.ts_event == ts_ns("2019-02-21T09:03:00Z")
    assert stop_fill.last_price == stop_price
    assert stop_fill.last_quantity == Decimal(2)
    assert h.fills(take_profit) == []
    assert take_profit.status is OrderStatus.CANCELLED
    assert [c.ts_event for c in h.cancels(take_profit)] == [ts_ns("2019-02-21T09:03:00Z")]
    assert h.position() == 0
    assert h.engine.rejected_reports == []


def test_bracket_target_reached_first_fills_take_profit_and_cancels_stop_loss() -> None:
    submit_at = "2014-05-06T05:59:30Z"
    stop, target = Decimal("1309.300"), Decimal("1310.000")
    rows = read_rows(XAUUSD_QUOTE)
    entry_i = first_at_or_after(rows, ts_ns(submit_at))
    assert stop < closing_mid(rows[entry_i - 1]) < target
    exit_i = first_index(
        rows, entry_i + 1, lambda r: d(r, "bid_low") <= stop or d(r, "bid_high") >= target
    )
    exit_row = rows[exit_i]
    assert exit_row["timestamp"] == "2014-05-06T06:21:00Z"
    assert d(exit_row, "bid_low") > stop  # only the target is reached
    target_price = max(target, d(exit_row, "bid_open"))

    h = SimHarness("XAUUSD", XAUUSD_QUOTE)
    h.begin(submit_at)
    entry, stop_loss, take_profit = h.submit_bracket(
        h.request(BUY, OrderType.MARKET, "7"), stop_loss=stop, take_profit=target
    )
    h.run_until_closed(take_profit)

    [entry_fill] = h.fills(entry)
    assert entry_fill.last_price == d(rows[entry_i], "ask_open")
    [target_fill] = h.fills(take_profit)
    assert target_fill.ts_event == ts_ns("2014-05-06T06:21:00Z")
    assert target_fill.last_price == target_price == target
    assert target_fill.liquidity is LiquiditySide.MAKER  # rested since 06:01
    assert stop_loss.status is OrderStatus.CANCELLED
    assert h.fills(stop_loss) == []
    assert h.position() == 0
    assert h.engine.rejected_reports == []


def _floor_lot(size: Decimal, lot: Decimal) -> Decimal:
    return (size / lot).to_integral_value(rounding=ROUND_FLOOR) * lot


def test_bracket_partially_filled_entry_resizes_children_to_the_filled_quantity() -> None:
    # BTCUSD with partial fills: each fill is limited by the displayed size (rounded
    # down to the 1e-8 lot), so the 50 BTC market entry fills over several bars, and
    # the stop-loss and take-profit follow the quantity filled so far.
    lot = Decimal("0.00000001")
    submit_at = "2018-04-04T23:58:30Z"
    quantity = Decimal(50)
    stop, target = Decimal("6700.00"), Decimal("6810.00")
    rows = read_rows(BTCUSD_QUOTE)
    start = first_at_or_after(rows, ts_ns(submit_at))
    assert stop < closing_mid(rows[start - 1]) < target

    entry_fills: list[tuple[str, Decimal, Decimal]] = []
    left = quantity
    i = start
    while left:
        size = _floor_lot(d(rows[i], "ask_size"), lot)
        take = min(left, size)
        entry_fills.append((rows[i]["timestamp"], take, d(rows[i], "ask_open")))
        left -= take
        i += 1
    assert len(entry_fills) == 4
    cumulative: list[Decimal] = []
    for _, take, _ in entry_fills:
        cumulative.append((cumulative[-1] if cumulative else Decimal(0)) + take)
    # The take-profit (a sell limit) fills as bid highs reach it, limited by bid sizes.
    target_fills: list[tuple[str, Decimal, Decimal]] = []
    held = quantity
    j = first_index(rows, i, lambda r: d(r, "bid_high") >= target)
    assert all(d(r, "bid_low") > stop for r in rows[start + 1 : j])
    while held:
        row = rows[j]
        if d(row, "bid_high") >= target:
            take = min(held, _floor_lot(d(row, "bid_size"), lot))
            target_fills.append((row["timestamp"], take, max(target, d(row, "bid_open"))))
            held -= take
        j += 1
    assert len(target_fills) >= 2

    config = SimulatedVenueConfig(partial_fills=True)
    h = SimHarness("BTCUSD", BTCUSD_QUOTE, config)
    h.begin(submit_at)
    entry, stop_loss, take_profit = h.submit_bracket(
        h.request(BUY, OrderType.MARKET, "50"), stop_loss=stop, take_profit=target
    )
    h.run_until_closed(take_profit)

    assert [(f.ts_event, f.last_quantity, f.last_price) for f in h.fills(entry)] == [
        (ts_ns(t), q, p) for t, q, p in entry_fills
    ]
    for child in (stop_loss, take_profit):
        sizes = [
            e.quantity
            for e in h.order_events(child)
            if type(e) is OrderModified and e.quantity is not None
        ]
        assert sizes[: len(cumulative)] == cumulative
    # While the take-profit fills in parts, the venue cuts its OCO sibling to match.
    stop_sizes = [
        e.quantity
        for e in h.order_events(stop_loss)
        if type(e) is OrderModified and e.quantity is not None
    ][len(cumulative) :]
    sold = Decimal(0)
    expected_stop_sizes = []
    for _, take, _ in target_fills[:-1]:
        sold += take
        expected_stop_sizes.append(quantity - sold)
    assert stop_sizes == expected_stop_sizes
    assert [(f.ts_event, f.last_quantity, f.last_price) for f in h.fills(take_profit)] == [
        (ts_ns(t), q, p) for t, q, p in target_fills
    ]
    assert take_profit.status is OrderStatus.FILLED
    assert take_profit.filled_quantity == quantity
    assert stop_loss.status is OrderStatus.CANCELLED
    assert h.fills(stop_loss) == []
    assert h.position() == 0
    assert h.engine.rejected_reports == []


# Icebergs -----------------------------------------------------------------------------


class SliceFill(NamedTuple):
    timestamp: str
    quantity: Decimal
    price: Decimal
    liquidity: LiquiditySide


def iceberg_buy_by_hand(
    rows: Sequence[Row],
    submit_at: str,
    limit: Decimal,
    total: Decimal,
    display: Decimal,
    lot: Decimal | None,
) -> list[SliceFill]:
    """Return the fills of a buy iceberg worked as limit slices of ``display``.

    A slice is sent when the previous one has filled in full, during that bar, so it
    can first fill on the next bar. ``lot`` set means partial fills limited by the
    ask size (rounded down to the lot); None means no size limit.
    """
    fills: list[SliceFill] = []
    parent_left = total
    slice_left = min(display, total)
    slice_first_bar = True
    for row in rows[first_at_or_after(rows, ts_ns(submit_at)) :]:
        if not parent_left:
            break
        if d(row, "ask_low") <= limit:
            open_ = d(row, "ask_open")
            size = d(row, "ask_size")
            available = _floor_lot(size, lot) if lot is not None and size > 0 else slice_left
            quantity = min(slice_left, available)
            taker = slice_first_bar and open_ <= limit
            liquidity = LiquiditySide.TAKER if taker else LiquiditySide.MAKER
            fills.append(SliceFill(row["timestamp"], quantity, min(limit, open_), liquidity))
            slice_left -= quantity
            parent_left -= quantity
            if not slice_left:
                slice_left = min(display, parent_left)
                slice_first_bar = True
                continue
        slice_first_bar = False
    assert not parent_left, "the iceberg did not complete in the data"
    return fills


ICEBERG_CASES = [
    # symbol, file, submit, limit, total, display, partial fills?, lot
    ("SPY", SPY_QUOTE, "2013-10-07T13:59:30Z", "167.65", "300", "100", False, "1"),
    (
        "BTCUSD", BTCUSD_QUOTE, "2018-04-04T23:58:30Z", "6800.00", "30", "10", True,
        "0.00000001",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("symbol", "relative", "submit_at", "limit", "total", "display", "partial", "lot"),
    ICEBERG_CASES,
    ids=[c[0] for c in ICEBERG_CASES],
)
def test_iceberg_slices_never_exceed_display_and_sum_to_parent_quantity(
    symbol: str,
    relative: str,
    submit_at: str,
    limit: str,
    total: str,
    display: str,
    partial: bool,
    lot: str,
) -> None:
    level, parent_qty, shown = Decimal(limit), Decimal(total), Decimal(display)
    rows = read_rows(relative)
    expected = iceberg_buy_by_hand(
        rows, submit_at, level, parent_qty, shown, Decimal(lot) if partial else None
    )
    assert len(expected) >= 3

    h = SimHarness(symbol, relative, SimulatedVenueConfig(partial_fills=partial))
    h.begin(submit_at)
    parent = h.submit(BUY, OrderType.ICEBERG, total, price=level, display_quantity=shown)
    assert parent.emulated
    h.run_until_closed(parent)

    children = [o for o in h.engine.state.orders.values() if o.parent_id == parent.client_order_id]
    assert len(children) == -(-parent_qty // shown)  # ceil(total / display) slices
    for child in children:
        assert child.order_type is OrderType.LIMIT
        assert child.price == level
        assert child.quantity <= shown
        assert child.status is OrderStatus.FILLED
    fills = h.fills()
    assert {f.client_order_id for f in fills} <= {c.client_order_id for c in children}
    assert all(f.last_quantity <= shown for f in fills)
    assert [(f.ts_event, f.last_quantity, f.last_price, f.liquidity) for f in fills] == [
        (ts_ns(e.timestamp), e.quantity, e.price, e.liquidity) for e in expected
    ]
    mirrored = [e for e in h.order_events(parent) if type(e) is OrderChildFilled]
    assert [m.trade_id for m in mirrored] == [f.trade_id for f in fills]
    assert parent.status is OrderStatus.FILLED
    assert parent.filled_quantity == sum((f.last_quantity for f in fills), Decimal(0))
    assert parent.filled_quantity == parent_qty
    assert h.position() == parent_qty
    assert h.engine.rejected_reports == []


def test_iceberg_cancelled_parent_cancels_its_working_slice() -> None:
    h = SimHarness("SPY", SPY_QUOTE)
    h.begin("2013-10-07T13:59:30Z")
    parent = h.submit(
        BUY, OrderType.ICEBERG, "300", price=Decimal("160.00"), display_quantity=Decimal(100)
    )
    h.steps(2)
    [child] = [o for o in h.engine.state.orders.values() if o.parent_id == parent.client_order_id]
    assert h.venue.open_order_ids() == [child.client_order_id]  # the working slice
    h.engine.cancel(parent.client_order_id)
    h.dispatch()
    assert parent.status is OrderStatus.CANCELLED
    assert child.status is OrderStatus.CANCELLED
    assert h.venue.open_order_ids() == []
    h.steps(2)
    assert h.fills() == []


def _status(order: Order) -> OrderStatus:
    """Read the status afresh (an assert on ``order.status`` would narrow its type)."""
    return order.status


def test_entry_fill_while_a_child_cancel_is_in_flight_resizes_only_the_other_child() -> None:
    # Found by the replay property test: a partial entry fill arriving while one child
    # awaited the venue's answer to a cancel raised CHANGE_PENDING inside the engine.
    h = SimHarness("BTCUSD", BTCUSD_QUOTE, SimulatedVenueConfig(partial_fills=True))
    h.begin("2018-04-04T23:58:30Z")
    entry, stop_loss, take_profit = h.submit_bracket(
        h.request(BUY, OrderType.MARKET, "50"),
        stop_loss=Decimal("6700.00"),
        take_profit=Decimal("6810.00"),
    )
    h.step()
    assert entry.status is OrderStatus.PARTIALLY_FILLED
    assert _status(take_profit) is OrderStatus.ACCEPTED
    h.engine.cancel(take_profit.client_order_id)
    assert _status(take_profit) is OrderStatus.PENDING_CANCEL
    bar = h.bars[h.cursor]
    h.cursor += 1
    h.clock.advance_to(bar.ts)
    reports = h.venue.on_market_data(bar)  # the cancel has not reached the venue yet
    for report in reports:
        h.engine.on_venue_event(report)
    assert len(h.fills(entry)) == 2
    h.dispatch()
    assert _status(take_profit) is OrderStatus.CANCELLED
    assert stop_loss.quantity == entry.filled_quantity == h.position()
    h.run_until_closed(entry)
    assert stop_loss.quantity == entry.filled_quantity == Decimal(50)
