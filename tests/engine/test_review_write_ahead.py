"""A venue command goes out only once the events behind it are durable (write-ahead).

When a commit fails, the journal discards its buffer: the order's events are lost.
The commands queued with them must not be released by a later ``flush()``, whose
commit of the (now empty) buffer succeeds at once.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.domain.commands import OrderRequest, SubmitToVenue
from alphintra.domain.enums import OrderSide, OrderType
from alphintra.domain.events import OrderInitialized
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.store import JournalError
from alphintra.store.sqlite import SqliteJournal
from alphintra.venues.simulated.matching import SimulatedVenueConfig

ACCOUNT = AccountId("WAL")
EURUSD = InstrumentId("EURUSD")
T0 = 1_700_000_000 * 10**9


def test_commands_of_a_failed_commit_are_never_released(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    journal = SqliteJournal(path, busy_timeout_s=0.05)
    config = SimulatedVenueConfig()
    engine = TradingEngine(
        account_id=ACCOUNT,
        registry=InstrumentRegistry(),
        journal=journal,
        clock=SimulatedClock(T0),
        venues={config.venue_id: config.capabilities},
        default_venue=config.venue_id,
    )
    engine.open_account("USD", {"USD": Decimal(1_000_000)})
    engine.on_market_data(
        QuoteTick(
            EURUSD, Decimal("1.10000"), Decimal("1.10002"), Decimal(10**6), Decimal(10**6), T0
        )
    )
    assert engine.flush(force=True) == []
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # the commit will fail: the database is locked
    try:
        order = engine.submit(
            OrderRequest(
                instrument_id=EURUSD,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=Decimal(1000),
            )
        )
        with pytest.raises(JournalError):
            engine.flush()
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    journaled = {
        record.event.client_order_id
        for record in journal.read(ACCOUNT)
        if type(record.event) is OrderInitialized
    }
    assert order.client_order_id not in journaled  # the failed commit lost its events
    released = engine.flush()
    unjournaled = [
        command
        for command in released
        if type(command) is SubmitToVenue and command.order.client_order_id not in journaled
    ]
    assert unjournaled == []
    journal.close()
