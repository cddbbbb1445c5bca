"""Measured orders as rows of the ``execution_quality`` table, and back.

An order is stored as one ``ORDER`` row (``trade_id`` empty, ``ts_ns`` its arrival)
and one ``FILL`` row per fill (``ts_ns`` the fill). Every figure of
`alphintra.execution.quality.OrderQuality` and `FillQuality` has its column, so
`orders_from_rows` rebuilds exactly what `order_rows` stored. Decimals are written as
exact decimal text; the table's NUMERIC columns keep them exact on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, Final

from alphintra.domain.enums import OrderSide
from alphintra.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    ModelId,
    SignalId,
    TradeId,
    VenueId,
)
from alphintra.execution.quality import FillQuality, HorizonMeasures, OrderQuality

ORDER: Final = "ORDER"
FILL: Final = "FILL"

COLUMNS: Final = (
    "account_id",
    "order_id",
    "trade_id",
    "kind",
    "ts_ns",
    "symbol",
    "side",
    "venue",
    "model_id",
    "strategy",
    "signal_id",
    "parent_id",
    "algo",
    "currency",
    "multiplier",
    "arrival_ts_ns",
    "end_ts_ns",
    "ordered_quantity",
    "quantity",
    "price",
    "fee",
    "arrival_bid",
    "arrival_ask",
    "arrival_mid",
    "decision_price",
    "decision_from_signal",
    "mid",
    "mid_after",
    "filled_notional",
    "decision_notional",
    "slippage_bps",
    "implementation_shortfall",
    "implementation_shortfall_bps",
    "spread_cost",
    "impact_cost",
    "timing_cost",
    "opportunity_cost",
    "interval_vwap",
    "vwap_slippage_bps",
    "interval_twap",
    "twap_slippage_bps",
    "effective_spread_bps",
    "realised_spread_bps",
    "market_impact_bps",
    "fill_rate",
    "execution_time_ns",
    "price_improvement",
    "price_improvement_bps",
)
_KEY: Final = ("account_id", "order_id", "trade_id")

UPSERT: Final = (
    f"INSERT INTO execution_quality ({', '.join(COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in COLUMNS)})"
    " ON CONFLICT (account_id, order_id, trade_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in _KEY)
)
"""Upsert one row (``?`` placeholders, one parameter per name in `COLUMNS`)."""

Params = tuple[object, ...]


_Pick = Callable[[Params], Params]


class NullLiterals:
    """Write a statement's None parameters as NULL literals, for rows of known shapes.

    The stdlib sqlite3 driver binds None through its adapter look-up (some 0.27 us a
    parameter, ten times an int), and a measured order's rows hold some thirty: the ORDER
    row has no mid, the FILL rows none of the order's totals. Each of ``shapes`` names
    columns a row may have None in all at once; `batches` gives a row the statement of
    the first shape it fits, with ``NULL`` in those places, and binds the rest, so the
    rows stored are the same. A row that fits none keeps the plain statement.
    """

    def __init__(self, sql: str, columns: Sequence[str], shapes: Sequence[Collection[str]]):
        parts = sql.split("?")
        if len(parts) != len(columns) + 1:
            raise ValueError(f"{len(columns)} columns for {len(parts) - 1} placeholders")
        self._plain = sql
        self._shapes: list[
            tuple[Callable[[Params], object], object, str, Callable[[Params], Params]]
        ]
        self._shapes = []
        self._nulls: dict[str, frozenset[int]] = {sql: frozenset()}
        for shape in shapes:
            null = sorted(columns.index(name) for name in shape)
            kept = [i for i in range(len(columns)) if i not in null]
            text = parts[0] + "".join(
                ("NULL" if i in null else "?") + part for i, part in enumerate(parts[1:])
            )
            check = itemgetter(*null) if len(null) > 1 else partial(_few, null)
            self._shapes.append((check, check(len(columns) * (None,)), text, itemgetter(*kept)))
            self._nulls[text] = frozenset(null)

    def __contains__(self, sql: object) -> bool:
        """Return True for a statement `batches` writes for this one."""
        return sql in self._nulls

    def batches(self, rows: Iterable[Params]) -> list[tuple[str, list[Params]]]:
        """Return ``rows`` as (statement, rows) batches, in the order each statement first came.

        Rows of different shapes change order: give one call rows of distinct keys.
        """
        groups: dict[str, list[Params]] = {}
        shapes = self._shapes
        for row in rows:
            sql, params = self._plain, row
            for check, nones, text, pick in shapes:
                if check(row) == nones:
                    sql, params = text, pick(row)
                    break
            group = groups.get(sql)
            if group is None:
                groups[sql] = group = []
            group.append(params)
        return list(groups.items())

    def full(self, sql: str, row: Params) -> Params:
        """Return a row of a ``sql`` batch with its None values back in their places."""
        null, values = self._nulls[sql], iter(row)
        width = len(self._plain.split("?")) - 1
        return tuple(None if i in null else next(values) for i in range(width))


def _few(indexes: list[int], row: Params) -> Params:
    return tuple(row[i] for i in indexes)


@dataclass(frozen=True, slots=True)
class RecordedOrder:
    """One measured order and where it came from.

    ``algo`` is the execution algorithm of the order or of its parent; an order with
    both ``parent_id`` and ``algo`` is a child slice of an algo order, which the
    reports count through its parent. ``end_ts`` is when the order stopped working.
    """

    quality: OrderQuality
    end_ts: int
    signal_id: SignalId | None = None
    parent_id: ClientOrderId | None = None
    algo: str | None = None

    @property
    def is_algo_child(self) -> bool:
        """Return True for a slice of an algo order (reported through its parent)."""
        return self.parent_id is not None and self.algo is not None


def _text(value: Decimal | None) -> str | None:
    """Return ``format(value, "f")``: exact decimal text, never an exponent."""
    if value is None:
        return None
    text = str(value)  # the same text unless it has an exponent, and quicker
    return text if "E" not in text else format(value, "f")


def order_rows(record: RecordedOrder) -> list[Params]:
    """Return the ORDER row and the FILL rows of ``record``, in `COLUMNS` order."""
    q = record.quality
    text = _text
    account = q.account_id or ""
    venues = q.venues
    # Columns model_id .. end_ts_ns, then arrival_bid .. decision_from_signal: every row's.
    described = (
        q.model_id,
        q.strategy,
        record.signal_id,
        record.parent_id,
        record.algo,
        q.currency,
        text(q.multiplier),
        q.arrival_ts,
        record.end_ts,
    )
    arrival = (
        text(q.arrival_bid),
        text(q.arrival_ask),
        text(q.arrival_mid),
        text(q.decision_price),
        q.decision_from_signal,
    )
    rows: list[Params] = [
        (
            account,
            q.client_order_id,
            "",  # trade_id
            ORDER,
            q.arrival_ts,
            q.instrument_id,
            q.side.value,
            venues[0] if len(venues) == 1 else None,
            *described,
            text(q.ordered_quantity),
            text(q.filled_quantity),
            text(q.average_price),
            text(q.fees),
            *arrival,
            None,  # mid
            None,  # mid_after
            text(q.filled_notional),
            text(q.decision_notional),
            text(q.slippage_bps),
            text(q.implementation_shortfall),
            text(q.implementation_shortfall_bps),
            text(q.spread_cost),
            text(q.impact_cost),
            text(q.timing_cost),
            text(q.opportunity_cost),
            text(q.interval_vwap),
            text(q.vwap_slippage_bps),
            text(q.interval_twap),
            text(q.twap_slippage_bps),
            text(q.effective_spread_bps),
            text(q.realised_spread_bps),
            text(q.market_impact_bps),
            text(q.fill_rate),
            q.execution_time_ns,
            None,  # price_improvement
            text(q.price_improvement_bps),
        )
    ]
    for fill in q.fills:
        rows.append(
            (
                account,
                q.client_order_id,
                fill.trade_id or f"#{fill.ts}",
                FILL,
                fill.ts,
                q.instrument_id,
                q.side.value,
                fill.venue,
                *described,
                None,  # ordered_quantity
                text(fill.quantity),
                text(fill.price),
                text(fill.fee),
                *arrival,
                text(fill.mid),
                text(fill.mid_after),
                None,  # filled_notional
                None,  # decision_notional
                text(fill.slippage_bps),
                None,  # implementation_shortfall
                None,  # implementation_shortfall_bps
                text(fill.spread_cost),
                text(fill.impact_cost),
                text(fill.timing_cost),
                None,  # opportunity_cost
                None,  # interval_vwap
                None,  # vwap_slippage_bps
                None,  # interval_twap
                None,  # twap_slippage_bps
                text(fill.effective_spread_bps),
                text(fill.realised_spread_bps),
                None,  # market_impact_bps
                None,  # fill_rate
                None,  # execution_time_ns
                text(fill.price_improvement),
                None,  # price_improvement_bps
            )
        )
    return rows


HORIZON_UPDATE: Final = (
    "UPDATE execution_quality SET mid_after = ?, realised_spread_bps = ?, market_impact_bps = ?"
    " WHERE account_id = ? AND order_id = ? AND trade_id = ?"
)
"""Set the measures that need the mid ``horizon_ns`` after the fills (see `horizon_rows`)."""

_ORDER_NEVER: Final = ("mid", "mid_after", "price_improvement")
_FILL_NEVER: Final = (
    "ordered_quantity",
    "filled_notional",
    "decision_notional",
    "implementation_shortfall",
    "implementation_shortfall_bps",
    "opportunity_cost",
    "interval_vwap",
    "vwap_slippage_bps",
    "interval_twap",
    "twap_slippage_bps",
    "market_impact_bps",
    "fill_rate",
    "execution_time_ns",
    "price_improvement_bps",
)
_BENCHMARKS: Final = ("interval_vwap", "vwap_slippage_bps", "interval_twap", "twap_slippage_bps")
_NOT_YET: Final = ("parent_id", "algo", "realised_spread_bps")
"""None in most rows when first written: no parent, no algo, the horizon not reached."""
UPSERT_ROWS: Final = NullLiterals(
    UPSERT,
    COLUMNS,
    [
        (*_ORDER_NEVER, *_NOT_YET, "market_impact_bps", *_BENCHMARKS),
        (*_FILL_NEVER, *_NOT_YET, "mid_after"),
        _ORDER_NEVER,
        _FILL_NEVER,
    ],
)
"""`UPSERT` of `order_rows` rows: the None values of their usual shapes as NULL literals."""


def horizon_rows(quality: OrderQuality, measures: HorizonMeasures) -> list[Params]:
    """Return the `HORIZON_UPDATE` parameters of an order's ORDER row and FILL rows.

    They set what `order_rows` would now write in those three columns: the ORDER row's
    realised spread and market impact, each FILL row's mid after and realised spread.
    """
    account, order_id = quality.account_id or "", quality.client_order_id
    rows: list[Params] = [
        (
            None,
            _text(measures.realised_spread_bps),
            _text(measures.market_impact_bps),
            account,
            order_id,
            "",
        )
    ]
    for fill, (later, realised) in zip(quality.fills, measures.fills, strict=True):
        key = fill.trade_id or f"#{fill.ts}"
        rows.append((_text(later), _text(realised), None, account, order_id, key))
    return rows


def _dec(value: Any) -> Decimal:
    if value is None:
        raise ValueError("execution_quality row: a required number is NULL")
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _opt(value: Any) -> Decimal | None:
    return None if value is None else _dec(value)


def _fill(row: Mapping[str, Any]) -> FillQuality:
    venue = row["venue"]
    trade = row["trade_id"]
    return FillQuality(
        ts=int(row["ts_ns"]),
        venue=VenueId(venue) if venue is not None else None,
        trade_id=None if trade.startswith("#") else TradeId(trade),
        price=_dec(row["price"]),
        quantity=_dec(row["quantity"]),
        fee=_dec(row["fee"]),
        mid=_dec(row["mid"]),
        slippage_bps=_dec(row["slippage_bps"]),
        effective_spread_bps=_dec(row["effective_spread_bps"]),
        realised_spread_bps=_opt(row["realised_spread_bps"]),
        mid_after=_opt(row["mid_after"]),
        price_improvement=_dec(row["price_improvement"]),
        spread_cost=_dec(row["spread_cost"]),
        impact_cost=_dec(row["impact_cost"]),
        timing_cost=_dec(row["timing_cost"]),
    )


def _order(row: Mapping[str, Any], fills: list[FillQuality]) -> RecordedOrder:
    execution_time = row["execution_time_ns"]
    model = row["model_id"]
    quality = OrderQuality(
        client_order_id=ClientOrderId(row["order_id"]),
        instrument_id=InstrumentId(row["symbol"]),
        side=OrderSide(row["side"]),
        currency=row["currency"],
        account_id=AccountId(row["account_id"]),
        model_id=ModelId(model) if model is not None else None,
        strategy=row["strategy"],
        multiplier=_dec(row["multiplier"]),
        ordered_quantity=_dec(row["ordered_quantity"]),
        filled_quantity=_dec(row["quantity"]),
        fill_rate=_dec(row["fill_rate"]),
        arrival_ts=int(row["arrival_ts_ns"]),
        arrival_bid=_dec(row["arrival_bid"]),
        arrival_ask=_dec(row["arrival_ask"]),
        arrival_mid=_dec(row["arrival_mid"]),
        decision_price=_dec(row["decision_price"]),
        decision_from_signal=bool(row["decision_from_signal"]),
        average_price=_opt(row["price"]),
        filled_notional=_dec(row["filled_notional"]),
        decision_notional=_dec(row["decision_notional"]),
        slippage_bps=_opt(row["slippage_bps"]),
        implementation_shortfall=_dec(row["implementation_shortfall"]),
        implementation_shortfall_bps=_opt(row["implementation_shortfall_bps"]),
        spread_cost=_dec(row["spread_cost"]),
        impact_cost=_dec(row["impact_cost"]),
        timing_cost=_dec(row["timing_cost"]),
        fees=_dec(row["fee"]),
        opportunity_cost=_opt(row["opportunity_cost"]),
        interval_vwap=_opt(row["interval_vwap"]),
        vwap_slippage_bps=_opt(row["vwap_slippage_bps"]),
        interval_twap=_opt(row["interval_twap"]),
        twap_slippage_bps=_opt(row["twap_slippage_bps"]),
        effective_spread_bps=_opt(row["effective_spread_bps"]),
        realised_spread_bps=_opt(row["realised_spread_bps"]),
        market_impact_bps=_opt(row["market_impact_bps"]),
        execution_time_ns=None if execution_time is None else int(execution_time),
        price_improvement_bps=_opt(row["price_improvement_bps"]),
        fills=tuple(sorted(fills, key=lambda f: f.ts)),
    )
    end = row["end_ts_ns"]
    signal, parent = row["signal_id"], row["parent_id"]
    return RecordedOrder(
        quality=quality,
        end_ts=int(end) if end is not None else quality.arrival_ts,
        signal_id=SignalId(signal) if signal is not None else None,
        parent_id=ClientOrderId(parent) if parent is not None else None,
        algo=row["algo"],
    )


def orders_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[RecordedOrder]:
    """Rebuild the orders from their ORDER and FILL rows (a FILL without its ORDER is dropped).

    Orders come back sorted by arrival, then account and order ID.
    """
    heads: dict[tuple[str, str], Mapping[str, Any]] = {}
    fills: dict[tuple[str, str], list[FillQuality]] = {}
    for row in rows:
        key = (row["account_id"], row["order_id"])
        if row["kind"] == ORDER:
            heads[key] = row
        else:
            fills.setdefault(key, []).append(_fill(row))
    orders = [_order(head, fills.get(key, [])) for key, head in heads.items()]
    orders.sort(
        key=lambda r: (r.quality.arrival_ts, r.quality.account_id or "", r.quality.client_order_id)
    )
    return orders
