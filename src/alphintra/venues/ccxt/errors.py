"""ccxt exceptions (and the HTTP exchange behind them) to the three kinds of VenueError.

The rules, in order:

1. The venue said "slow down" (HTTP 429 or 418, ``RateLimitExceeded``, or a throttle
   text the profile lists): TRANSIENT, with ``retry_after_s`` from ``Retry-After``.
   Nothing was applied.
2. ``InvalidNonce`` (Binance -1021 timestamp outside recvWindow, Kraken invalid nonce):
   TRANSIENT. The venue refused the request before looking at it.
3. HTTP 5xx, 408, ``RequestTimeout``: the request may have been applied. A write is
   UNKNOWN_OUTCOME; a read is TRANSIENT.
4. ``ExchangeError`` and its subclasses (InvalidOrder, InsufficientFunds, BadSymbol,
   AuthenticationError, PermissionDenied, BadRequest, NotSupported...): DEFINITIVE.
5. Any other 4xx answer: DEFINITIVE (the venue refused it), except ``OperationFailed``
   codes such as Binance -1000 "unknown error", which stay uncertain.
6. Everything else (connection errors, ``ExchangeNotAvailable``, ``DDoSProtection``
   without a 429, unreadable answers, unexpected exceptions from ccxt's parsers):
   UNKNOWN_OUTCOME for a write, TRANSIENT for a read.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]

from alphintra.venues.adapter import VenueError, VenueErrorKind
from alphintra.venues.ccxt.profiles import ExchangeProfile

_MAX_BODY = 300


@dataclass(frozen=True, slots=True)
class HttpExchange:
    """The last HTTP answer ccxt received for the current request."""

    status: int
    headers: Mapping[str, str]
    body: str
    json_ok: bool


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Return the ``Retry-After`` delay in seconds (number or HTTP date), or None."""
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds)


def vendor_detail(body: str) -> tuple[str | None, str | None]:
    """Return the venue's own error code and message from a response body, if any."""
    try:
        data: Any = json.loads(body)
    except (ValueError, TypeError):
        return None, None
    if isinstance(data, dict):
        if "code" in data and "msg" in data:  # Binance: {"code": -2010, "msg": "..."}
            return str(data["code"]), str(data["msg"])
        errors = data.get("error")
        if isinstance(errors, list) and errors:  # Kraken: {"error": ["EOrder:..."]}
            texts = [str(e) for e in errors]
            return texts[0], "; ".join(texts)
    return None, None


def _mentions(markers: tuple[str, ...], exc: BaseException, http: HttpExchange | None) -> bool:
    if not markers:
        return False
    code, message = vendor_detail(http.body) if http is not None else (None, None)
    texts = [str(exc), message or ""]
    return any(m == code or any(m in t for t in texts) for m in markers)


def _uncertain(write: bool) -> VenueErrorKind:
    return VenueErrorKind.UNKNOWN_OUTCOME if write else VenueErrorKind.TRANSIENT


def classify(
    exc: BaseException, *, write: bool, http: HttpExchange | None, profile: ExchangeProfile
) -> VenueErrorKind:
    """Return the kind of error ``exc`` is (see the module docstring)."""
    status = http.status if http is not None else None
    if (
        status in (418, 429)
        or isinstance(exc, ccxt_async.RateLimitExceeded)
        or _mentions(profile.throttle_markers, exc, http)
    ):
        return VenueErrorKind.TRANSIENT
    if isinstance(exc, ccxt_async.InvalidNonce):
        return VenueErrorKind.TRANSIENT
    if (status is not None and (status >= 500 or status == 408)) or isinstance(
        exc, ccxt_async.RequestTimeout
    ):
        return _uncertain(write)
    if isinstance(exc, ccxt_async.ExchangeError):
        return VenueErrorKind.DEFINITIVE
    if status is not None and 400 <= status < 500:
        if isinstance(exc, ccxt_async.OperationFailed) and not isinstance(
            exc, ccxt_async.NetworkError
        ):
            return _uncertain(write)
        return VenueErrorKind.DEFINITIVE
    return _uncertain(write)


def translate(
    exc: BaseException,
    *,
    venue: str,
    operation: str,
    write: bool,
    http: HttpExchange | None,
    profile: ExchangeProfile,
) -> VenueError:
    """Return the VenueError for a failed ccxt call."""
    kind = classify(exc, write=write, http=http, profile=profile)
    code, message = vendor_detail(http.body) if http is not None else (None, None)
    if code is None:
        code = type(exc).__name__
    if message is None:
        message = str(exc)[:_MAX_BODY] or type(exc).__name__
    status = f" (HTTP {http.status})" if http is not None else ""
    retry = None
    if kind is VenueErrorKind.TRANSIENT and http is not None:
        retry = retry_after_s(http.headers)
    return VenueError(
        kind, venue, f"{operation}{status}: {message}", code=code, retry_after_s=retry
    )


def is_not_found(exc: BaseException, http: HttpExchange | None, profile: ExchangeProfile) -> bool:
    """Return True when ``exc`` says the order does not exist at the venue."""
    if isinstance(exc, ccxt_async.OrderNotFound):
        return True
    if not isinstance(exc, ccxt_async.ExchangeError):
        return False
    return _mentions(profile.not_found_markers, exc, http)
