"""The recorder's horizon pass: an UPDATE of three columns, or the whole order measured again.

ETHUSD quotes 1999 / 2001 (mid 2000) at 0. A market buy of 2 (signal S) fills 1 @ 2001
at 1 s and 1 @ 2002 at 2 s, and is then filled. The horizon is 1 s: the quote at 3 s
(2009 / 2011, mid 2010) is the mid after the last fill. Each test compares the rows the
recorder's commits leave with those of the order measured from scratch on every quote
(`order_quality` then `order_rows`): the horizon pass must change nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from alphintra.domain.account import AccountState
from alphintra.domain.enums import LiquiditySide, OrderSide, OrderType
from alphintra.domain.events import (
    AnyEvent,
    OrderAccepted,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    SignalId,
    TradeId,
    VenueId,
    VenueOrderId,
)
from alphintra.domain.market import QuoteTick
from alphintra.domain.values import Quantity
from alphintra.execution.quality import Execution, OrderRecord, order_quality
from alphintra.reports.recorder import ExecutionQualityRecorder, QuoteHistory
from alphintra.reports.records import (
    COLUMNS,
    HORIZON_UPDATE,
    UPSERT,
    UPSERT_ROWS,
    Params,
    RecordedOrder,
    order_rows,
)

ETH = InstrumentId("ETHUSD")
ACCOUNT = AccountId("A")
ORDER = ClientOrderId("A-1")
SIGNAL = SignalId("S")
SEC = 1_000_000_000
D = Decimal
_SET = ("mid_after", "realised_spread_bps", "market_impact_bps")
_KEY = ("account_id", "order_id", "trade_id")


def _fill(k: int, price: str) -> OrderFilled:
    return OrderFilled(
        account_id=ACCOUNT,
        client_order_id=ORDER,
        ts_event=k * SEC,
        ts_recv=k * SEC,
        venue=VenueId("X"),
        venue_order_id=VenueOrderId("v1"),
        trade_id=TradeId(f"t{k}"),
        instrument_id=ETH,
        side=OrderSide.BUY,
        last_quantity=Quantity("1"),
        last_price=D(price),
        fee=D("0.5"),
        fee_currency="USD",
        liquidity=LiquiditySide.TAKER,
    )


EVENTS: list[AnyEvent] = [
    OrderInitialized(
        account_id=ACCOUNT,
        client_order_id=ORDER,
        ts_event=0,
        ts_recv=0,
        instrument_id=ETH,
        side=OrderSide.BUY,
        order_type=OrderType.MARKET,
        quantity=Quantity("2"),
        signal_id=SIGNAL,
    ),
    OrderSubmitted(
        account_id=ACCOUNT, client_order_id=ORDER, ts_event=0, ts_recv=0, venue=VenueId("X")
    ),
    OrderAccepted(
        account_id=ACCOUNT,
        client_order_id=ORDER,
        ts_event=0,
        ts_recv=0,
        venue_order_id=VenueOrderId("v1"),
    ),
    _fill(1, "2001"),
    _fill(2, "2002"),
]


def _quote(ts: int, bid: str, ask: str) -> QuoteTick:
    return QuoteTick(ETH, D(bid), D(ask), D(1), D(1), ts)


class Table:
    """The rows the recorder's statements leave in ``execution_quality``, by key."""

    def __init__(self) -> None:
        self.rows: dict[tuple[object, ...], dict[str, object]] = {}
        self.statements: list[str] = []

    def apply(self, batches: list[tuple[str, list[Params]]]) -> None:
        """Apply one commit's batches; note its statements (UPSERT, then HORIZON_UPDATE)."""
        statements: list[str] = []
        for sql, params in batches:
            base = UPSERT if sql in UPSERT_ROWS else HORIZON_UPDATE
            if base not in statements:
                statements.append(base)
            for row in params:
                if base == UPSERT:
                    named = dict(zip(COLUMNS, UPSERT_ROWS.full(sql, row), strict=True))
                    self.rows[tuple(named[c] for c in _KEY)] = named
                else:
                    assert sql == HORIZON_UPDATE
                    stored = self.rows[row[3:]]  # a KeyError: an UPDATE of no row
                    stored.update(zip(_SET, row[:3], strict=True))
        self.statements.extend(statements)


class Run:
    """The recorder on a real ``AccountState``, one commit per event or quote."""

    def __init__(self, decision: Callable[[], Decimal | None] = lambda: None) -> None:
        self.state = AccountState(ACCOUNT, {ETH: D(1)}, {ETH: "USD"})
        self.quotes = QuoteHistory()
        self.decision = decision
        self.recorder = ExecutionQualityRecorder(
            lambda _: self.state,
            self.quotes,
            horizon_ns=SEC,
            decision_price=lambda _account, _signal: self.decision(),
        )
        self.table = Table()

    def events(self) -> None:
        for seq, event in enumerate(EVENTS, start=1):
            self.state.apply(event)
            self.recorder.appended(event, seq)
            self.table.apply(self.recorder.drain())

    def quote(self, quote: QuoteTick) -> None:
        self.quotes.record(quote)
        self.table.apply(self.recorder.drain())


def _from_scratch(
    quotes: list[QuoteTick], decision: Decimal | None
) -> dict[tuple[object, ...], dict[str, object]]:
    """Return the rows of the order measured once, on every quote."""
    record = OrderRecord(
        client_order_id=ORDER,
        instrument_id=ETH,
        side=OrderSide.BUY,
        quantity=D(2),
        arrival_ts=0,
        fills=tuple(Execution.from_event(e) for e in EVENTS if isinstance(e, OrderFilled)),
        currency="USD",
        decision_price=decision,
        end_ts=2 * SEC,
        account_id=ACCOUNT,
        strategy="MARKET",
    )
    quality = order_quality(record, quotes, horizon_ns=SEC)
    recorded = RecordedOrder(quality, end_ts=2 * SEC, signal_id=SIGNAL)
    named = [dict(zip(COLUMNS, row, strict=True)) for row in order_rows(recorded)]
    return {tuple(row[c] for c in _KEY): row for row in named}


START = _quote(0, "1999", "2001")
LATER = [_quote(5 * SEC // 2, "2003", "2005"), _quote(3 * SEC, "2009", "2011")]


def test_horizon_pass_updates_three_columns_to_the_values_of_a_full_measure() -> None:
    run = Run()
    run.quote(START)
    run.events()
    before = {key: dict(row) for key, row in run.table.rows.items()}
    assert all(row["market_impact_bps"] is None for row in before.values())
    for quote in LATER:
        run.quote(quote)
    assert run.table.statements == [UPSERT, UPSERT, HORIZON_UPDATE]  # two fills, the horizon
    expected = _from_scratch([START, *LATER], None)
    assert run.table.rows == expected
    order = expected[(ACCOUNT, ORDER, "")]
    # 1 s after the last fill the mid is 2010: 50 bps above the arrival mid 2000.
    assert D(str(order["market_impact_bps"])) == 50
    changed = {
        column
        for key, row in expected.items()
        for column in COLUMNS
        if row[column] != before[key][column]
    }
    assert changed == set(_SET)


def test_decision_price_known_only_after_the_fill_measures_the_whole_order_again() -> None:
    # The service notes a signal's entry price once the signal's orders are placed.
    entry: list[Decimal] = []
    run = Run(decision=lambda: entry[0] if entry else None)
    run.quote(START)
    run.events()
    entry.append(D("1990"))
    for quote in LATER:
        run.quote(quote)
    assert run.table.statements == [UPSERT, UPSERT, UPSERT]
    assert run.table.rows == _from_scratch([START, *LATER], D("1990"))
    assert run.table.rows[(ACCOUNT, ORDER, "")]["decision_from_signal"] is True


def test_quote_at_the_orders_end_arriving_late_measures_the_whole_order_again() -> None:
    run = Run()
    run.quote(START)
    run.events()
    late = _quote(2 * SEC, "2005", "2007")  # at the last fill: its mid becomes 2006
    run.quote(late)
    for quote in LATER:
        run.quote(quote)
    assert run.table.statements == [UPSERT, UPSERT, UPSERT]
    assert run.table.rows == _from_scratch([START, late, *LATER], None)


def test_failed_commit_is_measured_again_so_the_horizon_update_finds_its_rows() -> None:
    run = Run()
    run.quote(START)
    for seq, event in enumerate(EVENTS, start=1):
        run.state.apply(event)
        run.recorder.appended(event, seq)
        batches = run.recorder.drain()
        if event is EVENTS[-1]:
            assert batches and batches[0][0] in UPSERT_ROWS
            run.recorder.discard()  # the journal's commit failed: these rows are not stored
        else:
            run.table.apply(batches)
    run.quote(LATER[0])  # the next commit writes the whole order
    run.quote(LATER[1])
    assert run.table.statements == [UPSERT, UPSERT, HORIZON_UPDATE]
    assert run.table.rows == _from_scratch([START, *LATER], None)


@pytest.mark.parametrize(
    ("side", "multiplier"),
    [(OrderSide.BUY, D("0.1")), (OrderSide.SELL, D("0.1")), (OrderSide.BUY, D("1E+1"))],
)
def test_order_rows_put_every_figure_in_its_named_column(
    side: OrderSide, multiplier: Decimal
) -> None:
    # Decimals are written as format(value, "f"): never an exponent (1E+1 is "10").
    record = OrderRecord(
        client_order_id=ORDER,
        instrument_id=ETH,
        side=side,
        quantity=D(3),
        arrival_ts=0,
        fills=(
            Execution(SEC, D("2001"), D(1), D("0.5"), VenueId("X"), TradeId("t1")),
            Execution(2 * SEC, D("2002"), D(1), D(0), VenueId("Y"), None),
        ),
        currency="USD",
        decision_price=D("1990"),
        end_ts=4 * SEC,
        multiplier=multiplier,
        account_id=ACCOUNT,
        strategy="TWAP",
    )
    quality = order_quality(record, [START, *LATER], horizon_ns=SEC)
    recorded = RecordedOrder(quality, 4 * SEC, SIGNAL, ClientOrderId("P"), "TWAP")
    order, *fills = (dict(zip(COLUMNS, row, strict=True)) for row in order_rows(recorded))
    text = {name: format(value, "f") for name, value in _decimals(quality).items()}
    assert order == {
        **_common(recorded),
        "trade_id": "",
        "kind": "ORDER",
        "ts_ns": 0,
        "venue": None,  # two venues
        "ordered_quantity": "3",
        "quantity": text["filled_quantity"],
        "price": text["average_price"],
        "fee": text["fees"],
        "mid": None,
        "mid_after": None,
        "price_improvement": None,
        **{
            name: text[name]
            for name in (
                "filled_notional",
                "decision_notional",
                "slippage_bps",
                "implementation_shortfall",
                "implementation_shortfall_bps",
                "spread_cost",
                "impact_cost",
                "timing_cost",
                "opportunity_cost",
                "effective_spread_bps",
                "realised_spread_bps",
                "market_impact_bps",
                "fill_rate",
                "price_improvement_bps",
            )
        },
        "interval_vwap": None,
        "vwap_slippage_bps": None,
        "interval_twap": None,
        "twap_slippage_bps": None,
        "execution_time_ns": 2 * SEC,
    }
    for row, fill in zip(fills, quality.fills, strict=True):
        measured = {n: format(getattr(fill, n), "f") for n in _FILL_FIGURES}
        assert row == {
            **dict.fromkeys(COLUMNS),
            **_common(recorded),
            **measured,
            "trade_id": fill.trade_id or f"#{fill.ts}",
            "kind": "FILL",
            "ts_ns": fill.ts,
            "venue": fill.venue,
            "quantity": format(fill.quantity, "f"),
            "price": format(fill.price, "f"),
            "fee": format(fill.fee, "f"),
        }


_FILL_FIGURES = (
    "mid",
    "mid_after",
    "slippage_bps",
    "spread_cost",
    "impact_cost",
    "timing_cost",
    "effective_spread_bps",
    "realised_spread_bps",
    "price_improvement",
)


def _decimals(quality: object) -> dict[str, Decimal]:
    names = [n for n in dir(quality) if not n.startswith("_")]
    return {n: v for n in names if isinstance(v := getattr(quality, n), Decimal)}


def _common(recorded: RecordedOrder) -> dict[str, object]:
    q = recorded.quality
    return {
        "account_id": ACCOUNT,
        "order_id": ORDER,
        "symbol": ETH,
        "side": q.side.value,
        "model_id": None,
        "strategy": "TWAP",
        "signal_id": SIGNAL,
        "parent_id": "P",
        "algo": "TWAP",
        "currency": "USD",
        "multiplier": format(q.multiplier, "f"),
        "arrival_ts_ns": 0,
        "end_ts_ns": 4 * SEC,
        "arrival_bid": "1999",
        "arrival_ask": "2001",
        "arrival_mid": format(q.arrival_mid, "f"),
        "decision_price": "1990",
        "decision_from_signal": True,
    }
