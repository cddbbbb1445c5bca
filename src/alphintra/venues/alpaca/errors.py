"""Alpaca errors, translated at the boundary into the three kinds of ``VenueError``."""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from alpaca.common.exceptions import APIError
from urllib3.exceptions import NewConnectionError

from alphintra.venues.adapter import VenueError, VenueErrorKind
from alphintra.venues.alpaca.parsing import MalformedPayload
from alphintra.venues.alpaca.translation import UnsupportedRequest

HTTP_NOT_FOUND = 404
HTTP_TIMEOUT = 408
HTTP_TOO_MANY = 429
HTTP_SERVER_ERROR = 500


def classify(exc: BaseException, *, venue: str, write: bool, what: str) -> VenueError:
    """Return the ``VenueError`` for an exception raised while calling Alpaca.

    A write that may have reached Alpaca (a 5xx, a timeout after sending, a dropped
    connection, an unreadable 2xx answer) is UNKNOWN_OUTCOME; the same on a read is
    TRANSIENT. A 4xx is DEFINITIVE, except 429 (TRANSIENT, with the wait Alpaca asks
    for) and 408. A connection that was never opened is TRANSIENT either way.
    """
    maybe = VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT
    if isinstance(exc, VenueError):
        return exc
    if isinstance(exc, UnsupportedRequest):
        return VenueError(VenueErrorKind.DEFINITIVE, venue, f"{what}: {exc}", code="UNSUPPORTED")
    if isinstance(exc, APIError):
        return _api_error(exc, venue=venue, maybe=maybe, what=what)
    if isinstance(exc, requests.exceptions.JSONDecodeError | MalformedPayload):
        return VenueError(
            maybe, venue, f"{what}: unreadable response: {exc}", code="MALFORMED_RESPONSE"
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout) or _never_connected(exc):
        return VenueError(
            VenueErrorKind.TRANSIENT, venue, f"{what}: could not connect: {exc}", code="CONNECT"
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return VenueError(maybe, venue, f"{what}: timed out: {exc}", code="TIMEOUT")
    if isinstance(exc, requests.exceptions.RequestException):
        return VenueError(
            maybe, venue, f"{what}: connection failed: {type(exc).__name__}: {exc}", code="NETWORK"
        )
    if isinstance(exc, ValueError | KeyError | TypeError | AttributeError):
        # The SDK's market data pager raises these on a body of the wrong shape.
        return VenueError(
            maybe,
            venue,
            f"{what}: unreadable response: {type(exc).__name__}: {exc}",
            code="MALFORMED_RESPONSE",
        )
    return VenueError(maybe, venue, f"{what}: {type(exc).__name__}: {exc}", code="UNEXPECTED")


def _never_connected(exc: BaseException) -> bool:
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return False
    reason: Any = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), NewConnectionError)


def _api_error(exc: APIError, *, venue: str, maybe: VenueErrorKind, what: str) -> VenueError:
    status = _status_of(exc)
    body = _body(exc)
    code = str(body.get("code")) if body.get("code") is not None else str(status)
    message = f"{what}: HTTP {status}: {body.get('message') or _snippet(exc)}"
    if status == HTTP_TOO_MANY:
        return VenueError(
            VenueErrorKind.TRANSIENT, venue, message, code=code, retry_after_s=_retry_after(exc)
        )
    if status is None or status >= HTTP_SERVER_ERROR or status == HTTP_TIMEOUT:
        return VenueError(maybe, venue, message, code=code)
    return VenueError(VenueErrorKind.DEFINITIVE, venue, message, code=code)


def status_of(exc: BaseException) -> int | None:
    """Return the HTTP status of an SDK ``APIError`` (None for anything else)."""
    return _status_of(exc) if isinstance(exc, APIError) else None


def _status_of(exc: APIError) -> int | None:
    response: Any = exc.response
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _body(exc: APIError) -> dict[str, Any]:
    try:
        parsed = json.loads(str(exc))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _snippet(exc: APIError) -> str:
    shown = str(exc).strip()
    return shown[:200] if shown else "(empty body)"


def _retry_after(exc: APIError) -> float | None:
    response: Any = exc.response
    headers: Any = getattr(response, "headers", None) or {}
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    reset = headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            return None
    return None
