"""Strict readers for Alpaca's JSON: every field is checked, nothing is trusted.

Alpaca sends quantities and prices of the trading API as decimal strings, and the
market data API as JSON numbers. Numbers arrive as Python floats (the SDK decodes the
JSON); a float is converted through its shortest round-trip text, which is exactly the
literal the venue sent for any price or size with at most 15 significant digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_NANOS = 1_000_000_000
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|z|[+-]\d{2}:\d{2})$"
)


class MalformedPayload(ValueError):
    """The venue sent something this adapter cannot read as Alpaca's documented shape."""


def as_mapping(value: object, what: str) -> Mapping[str, Any]:
    """Return ``value`` as a JSON object, or raise ``MalformedPayload``."""
    if not isinstance(value, Mapping):
        raise MalformedPayload(f"{what} must be a JSON object, got {_show(value)}")
    return value


def as_list(value: object, what: str) -> list[Any]:
    """Return ``value`` as a JSON array, or raise ``MalformedPayload``."""
    if not isinstance(value, list):
        raise MalformedPayload(f"{what} must be a JSON array, got {_show(value)}")
    return value


def text(obj: Mapping[str, Any], name: str) -> str:
    """Return a required non-empty string field."""
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"field {name!r} must be a non-empty string, got {_show(value)}")
    return value


def optional_text(obj: Mapping[str, Any], name: str) -> str | None:
    """Return a string field that may be absent, null or empty (as None)."""
    value = obj.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"field {name!r} must be a string, got {_show(value)}")
    return value


def to_decimal(value: object, what: str) -> Decimal:
    """Convert a JSON string or number to a finite Decimal."""
    if isinstance(value, bool):
        raise MalformedPayload(f"{what} must be a number, got {value!r}")
    try:
        if isinstance(value, str):
            result = Decimal(value.strip())
        elif isinstance(value, int):
            result = Decimal(value)
        elif isinstance(value, float):
            result = Decimal(repr(value))
        else:
            raise MalformedPayload(f"{what} must be a number, got {_show(value)}")
    except InvalidOperation:
        raise MalformedPayload(f"{what} must be a decimal number, got {value!r}") from None
    if not result.is_finite():
        raise MalformedPayload(f"{what} must be finite, got {value!r}")
    return result


def decimal_field(
    obj: Mapping[str, Any], name: str, *, positive: bool = False, non_negative: bool = False
) -> Decimal:
    """Return a required decimal field, checking its sign when asked."""
    if obj.get(name) is None:
        raise MalformedPayload(f"field {name!r} is missing")
    return _check_sign(to_decimal(obj[name], f"field {name!r}"), name, positive, non_negative)


def optional_decimal(
    obj: Mapping[str, Any], name: str, *, positive: bool = False, non_negative: bool = False
) -> Decimal | None:
    """Return a decimal field that may be absent or null."""
    value = obj.get(name)
    if value is None or value == "":
        return None
    return _check_sign(to_decimal(value, f"field {name!r}"), name, positive, non_negative)


def _check_sign(value: Decimal, name: str, positive: bool, non_negative: bool) -> Decimal:
    if positive and value <= 0:
        raise MalformedPayload(f"field {name!r} must be positive, got {value}")
    if non_negative and value < 0:
        raise MalformedPayload(f"field {name!r} must not be negative, got {value}")
    return value


def timestamp_ns(value: object, what: str = "timestamp") -> int:
    """Parse an RFC 3339 timestamp (up to nanoseconds) into integer nanoseconds UTC."""
    if not isinstance(value, str):
        raise MalformedPayload(f"{what} must be an RFC 3339 string, got {_show(value)}")
    match = _RFC3339.match(value.strip())
    if match is None:
        raise MalformedPayload(f"{what} must be an RFC 3339 timestamp, got {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        whole = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError as exc:
        raise MalformedPayload(f"{what} is not a valid date and time: {value!r}") from exc
    seconds = int(whole.timestamp())
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    nanos = int((fraction or "").ljust(9, "0"))
    return seconds * _NANOS + nanos


def timestamp_field(obj: Mapping[str, Any], name: str) -> int:
    """Return a required RFC 3339 field as integer nanoseconds."""
    return timestamp_ns(obj.get(name), f"field {name!r}")


def optional_timestamp(obj: Mapping[str, Any], name: str) -> int | None:
    """Return an RFC 3339 field that may be absent or null."""
    value = obj.get(name)
    if value is None or value == "":
        return None
    return timestamp_ns(value, f"field {name!r}")


def format_timestamp(ts_ns: int) -> str:
    """Format integer nanoseconds UTC as RFC 3339 with nanoseconds, as Alpaca writes it."""
    seconds, nanos = divmod(ts_ns, _NANOS)
    whole = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{nanos:09d}Z"


def datetime_of(ts_ns: int) -> datetime:
    """Return an aware UTC datetime (microsecond precision) for integer nanoseconds."""
    seconds, nanos = divmod(ts_ns, _NANOS)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=nanos // 1000)


def decimal_text(value: Decimal) -> str:
    """Return the canonical text of a decimal: no exponent, no trailing zeros."""
    text_ = format(value.normalize(), "f")
    return text_ if text_ != "-0" else "0"


def _show(value: object) -> str:
    shown = repr(value)
    return f"{type(value).__name__} {shown[:80]}"
