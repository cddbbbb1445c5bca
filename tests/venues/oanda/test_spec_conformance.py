"""The client's requests and the fake's responses match the official OANDA v20 spec.

The spec (Swagger 2.0, ``shared/specs/oanda_v20.json``) is read in place. Its
definitions are made strict for the check (``additionalProperties: false`` wherever
properties are listed), so a misspelt or undocumented field name fails. The spec's base
``Transaction``, ``Order`` and ``OrderRequest`` list only common fields and have no
discriminator; here each dispatches on ``type`` to its concrete definition
(``ORDER_FILL`` → ``OrderFillTransaction``, ``LIMIT`` → ``LimitOrder``...). Stream lines
are checked one object per line (``ClientPrice``/``PricingHeartbeat``,
``Transaction``/``TransactionHeartbeat``): the spec's 200 schema for streams wraps them
in ``{"price": ..., "heartbeat": ...}``, which is not what the wire carries.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from alphintra.domain.enums import OrderSide, OrderType, TimeInForce
from alphintra.domain.identifiers import ClientOrderId, InstrumentId
from alphintra.venues.adapter import VenueError
from alphintra.venues.oanda import OandaAdapter
from alphintra.venues.oanda.client import encode_order_body
from alphintra.venues.oanda.wire import (
    OrderRequest,
    StopLossDetails,
    TakeProfitDetails,
    TrailingStopLossDetails,
)
from venues.fakes.oanda import FakeOanda, Recorded

from .conftest import EURUSD, config_for, order

SPEC_PATH = Path(__file__).resolve().parents[4] / "shared" / "specs" / "oanda_v20.json"
TX_DEFINITIONS = {
    "CREATE": "CreateTransaction",
    "ORDER_FILL": "OrderFillTransaction",
    "ORDER_CANCEL": "OrderCancelTransaction",
    "ORDER_CANCEL_REJECT": "OrderCancelRejectTransaction",
    "MARKET_ORDER": "MarketOrderTransaction",
    "MARKET_ORDER_REJECT": "MarketOrderRejectTransaction",
    "LIMIT_ORDER": "LimitOrderTransaction",
    "LIMIT_ORDER_REJECT": "LimitOrderRejectTransaction",
    "STOP_ORDER": "StopOrderTransaction",
    "STOP_ORDER_REJECT": "StopOrderRejectTransaction",
    "MARKET_IF_TOUCHED_ORDER": "MarketIfTouchedOrderTransaction",
    "MARKET_IF_TOUCHED_ORDER_REJECT": "MarketIfTouchedOrderRejectTransaction",
}
ORDER_DEFINITIONS = {
    "MARKET": "MarketOrder",
    "LIMIT": "LimitOrder",
    "STOP": "StopOrder",
    "MARKET_IF_TOUCHED": "MarketIfTouchedOrder",
    "TRAILING_STOP_LOSS": "TrailingStopLossOrder",
}
REQUEST_DEFINITIONS = {
    "MARKET": "MarketOrderRequest",
    "LIMIT": "LimitOrderRequest",
    "STOP": "StopOrderRequest",
    "MARKET_IF_TOUCHED": "MarketIfTouchedOrderRequest",
    "TRAILING_STOP_LOSS": "TrailingStopLossOrderRequest",
}
USED_ENDPOINTS = {
    ("GET", "/accounts/{accountID}/summary"),
    ("GET", "/accounts/{accountID}/positions"),
    ("GET", "/accounts/{accountID}/openPositions"),
    ("GET", "/accounts/{accountID}/orders"),
    ("POST", "/accounts/{accountID}/orders"),
    ("GET", "/accounts/{accountID}/pendingOrders"),
    ("GET", "/accounts/{accountID}/orders/{orderSpecifier}"),
    ("PUT", "/accounts/{accountID}/orders/{orderSpecifier}"),
    ("PUT", "/accounts/{accountID}/orders/{orderSpecifier}/cancel"),
    ("GET", "/accounts/{accountID}/transactions"),
    ("GET", "/accounts/{accountID}/transactions/idrange"),
    ("GET", "/accounts/{accountID}/transactions/sinceid"),
    ("GET", "/accounts/{accountID}/transactions/stream"),
    ("GET", "/accounts/{accountID}/pricing"),
    ("GET", "/accounts/{accountID}/pricing/stream"),
    ("GET", "/instruments/{instrument}/candles"),
}


def _load_spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the OANDA spec is missing in CI: {SPEC_PATH}")
        pytest.skip(f"the OANDA spec is not beside the project: {SPEC_PATH}")
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return spec


def _strict(schema: Any) -> None:
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.values():
            _strict(value)
    elif isinstance(schema, list):
        for value in schema:
            _strict(value)


def _dispatch(mapping: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": sorted(mapping)}},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": kind}}},
                "then": {"$ref": f"#/definitions/{name}"},
            }
            for kind, name in mapping.items()
        ],
    }


class Spec:
    """The spec, with strict definitions and helpers to find operations."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        definitions = copy.deepcopy(raw["definitions"])
        _strict(definitions)
        definitions["Transaction"] = _dispatch(TX_DEFINITIONS)
        definitions["Order"] = _dispatch(ORDER_DEFINITIONS)
        definitions["OrderRequest"] = _dispatch(REQUEST_DEFINITIONS)
        self.definitions = definitions
        templates = sorted(raw["paths"], key=lambda t: t.count("{"))
        self.templates = [
            (t, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"))
            for t in templates
        ]

    def template(self, path: str) -> str:
        relative = path.removeprefix("/v3")
        for template, pattern in self.templates:
            if pattern.match(relative):
                return str(template)
        raise AssertionError(f"{path} matches no path of the spec")

    def validate(self, instance: Any, schema: dict[str, Any], what: str) -> None:
        strict = copy.deepcopy(schema)
        _strict(strict)
        strict["definitions"] = self.definitions
        errors = list(jsonschema.Draft7Validator(strict).iter_errors(instance))
        assert not errors, f"{what}: " + "; ".join(
            f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]
        )

    def parameters(self, method: str, template: str) -> list[dict[str, Any]]:
        declared = self.raw["paths"][template][method.lower()].get("parameters", [])
        return [
            self.raw["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
            for p in declared
        ]

    def response_schema(self, method: str, template: str, status: int) -> dict[str, Any] | None:
        responses = self.raw["paths"][template][method.lower()]["responses"]
        response = responses.get(str(status))
        if response is None:
            return None
        if "$ref" in response:
            response = self.raw["responses"][response["$ref"].rsplit("/", 1)[1]]
        schema: dict[str, Any] | None = response.get("schema")
        return schema


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(_load_spec())


def check_request(spec: Spec, rec: Recorded) -> str:
    """Check one recorded request against its operation; return its template."""
    template = spec.template(rec.path)
    operation = spec.raw["paths"][template]
    assert rec.method.lower() in operation, f"{rec.method} is not documented for {template}"
    parameters = spec.parameters(rec.method, template)
    query_names = {p["name"] for p in parameters if p["in"] == "query"}
    assert set(rec.query) <= query_names, f"{template}: undocumented {set(rec.query) - query_names}"
    for parameter in parameters:
        if parameter["in"] == "query" and parameter.get("required"):
            assert parameter["name"] in rec.query, f"{template}: missing {parameter['name']}"
        if parameter["in"] == "body":
            spec.validate(rec.body, parameter["schema"], f"{rec.method} {template} body")
    assert rec.headers["authorization"].startswith("Bearer ")
    assert (
        rec.headers["accept-datetime-format"]
        in spec.raw["definitions"]["AcceptDatetimeFormat"]["enum"]
    )
    if "{orderSpecifier}" in template:
        specifier = rec.path.split("/orders/")[1].split("/")[0]
        assert re.fullmatch(r"\d+|@[^@/]+", specifier), f"bad OrderSpecifier {specifier!r}"
    for name in ("instrument", "instruments"):
        for value in rec.query.get(name, []):
            assert all(re.fullmatch(r"[A-Z0-9]+_[A-Z]{3}", v) for v in value.split(","))
    return template


def check_response(spec: Spec, rec: Recorded, template: str) -> None:
    """Check the fake's answer (and every stream line) against the documented schema."""
    if rec.status in (-1, 429, 503):  # injected faults; 429/503 are not in the spec
        return
    if template.endswith("/stream") and rec.status == 200:
        heartbeat = "PricingHeartbeat" if "pricing" in template else "TransactionHeartbeat"
        message = "ClientPrice" if "pricing" in template else "Transaction"
        for line in rec.stream_lines:
            name = heartbeat if line.get("type") == "HEARTBEAT" else message
            spec.validate(line, {"$ref": f"#/definitions/{name}"}, f"{template} line")
        return
    schema = spec.response_schema(rec.method, template, rec.status)
    assert schema is not None, f"{rec.method} {template}: HTTP {rec.status} is not documented"
    spec.validate(rec.response, schema, f"{rec.method} {template} {rec.status}")


async def _exercise(fake: FakeOanda) -> None:
    """Drive every endpoint the adapter uses, with successes and refusals."""
    adapter = OandaAdapter(config_for(fake))
    await adapter.connect()
    seen: list[object] = []

    async def collect(update: object) -> None:
        seen.append(update)

    try:
        await adapter.subscribe_quotes([EURUSD, InstrumentId("XAUUSD")], collect)
        await adapter.subscribe_order_updates(collect)
        await asyncio.sleep(0.3)
        await adapter.place_order(order("c1", OrderSide.BUY, OrderType.MARKET))
        await adapter.place_order(order("c2", OrderSide.SELL, OrderType.MARKET, reduce_only=True))
        await adapter.place_order(order("c3", OrderSide.BUY, OrderType.LIMIT, price="1.09000"))
        await adapter.place_order(
            order("c4", OrderSide.SELL, OrderType.STOP, trigger_price="1.05000")
        )
        await adapter.place_order(
            order("c5", OrderSide.BUY, OrderType.TAKE_PROFIT, trigger_price="1.08000")
        )
        await adapter.place_order(
            order("c6", OrderSide.BUY, OrderType.LIMIT, price="1.0", tif=TimeInForce.FOK)
        )
        await adapter.place_order(
            order("c7", OrderSide.BUY, OrderType.MARKET, quantity="1", instrument="DE30EUR")
        )
        with pytest.raises(VenueError):
            await adapter.place_order(order("c1", OrderSide.BUY, OrderType.MARKET))
        await adapter.place_order(
            order("c8", OrderSide.BUY, OrderType.LIMIT, price="1.1", tif=TimeInForce.IOC)
        )  # marketable: fills at once
        with pytest.raises(VenueError):
            await adapter.place_order(
                order("c9", OrderSide.BUY, OrderType.MARKET, instrument="ZZZUSD")
            )
        fake.set_tradeable("XAU_USD", False)  # a price line with tradeable false
        fake.set_tradeable("DE30_EUR", False)  # not streamed: OANDA cancels MARKET_HALTED
        await adapter.place_order(
            order("c10", OrderSide.SELL, OrderType.MARKET, quantity="1", instrument="DE30EUR")
        )
        await adapter.modify_order(
            ClientOrderId("c3"), EURUSD, quantity=Decimal(2000), price=Decimal("1.09100"),
            trigger_price=None,
        )  # fmt: skip
        await adapter.cancel_order(ClientOrderId("c5"), EURUSD)
        with pytest.raises(VenueError):
            await adapter.cancel_order(ClientOrderId("c1"), EURUSD)
        await adapter.query_order(EURUSD, client_order_id=ClientOrderId("c1"))
        await adapter.query_order(EURUSD, client_order_id=ClientOrderId("missing"))
        fake.set_quote("EUR_USD", Decimal("1.09050"), Decimal("1.09060"))  # fills c3
        await adapter.fills_since(0)
        await adapter.account()
        await adapter.client.positions()
        await adapter.client.list_orders(state="ALL", instrument="EUR_USD", count=10)
        await adapter.quote(InstrumentId("XAUUSD"))
        await adapter.bars(InstrumentId("DE30EUR"), 300, 1_700_000_000_000_000_000,
                           1_700_003_000_000_000_000)  # fmt: skip
        fake.disconnect_streams()  # the reconnect polls transactions/sinceid
        await asyncio.sleep(0.4)
    finally:
        await adapter.disconnect()
    bad = OandaAdapter(config_for(fake, token="nope"))
    with pytest.raises(VenueError):
        await bad.connect()
    await bad.disconnect()


@pytest.mark.asyncio
async def test_client_requests_and_fake_responses_conform_to_spec(spec: Spec) -> None:
    fake = FakeOanda(heartbeat_s=0.1)
    await fake.start()
    try:
        await _exercise(fake)
    finally:
        await fake.stop()
    assert not fake.errors

    used = set()
    for rec in fake.requests:
        template = check_request(spec, rec)
        check_response(spec, rec, template)
        used.add((rec.method, template))

    assert used >= USED_ENDPOINTS, f"not exercised: {USED_ENDPOINTS - used}"
    statuses = {(r.method, spec.template(r.path), r.status) for r in fake.requests}
    assert ("POST", "/accounts/{accountID}/orders", 400) in statuses
    assert ("PUT", "/accounts/{accountID}/orders/{orderSpecifier}/cancel", 404) in statuses
    assert ("GET", "/accounts/{accountID}/summary", 401) in statuses
    lines = [line["type"] for r in fake.requests for line in r.stream_lines]
    assert {"HEARTBEAT", "PRICE", "ORDER_FILL", "LIMIT_ORDER"} <= set(lines)
    streamed = [line for r in fake.requests for line in r.stream_lines]
    assert any(line.get("tradeable") is False for line in streamed)
    assert any(line.get("reason") == "MARKET_HALTED" for line in streamed)


@pytest.mark.parametrize(
    "request_",
    [
        OrderRequest(type="MARKET", instrument="EUR_USD", units="-10", time_in_force="IOC",
                     take_profit_on_fill=TakeProfitDetails(price="1.2", time_in_force="GTC"),
                     stop_loss_on_fill=StopLossDetails(distance="0.005")),
        OrderRequest(type="LIMIT", instrument="XAU_USD", units="2", price="1900.125",
                     time_in_force="GTD", gtd_time="2030-01-01T00:00:00.000000000Z",
                     trailing_stop_loss_on_fill=TrailingStopLossDetails(distance="5.0")),
        OrderRequest(type="TRAILING_STOP_LOSS", trade_id="42", distance="0.00150"),
    ],
    ids=["market-with-exits", "limit-gtd-with-trailing", "trailing-stop-loss"],
)  # fmt: skip
def test_order_request_bodies_conform_to_spec(spec: Spec, request_: OrderRequest) -> None:
    body = encode_order_body(request_)
    schema = next(
        p["schema"] for p in spec.parameters("POST", "/accounts/{accountID}/orders")
        if p["in"] == "body"
    )  # fmt: skip
    spec.validate(body, schema, "createOrderBody")


def test_strict_check_catches_a_misspelt_field(spec: Spec) -> None:
    body = {
        "order": {"type": "MARKET", "instrument": "EUR_USD", "units": "1", "clientOrderId": "x"}
    }
    schema = {"properties": {"order": {"$ref": "#/definitions/OrderRequest"}}}

    with pytest.raises(AssertionError, match="clientOrderId"):
        spec.validate(body, schema, "misspelt")
