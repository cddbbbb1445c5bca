"""Alpaca's failures, translated into transient, definitive and unknown-outcome errors."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal

import pytest

from alphintra.domain.enums import OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId
from alphintra.venues.adapter import VenueError, VenueErrorKind
from alphintra.venues.alpaca import AlpacaAdapter
from venues.alpaca.support import SPY, AlpacaVenue, order
from venues.contract.harness_alpaca import alpaca_config
from venues.fakes.alpaca import FakeAlpaca, Fault, FaultPlan

pytestmark = pytest.mark.asyncio

ORDERS = "/v2/orders"


async def test_connect_wrong_keys_is_definitive() -> None:
    async with AlpacaVenue(connect=False) as venue:
        wrong = AlpacaAdapter(alpaca_config(venue.fake, secret_key="not-the-secret"))
        with pytest.raises(VenueError) as refused:
            await wrong.connect()
        wrong.client.close()
        assert refused.value.kind is VenueErrorKind.DEFINITIVE
        assert "HTTP 401" in refused.value.message


async def test_connect_unreachable_venue_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeAlpaca()  # never started: its URLs point at nothing listening
    config = alpaca_config(fake, trading_url=f"http://127.0.0.1:{port}")
    adapter = AlpacaAdapter(config)
    with pytest.raises(VenueError) as failed:
        await adapter.connect()
    adapter.client.close()
    fake._socket.close()
    assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_place_order_server_error_is_unknown_outcome() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        venue.fake.inject(Fault.ERROR, method="POST", path=ORDERS, status=503)
        sent = order()
        with pytest.raises(VenueError) as failed:
            await venue.adapter.place_order(sent)
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        assert "HTTP 503" in failed.value.message
        # resolved by querying the client order ID: this 5xx came before the order
        assert await venue.adapter.query_order(SPY, client_order_id=sent.client_order_id) is None


async def test_place_order_response_dropped_is_unknown_outcome_then_found_by_query() -> None:
    async with AlpacaVenue() as venue:
        await venue.quote()
        venue.fake.inject(Fault.DROP, method="POST", path=ORDERS)
        sent = order()
        with pytest.raises(VenueError) as failed:
            await venue.adapter.place_order(sent)
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        found = await venue.adapter.query_order(SPY, client_order_id=sent.client_order_id)
        assert found is not None and found.status is OrderStatus.FILLED
        with pytest.raises(VenueError) as again:  # a resend under the same ID cannot double it
            await venue.adapter.place_order(sent)
        assert again.value.kind is VenueErrorKind.DEFINITIVE
        assert len(venue.fake.account.orders) == 1


async def test_place_order_applied_then_server_error_is_unknown_outcome() -> None:
    async with AlpacaVenue() as venue:
        venue.fake.inject(Fault.APPLY_THEN_ERROR, method="POST", path=ORDERS, status=500)
        sent = order(kind=OrderType.LIMIT, price="440.00")
        with pytest.raises(VenueError) as failed:
            await venue.adapter.place_order(sent)
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        found = await venue.adapter.query_order(SPY, client_order_id=sent.client_order_id)
        assert found is not None and found.status is OrderStatus.ACCEPTED


async def test_place_order_timeout_is_unknown_outcome() -> None:
    async with AlpacaVenue(read_timeout_s=0.2, fake={"timeout_delay_s": 0.6}) as venue:
        venue.fake.inject(Fault.TIMEOUT, method="POST", path=ORDERS)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.place_order(order(kind=OrderType.LIMIT, price="440.00"))
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        assert failed.value.code == "TIMEOUT"


async def test_query_order_timeout_is_transient() -> None:
    async with AlpacaVenue(read_timeout_s=0.2, fake={"timeout_delay_s": 0.6}) as venue:
        venue.fake.inject(Fault.TIMEOUT, method="GET", path=ORDERS)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.query_order(SPY, client_order_id=ClientOrderId("x"))
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_cancel_order_server_error_is_unknown_outcome() -> None:
    async with AlpacaVenue() as venue:
        limit = order(kind=OrderType.LIMIT, price="440.00")
        await venue.adapter.place_order(limit)
        venue.fake.inject(Fault.ERROR, method="DELETE", path=ORDERS, status=502)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.cancel_order(limit.client_order_id, SPY)
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME


async def test_modify_order_response_dropped_is_unknown_outcome() -> None:
    async with AlpacaVenue() as venue:
        limit = order(kind=OrderType.LIMIT, price="440.00")
        await venue.adapter.place_order(limit)
        venue.fake.inject(Fault.DROP, method="PATCH", path=ORDERS)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.modify_order(
                limit.client_order_id, SPY, quantity=None, price=Decimal(441), trigger_price=None
            )
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        state = await venue.adapter.query_order(SPY, client_order_id=limit.client_order_id)
        assert state is not None and state.price == Decimal(441)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_query_order_server_error_is_transient(status: int) -> None:
    async with AlpacaVenue() as venue:
        venue.fake.inject(Fault.ERROR, method="GET", path=ORDERS, status=status)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.query_order(SPY, client_order_id=ClientOrderId("x"))
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_fills_since_server_error_is_transient() -> None:
    async with AlpacaVenue() as venue:
        venue.fake.inject(Fault.ERROR, path="/v2/account/activities")
        with pytest.raises(VenueError) as failed:
            await venue.adapter.fills_since(0)
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_rate_limited_read_is_transient_with_retry_after_and_not_retried() -> None:
    async with AlpacaVenue(fake={"retry_after_s": 7}) as venue:
        venue.fake.inject(Fault.RATE_LIMIT, method="GET", path="/v2/account")
        before = len(venue.fake.requests)
        with pytest.raises(VenueError) as limited:
            await asyncio.wait_for(venue.adapter.account(), 2.0)
        assert limited.value.kind is VenueErrorKind.TRANSIENT
        assert limited.value.retry_after_s == 7
        # the SDK's own retry (3 x 3 s on 429) is off: the execution client owns retries
        assert [p for _, p in venue.fake.requests[before:]].count("/v2/account") == 1


async def test_rate_limited_write_is_transient_and_not_applied() -> None:
    async with AlpacaVenue() as venue:
        venue.fake.inject(Fault.RATE_LIMIT, method="POST", path=ORDERS)
        sent = order(kind=OrderType.LIMIT, price="440.00")
        with pytest.raises(VenueError) as limited:
            await venue.adapter.place_order(sent)
        assert limited.value.kind is VenueErrorKind.TRANSIENT
        assert limited.value.retry_after_s == 2
        assert venue.fake.account.orders == {}
        placed = await venue.adapter.place_order(sent)  # the same ID, retried: accepted
        assert placed.status is OrderStatus.ACCEPTED


async def test_rate_limit_budget_exceeded_is_transient() -> None:
    async with AlpacaVenue(fake={"rate_limit_per_minute": 3}) as venue:
        for _ in range(2):  # connect() used the first request of the budget
            await venue.adapter.query_order(SPY, client_order_id=ClientOrderId("x"))
        with pytest.raises(VenueError) as limited:
            await venue.adapter.query_order(SPY, client_order_id=ClientOrderId("x"))
        assert limited.value.kind is VenueErrorKind.TRANSIENT
        assert limited.value.retry_after_s is not None


async def test_place_order_malformed_json_answer_is_unknown_outcome() -> None:
    async with AlpacaVenue() as venue:
        venue.fake.inject(Fault.MALFORMED_JSON, method="POST", path=ORDERS)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.place_order(order(kind=OrderType.LIMIT, price="440.00"))
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        assert failed.value.code == "MALFORMED_RESPONSE"


@pytest.mark.parametrize("fault", [Fault.UNKNOWN_STATUS, Fault.NEGATIVE_FILLED])
async def test_place_order_invalid_answer_is_unknown_outcome(fault: Fault) -> None:
    async with AlpacaVenue() as venue:
        venue.fake.inject(fault, method="POST", path=ORDERS)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.place_order(order(kind=OrderType.LIMIT, price="440.00"))
        assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
        assert failed.value.code == "MALFORMED_RESPONSE"


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        (Fault.MALFORMED_JSON, "unreadable response"),
        (Fault.UNKNOWN_STATUS, "unknown Alpaca order status 'teleported'"),
        (Fault.NEGATIVE_FILLED, "'filled_qty' must not be negative"),
    ],
)
async def test_query_order_invalid_answer_is_transient_venue_error(
    fault: Fault, detail: str
) -> None:
    async with AlpacaVenue() as venue:
        limit = order(kind=OrderType.LIMIT, price="440.00")
        await venue.adapter.place_order(limit)
        venue.fake.inject(fault, method="GET", path=ORDERS)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.query_order(SPY, client_order_id=limit.client_order_id)
        assert failed.value.kind is VenueErrorKind.TRANSIENT
        assert detail in failed.value.message


async def test_account_invalid_open_orders_is_transient_venue_error() -> None:
    async with AlpacaVenue() as venue:
        await venue.adapter.place_order(order(kind=OrderType.LIMIT, price="440.00"))
        venue.fake.inject(Fault.NEGATIVE_FILLED, method="GET", path=ORDERS)
        with pytest.raises(VenueError) as failed:
            await venue.adapter.account()
        assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_random_faults_with_resolution_by_client_order_id_never_double_an_order() -> None:
    plan = FaultPlan(seed=7, error=0.15, drop=0.15, apply_then_error=0.1, rate_limit=0.1)
    async with AlpacaVenue(fake={"faults": plan}, connect=False) as venue:
        venue.fake.faults = FaultPlan()
        await venue.quote()
        venue.fake.faults = plan
        placed = [order() for _ in range(12)]
        for sent in placed:
            for _ in range(30):  # what the execution client does, in miniature
                try:
                    await venue.adapter.place_order(sent)
                    break
                except VenueError as exc:
                    if exc.kind is VenueErrorKind.DEFINITIVE:
                        break  # the resend of an order that did arrive
                    if exc.kind is VenueErrorKind.UNKNOWN_OUTCOME:
                        try:
                            if await venue.adapter.query_order(
                                SPY, client_order_id=sent.client_order_id
                            ):
                                break
                        except VenueError:
                            pass
        venue.fake.faults = FaultPlan()
        record = venue.fake.record()
        assert sorted(record) == sorted(o.client_order_id for o in placed)
        assert all(r["status"] == "filled" for r in record.values())
        fills = await venue.adapter.fills_since(0)
        assert len(fills) == len(placed)
