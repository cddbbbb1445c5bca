"""A stopped account comes back from its journal without a process restart.

When a journal commit fails (the database went away), the account stops: its memory may
hold events the journal does not. Before, only a restart of the whole process brought it
back. ``recovery.reopen_account`` rebuilds it from the journal as a restart does,
and the server retries that in the background for failures that are not a conflict with
another writer (a second writer means two engines trading one account: those stay
stopped for an operator).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc

from alphintra.domain.enums import SignalAction
from alphintra.domain.events import AccountFunded
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.engine.engine import TradingEngine
from alphintra.service.recovery import AccountRecovery, recoverable, reopen_account
from alphintra.service.trading import AccountSettings, AccountUnavailableError, TradingService
from alphintra.store.journal import Journal, open_journal
from alphintra.store.memory import MemoryJournal
from alphintra.store.verify import verify

T0 = 1_700_000_000_000_000_000
EURUSD = InstrumentId("EURUSD")
A = AccountId("A")


def _signal(signal_id: str) -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId("m"),
        instrument_id=EURUSD,
        action=SignalAction.BUY,
        confidence=Decimal("0.5"),
        ts=T0,
        quantity=Decimal(1000),
    )


def _tick() -> QuoteTick:
    return QuoteTick(EURUSD, Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), T0)


def _fail_next_write(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    real = journal._write

    def once(*args: Any) -> None:
        monkeypatch.setattr(journal, "_write", real)
        raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(journal, "_write", once)


def test_a_stopped_account_reopens_from_its_journal_and_trades_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    journal = open_journal(url)
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    first = service.open_account(AccountSettings(account_id=A, owner="u"))

    async def scenario() -> None:
        await service.on_market_data(_tick())
        await service.submit_signal("A", _signal("s-1"), None)
        _fail_next_write(journal, monkeypatch)
        with pytest.raises(AccountUnavailableError):
            await service.submit_signal("A", _signal("s-2"), None)
        assert first.failure is not None and "disk I/O error" in first.failure
        assert recoverable(first)
        second = await reopen_account(service, journal, A)
        assert second is not first and second.failure is None
        state = second.engine.state
        assert SignalId("s-1") in state.signals and SignalId("s-2") not in state.signals
        assert state.position_quantity(EURUSD) == Decimal(1000)
        await service.on_market_data(_tick())
        outcome = await service.submit_signal("A", _signal("s-2"), None)  # sent again
        assert outcome.status in ("ACCEPTED", "EXECUTED") and not outcome.duplicate
        await service.on_market_data(_tick())
        assert state.position_quantity(EURUSD) == Decimal(2000)
        service.flush_all()

    asyncio.run(scenario())
    reader = open_journal(url)
    try:
        assert verify(reader, A).problem is None
        events = [record.event for record in reader.read(A)]
    finally:
        reader.close()
    live = service.accounts[A].engine
    rebuilt = TradingEngine(
        account_id=A,
        registry=InstrumentRegistry(),
        journal=MemoryJournal(),
        clock=SimulatedClock(T0),
        venues=live.venues,
        default_venue=live.default_venue,
    )
    rebuilt.restore(events)
    assert rebuilt.state.fingerprint() == live.state.fingerprint()


def test_a_conflict_with_another_writer_is_not_recovered_automatically(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    service = TradingService(
        journal=open_journal(url), registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    victim = service.open_account(AccountSettings(account_id=A, owner="u"))
    intruder = open_journal(url)
    intruder.append(
        AccountFunded(account_id=A, ts_event=T0, ts_recv=T0, currency="USD", amount=Decimal(1))
    )
    intruder.commit()
    intruder.close()

    async def scenario() -> None:
        with pytest.raises(AccountUnavailableError):
            await service.submit_signal("A", _signal("s-1"), None)

    asyncio.run(scenario())
    assert victim.failure is not None
    assert not recoverable(victim)


def test_reopening_while_the_database_is_still_down_keeps_the_account_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    journal = open_journal(url)
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    first = service.open_account(AccountSettings(account_id=A, owner="u"))

    def down(*args: Any, **kwargs: Any) -> Any:
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("unable to open database"))

    async def scenario() -> None:
        _fail_next_write(journal, monkeypatch)
        with pytest.raises(AccountUnavailableError):
            await service.submit_signal("A", _signal("s-1"), None)
        monkeypatch.setattr(journal, "read", down)
        with pytest.raises(sqlalchemy.exc.OperationalError):
            await reopen_account(service, journal, A)
        assert service.accounts[A] is first and first.failure is not None
        monkeypatch.undo()
        assert (await reopen_account(service, journal, A)).failure is None

    asyncio.run(scenario())


def test_background_recovery_backs_off_while_the_database_is_down_then_reopens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    journal = open_journal(url)
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    service.open_account(AccountSettings(account_id=A, owner="u"))
    reads: list[AccountId] = []
    real_read = journal.read

    def down(account_id: AccountId, after_seq: int = 0) -> Any:
        reads.append(account_id)
        raise sqlalchemy.exc.OperationalError("SELECT", {}, Exception("unable to open database"))

    replayed: list[int] = []
    recovery = AccountRecovery(
        service, journal, 0.05, lambda runtime, history: replayed.append(len(history))
    )

    async def scenario() -> None:
        _fail_next_write(journal, monkeypatch)
        with pytest.raises(AccountUnavailableError):
            await service.submit_signal("A", _signal("s-1"), None)
        monkeypatch.setattr(journal, "read", down)
        assert await recovery.attempt() == []
        assert await recovery.attempt() == []  # backing off: not tried again yet
        assert reads == [A]
        monkeypatch.setattr(journal, "read", real_read)
        await asyncio.sleep(0.2)  # past the back-off (0.1 s)
        assert await recovery.attempt() == [A]
        assert service.accounts[A].failure is None and replayed and replayed[0] > 0
        assert await recovery.attempt() == []  # nothing stopped

    asyncio.run(scenario())
