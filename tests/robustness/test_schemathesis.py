"""Property-based API tests: Schemathesis drives every operation of the OpenAPI schema.

Each operation is called with generated valid and invalid requests, authenticated as a
trader and, separately, as an administrator. No answer may be a server error, and every
answer must match what the schema declares (status codes, content types, bodies).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from robustness.harness import LiveService, build_service

MAX_EXAMPLES = 25


class WithoutLifespan:
    """The app, answering the ASGI lifespan itself: no market data feed runs in the tests."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _seed(live: LiveService, key: str) -> None:
    """Give the account quotes, a filled order, a working order and a signal."""
    await live.quote("SPY", "450.00", "450.02")
    await live.quote("BTCUSD", "60000.00", "60001.00")
    transport = httpx.ASGITransport(app=live.runtime.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://seed", headers={"X-API-Key": key}
    ) as http:
        for payload in (
            {"symbol": "SPY", "side": "BUY", "type": "MARKET", "quantity": 2},
            {"symbol": "SPY", "side": "BUY", "type": "LIMIT", "quantity": 1, "price": 400},
        ):
            assert (await http.post("/api/v1/orders", json=payload)).status_code == 200
        signal = {
            "signalId": "seed-1",
            "modelId": "seed",
            "symbol": "BTCUSD",
            "action": "BUY",
            "confidence": 0.7,
            "quantity": 0.01,
        }
        assert (await http.post("/api/v1/signals", json=signal)).status_code == 200
    await live.quote("SPY", "450.00", "450.02")
    await live.quote("BTCUSD", "60000.00", "60001.00")


def _schema(live: LiveService, key: str) -> Any:
    asyncio.run(_seed(live, key))
    config = schemathesis.Config.from_dict(
        {
            "seed": 20240601,
            "headers": {"X-API-Key": key},
            "generation": {"max-examples": MAX_EXAMPLES},
        }
    )
    return schemathesis.openapi.from_asgi(
        "/openapi.json", WithoutLifespan(live.runtime.app), config=config
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    """Yield one service for the module (Schemathesis calls it from its own event loop)."""
    live = build_service(Path(tmp_path_factory.mktemp("schemathesis")))
    yield live
    live.runtime.service.flush_all()


@pytest.fixture(scope="module")
def trader_schema(service: LiveService) -> Any:
    """Return the app's schema, called with the trader's API key."""
    return _schema(service, service.trader_key)


@pytest.fixture(scope="module")
def admin_schema(service: LiveService) -> Any:
    """Return the app's schema, called with the administrator's API key."""
    return _schema(service, service.admin_key)


trader = schemathesis.pytest.from_fixture("trader_schema")
admin = schemathesis.pytest.from_fixture("admin_schema")


# Every default check runs (not_a_server_error, status code, content type, headers and
# response schema conformance, negative data rejection, Allow on 405, ...) except
# positive_data_acceptance: a schema cannot express the rules the service checks on valid
# JSON (tick and lot sizes, known symbols, confidence <= 1 given as a decimal string), so
# schema-valid requests are rightly refused with 422.
EXCLUDED: list[schemathesis.CheckFunction] = [positive_data_acceptance]


@trader.parametrize()
def test_api_as_trader_any_request_no_server_error_and_schema_conformance(case: Case[Any]) -> None:
    case.call_and_validate(excluded_checks=EXCLUDED)


@admin.parametrize()
def test_api_as_admin_any_request_no_server_error_and_schema_conformance(case: Case[Any]) -> None:
    case.call_and_validate(excluded_checks=EXCLUDED)
