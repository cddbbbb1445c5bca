"""Review tests of the simulated venue's matching, driven with synthetic bars.

Each test feeds the venue's reports into a domain ``Order`` (the single transition
table), so a report sequence the order state machine forbids fails the test.
"""

from __future__ import annotations

from decimal import Decimal

from alphintra.domain.commands import SubmitToVenue
from alphintra.domain.enums import (
    AssetClass,
    ContingencyType,
    InstrumentKind,
    OrderSide,
    OrderStatus,
    OrderType,
)
from alphintra.domain.events import (
    OrderEvents,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
    OrderTriggered,
)
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    OrderListId,
    VenueId,
)
from alphintra.domain.instruments import Instrument
from alphintra.domain.market import TradeBar
from alphintra.domain.orders import Order
from alphintra.domain.values import Currency, Price, Quantity
from alphintra.venues.simulated.matching import SimulatedVenue, SimulatedVenueConfig

MINUTE = 60_000_000_000
IID = InstrumentId("TEST")
ACCOUNT = AccountId("A")
VENUE = VenueId("SIM")
INSTRUMENT = Instrument(
    id=IID,
    venue_symbol="TEST",
    asset_class=AssetClass.CRYPTO,
    kind=InstrumentKind.SPOT,
    base_currency=Currency("BTC"),
    quote_currency=Currency("USD"),
    tick_size=Decimal("1"),
    lot_size=Decimal("1"),
)


def bar(i: int, o: str, h: str, low: str, c: str, volume: str) -> TradeBar:
    return TradeBar(
        instrument_id=IID,
        open=Decimal(o),
        high=Decimal(h),
        low=Decimal(low),
        close=Decimal(c),
        volume=Decimal(volume),
        ts=i * MINUTE,
        interval_ns=MINUTE,
    )


def status(order: Order) -> OrderStatus:
    """Read the status afresh (an assert on ``order.status`` would narrow its type)."""
    return order.status


class Book:
    """A venue and the domain orders its reports are applied to."""

    def __init__(self, config: SimulatedVenueConfig) -> None:
        self.venue = SimulatedVenue(config, {IID: INSTRUMENT})
        self.orders: dict[str, Order] = {}
        self.reports: list[OrderEvents] = []

    def submit(
        self, coid: str, side: OrderSide, order_type: OrderType, qty: str, **kw: object
    ) -> Order:
        init = OrderInitialized(
            account_id=ACCOUNT,
            client_order_id=ClientOrderId(coid),
            ts_event=0,
            ts_recv=0,
            instrument_id=IID,
            side=side,
            order_type=order_type,
            quantity=Quantity(Decimal(qty)),
            venue=VENUE,
            **kw,  # type: ignore[arg-type]
        )
        order = Order(init)
        order.apply(
            OrderSubmitted(
                account_id=ACCOUNT,
                client_order_id=init.client_order_id,
                ts_event=0,
                ts_recv=0,
                venue=VENUE,
            )
        )
        self.orders[coid] = order
        self.apply(self.venue.handle(SubmitToVenue(venue=VENUE, order=init)))
        return order

    def apply(self, reports: list[OrderEvents]) -> None:
        for report in reports:
            self.reports.append(report)
            self.orders[report.client_order_id].apply(report)

    def feed(self, data: TradeBar) -> None:
        self.apply(self.venue.on_market_data(data))

    def of(self, coid: str, kind: type) -> list[OrderEvents]:
        return [r for r in self.reports if r.client_order_id == coid and type(r) is kind]


def test_stop_limit_triggered_while_the_shown_size_is_taken_rests_as_a_limit() -> None:
    # Partial fills: bar 1 shows 10 units, all taken by an earlier market buy. The
    # stop-limit buy (stop 101, limit 103) triggers on bar 1 (high 102) and the venue
    # reports OrderTriggered, but fills nothing. It has triggered: from bar 2 on it is
    # a resting limit at 103. Bar 2 trades 100-102 again: it must fill at the open
    # (100 <= 103), without a second OrderTriggered (TRIGGERED -> TRIGGERED is not in
    # the transition table). Bar 3 stays below the stop, and a resting limit at 103
    # fills there too.
    book = Book(SimulatedVenueConfig(partial_fills=True))
    book.submit("M", OrderSide.BUY, OrderType.MARKET, "10")
    stop_limit = book.submit(
        "SL",
        OrderSide.BUY,
        OrderType.STOP_LIMIT,
        "5",
        trigger_price=Price(Decimal(101)),
        price=Price(Decimal(103)),
    )
    book.feed(bar(1, "100", "102", "99", "100", "10"))
    assert len(book.of("SL", OrderTriggered)) == 1
    assert stop_limit.status is OrderStatus.TRIGGERED
    assert book.of("SL", OrderFilled) == []

    book.feed(bar(2, "100", "102", "99", "100", "10"))
    assert len(book.of("SL", OrderTriggered)) == 1
    [fill] = book.of("SL", OrderFilled)
    assert isinstance(fill, OrderFilled)
    assert fill.last_quantity == 5
    assert fill.last_price == 100
    assert status(stop_limit) is OrderStatus.FILLED


def test_triggered_stop_limit_without_size_rests_even_when_price_falls_back() -> None:
    # As above, but bar 2 trades below the stop (96-99): a triggered stop-limit is a
    # limit at 103 and fills at the open 98; an untriggered one would wait.
    book = Book(SimulatedVenueConfig(partial_fills=True))
    book.submit("M", OrderSide.BUY, OrderType.MARKET, "10")
    stop_limit = book.submit(
        "SL",
        OrderSide.BUY,
        OrderType.STOP_LIMIT,
        "5",
        trigger_price=Price(Decimal(101)),
        price=Price(Decimal(103)),
    )
    book.feed(bar(1, "100", "102", "99", "100", "10"))
    assert stop_limit.status is OrderStatus.TRIGGERED
    book.feed(bar(2, "98", "99", "96", "97", "10"))
    [fill] = book.of("SL", OrderFilled)
    assert isinstance(fill, OrderFilled)
    assert fill.last_price == 98
    assert status(stop_limit) is OrderStatus.FILLED


def test_an_exit_fill_leaves_its_brackets_entry_alone() -> None:
    # A bracket as the engine sends it to a venue with native OCO: the entry (OTO) and
    # its two exits (OCO) share one order list. An exit's fill reduces or cancels the
    # other exit only: the entry, still working, keeps its quantity and stays open.
    book = Book(SimulatedVenueConfig(partial_fills=True))
    listed = {"order_list_id": OrderListId("B-E")}
    entry = book.submit(
        "E",
        OrderSide.BUY,
        OrderType.LIMIT,
        "10",
        price=Price(Decimal(100)),
        contingency=ContingencyType.OTO,
        linked_ids=(ClientOrderId("S"), ClientOrderId("T")),
        **listed,
    )
    book.feed(bar(1, "100", "100", "100", "100", "3"))  # the entry fills 3
    assert entry.filled_quantity == 3
    exits = {"contingency": ContingencyType.OCO, "parent_id": ClientOrderId("E"), **listed}
    stop = book.submit(
        "S", OrderSide.SELL, OrderType.STOP, "3", trigger_price=Price(Decimal(90)), **exits
    )
    take = book.submit(
        "T", OrderSide.SELL, OrderType.LIMIT, "3", price=Price(Decimal(110)), **exits
    )
    book.feed(bar(2, "111", "111", "111", "111", "2"))  # the take-profit fills 2 of 3
    assert take.filled_quantity == 2
    assert stop.quantity == 1  # its OCO sibling is reduced...
    assert entry.quantity == 10  # ...the entry is not
    book.feed(bar(3, "111", "111", "111", "111", "5"))  # the take-profit completes
    assert status(take) is OrderStatus.FILLED
    assert status(stop) is OrderStatus.CANCELLED
    assert entry.is_open and entry.quantity == 10
    book.feed(bar(4, "100", "100", "100", "100", "1000"))  # the entry fills the rest
    assert status(entry) is OrderStatus.FILLED
    assert entry.filled_quantity == 10
