"""One trading account at run time: its settings, engine, venues and single-writer lock.

`AccountRuntime` is what `alphintra.service.trading.TradingService` keeps per account
(importable from there too): every command runs under its ``lock``, then `dispatch`
commits the journal (write-ahead), sends the venue commands and feeds the venue
reports back into the engine. A failed commit stops the account until a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import structlog

from alphintra.domain.identifiers import AccountId, ClientOrderId, InstrumentId, SignalId, VenueId
from alphintra.domain.values import Currency
from alphintra.engine.engine import TradingEngine
from alphintra.risk.monitors import MonitorLimits
from alphintra.risk.pretrade import RiskLimits
from alphintra.service.coalesce import CommitGroup
from alphintra.service.errors import AccountUnavailableError
from alphintra.service.live import LiveAccount, VenueLink
from alphintra.signals.sizing import SizingPolicy
from alphintra.store.journal import JournalError
from alphintra.venues.simulated.matching import SimulatedVenue

log = structlog.get_logger("alphintra")


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """How one trading account is set up."""

    account_id: AccountId
    owner: str
    venue: str = "SIM"
    base_currency: Currency = "USD"
    starting_cash: Decimal = Decimal(1_000_000)
    sizing: SizingPolicy | None = None
    limits: RiskLimits = field(default_factory=RiskLimits)
    monitor: MonitorLimits = field(default_factory=MonitorLimits)
    links: tuple[VenueLink, ...] = ()
    """Live venues (primary first); none means the in-process simulated venue."""
    failover: Mapping[InstrumentId, tuple[VenueId, ...]] = field(default_factory=dict)
    """Per instrument, the venues new orders may go to, in order of preference."""


@dataclass(frozen=True, slots=True)
class SignalOutcome:
    """What became of one signal."""

    signal_id: SignalId
    status: str
    reason_code: str | None
    reason: str | None
    order_ids: tuple[ClientOrderId, ...]
    duplicate: bool = False


class AccountRuntime:
    """One account's engine, venue and single-writer lock."""

    def __init__(
        self, settings: AccountSettings, engine: TradingEngine, venue: SimulatedVenue
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.venue = venue
        self.lock = asyncio.Lock()
        self.arrivals: dict[ClientOrderId, int] = {}
        """Signal or order arrival time (perf counter ns), until the venue acknowledges."""
        self._failure: str | None = None
        self._cause: Exception | None = None
        self.live: LiveAccount | None = None
        """The live venues, when the account trades on any (then ``venue`` is unused)."""
        self.extra_venues: dict[VenueId, SimulatedVenue] = {}
        """Simulated venues beside ``venue``, quoting the same feed their own way."""
        self.signal_group: CommitGroup[SignalOutcome] = CommitGroup(
            self.lock, self.dispatch, ready=self.check_available
        )
        """Concurrent signals share one commit (see ``coalesce.py``)."""
        self.valid_shapes: set[tuple[object, ...]] = set()
        """Signal shapes found valid since the last dispatch (forgotten at each one)."""

    @property
    def failure(self) -> str | None:
        """Why the account stopped (a journal commit failed, by whatever path), or None
        while healthy."""
        return self._failure if self._failure is not None else self.engine.stopped

    @failure.setter
    def failure(self, reason: str | None) -> None:
        self._failure = reason

    @property
    def failure_cause(self) -> Exception | None:
        """The exception that stopped the account (the failed commit's, when known)."""
        return self.engine.stopped_cause or self._cause

    def dispatch(self) -> None:
        """Commit the journal, send waiting commands and apply the venue's reports.

        Ends with a commit, so that whatever a request or a data point changed is
        durable (and in the read tables) before it is answered.
        """
        engine = self.engine
        self.valid_shapes.clear()
        self.check_available()
        try:
            if self.live is not None:
                self.live.enqueue(engine.flush(force=True))
                return
            commands = engine.flush()
            while commands:
                for command in commands:
                    venue = self.extra_venues.get(command.venue, self.venue)
                    for report in venue.handle(command):
                        engine.on_venue_event(report)
                commands = engine.flush()
            engine.flush(force=True)
        except JournalError as exc:
            self._cause = exc
            # Fail-stop: the state in memory may now hold events the journal does not,
            # so the account takes no further input until a restart replays the journal.
            self.failure = f"journal commit failed: {exc}"
            log.error("account_stopped", account=engine.account_id, reason=self.failure)
            raise AccountUnavailableError("ACCOUNT_UNAVAILABLE", self.failure) from None
        except Exception as exc:
            self._cause = exc
            # Anything else here (a read-table projection that raises inside the commit, a
            # venue that raises mid-report) leaves memory and journal in doubt alike.
            self.failure = f"dispatch failed: {type(exc).__name__}: {exc}"
            log.exception("account_stopped", account=engine.account_id, reason=self.failure)
            raise AccountUnavailableError("ACCOUNT_UNAVAILABLE", self.failure) from None

    def check_available(self) -> None:
        """Raise 503 when the account has stopped after a storage failure."""
        if self.failure is not None:
            raise AccountUnavailableError("ACCOUNT_UNAVAILABLE", self.failure)
