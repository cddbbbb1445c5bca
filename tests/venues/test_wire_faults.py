"""5,000 orders through ccxt to the Binance fake while its HTTP layer and its
user-data stream misbehave.

The fake answers 5xx (not applied), applies a request and then answers 5xx or drops
the connection, hangs past the client's timeout, and rate-limits with 429 and
Retry-After, all seeded. Order updates come over the user-data WebSocket, which
drops 5% of the fill messages and is cut every two to four seconds. The execution
client must end with every order in the state the fake itself records, no client
order ID created twice, every fill booked (already after the stream's own catch-up,
before any reconciliation), and the venue must never see more request weight in any
one-second window than its limit.
"""

from __future__ import annotations

import asyncio
import os
import random
from decimal import Decimal
from functools import partial
from pathlib import Path

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import AccountId, ClientOrderId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.pretrade import RiskLimits
from alphintra.service.execution import ExecutionClient, ExecutionPolicy
from alphintra.service.rate_limit import TokenBucket
from alphintra.service.reconcile import reconcile
from alphintra.store.memory import MemoryJournal
from alphintra.venues.adapter import VenueFill, VenueOrderState
from alphintra.venues.ccxt import CcxtAdapter, CcxtConfig
from venues.contract.harness_ccxt import BinanceHarness
from venues.fakes.binance import FakeBinance
from venues.fakes.binance_stream import StreamFaults
from venues.fakes.crypto_spot import Faults

ORDERS = int(os.environ.get("ALPHINTRA_FAULT_ORDERS", "5000"))
LIMIT_PER_SECOND = 1000
WEIGHT_LIMIT_PER_S = 600
"""The fake venue's REQUEST_WEIGHT limit in any one-second window."""
RATE_LIMIT_MS = 10.0
"""The adapter's throttle, ccxt's leaky bucket: requests evenly spaced at 1000 / 10 = 100
ccxt cost units (500 Binance weight) a second, so any one-second window holds at most
that plus one request's cost (myTrades, 20 weight). The margin to the venue's limit is
for the time requests spend in transit."""
_STATUS = {
    "NEW": OrderStatus.ACCEPTED,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "EXPIRED": OrderStatus.EXPIRED,
    "REJECTED": OrderStatus.REJECTED,
}


def test_binance_5000_orders_under_http_faults_match_the_fake(tmp_path: Path) -> None:
    harness = BinanceHarness(tmp_path)
    harness.fake = fake = FakeBinance(
        stream_faults=StreamFaults(seed=7, drop_trade_rate=0.05, disconnect_after_s=(2.0, 4.0)),
        weight_limit_per_s=WEIGHT_LIMIT_PER_S,
    )
    harness.adapter = CcxtAdapter(
        CcxtConfig(
            exchange_id="binance",
            api_key=fake.api_key,
            secret=fake.secret,
            base_url=fake.base_url,
            enable_rate_limit=True,
            rate_limit_ms=RATE_LIMIT_MS,
            timeout_s=0.25,
            poll_interval_s=0.05,
            max_backoff_s=0.2,
        )
    )
    registry = InstrumentRegistry([harness.instrument])
    engine = TradingEngine(
        account_id=AccountId("WIRE"),
        registry=registry,
        journal=MemoryJournal(),
        clock=LiveClock(),
        venues={harness.adapter.venue_id: harness.adapter.capabilities},
        default_venue=harness.adapter.venue_id,
        limits=RiskLimits(enforce_min_notional=False),
    )
    engine.open_account("USDT", {"USDT": Decimal(10**9)})
    engine.flush(force=True)
    client = ExecutionClient(
        engine,
        harness.adapter,
        limiter=TokenBucket(LIMIT_PER_SECOND, 1.0),
        policy=ExecutionPolicy(first_backoff_s=0.005, max_backoff_s=0.05, unknown_checks=3),
        seed=3,
    )
    rnd = random.Random(5)
    instrument = harness.instrument
    streamed: list[VenueFill] = []
    fills_before_reconcile: list[Decimal] = []

    async def on_update(update: VenueOrderState | VenueFill) -> None:
        if isinstance(update, VenueFill):
            streamed.append(update)
        await client.on_update(update)

    async def scenario() -> None:
        await harness.start()
        try:
            await harness.adapter.subscribe_order_updates(on_update)
            await harness.set_quote(Decimal("30000.00"), Decimal("30000.10"))
            fake.faults.configure(
                Faults(
                    seed=42,
                    rates={
                        "5xx": 0.27,
                        "timeout": 0.03,
                        "5xx_applied": 0.05,
                        "drop": 0.05,
                        "429": 0.0005,
                    },
                    retry_after_s=1,
                    hang_s=0.5,
                )
            )
            resting: list[ClientOrderId] = []
            for i in range(ORDERS):
                side = OrderSide.BUY if rnd.random() < 0.5 else OrderSide.SELL
                if rnd.random() < 0.6:
                    request = OrderRequest(
                        instrument_id=instrument.id,
                        side=side,
                        order_type=OrderType.MARKET,
                        quantity=harness.order_quantity,
                    )
                else:
                    price = Decimal("30000.00") + Decimal("0.10") * rnd.randint(-30, 30)
                    request = OrderRequest(
                        instrument_id=instrument.id,
                        side=side,
                        order_type=OrderType.LIMIT,
                        quantity=harness.order_quantity,
                        price=price,
                    )
                order = await client.run_engine(partial(engine.submit, request))
                if request.order_type is OrderType.LIMIT:
                    resting.append(order.client_order_id)
                if resting and rnd.random() < 0.2:
                    victim = resting.pop(rnd.randrange(len(resting)))
                    await client.run_engine(partial(engine.cancel, victim))
                if i % 100 == 0:
                    await client.resolve_in_flight()
            fake.faults.configure(Faults(seed=0))
            fake.stream.configure(StreamFaults())
            for _ in range(20):
                if not client.in_flight:
                    break
                await client.resolve_in_flight()
            # One more cut, then wait (bounded) for the stream's catch-up after it.
            stream = harness.adapter.user_stream
            reconnects = stream.reconnects
            await fake.stream.disconnect_all()
            for _ in range(200):
                if stream.reconnects > reconnects and stream.live.is_set():
                    break
                await asyncio.sleep(0.05)
            fills_before_reconcile.append(
                sum((o.filled_quantity for o in engine.state.orders.values()), Decimal(0))
            )
            await reconcile(client, check_positions=False)
            await client.poll_fills(since_ns=0)
        finally:
            await harness.stop()

    asyncio.run(scenario())
    record = harness.venue_record()
    mismatched: list[tuple[str, OrderStatus, object]] = []
    for order in engine.state.orders.values():
        theirs = record.get(order.client_order_id)
        if theirs is None:
            if order.status is not OrderStatus.REJECTED:
                mismatched.append((order.client_order_id, order.status, None))
            continue
        expected = _STATUS.get(str(theirs["status"]), OrderStatus.ACCEPTED)
        if order.status is not expected or order.filled_quantity != theirs["filled"]:
            mismatched.append((order.client_order_id, order.status, theirs["status"]))
    assert not mismatched, mismatched[:10]
    assert len(record) == len(set(record))
    venue_fills = sum(Decimal(str(e["filled"])) for e in record.values())
    engine_fills = sum(o.filled_quantity for o in engine.state.orders.values())
    assert engine_fills == venue_fills
    assert fills_before_reconcile == [venue_fills], "the stream's catch-up missed fills"
    # The stream faults happened and the fills came over the stream.
    assert len(fake.stream.dropped) > ORDERS // 100
    assert fake.stream.disconnects > 5
    assert len(streamed) > ORDERS // 2
    # The venue never saw more request weight in a one-second window than its limit.
    busiest = fake.busiest_window(1.0)
    assert fake.weight_refusals == 0
    assert busiest <= WEIGHT_LIMIT_PER_S, busiest
    assert fake.busiest_window(1.0, weighted=False) <= busiest
