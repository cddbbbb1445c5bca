"""Error translation at the OANDA boundary: transient, definitive, outcome unknown."""

from __future__ import annotations

import socket
from decimal import Decimal

import httpx
import pytest

from alphintra.domain.enums import OrderSide, OrderStatus, OrderType
from alphintra.domain.identifiers import ClientOrderId
from alphintra.venues.adapter import VenueError, VenueErrorKind
from alphintra.venues.oanda import OandaAdapter, OandaConfig
from venues.fakes.oanda import FakeOanda, Faults

from .conftest import EURUSD, config_for, order

pytestmark = pytest.mark.asyncio


async def test_connect_wrong_token_is_definitive(fake: FakeOanda) -> None:
    adapter = OandaAdapter(config_for(fake, token="wrong"))
    try:
        with pytest.raises(VenueError) as refused:
            await adapter.connect()
    finally:
        await adapter.disconnect()

    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert refused.value.code == "401"
    assert "Insufficient authorization" in refused.value.message


async def test_place_wrong_token_is_definitive(fake: FakeOanda) -> None:
    adapter = OandaAdapter(config_for(fake, token="wrong"))
    try:
        with pytest.raises(VenueError) as refused:
            await adapter.place_order(order("w1", OrderSide.BUY, OrderType.MARKET))
    finally:
        await adapter.disconnect()

    assert refused.value.kind is VenueErrorKind.DEFINITIVE
    assert "w1" not in fake.venue_record()


async def test_wrong_account_is_definitive(fake: FakeOanda) -> None:
    adapter = OandaAdapter(config_for(fake, account_id="101-004-9999999-001"))
    try:
        with pytest.raises(VenueError) as refused:
            await adapter.connect()
    finally:
        await adapter.disconnect()

    assert refused.value.kind is VenueErrorKind.DEFINITIVE


async def test_place_5xx_is_unknown_outcome(adapter: OandaAdapter, fake: FakeOanda) -> None:
    fake.inject("5xx")

    with pytest.raises(VenueError) as failed:
        await adapter.place_order(order("e1", OrderSide.BUY, OrderType.MARKET))

    assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
    assert await adapter.query_order(EURUSD, client_order_id=ClientOrderId("e1")) is None


async def test_read_5xx_is_transient(adapter: OandaAdapter, fake: FakeOanda) -> None:
    fake.inject("5xx", methods=("GET",))

    with pytest.raises(VenueError) as failed:
        await adapter.account()

    assert failed.value.kind is VenueErrorKind.TRANSIENT
    assert failed.value.code == "503"


async def test_query_5xx_is_transient_not_missing(adapter: OandaAdapter, fake: FakeOanda) -> None:
    fake.inject("5xx", methods=("GET",))

    with pytest.raises(VenueError) as failed:
        await adapter.query_order(EURUSD, client_order_id=ClientOrderId("x"))

    assert failed.value.kind is VenueErrorKind.TRANSIENT


async def test_rate_limited_is_transient_with_retry_after(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    fake.faults.retry_after_s = 3
    fake.inject("429", methods=("POST",))

    with pytest.raises(VenueError) as limited:
        await adapter.place_order(order("r1", OrderSide.BUY, OrderType.MARKET))

    assert limited.value.kind is VenueErrorKind.TRANSIENT
    assert limited.value.retry_after_s == 3.0
    assert "r1" not in fake.venue_record()


async def test_place_applied_but_response_dropped_is_unknown_then_found_by_client_id(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    fake.inject("drop")

    with pytest.raises(VenueError) as failed:
        await adapter.place_order(order("d1", OrderSide.BUY, OrderType.MARKET))

    assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
    resolved = await adapter.query_order(EURUSD, client_order_id=ClientOrderId("d1"))
    assert resolved is not None
    assert resolved.status is OrderStatus.FILLED


async def test_place_applied_then_500_is_unknown_outcome(
    adapter: OandaAdapter, fake: FakeOanda
) -> None:
    fake.inject("5xx_applied")

    with pytest.raises(VenueError) as failed:
        await adapter.place_order(order("a1", OrderSide.BUY, OrderType.LIMIT, price="1.09000"))

    assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
    assert fake.venue_record()["a1"]["status"] == "PENDING"


async def test_place_timeout_is_unknown_outcome(fake: FakeOanda) -> None:
    fake.faults.hang_s = 2.0
    fake.inject("timeout")
    adapter = OandaAdapter(config_for(fake, timeout_s=0.2))
    await adapter.connect()
    try:
        with pytest.raises(VenueError) as failed:
            await adapter.place_order(order("t1", OrderSide.BUY, OrderType.MARKET))
    finally:
        await adapter.disconnect()

    assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME


async def test_cancel_5xx_is_unknown_outcome(adapter: OandaAdapter, fake: FakeOanda) -> None:
    await adapter.place_order(order("c1", OrderSide.BUY, OrderType.LIMIT, price="1.09000"))
    fake.inject("5xx", methods=("PUT",))

    with pytest.raises(VenueError) as failed:
        await adapter.cancel_order(ClientOrderId("c1"), EURUSD)

    assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME


async def test_place_connection_refused_is_transient_because_nothing_was_sent() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    adapter = OandaAdapter(
        OandaConfig(account_id="1", token="t", rest_url=f"http://127.0.0.1:{port}", timeout_s=1)
    )
    try:
        with pytest.raises(VenueError) as failed:
            await adapter.place_order(order("n1", OrderSide.BUY, OrderType.MARKET))
    finally:
        await adapter.disconnect()

    assert failed.value.kind is VenueErrorKind.TRANSIENT


def _canned(status: int, body: bytes) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(answer)


async def test_malformed_json_on_read_is_transient() -> None:
    adapter = OandaAdapter(
        OandaConfig(account_id="1", token="t"), transport=_canned(200, b'{"account": {"id"')
    )
    with pytest.raises(VenueError) as failed:
        await adapter.account()
    await adapter.disconnect()

    assert failed.value.kind is VenueErrorKind.TRANSIENT
    assert failed.value.code == "MALFORMED_RESPONSE"


async def test_malformed_json_on_write_is_unknown_outcome() -> None:
    adapter = OandaAdapter(OandaConfig(account_id="1", token="t"), transport=_canned(201, b"<html"))
    with pytest.raises(VenueError) as failed:
        await adapter.place_order(order("m1", OrderSide.BUY, OrderType.MARKET))
    await adapter.disconnect()

    assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME


async def test_unknown_order_state_enum_is_a_venue_error_not_a_crash() -> None:
    body = b'{"order": {"id": "7", "type": "LIMIT", "state": "HALF_BAKED", "units": "10"}}'
    adapter = OandaAdapter(OandaConfig(account_id="1", token="t"), transport=_canned(200, body))
    with pytest.raises(VenueError) as failed:
        await adapter.query_order(EURUSD, client_order_id=ClientOrderId("c"))
    await adapter.disconnect()

    assert failed.value.kind is VenueErrorKind.TRANSIENT
    assert "HALF_BAKED" in failed.value.message


async def test_non_decimal_units_in_order_is_a_venue_error() -> None:
    body = b'{"order": {"id": "7", "type": "LIMIT", "state": "PENDING", "units": "1e"}}'
    adapter = OandaAdapter(OandaConfig(account_id="1", token="t"), transport=_canned(200, body))
    with pytest.raises(VenueError):
        await adapter.query_order(EURUSD, client_order_id=ClientOrderId("c"))
    await adapter.disconnect()


async def test_error_body_that_is_not_json_keeps_status_translation() -> None:
    adapter = OandaAdapter(
        OandaConfig(account_id="1", token="t"), transport=_canned(502, b"Bad Gateway")
    )
    with pytest.raises(VenueError) as failed:
        await adapter.place_order(order("g1", OrderSide.BUY, OrderType.MARKET))
    await adapter.disconnect()

    assert failed.value.kind is VenueErrorKind.UNKNOWN_OUTCOME
    assert "Bad Gateway" in failed.value.message


async def test_seeded_faults_every_outcome_is_translated_and_resolvable() -> None:
    rates = {"5xx": 0.15, "429": 0.1, "drop": 0.1, "5xx_applied": 0.1}
    faults = Faults(seed=7, rates=rates, writes_only=True)
    fake = FakeOanda(heartbeat_s=0.2, faults=faults)
    await fake.start()
    adapter = OandaAdapter(config_for(fake))
    kinds: dict[VenueErrorKind | None, int] = {}
    try:
        await adapter.connect()
        for n in range(40):
            client_id = ClientOrderId(f"s{n}")
            kind: VenueErrorKind | None = None
            try:
                await adapter.place_order(order(client_id, OrderSide.BUY, OrderType.MARKET))
            except VenueError as exc:
                kind = exc.kind
            kinds[kind] = kinds.get(kind, 0) + 1
            recorded = fake.venue_record().get(client_id)
            if kind is None:
                assert recorded is not None and recorded["status"] == "FILLED"
            elif kind is VenueErrorKind.TRANSIENT:
                assert recorded is None
            else:  # outcome unknown: the query by client order ID settles it
                found = await adapter.query_order(EURUSD, client_order_id=client_id)
                assert (found is None) == (recorded is None)
    finally:
        await adapter.disconnect()
        await fake.stop()

    assert kinds.get(None) and kinds.get(VenueErrorKind.UNKNOWN_OUTCOME)
    assert kinds.get(VenueErrorKind.TRANSIENT)
    assert not fake.errors
    assert Decimal(len(fake.venue_record())) <= 40
