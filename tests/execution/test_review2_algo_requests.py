"""Review: the API's algo body is refused precisely when a field would mean nothing.

Each algo type reads only some fields and dropped the rest without a word: an SOR or
ICEBERG order given a start time tomorrow was worked at once, a TWAP given venues sent
its children to the account's venue. Times out of order or past were refused with
nanosecond counts the client never sent ("end time 946684800000000000 is not after the
start time 1795...").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from alphintra.api.algo_requests import algo_spec
from alphintra.api.portal import Portal
from alphintra.api.schemas import AlgoIn
from alphintra.api.views import nanos
from alphintra.execution.algorithms import PovSpec, SorSpec, TwapSpec
from alphintra.service.trading import InvalidRequestError

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
NO_PORTAL = cast(Portal, None)  # read for VWAP only


def _spec(**body: Any) -> object:
    return algo_spec(AlgoIn.model_validate(body), nanos(NOW), NO_PORTAL, "BTCUSD")


def _refusal(**body: Any) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        _spec(**body)
    return caught.value


OWN: dict[str, dict[str, Any]] = {
    "SOR": {},
    "ICEBERG": {"displayQuantity": "1"},
    "TWAP": {"slices": 2},
}


@pytest.mark.parametrize("kind", ["SOR", "ICEBERG"])
@pytest.mark.parametrize("field", ["startTime", "endTime"])
def test_time_given_to_an_algo_that_works_at_once_is_refused(kind: str, field: str) -> None:
    later = "2026-03-03T14:30:00Z"
    refusal = _refusal(type=kind, **OWN[kind], **{field: later})
    assert refusal.code == "INVALID_ALGO"
    assert str(refusal).startswith(f"{kind} does not take {field} (got {field}=datetime")


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("TWAP", "venues", ["SIM-B"]),
        ("TWAP", "displayQuantity", "1"),
        ("SOR", "slices", 3),
        ("ICEBERG", "participation", "0.1"),
    ],
)
def test_field_another_algo_type_reads_is_refused(kind: str, field: str, value: object) -> None:
    body = {"endTime": "2026-03-02T16:00:00Z"} if kind == "TWAP" else {}
    refusal = _refusal(type=kind, **OWN[kind], **body, **{field: value})
    assert refusal.code == "INVALID_ALGO"
    assert str(refusal).startswith(f"{kind} does not take {field} (got {field}=")


@pytest.mark.parametrize("kind", ["TWAP", "POV"])
def test_end_before_start_names_both_times_as_sent(kind: str) -> None:
    refusal = _refusal(
        type=kind,
        **({"slices": 2} if kind == "TWAP" else {"participation": "0.1"}),
        startTime="2026-03-02T16:00:00Z",
        endTime="2026-03-02T15:30:00Z",
    )
    assert refusal.code == "INVALID_ALGO"
    assert str(refusal) == (
        "endTime 2026-03-02T15:30:00Z is not after startTime 2026-03-02T16:00:00Z"
    )


def test_end_time_already_past_is_refused_naming_now() -> None:
    refusal = _refusal(type="POV", participation="0.1", endTime="2026-03-02T14:00:00Z")
    assert refusal.code == "INVALID_ALGO"
    assert str(refusal) == (
        "endTime 2026-03-02T14:00:00Z is not after startTime 2026-03-02T15:00:00Z (now)"
    )


def test_valid_times_still_make_the_spec() -> None:
    start = NOW + timedelta(minutes=5)
    twap = _spec(type="TWAP", slices=3, startTime=start, endTime=start + timedelta(hours=1))
    assert isinstance(twap, TwapSpec) and twap.start_ns == nanos(start)
    pov = _spec(type="POV", participation="0.1")
    assert isinstance(pov, PovSpec) and (pov.start_ns, pov.end_ns) == (nanos(NOW), None)
    assert isinstance(_spec(type="SOR"), SorSpec)
