"""Load bar files in the CSV format of the shared market data pack into domain bars.

A file has one header row, then one bar per row. The first column is ``timestamp``
(ISO 8601 UTC, such as ``2014-05-01T00:00:00Z``) or ``date`` (``YYYY-MM-DD``, meaning
00:00 UTC that day); either is the start of the bar. The other columns are either
``open,high,low,close,volume`` (trade bars) or the bid and ask OHLC with the last size
at each side (quote bars), in exactly the documented order. Numbers are parsed as
exact decimals from the text; timestamps become integer nanoseconds since the Unix
epoch, UTC.

Every rule a row breaks is reported as a :class:`MarketDataFileError` naming the
file, the 1-based line number (the header is line 1), what was wrong and the value
received.
"""

from __future__ import annotations

import csv
import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.market import MarketData, QuoteBar, TradeBar

if TYPE_CHECKING:
    from _csv import Reader as _CsvReader

BarFormat = Literal["trade", "quote"]

TIME_COLUMNS: Final = ("timestamp", "date")
TRADE_COLUMNS: Final = ("open", "high", "low", "close", "volume")
QUOTE_COLUMNS: Final = (
    "bid_open",
    "bid_high",
    "bid_low",
    "bid_close",
    "bid_size",
    "ask_open",
    "ask_high",
    "ask_low",
    "ask_close",
    "ask_size",
)

NS_PER_SECOND: Final = 1_000_000_000
NS_PER_DAY: Final = 86_400 * NS_PER_SECOND

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_EPOCH: Final = datetime(1970, 1, 1)
_DIGITS: Final = frozenset("0123456789")
_FRACTION_MAX_DIGITS: Final = 9


class MarketDataFileError(ValueError):
    """A market data file broke a format rule; ``line`` is 1-based, the header is line 1."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message

    def __reduce__(self) -> tuple[type[MarketDataFileError], tuple[Path, int, str]]:
        return (type(self), (self.path, self.line, self.message))


def detect_format(header: Sequence[str]) -> BarFormat:
    """Return whether ``header`` is a trade bar or a quote bar header.

    Raise ``ValueError`` naming the columns found and expected when it is neither.
    """
    columns = tuple(header)
    if columns and columns[0] in TIME_COLUMNS:
        if columns[1:] == TRADE_COLUMNS:
            return "trade"
        if columns[1:] == QUOTE_COLUMNS:
            return "quote"
    raise ValueError(_header_problem(columns))


def load_bars(
    path: Path, instrument_id: InstrumentId, interval_ns: int | None = None
) -> list[TradeBar] | list[QuoteBar]:
    """Load every bar of one CSV file, validated, in file order.

    ``interval_ns`` overrides the bar interval. Without it the interval is inferred:
    the most common positive gap between consecutive timestamps, the smallest such
    gap on a tie. A single-row file needs the override unless it is a daily
    (``date``) file, whose interval is one day.

    Raise :class:`MarketDataFileError` on the first rule a row breaks.
    """
    if interval_ns is not None and (
        isinstance(interval_ns, bool) or not isinstance(interval_ns, int) or interval_ns <= 0
    ):
        raise ValueError(f"interval_ns must be a positive integer, got {interval_ns!r}")
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as handle:  # tolerate a BOM
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise MarketDataFileError(path, 1, "empty file: expected a header row")
            try:
                kind = detect_format(header)
            except ValueError as exc:
                raise MarketDataFileError(path, 1, str(exc)) from None
            parse_time = _parse_date if header[0] == "date" else _parse_timestamp
            if kind == "trade":
                times, rows = _read_rows(reader, path, parse_time, TRADE_COLUMNS, _check_trade)
            else:
                times, rows = _read_rows(reader, path, parse_time, QUOTE_COLUMNS, _check_quote)
        except csv.Error as exc:
            raise MarketDataFileError(path, reader.line_num, f"unreadable CSV: {exc}") from None
    if not times:
        raise MarketDataFileError(path, 1, "no data rows: the file has a header only")
    if interval_ns is None:
        interval_ns = _infer_interval(times, header[0] == "date", path)
    if kind == "trade":
        return [
            TradeBar(instrument_id, o, h, lo, c, v, ts, interval_ns)
            for ts, (o, h, lo, c, v) in zip(times, rows, strict=True)
        ]
    return [
        QuoteBar(
            instrument_id,
            bid_open=bo,
            bid_high=bh,
            bid_low=bl,
            bid_close=bc,
            ask_open=ao,
            ask_high=ah,
            ask_low=al,
            ask_close=ac,
            bid_size=bs,
            ask_size=asz,
            ts=ts,
            interval_ns=interval_ns,
        )
        for ts, (bo, bh, bl, bc, bs, ao, ah, al, ac, asz) in zip(times, rows, strict=True)
    ]


def iter_merge(series: Iterable[Iterable[MarketData]]) -> Iterator[MarketData]:
    """Merge several time-ordered series into one, ordered by ``ts``.

    Data with equal timestamps come out in the order of the series given, so the
    merge is deterministic. Each series must already be in non-decreasing ``ts``
    order; a ``ValueError`` is raised, while iterating, where one is not.
    """
    checked = [_in_order(index, items) for index, items in enumerate(series)]
    return heapq.merge(*checked, key=_timestamp_of)


def _timestamp_of(data: MarketData) -> int:
    return data.ts


def _in_order(index: int, items: Iterable[MarketData]) -> Iterator[MarketData]:
    previous: int | None = None
    for position, data in enumerate(items):
        if previous is not None and data.ts < previous:
            raise ValueError(
                f"series {index} is not in timestamp order: item {position} has ts "
                f"{data.ts}, before the previous item's {previous}"
            )
        previous = data.ts
        yield data


def _header_problem(columns: tuple[str, ...]) -> str:
    found = ",".join(columns) if columns else "(none)"
    expected = (
        f"expected {' or '.join(TIME_COLUMNS)}, then either {','.join(TRADE_COLUMNS)} "
        f"(trade bars) or {','.join(QUOTE_COLUMNS)} (quote bars)"
    )
    if not columns or columns[0] not in TIME_COLUMNS:
        first = repr(columns[0]) if columns else "nothing"
        return f"unrecognised header: first column is {first}; {expected} (got {found})"
    rest = columns[1:]
    closest = QUOTE_COLUMNS if any(c.startswith(("bid_", "ask_")) for c in rest) else TRADE_COLUMNS
    missing = [c for c in closest if c not in rest]
    extra = [c for c in rest if c not in closest]
    details: list[str] = []
    if missing:
        details.append(f"missing {','.join(missing)}")
    if extra:
        details.append(f"unexpected {','.join(extra)}")
    if not details:
        details.append("columns are out of order or repeated")
    return f"unrecognised header ({'; '.join(details)}); {expected} (got {found})"


def _parse_date(text: str) -> int | None:
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return (day.toordinal() - _EPOCH_ORDINAL) * NS_PER_DAY


def _parse_timestamp(text: str) -> int | None:
    # Shape: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+00:00), checked without a regex.
    if len(text) < 20 or text[10] != "T" or text[4] != "-" or text[7] != "-":
        return None
    if text[13] != ":" or text[16] != ":":
        return None
    if text.endswith("Z"):
        rest = text[19:-1]
    elif text.endswith(("+00:00", "-00:00")):
        rest = text[19:-6]
    else:
        return None
    fraction_ns = 0
    if rest:
        digits = rest[1:]
        if (
            rest[0] != "."
            or not digits
            or len(digits) > _FRACTION_MAX_DIGITS
            or not _DIGITS.issuperset(digits)
        ):
            return None
        fraction_ns = int(digits.ljust(_FRACTION_MAX_DIGITS, "0"))
    try:
        moment = datetime.fromisoformat(text[:19])
    except ValueError:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + fraction_ns


def _read_rows(
    reader: _CsvReader,
    path: Path,
    parse_time: Callable[[str], int | None],
    columns: tuple[str, ...],
    check: Callable[[list[Decimal], Path, int], None],
) -> tuple[list[int], list[list[Decimal]]]:
    field_count = len(columns) + 1
    times: list[int] = []
    rows: list[list[Decimal]] = []
    previous_ts: int | None = None
    previous_text = ""
    previous_line = 0
    for row in reader:
        line = reader.line_num
        if len(row) != field_count:
            raise MarketDataFileError(
                path,
                line,
                f"malformed row: expected {field_count} fields, got {len(row)} "
                f"(got {','.join(row)!r})",
            )
        text = row[0]
        ts = parse_time(text)
        if ts is None:
            example = "2014-05-01T00:00:00Z" if parse_time is _parse_timestamp else "2014-05-01"
            raise MarketDataFileError(
                path, line, f"bad timestamp: expected a UTC time like {example} (got {text!r})"
            )
        if previous_ts is not None and ts <= previous_ts:
            what = "duplicate timestamp" if ts == previous_ts else "timestamp goes backwards"
            raise MarketDataFileError(
                path,
                line,
                f"{what}: timestamps must strictly increase; line {previous_line} has "
                f"{previous_text} (got {text})",
            )
        values = _decimals(row, columns, path, line)
        check(values, path, line)
        times.append(ts)
        rows.append(values)
        previous_ts, previous_text, previous_line = ts, text, line
    return times, rows


def _decimals(row: list[str], columns: tuple[str, ...], path: Path, line: int) -> list[Decimal]:
    try:
        values = [Decimal(text) for text in row[1:]]
    except InvalidOperation:
        values = []
        for name, text in zip(columns, row[1:], strict=True):
            try:
                values.append(Decimal(text))
            except InvalidOperation:
                raise MarketDataFileError(
                    path, line, f"{name} is not a number (got {text!r})"
                ) from None
    # Fast path: ordering a NaN raises, and min/max bound every value from both sides.
    try:
        if min(values) >= 0 and max(values).is_finite():
            return values
    except InvalidOperation:
        pass
    for name, value, text in zip(columns, values, row[1:], strict=True):
        if not value.is_finite():
            raise MarketDataFileError(path, line, f"{name} must be finite (got {text!r})")
        if value < 0:
            raise MarketDataFileError(path, line, f"{name} must not be negative (got {text})")
    return values


def _check_ohlc(
    prefix: str,
    open_: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    path: Path,
    line: int,
) -> None:
    if high < low:
        raise MarketDataFileError(
            path,
            line,
            f"{prefix}high is below {prefix}low (got {prefix}high {high}, {prefix}low {low})",
        )
    for name, value in (("open", open_), ("close", close)):
        if not low <= value <= high:
            raise MarketDataFileError(
                path,
                line,
                f"{prefix}{name} is outside [{prefix}low, {prefix}high] "
                f"(got {prefix}{name} {value}, {prefix}low {low}, {prefix}high {high})",
            )


def _check_trade(values: list[Decimal], path: Path, line: int) -> None:
    open_, high, low, close, _volume = values
    _check_ohlc("", open_, high, low, close, path, line)


def _check_quote(values: list[Decimal], path: Path, line: int) -> None:
    # Crossed quotes (bid above ask) occur in real data and are allowed.
    bid_open, bid_high, bid_low, bid_close, _bs, ask_open, ask_high, ask_low, ask_close, _as = (
        values
    )
    _check_ohlc("bid_", bid_open, bid_high, bid_low, bid_close, path, line)
    _check_ohlc("ask_", ask_open, ask_high, ask_low, ask_close, path, line)


def _infer_interval(times: list[int], daily: bool, path: Path) -> int:
    gaps = Counter(later - earlier for earlier, later in pairwise(times))
    if not gaps:
        if daily:
            return NS_PER_DAY
        raise MarketDataFileError(
            path, 2, "cannot infer the bar interval from a single row; pass interval_ns"
        )
    # Most common gap; on a tie the smallest, so the result never depends on dict order.
    gap, _count = max(gaps.items(), key=lambda item: (item[1], -item[0]))
    return gap
