"""An account stops, and stays stopped, when its journal commit fails."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.domain.enums import SignalAction, TradingState
from alphintra.domain.events import AccountFunded
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.base import EngineStoppedError
from alphintra.engine.clock import SimulatedClock
from alphintra.service.trading import (
    AccountSettings,
    AccountUnavailableError,
    TradingService,
)
from alphintra.store.journal import JournalError, open_journal

T0 = 1_700_000_000_000_000_000
D1 = Decimal(1)


def _signal(signal_id: str) -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId(signal_id),
        model_id=ModelId("m"),
        instrument_id=InstrumentId("EURUSD"),
        action=SignalAction.BUY,
        confidence=Decimal("0.5"),
        ts=T0,
        quantity=Decimal(1000),
    )


def test_service_commit_conflict_stops_only_that_account_with_503(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    journal = open_journal(url)
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    victim = service.open_account(AccountSettings(account_id=AccountId("A"), owner="u"))
    healthy = service.open_account(AccountSettings(account_id=AccountId("B"), owner="u"))

    async def scenario() -> None:
        tick = QuoteTick(
            InstrumentId("EURUSD"), Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), T0
        )
        await service.on_market_data(tick)
        # A second writer stores the next event of A's stream behind the service's back.
        intruder = open_journal(url)
        head = intruder.head(AccountId("A"))
        assert head.seq > 0
        intruder.append(
            AccountFunded(
                account_id=AccountId("A"),
                ts_event=T0,
                ts_recv=T0,
                currency="USD",
                amount=Decimal(1),
            )
        )
        intruder.commit()
        intruder.close()
        with pytest.raises(AccountUnavailableError) as stopped:
            await service.submit_signal("A", _signal("s-1"), None)
        assert stopped.value.status == 503
        assert victim.failure is not None and "journal commit failed" in victim.failure
        with pytest.raises(AccountUnavailableError):
            await service.submit_signal("A", _signal("s-2"), None)
        outcome = await service.submit_signal("B", _signal("s-3"), None)
        assert outcome.status in ("ACCEPTED", "EXECUTED")
        await service.on_market_data(tick)  # the feed goes on for B
        assert healthy.engine.state.position_quantity(InstrumentId("EURUSD")) == Decimal(1000)

    asyncio.run(scenario())
    journal.close()


class _FailingProjection:
    """A commit hook (like the read-table projector) whose drain raises while armed."""

    def __init__(self) -> None:
        self.armed = False

    def appended(self, event: object, seq: int) -> None:
        pass

    def drain(self) -> list[tuple[str, list[tuple[object, ...]]]]:
        if self.armed:
            raise RuntimeError("projection bug")
        return []

    def discard(self) -> None:
        pass


def test_a_commit_hook_that_raises_stops_the_account_with_503(tmp_path: Path) -> None:
    journal = open_journal(f"sqlite:///{tmp_path / 'journal.db'}")
    hook = _FailingProjection()
    journal.add_commit_hook(hook)
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    victim = service.open_account(AccountSettings(account_id=AccountId("A"), owner="u"))
    healthy = service.open_account(AccountSettings(account_id=AccountId("B"), owner="u"))

    async def scenario() -> None:
        tick = QuoteTick(
            InstrumentId("EURUSD"), Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), T0
        )
        await service.on_market_data(tick)
        hook.armed = True
        with pytest.raises(AccountUnavailableError) as stopped:
            await service.submit_signal("A", _signal("s-1"), None)
        hook.armed = False
        assert stopped.value.status == 503
        assert victim.failure == "dispatch failed: RuntimeError: projection bug"
        # The order's events never became durable, and its command never went out.
        assert victim.engine.state.position_quantity(InstrumentId("EURUSD")) == 0
        with pytest.raises(AccountUnavailableError):
            await service.submit_signal("A", _signal("s-2"), None)
        outcome = await service.submit_signal("B", _signal("s-3"), None)
        assert outcome.status in ("ACCEPTED", "EXECUTED")
        assert healthy.failure is None

    asyncio.run(scenario())
    journal.close()


def test_a_commit_failure_on_any_path_stops_the_account_and_nothing_more_is_journaled(
    tmp_path: Path,
) -> None:
    """The live execution client commits with ``engine.flush`` itself, not through the
    runtime's dispatch. Before, a failure there left the account trading on a memory the
    journal no longer matched, and the next commit stored events on top of lost ones;
    a request already queued for the lock also ran on it."""
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    service = TradingService(
        journal=open_journal(url), registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    victim = service.open_account(AccountSettings(account_id=AccountId("A"), owner="u"))
    engine = victim.engine

    async def scenario() -> None:
        tick = QuoteTick(
            InstrumentId("EURUSD"), Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), T0
        )
        await service.on_market_data(tick)
        intruder = open_journal(url)
        intruder.append(
            AccountFunded(
                account_id=AccountId("A"), ts_event=T0, ts_recv=T0, currency="USD", amount=D1
            )
        )
        intruder.commit()
        await victim.lock.acquire()
        queued = asyncio.create_task(service.submit_signal("A", _signal("queued"), None))
        await asyncio.sleep(0)  # past the availability check, waiting for the lock
        try:
            # Any event, then a commit as the execution client makes one.
            engine.set_trading_state(TradingState.REDUCING, "an event to commit")
            with pytest.raises(JournalError):
                engine.flush(force=True)
        finally:
            victim.lock.release()
        with pytest.raises(AccountUnavailableError):
            await queued
        assert victim.failure is not None and "journal commit failed" in victim.failure
        with pytest.raises(AccountUnavailableError):
            service.account("A", None)
        with pytest.raises(EngineStoppedError):  # nothing more from this memory
            engine.set_trading_state(TradingState.HALTED, "after the failure")
        await service.on_market_data(tick)  # skipped for A, no error

    asyncio.run(scenario())
    reader = open_journal(url)
    try:
        kinds = [type(r.event).__name__ for r in reader.read(AccountId("A"))]
    finally:
        reader.close()
    assert kinds[-1] == "AccountFunded", kinds[-3:]  # the intruder's, and nothing after
    assert "SignalReceived" not in kinds


def test_an_engine_stopped_outside_dispatch_is_skipped_by_the_feed_and_not_ready(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    service = TradingService(
        journal=open_journal(url), registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    victim = service.open_account(AccountSettings(account_id=AccountId("A"), owner="u"))
    healthy = service.open_account(AccountSettings(account_id=AccountId("B"), owner="u"))
    intruder = open_journal(url)
    intruder.append(
        AccountFunded(account_id=AccountId("A"), ts_event=T0, ts_recv=T0, currency="USD", amount=D1)
    )
    intruder.commit()
    victim.engine.set_trading_state(TradingState.REDUCING, "an event to commit")
    with pytest.raises(JournalError):
        victim.engine.flush(force=True)  # as the live execution client commits
    assert victim.failure is not None and "journal commit failed" in victim.failure
    tick = QuoteTick(
        InstrumentId("EURUSD"), Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), T0
    )

    async def scenario() -> None:
        await service.on_market_data(tick)  # before: EngineStoppedError out of the feed
        await service.submit_signal("B", _signal("b-1"), None)

    asyncio.run(scenario())
    assert healthy.engine.state.position_quantity(InstrumentId("EURUSD")) == Decimal(1000)
