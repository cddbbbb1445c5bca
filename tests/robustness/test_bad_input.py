"""Malformed or semantically wrong requests: a 4xx problem that says what was wrong, no effect.

Every case checks the answer (an RFC 9457 problem whose detail names the field and the
value received) and that nothing happened: the account's journal head, its orders and
signals, and the commands handed to the venue are the same before and after.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from alphintra.api.app import MAX_BODY_BYTES
from robustness.harness import ADMIN_ACCOUNT, LiveService

SIGNALS = "/api/v1/signals"
BATCH = "/api/v1/signals/batch"
ORDERS = "/api/v1/orders"
JSON = "application/json"
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}

BASE_SIGNAL: dict[str, Any] = {
    "signalId": "sig-1",
    "modelId": "model-1",
    "symbol": "SPY",
    "action": "BUY",
    "confidence": 0.5,
    "quantity": 1,
}
BASE_ORDER: dict[str, Any] = {"symbol": "SPY", "side": "BUY", "type": "LIMIT", "quantity": 1}


def body(
    base: dict[str, Any],
    fields: dict[str, Any] | None = None,
    *,
    drop: tuple[str, ...] = (),
    raw: str = "",
) -> str:
    """Return ``base`` updated with ``fields``, without ``drop``, plus raw JSON text ``raw``.

    ``raw`` carries what ``json.dumps`` cannot: ``"confidence": NaN`` and friends.
    """
    values = {k: v for k, v in {**base, **(fields or {})}.items() if k not in drop}
    text = json.dumps(values)
    return text[:-1] + (", " if values else "") + raw + "}" if raw else text


def signal(*, drop: tuple[str, ...] = (), raw: str = "", **fields: Any) -> str:
    """Return a signal body (see ``body``)."""
    return body(BASE_SIGNAL, fields, drop=drop, raw=raw)


def order(*, drop: tuple[str, ...] = (), raw: str = "", **fields: Any) -> str:
    """Return a direct order body (see ``body``)."""
    return body(BASE_ORDER, fields, drop=drop, raw=raw)


@dataclass(frozen=True, slots=True)
class Bad:
    """One bad request and what the answer must say.

    ``path`` may contain ``{filled}``, ``{open}`` or ``{cancelled}``: the ID of an order
    in that state. ``names`` must all appear in the problem's detail (case-insensitive).
    """

    id: str
    method: str
    path: str
    content: str | bytes | None
    status: int
    names: tuple[str, ...]
    content_type: str = JSON


def sig(case_id: str, content: str | bytes, status: int, *names: str, kind: str = JSON) -> Bad:
    """Return a bad ``POST /signals``."""
    return Bad(f"signal-{case_id}", "POST", SIGNALS, content, status, names, kind)


def batch(case_id: str, signals: Any, status: int, *names: str, raw: str = "") -> Bad:
    """Return a bad ``POST /signals/batch`` (``raw`` replaces the JSON of ``signals``)."""
    content = raw or json.dumps({"signals": signals})
    return Bad(f"batch-{case_id}", "POST", BATCH, content, status, names)


def post(case_id: str, content: str, status: int, *names: str) -> Bad:
    """Return a bad ``POST /orders``."""
    return Bad(f"order-{case_id}", "POST", ORDERS, content, status, names)


def patch(case_id: str, target: str, content: str, status: int, *names: str) -> Bad:
    """Return a bad ``PATCH /orders/{target}``."""
    return Bad(f"patch-{case_id}", "PATCH", f"{ORDERS}/{target}", content, status, names)


def call(case_id: str, method: str, path: str, status: int, *names: str) -> Bad:
    """Return a bad request without a body."""
    return Bad(case_id, method, path, None, status, names)


def _number_cases() -> list[Bad]:
    cases = []
    for name in ("confidence", "quantity", "entryPrice", "stopLoss"):
        for token in ("NaN", "Infinity", "-Infinity"):
            raw = signal(drop=(name,), raw=f'"{name}": {token}')
            cases.append(sig(f"{name}-raw-{token}", raw, 422, name, token))
        for text in ("NaN", "Infinity", "-Infinity", "inf", "sNaN"):
            content = body(BASE_SIGNAL, {name: text})
            cases.append(sig(f"{name}-string-{text}", content, 422, name, text))
    return cases


def _signal_cases() -> list[Bad]:
    deep = '"metadata": {"a": ' + "[" * 5000 + "]" * 5000 + "}"
    digits = '"confidence": 1' + "0" * 5000
    return [
        *(
            sig(f"missing-{name}", signal(drop=(name,)), 422, name, "required")
            for name in ("signalId", "modelId", "symbol", "action", "confidence")
        ),
        *_number_cases(),
        sig("confidence-word", signal(confidence="high"), 422, "confidence", "high"),
        sig("confidence-bool", signal(confidence=True), 422, "confidence", "true"),
        sig("confidence-list", signal(confidence=[0.5]), 422, "confidence", "[0.5]"),
        sig("confidence-above-one", signal(confidence=1.5), 422, "confidence", "1.5"),
        sig("confidence-just-above-one", signal(confidence="1.0000001"), 422, "1.0000001"),
        sig("confidence-negative", signal(confidence=-0.1), 422, "confidence", "-0.1"),
        sig("quantity-bool", signal(quantity=True), 422, "quantity", "true"),
        sig("quantity-zero", signal(quantity=0), 422, "quantity", "greater than 0", "got 0"),
        sig("quantity-negative", signal(quantity=-1), 422, "quantity", "-1"),
        sig("quantity-hex", signal(quantity="0x10"), 422, "quantity", "0x10"),
        sig("quantity-off-lot", signal(quantity=1.5), 422, "quantity", "1.5"),
        sig("quantity-40-digits", signal(quantity=10**40), 422, "quantity", str(10**40)),
        sig("symbol-object", signal(symbol={"a": 1}), 422, "symbol", "{'a': 1}"),
        sig("symbol-number", signal(symbol=123), 422, "symbol", "123"),
        sig("symbol-unknown", signal(symbol="FOO123"), 422, "symbol", "FOO123"),
        sig("symbol-bad-characters", signal(symbol="SPY;DROP"), 422, "symbol", "SPY;DROP"),
        sig("action-unknown", signal(action="HOLD"), 422, "action", "HOLD"),
        sig("action-lowercase", signal(action="buy"), 422, "action", "buy"),
        sig(
            "buy-stop-loss-above-entry",
            signal(orderType="LIMIT", entryPrice=450, stopLoss=460),
            422,
            "stop loss",
            "460",
        ),
        sig(
            "sell-stop-loss-below-entry",
            signal(action="SELL", orderType="LIMIT", entryPrice=450, stopLoss=440),
            422,
            "stop loss",
            "440",
        ),
        sig("market-buy-stop-loss-above-mid", signal(stopLoss=460), 422, "stop loss", "460"),
        sig(
            "buy-take-profit-below-entry",
            signal(orderType="LIMIT", entryPrice=450, takeProfit=440),
            422,
            "take profit",
            "440",
        ),
        sig(
            "entry-off-tick",
            signal(orderType="LIMIT", entryPrice=100.005),
            422,
            "price",
            "100.005",
        ),
        sig(
            "stop-loss-off-tick",
            signal(orderType="LIMIT", entryPrice=450, stopLoss=440.001),
            422,
            "price",
            "440.001",
        ),
        sig("limit-without-entry", signal(orderType="LIMIT"), 422, "entryPrice", "LIMIT"),
        sig("order-type-stop", signal(orderType="STOP"), 422, "orderType", "STOP"),
        sig("order-type-trailing", signal(orderType="TRAILING_STOP"), 422, "TRAILING_STOP"),
        sig("time-in-force", signal(timeInForce="NEVER"), 422, "timeInForce", "NEVER"),
        sig("typo-stoploss", signal(stoploss=440), 422, "stoploss", "extra"),
        sig("timestamp-naive", signal(timestamp="2024-01-02T03:04:05"), 422, "2024-01-02T03:04"),
        sig("timestamp-garbage", signal(timestamp="yesterday"), 422, "timestamp", "yesterday"),
        sig("signal-id-space", signal(signalId="a b"), 422, "signalId", "a b"),
        sig("signal-id-too-long", signal(signalId="x" * 129), 422, "signalId", "x" * 129),
        sig(
            "metadata-raw-nan",
            signal(drop=("metadata",), raw='"metadata": {"score": NaN}'),
            422,
            "metadata.score",
            "nan",
        ),
        sig(
            "metadata-nested-infinity",
            signal(raw='"metadata": {"a": [1, {"b": -Infinity}]}'),
            422,
            "metadata.a[1].b",
            "-inf",
        ),
        sig(
            "target-weight-nan",
            signal(action="REBALANCE", targetWeights={"SPY": "NaN"}),
            422,
            "targetWeights.SPY",
            "NaN",
        ),
        sig("other-tenant", signal(accountId=ADMIN_ACCOUNT), 404, "account", ADMIN_ACCOUNT),
        sig("body-array", "[1]", 422, "body", "[1]"),
        sig("body-string", '"BUY SPY"', 422, "body", "BUY SPY"),
        sig("body-empty", "", 422, "body", "required"),
        sig("body-truncated", '{"signalId": ', 422, "body", "JSON", '{"signalId": '),
        sig("body-trailing-garbage", signal() + " x", 422, "body", "JSON", "} x"),
        sig("body-single-quotes", "{'signalId': 'a'}", 422, "body", "JSON", "{'signalId'"),
        sig("body-not-utf8", b"\xff\xfe{}", 422, "body", "JSON"),
        sig("body-text-plain", signal(), 422, "body", "sig-1", kind="text/plain"),
        sig("body-too-many-digits", signal(drop=("confidence",), raw=digits), 400, "digits"),
        sig("body-nested-too-deep", signal(raw=deep), 400, "body", "recursion"),
        sig(
            "body-over-1mib",
            signal(metadata={"blob": "x" * MAX_BODY_BYTES}),
            413,
            "body",
            str(MAX_BODY_BYTES),
        ),
    ]


def _batch_cases() -> list[Bad]:
    many = [{**BASE_SIGNAL, "signalId": f"b-{i}"} for i in range(1001)]
    three = [{**BASE_SIGNAL, "signalId": f"m-{i}"} for i in range(3)]
    head, _, tail = json.dumps({"signals": three}).rpartition('"confidence": 0.5')
    nan_third = head + '"confidence": NaN' + tail
    return [
        batch("1001-signals", many, 422, "signals", "1000", "1001"),
        batch("empty", [], 422, "signals", "at least 1"),
        batch("not-a-list", BASE_SIGNAL, 422, "signals", "list"),
        batch("nan-in-third-signal", None, 422, "signals.2.confidence", "NaN", raw=nan_third),
        batch("typo", [{**BASE_SIGNAL, "stoploss": 1}], 422, "signals.0.stoploss", "extra"),
        batch(
            "unknown-top-level-field",
            None,
            422,
            "dryRun",
            "extra",
            raw=json.dumps({"signals": three, "dryRun": True}),
        ),
    ]


def _order_cases() -> list[Bad]:
    return [
        post("limit-without-price", order(), 422, "price", "LIMIT"),
        post("price-off-tick", order(price=100.005), 422, "price", "100.005"),
        post("quantity-off-lot", order(price=400, quantity=1.5), 422, "quantity", "1.5"),
        post("quantity-bool", order(price=400, quantity=True), 422, "quantity", "true"),
        post("quantity-zero", order(price=400, quantity=0), 422, "quantity", "greater than 0"),
        post("price-raw-nan", order(raw='"price": NaN'), 422, "price", "NaN"),
        post("price-string-infinity", order(price="Infinity"), 422, "price", "Infinity"),
        post("side-unknown", order(price=400, side="HOLD"), 422, "side", "HOLD"),
        post("type-unknown", order(price=400, type="FOK_LIMIT"), 422, "type", "FOK_LIMIT"),
        post("symbol-unknown", order(price=400, symbol="FOO123"), 422, "symbol", "FOO123"),
        post("stop-loss-above-entry", order(price=450, stopLoss=460), 422, "stop loss", "460"),
        post("gtd-without-expiry", order(price=400, timeInForce="GTD"), 422, "expire", "GTD"),
        post("missing-side", order(price=400, drop=("side",)), 422, "side", "required"),
        post("typo-field", order(price=400, stop_price=1), 422, "stop_price", "extra"),
        post(
            "other-tenant",
            order(price=400, accountId=ADMIN_ACCOUNT),
            404,
            "account",
            ADMIN_ACCOUNT,
        ),
        patch("price-off-tick", "{open}", '{"price": 400.005}', 422, "price", "400.005"),
        patch("quantity-off-lot", "{open}", '{"quantity": 1.5}', 422, "quantity", "1.5"),
        patch("price-raw-nan", "{open}", '{"price": NaN}', 422, "price", "NaN"),
        patch("price-negative", "{open}", '{"price": -400}', 422, "price", "-400"),
        patch("stop-on-limit", "{open}", '{"stopPrice": 390}', 422, "trigger price", "LIMIT"),
        patch("nothing", "{open}", "{}", 422, "quantity", "price", "stopPrice", "{}"),
        patch("unknown-field", "{open}", '{"side": "SELL"}', 422, "side", "extra"),
        patch("filled-order", "{filled}", '{"price": 401}', 409, "FILLED"),
        patch("unknown-order", "no-such-order", '{"price": 401}', 404, "order", "no-such-order"),
        call("delete-filled-order", "DELETE", f"{ORDERS}/{{filled}}", 409, "FILLED"),
        call("delete-cancelled-order", "DELETE", f"{ORDERS}/{{cancelled}}", 409, "CANCELLED"),
        call("delete-unknown-order", "DELETE", f"{ORDERS}/no-such-order", 404, "no-such-order"),
        call("get-unknown-order", "GET", f"{ORDERS}/no-such-order", 404, "no-such-order"),
        call("get-unknown-signal", "GET", f"{SIGNALS}/no-such-signal", 404, "no-such-signal"),
        call("list-orders-bad-status", "GET", f"{ORDERS}?status=DONE", 422, "status", "DONE"),
        call("list-orders-limit-zero", "GET", f"{ORDERS}?limit=0", 422, "limit", "0"),
        call("list-orders-bad-time", "GET", f"{ORDERS}?fromTime=noon", 422, "fromTime", "noon"),
    ]


CASES = _signal_cases() + _batch_cases() + _order_cases()


def assert_problem(response: httpx.Response, status: int, names: tuple[str, ...]) -> None:
    """Assert ``response`` is a ``status`` problem whose detail names every one of ``names``."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert set(problem) >= PROBLEM_KEYS, problem
    assert problem["status"] == status
    assert problem["code"] and problem["title"]
    detail = str(problem["detail"])
    for name in names:
        assert name.lower() in detail.lower(), f"{name!r} is not in the detail {detail!r}"


def client(live: LiveService) -> httpx.AsyncClient:
    """Return a client that calls the app in-process with the trader's API key."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=live.runtime.app),
        base_url="http://robustness",
        headers={"X-API-Key": live.trader_key},
    )


async def order_ids(live: LiveService, http: httpx.AsyncClient) -> dict[str, str]:
    """Create a filled, an open and a cancelled SPY order; return their IDs by state."""
    await live.quote("SPY", "450.00", "450.02")
    ids: dict[str, str] = {}
    for name, payload in (
        ("filled", {"symbol": "SPY", "side": "BUY", "type": "MARKET", "quantity": 1}),
        ("open", {**BASE_ORDER, "price": 400}),
        ("cancelled", {**BASE_ORDER, "price": 401}),
    ):
        response = await http.post(ORDERS, json=payload)
        assert response.status_code == 200, response.text
        ids[name] = response.json()["orderId"]
    assert (await http.delete(f"{ORDERS}/{ids['cancelled']}")).status_code == 200
    await live.quote("SPY", "450.00", "450.02")
    filled = await http.get(f"{ORDERS}/{ids['filled']}")
    assert filled.json()["status"] == "FILLED", filled.text
    return ids


@pytest.mark.asyncio
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_request_each_case_answers_problem_without_side_effects(
    module_live: LiveService, case: Bad
) -> None:
    live = module_live
    async with client(live) as http:
        ids = await order_ids(live, http)
        before = live.state()
        response = await http.request(
            case.method,
            case.path.format(**ids),
            content=case.content,
            headers={"Content-Type": case.content_type} if case.content is not None else {},
        )
        assert_problem(response, case.status, case.names)
        assert live.state() == before


@pytest.mark.asyncio
async def test_body_over_limit_without_content_length_answers_413_without_side_effects(
    live: LiveService,
) -> None:
    payload = signal(metadata={"blob": "x" * MAX_BODY_BYTES}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    async with client(live) as http:
        before = live.state()
        response = await http.post(SIGNALS, content=chunks(), headers={"Content-Type": JSON})
        assert "content-length" not in {k.lower() for k in response.request.headers}
        assert_problem(response, 413, ("body", str(MAX_BODY_BYTES)))
        assert live.state() == before


@pytest.mark.asyncio
async def test_body_just_under_limit_without_content_length_is_accepted(
    live: LiveService,
) -> None:
    payload = signal(metadata={"blob": ""}).encode()
    payload = payload.replace(
        b'"blob": ""', b'"blob": "' + b"x" * (MAX_BODY_BYTES - len(payload)) + b'"'
    )
    assert len(payload) == MAX_BODY_BYTES

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    async with client(live) as http:
        response = await http.post(SIGNALS, content=chunks(), headers={"Content-Type": JSON})
        assert response.status_code == 200, response.text[:500]
        assert response.json()["signalId"] == BASE_SIGNAL["signalId"]


@pytest.mark.asyncio
async def test_batch_with_invalid_signal_reports_it_and_keeps_the_valid_ones(
    live: LiveService,
) -> None:
    signals = [
        {**BASE_SIGNAL, "signalId": "ok-1"},
        {**BASE_SIGNAL, "signalId": "off-lot", "quantity": 1.5},
        {**BASE_SIGNAL, "signalId": "unknown-symbol", "symbol": "FOO123"},
        {**BASE_SIGNAL, "signalId": "ok-2"},
    ]
    async with client(live) as http:
        _, orders_before, signals_before, _ = live.state()
        response = await http.post(BATCH, json={"signals": signals})
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert [r["signalId"] for r in results] == [s["signalId"] for s in signals]
        assert [r["status"] for r in results] == ["ACCEPTED", "INVALID", "INVALID", "ACCEPTED"]
        assert "1.5" in results[1]["detail"] and "quantity" in results[1]["detail"]
        assert "FOO123" in results[2]["detail"] and results[2]["code"] == "UNKNOWN_SYMBOL"
        _, orders_after, signals_after, _ = live.state()
        assert (orders_after - orders_before, signals_after - signals_before) == (2, 2)
        for refused in ("off-lot", "unknown-symbol"):
            assert (await http.get(f"{SIGNALS}/{refused}")).status_code == 404
