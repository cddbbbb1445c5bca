"""Live reconciliation of positions against the OANDA fake (real v20 wire format).

Someone trades on the account outside the service: a market order placed at the venue
itself fills at once, so there is no order to adopt, and the venue's position differs
from the engine's. Reconciliation must record the difference as an explicit
``PositionMismatch`` event with a ``reconciliation`` alert, exactly once while it stays
the same, never overwrite the engine's position, and record it again when it changes.
Meanwhile an order the engine sends goes out through the live account and is filled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.events import AnyEvent, PositionMismatch, RiskAlertRaised
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.service.execution import ExecutionPolicy
from alphintra.service.live import LiveAccount, LivePolicy, RoutedEngine, VenueLink
from alphintra.store.memory import MemoryJournal
from alphintra.venues.oanda import OandaAdapter, OandaConfig
from venues.fakes.oanda import FakeOanda

EURUSD = InstrumentId("EURUSD")


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def quick_oanda(fake: FakeOanda, base_url: str) -> OandaAdapter:
    """Return an OANDA adapter on ``fake`` with short timeouts and reconnects."""
    return OandaAdapter(
        OandaConfig(
            account_id=fake.book.account_id,
            token=fake.token,
            rest_url=base_url,
            timeout_s=2.0,
            stream_timeout_s=2.0,
            reconnect_initial_s=0.05,
            reconnect_max_s=0.5,
        )
    )


def test_position_difference_is_recorded_once_with_an_alert_and_never_overwritten() -> None:
    async def scenario() -> None:
        fake = FakeOanda(heartbeat_s=0.5)
        base_url = await fake.start()
        fake.set_quote("EUR_USD", Decimal("1.10000"), Decimal("1.10020"))
        adapter = quick_oanda(fake, base_url)
        engine = RoutedEngine(
            account_id=AccountId("RECON"),
            registry=InstrumentRegistry(),
            journal=MemoryJournal(),
            clock=LiveClock(),
            venues={adapter.venue_id: adapter.capabilities},
            default_venue=adapter.venue_id,
        )
        engine.open_account("USD", {"USD": Decimal(1_000_000)})
        engine.flush(force=True)
        events: list[AnyEvent] = []
        engine.subscribe(events.append)
        lock = asyncio.Lock()
        live = LiveAccount(
            engine,
            lock,
            [VenueLink(adapter, check_positions=True)],
            {},
            policy=LivePolicy(
                health_interval_s=0.02,
                reconcile_interval_s=0.05,
                execution=ExecutionPolicy(resolve_interval_s=0.02),
            ),
        )
        venue = live.venues[adapter.venue_id]

        def mismatches() -> list[PositionMismatch]:
            return [e for e in events if type(e) is PositionMismatch]

        async def reconciled(times: int) -> None:
            target = venue.health.reconciliations + times
            await until(lambda: venue.health.reconciliations >= target, f"{times} reconciliations")

        fake.book.create({"type": "MARKET", "instrument": "EUR_USD", "units": "1000"})
        assert not live.reconciled
        live.start()
        try:
            await until(lambda: live.reconciled, "the startup reconciliation")
            await reconciled(3)
            assert [(m.engine_quantity, m.venue_quantity) for m in mismatches()] == [
                (Decimal(0), Decimal(1000))
            ]
            alerts = [e for e in events if type(e) is RiskAlertRaised]
            assert [(a.kind, a.message) for a in alerts] == [
                ("reconciliation", "EURUSD: the venue holds 1000, the engine 0")
            ]
            assert engine.state.position_quantity(EURUSD) == 0

            async with lock:
                order = engine.submit(
                    OrderRequest(
                        instrument_id=EURUSD,
                        side=OrderSide.BUY,
                        order_type=OrderType.MARKET,
                        quantity=Decimal(500),
                    )
                )
                live.enqueue(engine.flush(force=True))
            await until(lambda: order.status is OrderStatus.FILLED, "the engine's order to fill")
            assert engine.state.position_quantity(EURUSD) == 500
            await reconciled(2)
            assert [(m.engine_quantity, m.venue_quantity) for m in mismatches()] == [
                (Decimal(0), Decimal(1000)),
                (Decimal(500), Decimal(1500)),
            ]

            fake.book.create({"type": "MARKET", "instrument": "EUR_USD", "units": "-1000"})
            await reconciled(2)
            assert len(mismatches()) == 2  # in line again: nothing to record
            assert engine.state.position_quantity(EURUSD) == 500
        finally:
            await live.stop()
            await fake.stop()

    asyncio.run(scenario())
