"""A real service (SQLite journal) built in-process, with a trader and an admin API key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from alphintra.app.config import Settings
from alphintra.app.server import DEMO_ACCOUNT, Runtime, build_runtime
from alphintra.domain.identifiers import AccountId, InstrumentId
from alphintra.domain.market import QuoteTick
from alphintra.security import Role, generate_api_key
from alphintra.store.directory import Directory
from alphintra.store.migrate import upgrade

ADMIN_USER = "admin"
ADMIN_ACCOUNT = "ADMIN-1"


@dataclass(slots=True)
class LiveService:
    """A built service, its API keys and every command its venues received."""

    runtime: Runtime
    trader_key: str
    admin_key: str
    account: AccountId = field(default=AccountId(DEMO_ACCOUNT))
    venue_commands: list[object] = field(default_factory=list)

    def state(self) -> tuple[int, int, int, int]:
        """Return (journal head seq, orders, signals, venue commands) after a group commit."""
        self.runtime.service.flush_all()
        engine = self.runtime.service.accounts[self.account].engine
        return (
            self.runtime.journal.head(self.account).seq,
            len(engine.state.orders),
            len(engine.state.signals),
            len(self.venue_commands),
        )

    async def quote(self, symbol: str, bid: str, ask: str) -> None:
        """Send one quote to every account, as the market data feed does."""
        service = self.runtime.service
        await service.on_market_data(
            QuoteTick(
                InstrumentId(symbol),
                Decimal(bid),
                Decimal(ask),
                Decimal(1_000_000),
                Decimal(1_000_000),
                service.clock.now_ns(),
            )
        )


def build_service(directory: Path) -> LiveService:
    """Build the service on a fresh SQLite database with a trader and an admin API key.

    The trader is the demo user (account ``DEMO``); the admin owns ``ADMIN-1``.
    """
    url = f"sqlite:///{directory / 'alphintra.db'}"
    settings = Settings(demo=True, database_url=url, market_data_dir=None)
    admin = generate_api_key(settings.pepper_bytes())
    upgrade(url)  # build_runtime migrates too; the admin must exist before it starts
    users = Directory(url)
    users.add_user(ADMIN_USER, Role.ADMIN.value)
    users.add_key(admin.key_id, ADMIN_USER, admin.key_hash, "robustness tests")
    users.add_account(ADMIN_ACCOUNT, ADMIN_USER, "SIM", "USD", "1000000", None)
    users.close()
    runtime = build_runtime(settings, {})
    assert runtime.demo_key is not None
    return LiveService(runtime=runtime, trader_key=runtime.demo_key, admin_key=admin.full_key)


def record_venue_commands(live: LiveService, monkeypatch: pytest.MonkeyPatch) -> None:
    """Record every command any account hands to its venue into ``live.venue_commands``."""
    for runtime in live.runtime.service.accounts.values():
        handle: Callable[[object], list[object]] = runtime.venue.handle  # type: ignore[assignment]

        def recording(command: object, handle: Callable[[object], list[object]] = handle) -> object:
            live.venue_commands.append(command)
            return handle(command)

        monkeypatch.setattr(runtime.venue, "handle", recording)
