"""Edge values at the API boundary: each is a 4xx problem naming the value, with no effect.

Times the journal cannot store, JSON numbers with more digits than a binary float
keeps, decimals whose exponent would make their plain text enormous, and periods that
end before they start. Each case runs on a fresh in-process service (SQLite journal)
and checks that the account still answers afterwards and that nothing was recorded or
sent to the venue.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from robustness.harness import LiveService, build_service, record_venue_commands

SIGNALS = "/api/v1/signals"
ORDERS = "/api/v1/orders"
SIGNAL: dict[str, Any] = {
    "signalId": "edge-1",
    "modelId": "model-1",
    "symbol": "SPY",
    "action": "BUY",
    "confidence": "0.5",
    "quantity": "1",
}
LIMIT: dict[str, Any] = {
    "symbol": "SPY",
    "side": "BUY",
    "type": "LIMIT",
    "quantity": "1",
    "price": "400",
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveService]:
    """Yield a fresh service whose venue commands are recorded."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        service = build_service(tmp_path)
        record_venue_commands(service, monkeypatch)
        try:
            yield service
        finally:
            service.runtime.journal.close()
            service.runtime.directory.close()


@pytest_asyncio.fixture
async def http(live: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client that calls the app in-process as the trader, after one SPY quote."""
    await live.quote("SPY", "450.00", "450.02")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=live.runtime.app),
        base_url="http://review2",
        headers={"X-API-Key": live.trader_key},
    ) as client:
        yield client


def raw_body(base: dict[str, Any], **raw: str) -> str:
    """Return ``base`` as JSON with each of ``raw`` written as the literal JSON text given."""
    values = {k: v for k, v in base.items() if k not in raw}
    text = json.dumps(values)
    extra = ", ".join(f'"{k}": {v}' for k, v in raw.items())
    return text[:-1] + ", " + extra + "}"


def assert_problem(response: httpx.Response, status: int, *names: str) -> dict[str, Any]:
    """Assert a ``status`` problem whose detail names each of ``names``; return it."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["code"], problem
    for name in names:
        assert name.lower() in problem["detail"].lower(), (name, problem["detail"])
    return problem


async def post(http: httpx.AsyncClient, path: str, content: str) -> httpx.Response:
    """POST raw JSON text."""
    return await http.post(path, content=content, headers={"Content-Type": "application/json"})


# Times the journal cannot store -------------------------------------------------------

OUT_OF_RANGE_TIMES = [
    "0001-01-01T00:00:00Z",
    "1677-09-21T00:12:43Z",  # just before -2**63 ns
    "2262-04-11T23:47:17Z",  # just after 2**63 - 1 ns
    "9999-12-31T23:59:59Z",
]


@pytest.mark.asyncio
@pytest.mark.parametrize("moment", OUT_OF_RANGE_TIMES)
async def test_signal_timestamp_outside_the_journals_range_is_refused_and_the_account_lives(
    live: LiveService, http: httpx.AsyncClient, moment: str
) -> None:
    before = live.state()
    response = await post(http, SIGNALS, json.dumps({**SIGNAL, "timestamp": moment}))
    assert_problem(response, 422, "timestamp", moment[:10])
    assert live.state() == before
    # Before: the journal commit overflowed its 64-bit column and stopped the account,
    # so every later request for it answered 503 until a restart.
    follow_up = await post(http, SIGNALS, json.dumps({**SIGNAL, "signalId": "edge-2"}))
    assert follow_up.status_code == 200, follow_up.text
    assert (await http.get("/api/v1/portfolio")).status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("field", "extra"),
    [
        ("expireTime", {"timeInForce": "GTD"}),
        ("algo.endTime", {}),
    ],
)
@pytest.mark.parametrize("moment", ["2262-04-11T23:47:17Z", "9999-12-31T23:59:59Z"])
async def test_order_times_outside_the_journals_range_are_refused(
    live: LiveService, http: httpx.AsyncClient, field: str, extra: dict[str, Any], moment: str
) -> None:
    body: dict[str, Any] = {**LIMIT, **extra}
    if field == "algo.endTime":
        body["algo"] = {"type": "TWAP", "slices": 2, "endTime": moment}
    else:
        body[field] = moment
    before = live.state()
    response = await post(http, ORDERS, json.dumps(body))
    assert_problem(response, 422, field.rsplit(".", 1)[-1], moment[:10])
    assert live.state() == before


@pytest.mark.asyncio
async def test_signal_timestamp_at_the_edges_of_the_range_is_accepted(
    live: LiveService, http: httpx.AsyncClient
) -> None:
    for index, moment in enumerate(("1677-09-21T00:12:44Z", "2262-04-11T23:47:16Z")):
        body = {**SIGNAL, "signalId": f"edge-range-{index}", "timestamp": moment}
        response = await post(http, SIGNALS, json.dumps(body))
        assert response.status_code == 200, response.text
    live.runtime.service.flush_all()
    assert (await http.get("/api/v1/portfolio")).status_code == 200


# JSON numbers are read as exact decimals -------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("field", "number"),
    [
        # Binary floats round these to 400.0 and 1.0: off the tick and off the lot
        # grid, they were accepted as 400.00 and 1.
        ("price", "399.99999999999999999"),
        ("price", "400.0000000000000000001"),
        ("quantity", "1.00000000000000000001"),
        ("quantity", "12345678901234567.5"),
    ],
)
async def test_order_json_number_beyond_float_precision_is_refused_not_rounded(
    live: LiveService, http: httpx.AsyncClient, field: str, number: str
) -> None:
    before = live.state()
    response = await post(http, ORDERS, raw_body(LIMIT, **{field: number}))
    assert_problem(response, 422, number)
    assert live.state() == before


@pytest.mark.asyncio
async def test_signal_confidence_json_number_just_above_one_is_refused(
    live: LiveService, http: httpx.AsyncClient
) -> None:
    before = live.state()
    number = "1.00000000000000000001"
    response = await post(http, SIGNALS, raw_body(SIGNAL, confidence=number))
    assert_problem(response, 422, "confidence", number)
    assert live.state() == before


@pytest.mark.asyncio
async def test_json_number_overflowing_a_float_is_named_as_sent(
    live: LiveService, http: httpx.AsyncClient
) -> None:
    """1e400 was read as a float infinity and reported as 'Infinity', a value never sent."""
    response = await post(http, ORDERS, raw_body(LIMIT, price="1e400"))
    problem = assert_problem(response, 422, "price", "1E+400")
    assert "Infinity" not in problem["detail"]


@pytest.mark.asyncio
async def test_exact_json_numbers_still_work_everywhere(
    live: LiveService, http: httpx.AsyncClient
) -> None:
    """Plain JSON numbers in decimal, integer and float fields behave as before."""
    order = await post(http, ORDERS, raw_body(LIMIT, quantity="2", price="400.5"))
    assert order.status_code == 200, order.text
    assert (order.json()["quantity"], order.json()["price"]) == ("2", "400.50")
    signal = await post(http, SIGNALS, raw_body(SIGNAL, confidence="0.8", quantity="3"))
    assert signal.status_code == 200, signal.text
    algo = {"type": "TWAP", "slices": 2.0, "endTime": "2262-01-01T00:00:00Z", "sizeJitter": 0.1}
    twap = await post(http, ORDERS, json.dumps({**LIMIT, "clientOrderId": "twap-1", "algo": algo}))
    assert twap.status_code == 200, twap.text


# Decimals whose exponent makes their text enormous ---------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["0E-1000000", "1E-100000", "0.5E-100000"])
async def test_signal_confidence_with_a_huge_negative_exponent_is_refused(
    live: LiveService, http: httpx.AsyncClient, text: str
) -> None:
    """Before: accepted, and every read of the signal wrote its confidence out in full
    (a 1,000,000-character string for 0E-1000000; 0E-999999999 would be a gigabyte)."""
    before = live.state()
    response = await post(http, SIGNALS, json.dumps({**SIGNAL, "confidence": text}))
    assert_problem(response, 422, "confidence", text)
    assert live.state() == before


@pytest.mark.asyncio
async def test_target_weight_with_a_huge_negative_exponent_is_refused(
    live: LiveService, http: httpx.AsyncClient
) -> None:
    before = live.state()
    body = {**SIGNAL, "action": "REBALANCE", "targetWeights": {"SPY": "0E-1000000"}}
    body.pop("quantity")
    response = await post(http, SIGNALS, json.dumps(body))
    assert_problem(response, 422, "targetWeights", "0E-1000000")
    assert live.state() == before


@pytest.mark.asyncio
async def test_monitor_fraction_with_a_huge_negative_exponent_is_refused(
    live: LiveService,
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=live.runtime.app),
        base_url="http://review2",
        headers={"X-API-Key": live.admin_key},
    ) as admin:
        response = await admin.put(
            "/api/v1/risk/limits", json={"monitors": {"reduceFraction": "0E-1000000"}}
        )
        assert_problem(response, 422, "reduceFraction", "0E-1000000")
        limits = await admin.get("/api/v1/risk/limits")
        assert limits.json()["monitors"]["reduceFraction"] == "0.5"


# Periods that end before they start --------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("path", [ORDERS, "/api/v1/risk/metrics/history"])
async def test_from_time_after_to_time_is_refused_not_answered_empty(
    http: httpx.AsyncClient, path: str
) -> None:
    params = {"fromTime": "2030-01-01T00:00:00Z", "toTime": "2020-01-01T00:00:00Z"}
    response = await http.get(path, params=params)
    assert_problem(response, 422, "fromTime", "toTime", "2030-01-01", "2020-01-01")


# Fields the order would silently ignore ------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("tif", ["GTC", "DAY", "IOC"])
async def test_expire_time_on_an_order_that_does_not_expire_is_refused(
    live: LiveService, http: httpx.AsyncClient, tif: str
) -> None:
    """Only GTD orders expire: before, a GTC order with an expireTime was accepted and
    worked past it, the expireTime kept on the order and never acted on."""
    before = live.state()
    body = {**LIMIT, "timeInForce": tif, "expireTime": "2030-01-01T00:00:00Z"}
    response = await post(http, ORDERS, json.dumps(body))
    assert_problem(response, 422, "expireTime", tif, "GTD", "2030-01-01")
    assert live.state() == before


@pytest.mark.asyncio
async def test_trailing_offset_type_without_a_trailing_offset_is_refused(
    live: LiveService, http: httpx.AsyncClient
) -> None:
    before = live.state()
    response = await post(http, ORDERS, json.dumps({**LIMIT, "trailingOffsetType": "PERCENT"}))
    assert_problem(response, 422, "trailingOffsetType", "PERCENT", "trailingOffset")
    assert live.state() == before


@pytest.mark.asyncio
@pytest.mark.parametrize("field", ["expireTime", "algo.startTime", "algo.endTime"])
async def test_order_time_without_a_time_zone_is_refused_not_taken_as_utc(
    live: LiveService, http: httpx.AsyncClient, field: str
) -> None:
    """A GTD expiry of 2030-01-02T16:00:00 meant in New York expired five hours early
    when read as UTC; a signal's timestamp already had to carry its zone."""
    moment = "2030-01-02T16:00:00"
    body: dict[str, Any] = {**LIMIT, "timeInForce": "GTD", "expireTime": "2030-01-03T00:00:00Z"}
    if field == "expireTime":
        body["expireTime"] = moment
    else:
        algo = {"type": "TWAP", "slices": 2, "endTime": "2030-01-03T00:00:00Z"}
        body["algo"] = {**algo, field.split(".")[1]: moment}
    before = live.state()
    response = await post(http, ORDERS, json.dumps(body))
    assert_problem(response, 422, field.rsplit(".", 1)[-1], "time zone", moment)
    assert live.state() == before


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("limits", "sent"),
    [
        ({"loss": {"max_daily_loss": "@"}}, "0.1000000000000000000001"),
        ({"account_throttle": {"window_ms": "@", "max_orders": 5}}, "1E-400"),
    ],
)
async def test_limits_json_number_with_a_fraction_is_refused_naming_it_as_sent(
    live: LiveService, limits: dict[str, Any], sent: str
) -> None:
    """The limits mapping refuses floats; it named 0.1 and 0.0 for what was sent."""
    body = json.dumps({"limits": limits}).replace('"@"', sent)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=live.runtime.app),
        base_url="http://review2",
        headers={"X-API-Key": live.admin_key},
    ) as admin:
        before = (await admin.get("/api/v1/risk/limits")).json()
        response = await admin.put(
            "/api/v1/risk/limits", content=body, headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 422, sent)
        assert (await admin.get("/api/v1/risk/limits")).json() == before


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "name"),
    [
        (ORDERS, "fromTime"),
        (ORDERS, "toTime"),
        ("/api/v1/risk/metrics/history", "fromTime"),
        ("/api/v1/reports/tca", "from"),
    ],
)
async def test_time_filter_without_a_time_zone_is_refused_not_taken_as_utc(
    http: httpx.AsyncClient, path: str, name: str
) -> None:
    """Read as UTC, a local 09:30 filter silently selected a window hours off."""
    response = await http.get(path, params={name: "2030-01-02T09:30:00"})
    assert_problem(response, 422, name, "time zone", "2030-01-02T09:30:00")


# Signal fields that a signal's action would silently drop ------------------------------

REBALANCE: dict[str, Any] = {
    "signalId": "rebalance-1",
    "modelId": "model-1",
    "symbol": "SPY",
    "action": "REBALANCE",
    "confidence": "0.5",
    "targetWeights": {"SPY": "0.001"},
}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "names"),
    [
        # The keys are upper-cased: 'spy' overwrote 'SPY' and 0.1 was traded, not 0.5.
        (
            {**REBALANCE, "targetWeights": {"SPY": "0.5", "spy": "0.1"}},
            ("targetWeights", "SPY", "spy"),
        ),
        ({**REBALANCE, "quantity": "5"}, ("quantity", "REBALANCE")),
        ({**REBALANCE, "stopLoss": "400"}, ("stopLoss", "REBALANCE")),
        ({**REBALANCE, "takeProfit": "500"}, ("takeProfit", "REBALANCE")),
        ({**SIGNAL, "targetWeights": {"SPY": "0.5"}}, ("targetWeights", "BUY")),
    ],
)
async def test_signal_field_its_action_would_drop_is_refused(
    live: LiveService, http: httpx.AsyncClient, body: dict[str, Any], names: tuple[str, ...]
) -> None:
    before = live.state()
    response = await post(http, SIGNALS, json.dumps(body))
    assert_problem(response, 422, *names)
    assert live.state() == before


@pytest.mark.asyncio
async def test_rebalance_with_weights_only_is_accepted(
    live: LiveService, http: httpx.AsyncClient
) -> None:
    response = await post(http, SIGNALS, json.dumps(REBALANCE))
    assert response.status_code == 200, response.text
    assert response.json()["status"] in {"ACCEPTED", "EXECUTED"}, response.text


@pytest.mark.asyncio
async def test_signal_gtd_is_refused_with_a_reason_that_fits_a_signal(
    live: LiveService, http: httpx.AsyncClient
) -> None:
    """A signal has no expiry field, yet a GTD one was refused with 'GTD orders need an
    expire time', which no signal can send."""
    before = live.state()
    response = await post(http, SIGNALS, json.dumps({**SIGNAL, "timeInForce": "GTD"}))
    problem = assert_problem(response, 422, "timeInForce", "GTD", "signal")
    assert "need an expire time" not in problem["detail"]
    assert live.state() == before
