"""Read the backtest's signal file: JSON Lines, one trading signal per line.

Each non-blank line is a JSON object with the fields models send, such as::

    {"signalId": "7f1c...", "modelId": "model-123", "timestamp": "2024-01-01T10:00:00Z",
     "symbol": "BTCUSD", "action": "BUY", "confidence": 0.85, "quantity": 1000,
     "entryPrice": 45000, "stopLoss": 43000, "takeProfit": 47000, "orderType": "MARKET"}

Numbers are read as exact decimals, never floats. Each signal comes back with its
line number, so that the caller, which checks symbols against the instrument
registry, can report ``file:line`` too.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple, TypeVar

from alphintra.domain.enums import OrderType, SignalAction, TimeInForce
from alphintra.domain.identifiers import InstrumentId, ModelId, SignalId
from alphintra.domain.signals import TradingSignal

REQUIRED_FIELDS: Final = ("signalId", "modelId", "timestamp", "symbol", "action", "confidence")
OPTIONAL_FIELDS: Final = (
    "quantity",
    "entryPrice",
    "priceTarget",
    "stopLoss",
    "takeProfit",
    "orderType",
    "timeInForce",
    "metadata",
)
ALLOWED_FIELDS: Final = REQUIRED_FIELDS + OPTIONAL_FIELDS
ALLOWED_ACTIONS: Final = (
    SignalAction.BUY,
    SignalAction.SELL,
    SignalAction.CLOSE_LONG,
    SignalAction.CLOSE_SHORT,
)
ALLOWED_ORDER_TYPES: Final = (OrderType.MARKET, OrderType.LIMIT)
ALLOWED_TIMES_IN_FORCE: Final = (
    TimeInForce.GTC,
    TimeInForce.DAY,
    TimeInForce.IOC,
    TimeInForce.FOK,
)

_PRICE_FIELDS: Final = ("entryPrice", "priceTarget", "stopLoss", "takeProfit")
_NUMBER_TEXT: Final = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?", re.ASCII)
_TIMESTAMP: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)
_UNDECODABLE: Final = re.compile("[\udc80-\udcff]")
"""A byte that is not UTF-8, as ``errors="surrogateescape"`` reads it."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_SECOND: Final = 1_000_000_000
_SHOW_LIMIT: Final = 120

_Choice = TypeVar("_Choice", OrderType, TimeInForce)


class SignalFileError(ValueError):
    """A signal file line broke a rule. ``str()`` reads ``path:line: message``."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message

    def __reduce__(self) -> tuple[type[SignalFileError], tuple[Path, int, str]]:
        return (type(self), (self.path, self.line, self.message))


class NumberedSignal(NamedTuple):
    """A signal with the 1-based line of the file it came from."""

    line: int
    signal: TradingSignal


class _LineError(Exception):
    """A rule one line broke; the reader adds the path and line number."""


def load_signals(path: Path) -> list[NumberedSignal]:
    """Read and validate every signal in a JSON Lines file, in file order.

    Blank lines are skipped. Besides each line's own rules, signal IDs must be
    unique and timestamps must not decrease. Raise :class:`SignalFileError` at the
    first line that breaks a rule.
    """
    path = Path(path)
    signals: list[NumberedSignal] = []
    first_line_of: dict[str, int] = {}
    previous: tuple[int, int, str] | None = None  # (ts, line, timestamp text)
    # surrogateescape keeps reading past a byte that is not UTF-8, so that the error
    # can name its line instead of failing inside the file iterator.
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                _check_utf8(text)
                signal, timestamp_text = _parse_line(text)
            except _LineError as exc:
                raise SignalFileError(path, line, str(exc)) from None
            first = first_line_of.get(signal.signal_id)
            if first is not None:
                raise SignalFileError(
                    path,
                    line,
                    f"duplicate signalId: line {first} has the same signalId "
                    f"(got {_show(signal.signal_id)})",
                )
            first_line_of[signal.signal_id] = line
            if previous is not None and signal.ts < previous[0]:
                raise SignalFileError(
                    path,
                    line,
                    f"timestamp out of order: signals must not go back in time; line "
                    f"{previous[1]} has {previous[2]} (got {timestamp_text})",
                )
            previous = (signal.ts, line, timestamp_text)
            signals.append(NumberedSignal(line, signal))
    return signals


def parse_signal(text: str) -> TradingSignal:
    """Parse and validate one JSON signal object; raise ``ValueError`` when it is invalid."""
    try:
        return _parse_line(text)[0]
    except _LineError as exc:
        raise ValueError(str(exc)) from None


def parse_utc_ns(text: str) -> int:
    """Convert an ISO 8601 time with ``Z`` or an offset to integer nanoseconds, UTC.

    Fractions of a second keep up to nine digits exactly. Raise ``ValueError`` for
    any other shape, including times without an offset.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ValueError(
            "timestamp must be ISO 8601 with Z or an offset, like 2024-01-01T10:00:00Z "
            f"(got {_show(text)})"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset_seconds = 0
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            raise ValueError(f"timestamp has an invalid UTC offset (got {_show(text)})")
        offset_seconds = sign * (zone_hours * 3600 + zone_minutes * 60)
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError as exc:
        raise ValueError(f"timestamp is not a real time: {exc} (got {_show(text)})") from None
    delta = moment - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds - offset_seconds
    fraction_ns = int(fraction.ljust(9, "0")) if fraction else 0
    return seconds * _NS_PER_SECOND + fraction_ns


def _parse_line(text: str) -> tuple[TradingSignal, str]:
    obj = _decode(text)
    unknown = [key for key in obj if key not in ALLOWED_FIELDS]
    if unknown:
        raise _LineError(_unknown_fields_message(unknown))
    signal_id = _required_text(obj, "signalId")
    model_id = _required_text(obj, "modelId")
    timestamp_text = _required_text(obj, "timestamp")
    try:
        ts = parse_utc_ns(timestamp_text)
    except ValueError as exc:
        raise _LineError(str(exc)) from None
    symbol = _required_text(obj, "symbol")
    action = _action(obj)
    confidence = _number(obj, "confidence")
    if confidence is None:
        raise _LineError(_missing("confidence"))
    if not 0 <= confidence <= 1:
        raise _LineError(f"confidence must be between 0 and 1 (got {confidence})")
    quantity = _positive(obj, "quantity")
    if quantity is None and action in (SignalAction.BUY, SignalAction.SELL):
        raise _LineError(
            f"quantity is required for {action} in a backtest signal file "
            f"(CLOSE_LONG and CLOSE_SHORT may omit it to close everything) (got {action})"
        )
    prices = {name: _positive(obj, name) for name in _PRICE_FIELDS}
    order_type = _choice(obj, "orderType", ALLOWED_ORDER_TYPES, OrderType, OrderType.MARKET)
    if order_type is OrderType.LIMIT and prices["entryPrice"] is None:
        raise _LineError(f"a LIMIT signal needs entryPrice as its limit price (got {order_type})")
    time_in_force = _choice(
        obj, "timeInForce", ALLOWED_TIMES_IN_FORCE, TimeInForce, TimeInForce.GTC
    )
    _check_bracket(action, prices["entryPrice"], prices["stopLoss"], prices["takeProfit"])
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict):
        raise _LineError(f"metadata must be a JSON object (got {_show(metadata)})")
    signal = TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId(model_id),
        instrument_id=InstrumentId(symbol),
        action=action,
        confidence=confidence,
        ts=ts,
        quantity=quantity,
        entry_price=prices["entryPrice"],
        price_target=prices["priceTarget"],
        stop_loss=prices["stopLoss"],
        take_profit=prices["takeProfit"],
        order_type=order_type,
        time_in_force=time_in_force,
        metadata=metadata,
    )
    return signal, timestamp_text


def _check_utf8(text: str) -> None:
    bad = _UNDECODABLE.search(text)
    if bad is not None:
        shown = text.strip().encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise _LineError(
            f"not valid UTF-8: byte 0x{ord(bad.group()) - 0xDC00:02x} at column "
            f"{bad.start() + 1} (got {_show(shown)})"
        )


def _decode(text: str) -> dict[str, Any]:
    try:
        obj = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise _LineError(
            f"invalid JSON: {exc.msg} at column {exc.colno} (got {_show(text.strip())})"
        ) from None
    except ValueError as exc:  # for example an integer with too many digits
        raise _LineError(f"invalid JSON: {exc} (got {_show(text.strip())})") from None
    if not isinstance(obj, dict):
        raise _LineError(f"each line must be one JSON object (got {_show(obj)})")
    return obj


def _refuse_constant(name: str) -> object:
    raise _LineError(f"numbers must be finite; NaN and Infinity are not allowed (got {name})")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _LineError(f"field {_show(key)} appears twice (got {_show(key)})")
        result[key] = value
    return result


def _unknown_fields_message(unknown: list[str]) -> str:
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, ALLOWED_FIELDS, n=1) or [
            name for name in ALLOWED_FIELDS if name.lower() == key.lower()
        ]
        hints.append(f"{_show(key)} (did you mean {_show(close[0])}?)" if close else _show(key))
    noun = "field" if len(unknown) == 1 else "fields"
    return (
        f"unknown {noun} {', '.join(hints)}; allowed fields are {', '.join(ALLOWED_FIELDS)} "
        f"(got {', '.join(_show(key) for key in unknown)})"
    )


def _missing(key: str) -> str:
    return f"missing required field {key} (got nothing)"


def _required_text(obj: dict[str, Any], key: str) -> str:
    if key not in obj:
        raise _LineError(_missing(key))
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise _LineError(f"{key} must be a non-empty string (got {_show(value)})")
    return value


def _action(obj: dict[str, Any]) -> SignalAction:
    if "action" not in obj:
        raise _LineError(_missing("action"))
    value = obj["action"]
    if value == SignalAction.REBALANCE:
        raise _LineError(
            "action REBALANCE is not supported in a backtest signal file; use "
            f"{', '.join(ALLOWED_ACTIONS)} (got {_show(value)})"
        )
    if not isinstance(value, str) or value not in ALLOWED_ACTIONS:
        raise _LineError(f"action must be one of {', '.join(ALLOWED_ACTIONS)} (got {_show(value)})")
    return SignalAction(value)


def _number(obj: dict[str, Any], key: str) -> Decimal | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _LineError(f"{key} must be a number, not a boolean (got {_show(value)})")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        return Decimal(value)
    raise _LineError(f"{key} must be a number or a numeric string (got {_show(value)})")


def _positive(obj: dict[str, Any], key: str) -> Decimal | None:
    number = _number(obj, key)
    if number is not None and number <= 0:
        raise _LineError(f"{key} must be greater than 0 (got {number})")
    return number


def _choice(
    obj: dict[str, Any],
    key: str,
    allowed: tuple[_Choice, ...],
    enum: Callable[[str], _Choice],
    default: _Choice,
) -> _Choice:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise _LineError(
            f"{key} must be one of {', '.join(allowed)} in a backtest signal file "
            f"(got {_show(value)})"
        )
    return enum(value)


def _check_bracket(
    action: SignalAction,
    entry: Decimal | None,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
) -> None:
    if action not in (SignalAction.BUY, SignalAction.SELL):
        return
    buy = action is SignalAction.BUY
    side = "below" if buy else "above"
    other = "above" if buy else "below"
    if entry is not None:
        if stop_loss is not None and (stop_loss >= entry if buy else stop_loss <= entry):
            raise _LineError(
                f"stopLoss of a {action} must be {side} entryPrice "
                f"(got stopLoss {stop_loss}, entryPrice {entry})"
            )
        if take_profit is not None and (take_profit <= entry if buy else take_profit >= entry):
            raise _LineError(
                f"takeProfit of a {action} must be {other} entryPrice "
                f"(got takeProfit {take_profit}, entryPrice {entry})"
            )
    elif (
        stop_loss is not None
        and take_profit is not None
        and (stop_loss >= take_profit if buy else stop_loss <= take_profit)
    ):
        raise _LineError(
            f"stopLoss of a {action} must be {side} takeProfit "
            f"(got stopLoss {stop_loss}, takeProfit {take_profit})"
        )


def _show(value: object) -> str:
    """Render a received value as it would appear in the JSON line, cut to a readable size."""
    if isinstance(value, Decimal):
        shown = str(value)
    else:
        shown = json.dumps(value, default=str, ensure_ascii=False)
    return shown if len(shown) <= _SHOW_LIMIT else shown[: _SHOW_LIMIT - 3] + "..."
