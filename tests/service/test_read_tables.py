"""The read tables follow the journal, commit by commit, with no redundant signal writes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.domain.enums import OrderType, SignalAction
from alphintra.domain.events import OrderAccepted, SignalReceived
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.service.trading import AccountSettings, TradingService, signal_state
from alphintra.store.journal import Journal, open_journal
from alphintra.store.migrate import upgrade
from alphintra.store.projection import ReadModelProjector

T0 = 1_700_000_000_000_000_000
EURUSD = InstrumentId("EURUSD")
TICK = QuoteTick(EURUSD, Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), T0)


@dataclass
class Setup:
    path: Path
    journal: Journal
    service: TradingService
    projector: ReadModelProjector

    def row(self, table: str, key: str, value: str) -> tuple[str, str | None]:
        """Return (status, reason_code or None) of one row, read from the database."""
        with sqlite3.connect(self.path) as conn:
            code = ", reason_code" if table == "trading_signals" else ", NULL"
            rows = conn.execute(
                f"SELECT status{code} FROM {table} WHERE {key} = ?", (value,)
            ).fetchall()
        assert len(rows) == 1, rows
        return rows[0][0], rows[0][1]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    path = tmp_path / "alphintra.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    journal = open_journal(url)
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    projector = ReadModelProjector(signal_state, service.account_state)
    journal.add_commit_hook(projector)
    service.open_account(AccountSettings(account_id=AccountId("A"), owner="u"))
    asyncio.run(service.on_market_data(TICK))
    yield Setup(path, journal, service, projector)
    journal.close()


def _signal(signal_id: str, price: Decimal | None = None) -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId("m"),
        instrument_id=EURUSD,
        action=SignalAction.BUY,
        confidence=Decimal("0.5"),
        ts=T0,
        quantity=Decimal(1000),
        entry_price=price,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
    )


def test_read_tables_limit_signal_accepted_then_executed_and_forgotten(setup: Setup) -> None:
    outcome = asyncio.run(setup.service.submit_signal("A", _signal("s-1", Decimal("1.0")), None))
    (order_id,) = outcome.order_ids
    assert setup.row("trading_signals", "signal_id", "s-1") == ("ACCEPTED", None)
    assert setup.row("orders", "order_id", order_id)[0] == "ACCEPTED"
    assert setup.projector.remembered_signals == 1

    cheaper = QuoteTick(EURUSD, Decimal("0.98"), Decimal("0.99"), Decimal(0), Decimal(0), T0 + 1)
    asyncio.run(setup.service.on_market_data(cheaper))

    assert setup.row("orders", "order_id", order_id)[0] == "FILLED"
    assert setup.row("trading_signals", "signal_id", "s-1") == ("EXECUTED", None)
    assert setup.projector.remembered_signals == 0


def test_read_tables_resting_signal_row_changes_when_its_order_is_cancelled(
    setup: Setup,
) -> None:
    outcome = asyncio.run(setup.service.submit_signal("A", _signal("s-2", Decimal("1.0")), None))
    (order_id,) = outcome.order_ids
    for _ in range(3):  # commits that leave the signal as it was
        asyncio.run(setup.service.on_market_data(TICK))
    assert setup.row("trading_signals", "signal_id", "s-2") == ("ACCEPTED", None)
    assert setup.projector.remembered_signals == 1

    asyncio.run(setup.service.cancel_order(order_id, None))

    assert setup.row("orders", "order_id", order_id)[0] == "CANCELLED"
    assert setup.row("trading_signals", "signal_id", "s-2") == ("REJECTED", "NOT_FILLED")
    assert setup.projector.remembered_signals == 0


def test_read_tables_failed_commit_signal_row_written_again_at_next(setup: Setup) -> None:
    outcome = asyncio.run(setup.service.submit_signal("A", _signal("s-3", Decimal("1.0")), None))
    (order_id,) = outcome.order_ids
    events = [r for r in setup.journal.read(AccountId("A")) if r.event.account_id == "A"]
    received = next(r for r in events if type(r.event) is SignalReceived)
    accepted = next(
        r for r in events if type(r.event) is OrderAccepted and r.event.client_order_id == order_id
    )
    projector = setup.projector

    def signal_rows() -> list[tuple[object, ...]]:
        rows = [rows for sql, rows in projector.drain() if "trading_signals" in sql]
        return rows[0]

    # An order event that leaves the signal's status as written: no signal row.
    projector.appended(accepted.event, accepted.seq)
    assert signal_rows() == []
    # The signal's own event: its row is written; then that commit fails.
    projector.appended(received.event, received.seq)
    assert [row[1] for row in signal_rows()] == ["s-3"]
    projector.discard()
    # What the failed commit held is not taken as written: the same order event now
    # writes the signal row again.
    projector.appended(accepted.event, accepted.seq)
    assert [row[1] for row in signal_rows()] == ["s-3"]
