"""Retries are safe: a signal ID or a client order ID sent many times makes one order."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from api.live import (
    API,
    Deployment,
    LiveService,
    limit_order_body,
    orders_of,
    signal_body,
    wait_order,
)

COPIES = 100


async def _post_copies(
    live: LiveService, deployment: Deployment, path: str, body: Any
) -> list[httpx.Response]:
    async with live.async_client(deployment.users["alice"]) as client:
        return await asyncio.gather(
            *(client.post(f"{API}{path}", json=body) for _ in range(COPIES))
        )


@pytest.mark.asyncio
async def test_signal_same_id_posted_100_times_concurrently_one_order(
    live: LiveService, deployment: Deployment
) -> None:
    responses = await _post_copies(live, deployment, "/signals", signal_body("idem-signal-1"))

    assert [r.status_code for r in responses] == [200] * COPIES
    results = [r.json() for r in responses]
    assert sum(1 for r in results if not r["duplicate"]) == 1
    order_ids = {tuple(r["orderIds"]) for r in results}
    assert len(order_ids) == 1
    ((order_id,),) = order_ids
    assert {r["signalId"] for r in results} == {"idem-signal-1"}
    with live.client(deployment.users["alice"]) as client:
        wait_order(client, order_id, "FILLED")
        mine = [o for o in orders_of(client) if o["signalId"] == "idem-signal-1"]
        assert [o["orderId"] for o in mine] == [order_id]
        trades = client.get(f"{API}/trades").json()
        assert [t["orderId"] for t in trades["items"]] == [order_id]


@pytest.mark.asyncio
async def test_order_same_client_order_id_posted_100_times_concurrently_one_order(
    live: LiveService, deployment: Deployment
) -> None:
    body = limit_order_body("idem-order-1")
    responses = await _post_copies(live, deployment, "/orders", body)

    assert [r.status_code for r in responses] == [200] * COPIES
    assert {r.json()["orderId"] for r in responses} == {"idem-order-1"}
    with live.client(deployment.users["alice"]) as client:
        wait_order(client, "idem-order-1", "ACCEPTED")
        all_orders = orders_of(client)
        assert [o["orderId"] for o in all_orders] == ["idem-order-1"]
        assert all_orders[0]["price"] == body["price"]
