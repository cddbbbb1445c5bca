"""Bringing a stopped account back from its journal without restarting the process.

An account stops when a journal commit fails (``AccountRuntime.failure``): its memory may
hold events the journal does not, so its engine refuses to write anything more. A
restart replays the journal; `reopen_account` does the same for one account while the
others keep trading, and `AccountRecovery` retries it in the background, with backoff,
for the failures an operator need not look at first (the database went away).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from alphintra.domain.events import AnyEvent
from alphintra.domain.identifiers import AccountId
from alphintra.service.account_runtime import AccountRuntime
from alphintra.service.trading import TradingService
from alphintra.store.journal import DuplicateFillError, Journal, JournalConflictError

log = structlog.get_logger("alphintra")

MAX_BACKOFF_FACTOR = 60
"""Retries of one account slow down to at most this many recovery intervals apart."""


def recoverable(runtime: AccountRuntime) -> bool:
    """Return True when a stopped account may be reopened without an operator.

    Not after a conflict with another writer of its journal (two engines trading one
    account must not both carry on) or a fill the journal already holds.
    """
    cause = runtime.failure_cause
    return runtime.failure is not None and not isinstance(
        cause, JournalConflictError | DuplicateFillError
    )


async def reopen_account(
    service: TradingService,
    journal: Journal,
    account_id: AccountId,
    on_history: Callable[[AccountRuntime, list[AnyEvent]], None] | None = None,
) -> AccountRuntime:
    """Rebuild a stopped account from ``journal`` (the service's), as a restart does,
    and return it.

    The stopped engine is dropped; the new one replays the journal and sends working
    orders again to the simulated venue, or reconciles with the live ones.
    ``on_history`` is called with the new runtime and the events replayed. What reading
    or replaying raises (the database still down) leaves the account stopped.
    """
    old = service.accounts[account_id]
    if old.failure is None:
        return old
    await old.lock.acquire()
    try:
        history = [record.event for record in journal.read(account_id)]
        if old.live is not None:
            await old.live.stop()
        del service.accounts[account_id]
        try:
            runtime = service.open_account(old.settings, history)
        except BaseException:
            service.accounts.setdefault(account_id, old)
            raise
    finally:
        old.lock.release()
    if on_history is not None:
        on_history(runtime, history)
    if runtime.live is not None:
        runtime.live.start()
    return runtime


class AccountRecovery:
    """Reopen recoverable stopped accounts every ``interval_s``, backing off per account
    (doubling, up to ``MAX_BACKOFF_FACTOR`` intervals) while an attempt fails."""

    def __init__(
        self,
        service: TradingService,
        journal: Journal,
        interval_s: float,
        on_history: Callable[[AccountRuntime, list[AnyEvent]], None] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.service = service
        self.journal = journal
        self.interval_s = interval_s
        self.on_history = on_history
        self._wait: dict[AccountId, float] = {}
        self._due: dict[AccountId, float] = {}
        self._reported: set[AccountId] = set()

    async def run(self) -> None:
        """Attempt recoveries until cancelled."""
        while True:
            await asyncio.sleep(self.interval_s)
            await self.attempt()

    async def attempt(self) -> list[AccountId]:
        """Try every stopped account whose retry is due once; return those reopened."""
        reopened: list[AccountId] = []
        now = time.monotonic()
        for account_id, runtime in list(self.service.accounts.items()):
            if runtime.failure is None:
                self._wait.pop(account_id, None)
                self._due.pop(account_id, None)
                self._reported.discard(account_id)
                continue
            if not recoverable(runtime):
                if account_id not in self._reported:
                    self._reported.add(account_id)
                    log.error(
                        "account_stays_stopped",
                        account=account_id,
                        reason=runtime.failure,
                        detail="another writer or a duplicate fill: an operator must look "
                        "before it trades again (restart the service to replay its journal)",
                    )
                continue
            if self._due.get(account_id, 0.0) > now:
                continue
            try:
                await reopen_account(self.service, self.journal, account_id, self.on_history)
            except Exception as exc:
                wait = min(
                    self._wait.get(account_id, self.interval_s / 2) * 2,
                    MAX_BACKOFF_FACTOR * self.interval_s,
                )
                self._wait[account_id] = wait
                self._due[account_id] = now + wait
                log.warning(
                    "account_reopen_failed", account=account_id, error=str(exc), retry_in_s=wait
                )
            else:
                self._wait.pop(account_id, None)
                self._due.pop(account_id, None)
                reopened.append(account_id)
                log.warning("account_reopened", account=account_id, after=runtime.failure)
        return reopened
