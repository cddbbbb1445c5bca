"""ccxt: after a restart, our resting orders are not adopted again as external orders.

Kraken's ``cl_ord_id`` takes 18 characters (or a UUID) and OKX's ``clOrdId`` letters and
digits only, so the engine's client order IDs (``<account>-<hex clock>-<n>``) travel
hashed. The hash cannot be reversed: a fresh adapter (a restarted service) read its own
resting orders in ``account()`` under the hashed wire IDs. The startup reconciliation
then found "orders working at the venue but unknown here" and adopted each as an
external order: a second, phantom working order beside the engine's own, counted by
the risk checks and never closed.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import AccountId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.pretrade import RiskLimits
from alphintra.service.execution import ExecutionClient
from alphintra.service.reconcile import reconcile
from alphintra.store.memory import MemoryJournal
from alphintra.venues.ccxt import CcxtAdapter
from venues.contract.harness_ccxt import BinanceHarness, KrakenHarness, OkxHarness

HARNESSES = {"kraken": KrakenHarness, "okx": OkxHarness, "binance": BinanceHarness}


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_restart_reconciliation_adopts_none_of_our_own_resting_orders(
    name: str, tmp_path: Path
) -> None:
    harness = HARNESSES[name](tmp_path)
    engine = TradingEngine(
        account_id=AccountId("REVIEW2-RESTART"),
        registry=InstrumentRegistry([harness.instrument]),
        journal=MemoryJournal(),
        clock=LiveClock(),
        venues={harness.adapter.venue_id: harness.adapter.capabilities},
        default_venue=harness.adapter.venue_id,
        limits=RiskLimits(enforce_min_notional=False),
        id_prefix=f"REVIEW2-RESTART-{0x18A2B3C4D5E6F7A8:x}",
    )
    engine.open_account(
        harness.instrument.quote_currency, {harness.instrument.quote_currency: Decimal(10**9)}
    )
    engine.flush(force=True)

    async def scenario() -> tuple[list[str], list[str]]:
        await harness.start()
        restarted: CcxtAdapter | None = None
        try:
            await harness.set_quote(Decimal("30000.0"), Decimal("30000.2"))
            client = ExecutionClient(engine, harness.adapter)
            request = OrderRequest(
                instrument_id=harness.instrument.id,
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=harness.order_quantity,
                price=Decimal("25000.0"),
            )
            placed = await client.run_engine(partial(engine.submit, request))
            assert engine.state.orders[placed.client_order_id].status is OrderStatus.ACCEPTED
            # The service restarts: a new adapter (nothing remembered) on the same venue.
            restarted = CcxtAdapter(harness.adapter.config)
            await restarted.connect()
            report = await reconcile(ExecutionClient(engine, restarted), check_positions=False)
            working = [str(o.client_order_id) for o in engine.state.orders.values() if o.is_open]
            return [str(c) for c in report.adopted], working
        finally:
            if restarted is not None:
                await restarted.disconnect()
            await harness.stop()

    adopted, working = asyncio.run(scenario())
    assert adopted == []
    assert len(working) == 1
