"""A trading service on a real database with the execution-quality recorder attached.

Time is simulated: `Desk.quote` moves the clock to the quote's time, keeps the quote in
the recorder's history (as the service's market data feed does) and sends it to the
account's engine and simulated venue. Orders go through the service as the API sends
them. The simulated venue fills market orders at the quote: buys at the ask, sells at
the bid, with a 10 bps taker fee.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.domain.orders import Order
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.execution.algorithms import TwapSpec
from alphintra.execution.quality import FillQuality
from alphintra.reports.recorder import ExecutionQualityRecorder, QuoteHistory
from alphintra.reports.records import RecordedOrder
from alphintra.service.trading import AccountSettings, TradingService
from alphintra.store.journal import Journal, open_journal
from alphintra.venues.simulated.matching import SimulatedVenueConfig

SEC: Final = 1_000_000_000
T0: Final = 1_789_980_000 * SEC
"""2026-09-21 08:40:00 UTC."""
BTC: Final = InstrumentId("BTCUSD")
ACCOUNT: Final = AccountId("ALICE-1")
HORIZON_NS: Final = 10 * SEC


class Desk:
    """One account on a simulated venue, its journal on ``database_url``."""

    def __init__(self, database_url: str) -> None:
        self.clock = SimulatedClock(T0)
        self.journal: Journal = open_journal(database_url)
        self.service = TradingService(
            journal=self.journal,
            registry=InstrumentRegistry(),
            clock=self.clock,
            venue_config=SimulatedVenueConfig(taker_fee_bps=Decimal(10)),
        )
        self.quotes = QuoteHistory()
        self.observed: list[tuple[RecordedOrder, list[FillQuality], bool]] = []
        self.journal.add_commit_hook(
            ExecutionQualityRecorder(
                self.service.account_state,
                self.quotes,
                horizon_ns=HORIZON_NS,
                listener=lambda order, fills, done: self.observed.append(
                    (order, list(fills), done)
                ),
            )
        )
        self.service.open_account(AccountSettings(account_id=ACCOUNT, owner="alice"))

    async def quote(self, ts: int, bid: str, ask: str) -> None:
        """Move the clock to ``ts`` and publish a BTCUSD quote."""
        self.clock.advance_to(ts)
        quote = QuoteTick(BTC, Decimal(bid), Decimal(ask), Decimal(50), Decimal(50), ts)
        self.quotes.record(quote)
        await self.service.on_market_data(quote)
        await self.service.on_timer(ts)

    async def market(self, side: OrderSide, quantity: str) -> Order:
        """Send a market order for ``quantity`` BTCUSD."""
        request = OrderRequest(
            instrument_id=BTC, side=side, order_type=OrderType.MARKET, quantity=Decimal(quantity)
        )
        return await self.service.place_order(ACCOUNT, request, None)

    async def twap(self, side: OrderSide, quantity: str, seconds: int, slices: int) -> Order:
        """Send a TWAP parent over the next ``seconds``."""
        request = OrderRequest(
            instrument_id=BTC, side=side, order_type=OrderType.MARKET, quantity=Decimal(quantity)
        )
        now = self.clock.now_ns()
        spec = TwapSpec(start_ns=now, end_ns=now + seconds * SEC, slices=slices)
        return await self.service.place_algo(ACCOUNT, request, spec, None)

    def close(self) -> None:
        """Commit what is buffered and close the journal."""
        self.service.flush_all()
        self.journal.close()
