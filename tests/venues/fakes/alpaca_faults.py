"""The faults the fake Alpaca injects: kinds, the seeded plan, and corrupt answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from aiohttp import web


class Fault(StrEnum):
    """What goes wrong with one REST request."""

    ERROR = "error"
    """A 5xx before the request is applied."""
    TIMEOUT = "timeout"
    """The request is applied; the response comes after ``timeout_delay_s``."""
    DROP = "drop"
    """The request is applied; the connection closes without a response."""
    APPLY_THEN_ERROR = "apply_then_error"
    """The request is applied; the response is a 5xx."""
    RATE_LIMIT = "rate_limit"
    """A 429 with Retry-After; nothing is applied."""
    MALFORMED_JSON = "malformed_json"
    UNKNOWN_STATUS = "unknown_status"
    NEGATIVE_FILLED = "negative_filled"


@dataclass(frozen=True)
class FaultPlan:
    """Seeded random faults on REST requests (each a probability per request)."""

    seed: int = 0
    error: float = 0.0
    timeout: float = 0.0
    drop: float = 0.0
    apply_then_error: float = 0.0
    rate_limit: float = 0.0
    drop_fill_updates: float = 0.0
    """Probability that a trade_updates ``fill`` or ``partial_fill`` message is lost."""
    disconnect_streams_every_s: float = 0.0
    """Close every trade_updates connection this often (0: never)."""


@dataclass
class Injected:
    """A fault injected on the next matching requests."""

    fault: Fault
    method: str | None
    path: str | None
    remaining: int
    status: int


def corrupt(response: web.StreamResponse, fault: Fault) -> web.StreamResponse:
    """Return ``response`` broken the way ``fault`` says (a corrupt answer)."""
    if fault is Fault.MALFORMED_JSON:
        return web.Response(status=200, text='{"id": "truncated', content_type="application/json")
    assert isinstance(response, web.Response) and response.body is not None
    assert isinstance(response.body, bytes)
    payload = json.loads(response.body)
    targets = payload if isinstance(payload, list) else [payload]
    for item in targets[:1]:
        if fault is Fault.UNKNOWN_STATUS:
            item["status"] = "teleported"
        else:
            item["filled_qty"] = "-1"
    return web.json_response(payload, status=response.status)
