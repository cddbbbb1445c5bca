"""Read the stored execution quality and market bars, and build the reports from them."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from alphintra.domain.identifiers import InstrumentId
from alphintra.domain.market import TradeBar
from alphintra.execution.tca import CostFilter
from alphintra.reports.build import (
    BestExecutionDay,
    TcaReport,
    best_execution_day,
    day_bounds,
    tca_report,
)
from alphintra.reports.records import RecordedOrder, orders_from_rows
from alphintra.store.directory import engine_url
from alphintra.store.schema import execution_quality, ohlcv_data

_NS_PER_S = 1_000_000_000


class ReportStore:
    """Reports over the ``execution_quality`` table of one database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, database_url: str) -> ReportStore:
        """Connect to ``database_url`` (``sqlite:///...`` or ``postgresql://...``)."""
        return cls(sa.create_engine(engine_url(database_url), future=True))

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def orders(
        self,
        *,
        account_ids: Collection[str] | None = None,
        start_ts: int | None = None,
        end_ts: int | None = None,
    ) -> list[RecordedOrder]:
        """Return the measured orders that arrived in ``[start_ts, end_ts)`` (None: unbounded).

        ``account_ids`` None means every account; an empty collection means none.
        """
        if account_ids is not None and not account_ids:
            return []
        t = execution_quality.c
        query = sa.select(execution_quality)
        if account_ids is not None:
            query = query.where(t.account_id.in_(sorted(account_ids)))
        if start_ts is not None:
            query = query.where(t.arrival_ts_ns >= start_ts)
        if end_ts is not None:
            query = query.where(t.arrival_ts_ns < end_ts)
        with self.engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(query)]
        return orders_from_rows(rows)

    def bars(
        self, instruments: Iterable[InstrumentId], start_ts: int, end_ts: int
    ) -> dict[InstrumentId, list[TradeBar]]:
        """Return each instrument's bars of its finest interval starting in ``[start, end)``."""
        found: dict[InstrumentId, list[TradeBar]] = {}
        t = ohlcv_data.c
        with self.engine.connect() as connection:
            for instrument in sorted(set(instruments)):
                query = (
                    sa.select(ohlcv_data)
                    .where(t.symbol == instrument, t.ts_ns >= start_ts, t.ts_ns < end_ts)
                    .order_by(t.interval_s, t.ts_ns)
                )
                rows = [dict(row._mapping) for row in connection.execute(query)]
                if rows:
                    finest = rows[0]["interval_s"]
                    found[instrument] = [_bar(r) for r in rows if r["interval_s"] == finest]
        return found

    def _bars_for(self, orders: list[RecordedOrder]) -> dict[InstrumentId, list[TradeBar]]:
        algos = [o for o in orders if o.algo is not None and o.parent_id is None]
        if not algos:
            return {}
        start = min(o.quality.arrival_ts for o in algos)
        end = max(max(o.end_ts, o.quality.arrival_ts) for o in algos) + 1
        return self.bars((o.quality.instrument_id for o in algos), start, end)

    def best_execution(self, day: date, account_ids: Collection[str] | None) -> BestExecutionDay:
        """Return the best-execution report of the UTC ``day`` over ``account_ids``."""
        start, end = day_bounds(day)
        orders = self.orders(account_ids=account_ids, start_ts=start, end_ts=end)
        return best_execution_day(day, orders, self._bars_for(orders))

    def tca(self, selection: CostFilter, account_ids: Collection[str] | None) -> TcaReport:
        """Return the transaction-cost analysis of ``selection`` over ``account_ids``."""
        orders = self.orders(
            account_ids=account_ids, start_ts=selection.start_ts, end_ts=selection.end_ts
        )
        return tca_report(orders, selection, self._bars_for(orders))


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _bar(row: dict[str, Any]) -> TradeBar:
    return TradeBar(
        instrument_id=InstrumentId(row["symbol"]),
        open=_dec(row["open"]),
        high=_dec(row["high"]),
        low=_dec(row["low"]),
        close=_dec(row["close"]),
        volume=_dec(row["volume"]),
        ts=int(row["ts_ns"]),
        interval_ns=int(row["interval_s"]) * _NS_PER_S,
    )
