"""Wire the service together and run it: ``alphintra serve``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Final

import structlog
import uvicorn
from fastapi import FastAPI

from alphintra.api.alerts import WebhookSender
from alphintra.api.app import ApiContext, create_app
from alphintra.api.auth import Authenticator
from alphintra.api.metrics import Metrics
from alphintra.api.portal import Portal
from alphintra.app.config import ConfigError, Settings
from alphintra.app.venue_config import VenueSettingsError, account_credentials, account_links
from alphintra.domain.events import AnyEvent, RiskAlertRaised
from alphintra.domain.identifiers import AccountId, SignalId
from alphintra.domain.registry import InstrumentRegistry
from alphintra.engine.clock import LiveClock
from alphintra.marketdata.daily_closes import DailyCloses
from alphintra.marketdata.replay import ReplayFeed, SyntheticFeed, open_feed
from alphintra.reports.queries import ReportStore
from alphintra.reports.recorder import ExecutionQualityRecorder, QuoteHistory
from alphintra.reports.schedule import DailyReports
from alphintra.risk.limits import RiskLimitsError
from alphintra.security import (
    CredentialVault,
    InsecureConfiguration,
    MasterKey,
    MasterKeyError,
    Role,
    check_secrets,
    generate_api_key,
)
from alphintra.service.checkpoint import WalCheckpointer, sqlite_path
from alphintra.service.live import LivePolicy
from alphintra.service.recovery import AccountRecovery
from alphintra.service.trading import (
    AccountRuntime,
    AccountSettings,
    TradingService,
    signal_state,
)
from alphintra.signals.sizing import ConfidenceScaled, PercentOfEquity, SizingError
from alphintra.signals.sizing_book import SizingBook
from alphintra.store.directory import Directory
from alphintra.store.journal import Journal, open_journal
from alphintra.store.migrate import upgrade
from alphintra.store.projection import ReadModelProjector

log = structlog.get_logger("alphintra")
DEMO_USER = "demo"
DEMO_ACCOUNT = "DEMO"
DEMO_SIZING: Final = ConfidenceScaled(base=PercentOfEquity(percent=Decimal(1)))
"""The demo account's sizing when the configuration sets none: 1 % of equity x confidence."""


def configure_logging(level: str) -> None:
    """Log structured JSON lines to stderr."""
    logging.basicConfig(level=level, stream=sys.stderr, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
    )


@dataclass(slots=True)
class Runtime:
    """Everything a running service holds."""

    settings: Settings
    journal: Journal
    directory: Directory
    service: TradingService
    portal: Portal
    metrics: Metrics
    app: FastAPI
    demo_key: str | None


def _journal_url(settings: Settings) -> str:
    url = settings.database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}synchronous={settings.journal_synchronous}"
    return url


def build_runtime(settings: Settings, env: dict[str, str]) -> Runtime:
    """Open the stores, restore every account from its journal and build the app."""
    try:
        master_key = MasterKey.from_env(env)
    except MasterKeyError as exc:
        raise ConfigError(str(exc)) from None
    if settings.demo and master_key is None:
        master_key = MasterKey.generate()  # demo only: credentials do not survive a restart
    try:
        problems = check_secrets(
            demo_mode=settings.demo, jwt_secret=settings.jwt_secret, master_key=master_key
        )
    except InsecureConfiguration as exc:
        raise ConfigError(
            "refusing to start outside demo mode: " + "; ".join(exc.problems)
        ) from None
    for problem in problems:
        log.warning("insecure_demo_setting", problem=problem)
    journal_url = _journal_url(settings)  # creates the SQLite folder on a fresh checkout
    upgrade(settings.database_url)
    journal = open_journal(journal_url)
    directory = Directory(settings.database_url, key_cache_ttl_s=settings.api_key_cache_ttl_s)
    service = TradingService(
        journal=journal,
        registry=InstrumentRegistry(),
        clock=LiveClock(),
        live_policy=LivePolicy(
            health_interval_s=settings.venue_health_interval_s,
            reconcile_interval_s=settings.reconcile_interval_s,
        ),
        simulated_venues=[venue.setup() for venue in settings.simulated_venues],
    )
    service.limits_book = settings.limits_book()
    service.sizing_book = settings.sizing_book()
    if settings.demo and not settings.sizing:
        service.sizing_book = SizingBook(accounts={DEMO_ACCOUNT: DEMO_SIZING})
    service.monitors_book = settings.monitors_book()
    journal.add_commit_hook(ReadModelProjector(signal_state, service.account_state))
    metrics = Metrics()
    webhook = WebhookSender(settings.alert_webhook_url) if settings.alert_webhook_url else None
    portal = Portal(
        service,
        directory,
        CredentialVault(master_key) if master_key is not None else None,
        on_event=metrics.on_event,
        webhook=webhook,
        daily=DailyCloses(settings.market_data_dir),
        risk_snapshot_interval_ns=settings.risk_snapshot_interval_s * 1_000_000_000,
    )
    forward_alerts(service, portal)
    quotes = QuoteHistory()
    service.quote_listeners.append(quotes.record)  # live venues' quotes (the feed's: run_feed)
    journal.add_commit_hook(
        ExecutionQualityRecorder(
            service.account_state,
            quotes,
            decision_price=partial(_entry_price, service),
            listener=metrics.on_quality,
            base_currency=lambda symbol: service.registry.get(symbol).base_currency,
        )
    )
    report_dir = _report_dir(settings, env)
    daily_reports = (
        DailyReports(ReportStore(directory.engine), report_dir, service.clock.now_ns)
        if report_dir is not None
        else None
    )
    demo_key = None
    if settings.demo and directory.user(DEMO_USER) is None:
        directory.add_user(DEMO_USER, Role.TRADER.value)
        generated = generate_api_key(settings.pepper_bytes())
        directory.add_key(generated.key_id, DEMO_USER, generated.key_hash, "demo")
        directory.add_account(
            DEMO_ACCOUNT, DEMO_USER, "SIM", "USD", settings.demo_starting_cash, None
        )
        demo_key = generated.full_key
    for record in directory.accounts():
        history = [r.event for r in journal.read(AccountId(record.account_id))]
        try:
            links, routes = account_links(
                record.account_id,
                record.venue,
                settings.venues,
                settings.failover,
                account_credentials(directory, portal.vault, record.account_id)
                if record.venue in settings.venues
                else {},
                service.registry,
            )
        except VenueSettingsError as exc:
            raise ConfigError(str(exc)) from None
        limits, monitors = service.configured_limits(record.account_id)
        sizing = service.configured_sizing(record.account_id)
        try:
            portal.start_account(
                AccountSettings(
                    account_id=AccountId(record.account_id),
                    owner=record.owner,
                    venue=record.venue,
                    base_currency=record.base_currency,
                    starting_cash=Decimal(record.starting_cash),
                    limits=limits,
                    monitor=monitors,
                    sizing=sizing,
                    links=links,
                    failover=routes,
                ),
                history,
            )
        except (RiskLimitsError, SizingError) as exc:  # journaled ones that no longer load
            raise ConfigError(str(exc)) from None
    authenticator = Authenticator(pepper=settings.pepper_bytes(), jwt_secret=settings.jwt_secret)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        feed = open_feed(settings.market_data_dir)
        task = asyncio.create_task(run_feed(settings, service, portal, quotes, feed))
        checkpoints = _start_checkpointer(settings)
        service.start_live()
        reports = asyncio.create_task(daily_reports.run()) if daily_reports else None
        recovery = (
            asyncio.create_task(
                AccountRecovery(
                    service, journal, settings.account_recovery_interval_s, portal.account_reopened
                ).run()
            )
            if settings.account_recovery_interval_s > 0
            else None
        )
        collector = CollectorTuning.start()  # after the feed's history is loaded
        try:
            yield
        finally:
            collector.stop()
            task.cancel()
            if checkpoints is not None:
                checkpoints.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checkpoints
            if reports is not None:
                reports.cancel()
            if recovery is not None:
                recovery.cancel()
            # A feed that failed was logged by run_feed; what was accepted is still flushed.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            await service.stop_live()
            service.flush_all()

    app = create_app(ApiContext(portal, authenticator, metrics), lifespan=lifespan)
    return Runtime(settings, journal, directory, service, portal, metrics, app, demo_key)


def _start_checkpointer(settings: Settings) -> asyncio.Task[None] | None:
    """Start checkpointing a SQLite database's log off the event loop (``checkpoint.py``)."""
    path = sqlite_path(settings.database_url)
    if path is None or not settings.sqlite_checkpoint_interval_ms:
        return None
    checkpointer = WalCheckpointer(path, settings.sqlite_checkpoint_interval_ms / 1000)
    return asyncio.create_task(checkpointer.run())


def _entry_price(service: TradingService, account: AccountId, signal: SignalId) -> Decimal | None:
    """Return a signal's entry price as journaled with it (None: no signal, or none given)."""
    state = service.account_state(account)
    received = state.signals.get(signal) if state is not None else None
    return received.entry_price if received is not None else None


def forward_alerts(service: TradingService, portal: Portal) -> None:
    """Send the engine's alerts (risk monitors, reconciliation) and failovers to the API."""
    service.alert = portal.alert

    def on_event(runtime: AccountRuntime, event: AnyEvent) -> None:
        if type(event) is RiskAlertRaised:
            portal.alert(runtime.engine.account_id, event.kind, event.message, event.instrument_id)

    service.observe(on_event)


def _report_dir(settings: Settings, env: dict[str, str]) -> Path | None:
    """Return where the daily reports go: ``ALPHINTRA_REPORT_DIR``, else next to SQLite."""
    if env.get("ALPHINTRA_REPORT_DIR"):
        return Path(env["ALPHINTRA_REPORT_DIR"])
    if settings.database_url.startswith("sqlite:///"):
        return Path(settings.database_url.removeprefix("sqlite:///")).parent / "reports"
    return None


GC_GEN0_THRESHOLD = 50_000
"""Allocations between two young-generation collections while serving (Python: 700)."""


class CollectorTuning:
    """Python's cyclic garbage collector set up for serving, undone by ``stop``.

    What the process holds once started (modules, the feed's price history, the
    restored accounts) lives as long as the service, yet every full collection walked
    it again; it is frozen out of the collector's reach instead. Young collections run
    every `GC_GEN0_THRESHOLD` allocations instead of every 700: a request allocates
    thousands of short-lived objects, and reference counting frees nearly all of them
    (the collector only reclaims cycles). Under load this takes about a quarter of the
    CPU time per signal off (``bench/batch_throughput.py``). Services started in one
    process (tests) share the tuning: the last to stop restores the collector.
    """

    _active = 0
    _previous: tuple[int, int, int] | None = None

    @classmethod
    def start(cls) -> CollectorTuning:
        """Collect once, freeze what survives, raise the young-generation threshold."""
        if cls._active == 0:
            previous = cls._previous = gc.get_threshold()
            gc.collect()
            gc.freeze()
            gc.set_threshold(max(previous[0], GC_GEN0_THRESHOLD), previous[1], previous[2])
        cls._active += 1
        return cls()

    def stop(self) -> None:
        """Give the frozen objects back to the collector and restore the thresholds."""
        cls = type(self)
        cls._active -= 1
        if cls._active == 0 and cls._previous is not None:
            gc.unfreeze()
            gc.set_threshold(*cls._previous)
            cls._previous = None


async def run_feed(
    settings: Settings,
    service: TradingService,
    portal: Portal,
    quotes: QuoteHistory | None = None,
    feed: ReplayFeed | SyntheticFeed | None = None,
) -> None:
    """Send market data to every account at the configured interval."""
    if feed is None:
        feed = open_feed(settings.market_data_dir)
    log.info("market_data_feed", kind=type(feed).__name__, symbols=feed.symbols)
    interval = settings.feed_interval_ms / 1000
    try:
        while True:
            for quote in feed.next_quotes(service.clock.now_ns()):
                if quotes is not None:
                    quotes.record(quote)
                await service.on_market_data(quote)
            portal.sample_all()
            await asyncio.sleep(interval)
    except Exception:
        log.exception("market_data_feed_failed")
        raise


def print_demo_banner(runtime: Runtime) -> None:
    """Print the demo API key and a curl line that posts a signal."""
    if runtime.demo_key is None:
        return
    s = runtime.settings
    base = f"http://{s.host}:{s.port}"
    body = (
        '{"signalId":"demo-signal-1","modelId":"demo-model","symbol":"BTCUSD",'
        '"action":"BUY","confidence":0.8,"quantity":0.01}'
    )
    print(f"Demo API key (shown once): {runtime.demo_key}", flush=True)
    print("Post a signal:", flush=True)
    print(
        f"  curl -s -X POST {base}/api/v1/signals -H 'X-API-Key: {runtime.demo_key}' "
        f"-H 'Content-Type: application/json' -d '{body}'",
        flush=True,
    )
    print(f"Then: curl -s {base}/api/v1/positions -H 'X-API-Key: {runtime.demo_key}'", flush=True)
    print(
        "Without a quantity the signal is sized by the account's policy (the demo's: 1 % of "
        "equity x confidence; see the `sizing` setting).",
        flush=True,
    )


def serve(settings: Settings, env: dict[str, str]) -> int:
    """Run the service until interrupted; return the exit code."""
    configure_logging(settings.log_level)
    runtime = build_runtime(settings, env)
    print_demo_banner(runtime)
    config = uvicorn.Config(
        runtime.app, host=settings.host, port=settings.port, log_level="warning", lifespan="on"
    )
    try:
        uvicorn.Server(config).run()
    finally:
        runtime.service.flush_all()
        runtime.journal.close()
        runtime.directory.close()
    return 0
