"""5,000 orders through the OANDA v20 adapter to the OANDA fake while its wire misbehaves.

The fake answers about 30% of REST requests 5xx or hangs past the client's timeout
(neither applied), applies 10% and then loses the response (500 or a cut connection),
rate-limits with 429 and Retry-After (seeded, and for real above OANDA's 100 requests
per second), leaves 5% of the ORDER_FILL lines out of the transaction stream, and ends
that stream every three seconds. Orders are market and limit orders plus cancels; the
quote moves so that resting limit orders fill, which only the transaction stream (or a
poll) reports. At the end the engine must hold every order in the state the fake
records, no client order ID may have been created twice, every fill must be booked, the
engine's position must be the fake's, and no second may have carried more REST requests
than OANDA's limit.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from decimal import Decimal
from functools import partial

from alphintra.domain.commands import OrderRequest
from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, VenueId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.engine.engine import TradingEngine
from alphintra.risk.pretrade import RiskLimits
from alphintra.service.execution import ExecutionClient, ExecutionPolicy
from alphintra.service.rate_limit import TokenBucket
from alphintra.service.reconcile import reconcile
from alphintra.store.memory import MemoryJournal
from alphintra.venues.oanda import OandaAdapter, OandaConfig
from alphintra.venues.oanda.adapter import OANDA_CAPABILITIES, OANDA_RATE_LIMIT
from venues.fakes.oanda import FAULTS, FakeOanda, Faults, Recorded

ORDERS = int(os.environ.get("ALPHINTRA_FAULT_ORDERS", "5000"))
VENUE_LIMIT = OANDA_RATE_LIMIT.capacity
"""OANDA: 100 REST requests per second per connection; the fake enforces it with 429."""
OUR_LIMIT = VENUE_LIMIT * 95 // 100
"""5% headroom for the time a request spends between our limiter and the venue's clock."""
SHARES = {"429": 0.0005, "5xx": 0.29, "5xx_applied": 0.05, "timeout": 0.01, "drop": 0.05}
"""Share of all REST requests answered with each fault."""
VENUE = VenueId("OANDA")
QUANTITY = Decimal(1000)
BID = Decimal("1.10000")
TICK = Decimal("0.00001")
_STATUS = {
    "PENDING": OrderStatus.ACCEPTED,
    "FILLED": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELLED,
}


def _rates(shares: dict[str, float]) -> dict[str, float]:
    """Turn shares of all requests into the fake's per-fault odds (drawn in FAULTS order)."""
    left = 1.0
    rates: dict[str, float] = {}
    for fault in FAULTS:
        rates[fault] = shares.get(fault, 0.0) / left
        left -= shares.get(fault, 0.0)
    return rates


def _max_per_second(requests: list[Recorded]) -> int:
    """Return the most REST requests that arrived within any one-second window."""
    times = sorted(r.ts for r in requests if not r.path.endswith("/stream"))
    most = start = 0
    for end, ts in enumerate(times):
        while ts - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_oanda_5000_orders_under_wire_faults_match_the_fake() -> None:
    fake = FakeOanda(heartbeat_s=0.5, rate_limit=VENUE_LIMIT)
    instrument = InstrumentRegistry().get("EURUSD")
    engine = TradingEngine(
        account_id=AccountId("WIRE"),
        registry=InstrumentRegistry([instrument]),
        journal=MemoryJournal(),
        clock=LiveClock(),
        venues={VENUE: OANDA_CAPABILITIES},
        default_venue=VENUE,
        limits=RiskLimits(enforce_min_notional=False),
    )
    rnd = random.Random(5)
    resting: list[ClientOrderId] = []
    stats: dict[str, int] = {}

    async def scenario() -> None:
        base_url = await fake.start()
        adapter = OandaAdapter(
            OandaConfig(
                account_id=fake.book.account_id,
                token=fake.token,
                rest_url=base_url,
                timeout_s=0.15,
                stream_timeout_s=2.0,
                reconnect_initial_s=0.05,
                reconnect_max_s=0.5,
            ),
            limiter=TokenBucket(OUR_LIMIT, 1.0, burst=1),
        )
        client = ExecutionClient(
            engine,
            adapter,
            # The fake answers synchronously: one "no such order" is conclusive.
            policy=ExecutionPolicy(first_backoff_s=0.005, max_backoff_s=0.05, unknown_checks=1),
            seed=3,
        )
        offset = 0
        fake.set_quote("EUR_USD", BID, BID + 2 * TICK)
        try:
            await adapter.connect()
            await adapter.subscribe_order_updates(client.on_update)
            fake.configure(
                Faults(
                    seed=42,
                    rates=_rates(SHARES),
                    retry_after_s=1,
                    hang_s=0.3,
                    stream_disconnect_every_s=3.0,
                    stream_fill_drop=0.05,
                )
            )
            fake.inject("429", methods=("POST",))  # at least one, however few the orders
            for i in range(ORDERS):
                await _one_order(client, engine, instrument.id, rnd, resting)
                if i % 20 == 19:
                    offset = max(-15, min(15, offset + rnd.randint(-4, 4)))
                    bid = BID + TICK * offset
                    fake.set_quote("EUR_USD", bid, bid + 2 * TICK)
                if i % 100 == 99:
                    await client.resolve_in_flight()
            fake.configure(Faults(seed=0, stream_fill_drop=0.0))
            for _ in range(20):
                if not client.in_flight:
                    break
                await client.resolve_in_flight()
            # The transaction stream catches up by itself; give it a bounded while.
            for _ in range(200):
                if adapter.last_transaction_id == fake.book.last_id:
                    break
                await asyncio.sleep(0.05)
            await reconcile(client, check_positions=False)
            stats["reconnects"] = adapter.reconnects
            stats["in_flight"] = len(client.in_flight)
        finally:
            await adapter.disconnect()
            await fake.stop()

    asyncio.run(scenario())
    assert not fake.errors, fake.errors[:5]
    record = fake.venue_record()

    # 1. Every order ends in the state the venue records.
    mismatched: list[tuple[str, OrderStatus, object]] = []
    for order in engine.state.orders.values():
        theirs = record.get(order.client_order_id)
        if theirs is None:
            if order.status is not OrderStatus.REJECTED:
                mismatched.append((order.client_order_id, order.status, None))
            continue
        expected = _STATUS[str(theirs["status"])]
        if order.status is not expected or order.filled_quantity != theirs["filled"]:
            mismatched.append((order.client_order_id, order.status, theirs["status"]))
    assert not mismatched, mismatched[:10]
    assert set(record) <= set(engine.state.orders)

    # 2. No client order ID was created twice (nor even sent again after it was created).
    creates = Counter(
        tx["clientExtensions"]["id"]
        for tx in fake.book.transactions
        if tx["type"] in ("MARKET_ORDER", "LIMIT_ORDER") and "clientExtensions" in tx
    )
    assert creates and max(creates.values()) == 1
    duplicates = [
        tx
        for tx in fake.book.transactions
        if tx.get("rejectReason") == "CLIENT_ORDER_ID_ALREADY_EXISTS"
    ]
    assert not duplicates, duplicates[:3]

    # 3. No fill is missing: every ORDER_FILL at the venue is booked, once.
    venue_fills = {tx["id"] for tx in fake.book.transactions if tx["type"] == "ORDER_FILL"}
    booked = [t for o in engine.state.orders.values() for t in o.trade_ids]
    assert len(booked) == len(set(booked))
    assert set(booked) == venue_fills
    position = fake.book.positions.get("EUR_USD", {"units": Decimal(0)})["units"]
    assert engine.state.position_quantity(instrument.id) == position

    # 4. The venue never saw more REST requests in a second than OANDA allows.
    assert fake.rate_limited == 0
    assert _max_per_second(fake.requests) <= VENUE_LIMIT

    # The faults did happen, in the planned shares (503: 5xx or hang; 500 or cut: applied).
    statuses = Counter(r.status for r in fake.requests if not r.path.endswith("/stream"))
    rest = statuses.total()
    assert 0.25 < statuses[503] / rest < 0.35, statuses
    assert 0.07 < (statuses[500] + statuses[-1]) / rest < 0.13, statuses
    assert statuses[429] and fake.dropped_fills
    assert stats["reconnects"] > 0
    assert stats["in_flight"] == 0


async def _one_order(
    client: ExecutionClient,
    engine: TradingEngine,
    instrument_id: InstrumentId,
    rnd: random.Random,
    resting: list[ClientOrderId],
) -> None:
    """Submit one market or limit order, and sometimes cancel a resting one."""
    side = OrderSide.BUY if rnd.random() < 0.5 else OrderSide.SELL
    if rnd.random() < 0.5:
        request = OrderRequest(
            instrument_id=instrument_id,
            side=side,
            order_type=OrderType.MARKET,
            quantity=QUANTITY,
        )
    else:
        request = OrderRequest(
            instrument_id=instrument_id,
            side=side,
            order_type=OrderType.LIMIT,
            quantity=QUANTITY,
            price=BID + TICK * rnd.randint(-15, 17),
        )
    order = await client.run_engine(partial(engine.submit, request))
    if request.order_type is OrderType.LIMIT:
        resting.append(order.client_order_id)
    if resting and rnd.random() < 0.25:
        victim = resting.pop(rnd.randrange(len(resting)))
        await client.run_engine(partial(engine.cancel, victim))
