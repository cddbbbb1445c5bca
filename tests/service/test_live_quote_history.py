"""Quotes streamed by a live venue reach the execution-quality quote history.

Before, only the demo feed's quotes were recorded (``run_feed``): an account trading on
a live venue had no arrival quotes, so the best-execution reports skipped its orders
without saying so.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.reports.recorder import QuoteHistory
from alphintra.service.live import LivePolicy, VenueLink
from alphintra.service.trading import AccountSettings, TradingService
from alphintra.store.memory import MemoryJournal
from service.test_live_reconciliation import quick_oanda, until
from venues.fakes.oanda import FakeOanda

EURUSD = InstrumentId("EURUSD")


def test_a_live_venue_quote_is_recorded_for_execution_quality() -> None:
    async def scenario() -> None:
        fake = FakeOanda(heartbeat_s=0.5)
        base_url = await fake.start()
        fake.set_quote("EUR_USD", Decimal("1.10000"), Decimal("1.10020"))
        adapter = quick_oanda(fake, base_url)
        service = TradingService(
            journal=MemoryJournal(),
            registry=InstrumentRegistry(),
            clock=LiveClock(),
            live_policy=LivePolicy(health_interval_s=0.05, reconcile_interval_s=0.5),
        )
        history = QuoteHistory()
        service.quote_listeners.append(history.record)
        service.open_account(
            AccountSettings(
                account_id=AccountId("LIVE-Q"),
                owner="u",
                links=(VenueLink(adapter, quotes=(EURUSD,)),),
            )
        )
        service.start_live()
        try:
            await until(lambda: history.latest_ts(EURUSD) is not None, "a recorded EURUSD quote")
            runtime = service.accounts[AccountId("LIVE-Q")]
            assert runtime.engine.state.marks[EURUSD] == Decimal("1.10010")
        finally:
            await service.stop_live()
            await fake.stop()

    asyncio.run(scenario())
