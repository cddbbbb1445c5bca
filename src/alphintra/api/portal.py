"""The API's view of the service: queries, accounts and the WebSocket protocol."""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import structlog
from fastapi import WebSocket

from alphintra.api import views
from alphintra.api.account_book import AccountBook, trade_page
from alphintra.api.alerts import Alert, WebhookSender
from alphintra.api.auth import Authenticator, AuthError, Principal
from alphintra.api.risk_views import risk_metrics_view, risk_snapshot
from alphintra.api.schemas import (
    AccountIn,
    AccountView,
    OrderList,
    PortfolioPoint,
    PortfolioView,
    PositionView,
    RiskMetricsView,
    SignalView,
    TradeList,
)
from alphintra.api.websocket import serve_websocket
from alphintra.domain.enums import OrderStatus
from alphintra.domain.events import (
    AnyEvent,
    OrderEvent,
    OrderFilled,
    SignalReceived,
    SignalRejected,
    TradingStateChanged,
)
from alphintra.domain.identifiers import AccountId, SignalId
from alphintra.domain.orders import Order
from alphintra.domain.values import ZERO
from alphintra.marketdata.daily_closes import DailyCloses
from alphintra.portfolio.exposure import MissingFxRateError
from alphintra.portfolio.statistics import max_drawdown
from alphintra.security import CredentialVault, Role
from alphintra.service.hub import EventHub
from alphintra.service.trading import (
    AccountRuntime,
    AccountSettings,
    InvalidRequestError,
    NotFoundError,
    TradingService,
)
from alphintra.store.directory import Directory

log = structlog.get_logger("alphintra")
NANOS_PER_DAY = 86_400 * 1_000_000_000
HISTORY_INTERVAL_NS = 1_000_000_000
PERSIST_INTERVAL_NS = 10_000_000_000
"""How often a portfolio snapshot is written to ``portfolio_snapshots``."""
RISK_SNAPSHOT_INTERVAL_NS = 60_000_000_000
"""How often, by default, the risk report is written to ``risk_snapshots``."""


class Portal:
    """Joins the trading service, the directory and the hub for the API handlers."""

    def __init__(
        self,
        service: TradingService,
        directory: Directory,
        vault: CredentialVault | None,
        *,
        on_event: Callable[[AccountRuntime, AnyEvent], None] | None = None,
        on_start: Callable[[AccountRuntime], None] | None = None,
        webhook: WebhookSender | None = None,
        daily: DailyCloses | None = None,
        risk_snapshot_interval_ns: int = RISK_SNAPSHOT_INTERVAL_NS,
        risk_benchmark: str = "SPY",
    ) -> None:
        self.service = service
        self.risk_snapshot_interval_ns = risk_snapshot_interval_ns
        self.risk_benchmark = risk_benchmark
        self.directory = directory
        self.vault = vault
        self.hub: EventHub = service.hub
        self.books: dict[str, AccountBook] = {}
        self._extra = on_event
        self._on_start = on_start
        self.webhook = webhook
        self.daily = daily or DailyCloses(None)
        self._owners: dict[str, str] = {}
        service.observe(self._on_event)

    # Directory -----------------------------------------------------------------------

    def key(self, key_id: str) -> tuple[str, str] | None:
        """Return (user_id, key_hash) of an active API key."""
        return self.directory.key(key_id)

    def principal(self, user_id: str) -> Principal:
        """Return the caller for ``user_id`` with the accounts it owns."""
        user = self.directory.user(user_id)
        if user is None:
            raise AuthError(401, "UNKNOWN_USER", f"user {user_id!r} does not exist")
        role = Role(user.role)
        owned = sorted(a for a, owner in self._owners.items() if owner == user_id)
        return Principal(
            user_id=user_id,
            role=role,
            accounts=None if role is Role.ADMIN else frozenset(owned),
            default_account=owned[0] if owned else None,
        )

    def start_account(self, settings: AccountSettings, history: list[AnyEvent]) -> AccountRuntime:
        """Open an account's runtime and index its history."""
        book = self.books.setdefault(settings.account_id, AccountBook())
        book.add_fills(e for e in history if type(e) is OrderFilled)
        self._owners[settings.account_id] = settings.owner
        runtime = self.service.open_account(settings, history)
        if self._on_start is not None:
            self._on_start(runtime)
        self._sample(runtime, force=True)
        return runtime

    def account_reopened(self, runtime: AccountRuntime, history: list[AnyEvent]) -> None:
        """Index an account rebuilt from its journal (`alphintra.service.recovery`)."""
        account = runtime.engine.account_id
        self._book(account).replace_fills(e for e in history if type(e) is OrderFilled)
        self._sample(runtime, force=True)
        self.alert(account, "account_reopened", "rebuilt from its journal after a stop", None)

    async def create_account(self, who: Principal, body: AccountIn) -> AccountView:
        """Create an account owned by the caller, encrypting its credentials."""
        if body.accountId in self.service.accounts:
            raise AuthError(409, "ACCOUNT_EXISTS", f"account {body.accountId!r} already exists")
        ciphertext = None
        if body.credentials:
            if self.vault is None:
                raise AuthError(
                    422, "NO_MASTER_KEY", "credentials need a master key; none is configured"
                )
            ciphertext = self.vault.encrypt(
                json.dumps(body.credentials).encode(), body.accountId.encode()
            )
        try:
            self.directory.add_account(
                body.accountId,
                who.user_id,
                body.venue,
                body.baseCurrency,
                format(body.startingCash, "f"),
                ciphertext,
            )
        except ValueError as exc:
            raise AuthError(409, "ACCOUNT_EXISTS", str(exc)) from None
        limits, monitors = self.service.configured_limits(body.accountId)
        self.start_account(
            AccountSettings(
                account_id=AccountId(body.accountId),
                owner=who.user_id,
                venue=body.venue,
                base_currency=body.baseCurrency,
                starting_cash=body.startingCash,
                limits=limits,
                monitor=monitors,
                sizing=self.service.configured_sizing(body.accountId),
            ),
            [],
        )
        return self._account_view(body.accountId, ciphertext is not None)

    def _account_view(self, account_id: str, has_credentials: bool) -> AccountView:
        runtime = self.service.accounts[AccountId(account_id)]
        settings = runtime.settings
        return AccountView(
            accountId=account_id,
            owner=settings.owner,
            venue=settings.venue,
            baseCurrency=settings.base_currency,
            hasCredentials=has_credentials,
            tradingState=runtime.engine.state.trading_state.value,
        )

    def account_views(self, who: Principal) -> list[AccountView]:
        """Return the accounts the caller may see."""
        records = self.directory.accounts(None if who.accounts is None else who.user_id)
        return [
            self._account_view(r.account_id, r.has_credentials)
            for r in records
            if r.account_id in self.service.accounts
        ]

    def readiness(self) -> dict[str, bool]:
        """Return the readiness checks: database, venues (reconciled at startup), accounts."""
        return {
            "database": self.directory.ping(),
            "venue": self.service.venues_reconciled(),
            "accounts": all(r.failure is None for r in self.service.accounts.values()),
        }

    def _book(self, account: str) -> AccountBook:
        book = self.books.get(account)
        if book is None:
            book = self.books[account] = AccountBook()
        return book

    # Events ----------------------------------------------------------------------------

    def _on_event(self, runtime: AccountRuntime, event: AnyEvent) -> None:
        # Called for every event of every account (several per signal): the common
        # cases first, with the state and the hub's method looked up once.
        kind = type(event)
        account = runtime.engine.account_id
        publish = self.hub.publish
        if isinstance(event, OrderEvent):
            state = runtime.engine.state
            order = state.orders.get(event.client_order_id)
            if order is not None:
                publish(
                    "orders",
                    account,
                    views.order_payload_later(account, order),
                    order.instrument_id,
                )
            if type(event) is OrderFilled:
                self._book(account).add_fill(event)
                symbol = event.instrument_id
                publish("trades", account, views.trade_payload_later(account, event), symbol)
                position = state.positions.get(symbol)
                if position is not None:
                    publish(
                        "positions",
                        account,
                        views.position_payload_later(account, position, state.marks.get(symbol)),
                        symbol=symbol,
                    )
                self._sample(runtime, force=False)
        elif type(event) is SignalReceived or type(event) is SignalRejected:
            publish("signals", account, {"signalId": event.signal_id, "event": kind.__name__})
        elif type(event) is TradingStateChanged:
            publish(
                "alerts",
                account,
                {"kind": "trading_state", "state": event.state.value, "reason": event.reason},
            )
        if self._extra is not None:
            self._extra(runtime, event)

    def alert(
        self, account: str, kind: str, message: str, instrument_id: str | None = None
    ) -> None:
        """Send an alert to the log, the WebSocket ``alerts`` channel and the webhook."""
        log.warning(
            "risk_alert", account=account, kind=kind, message=message, instrument=instrument_id
        )
        self.hub.publish(
            "alerts",
            account,
            {"kind": kind, "message": message, "symbol": instrument_id},
            symbol=instrument_id,
        )
        if self.webhook is not None:
            self.webhook.submit(Alert(account, kind, message, instrument_id))

    def note_arrival(self, account: str, signal_id: SignalId) -> None:
        """Remember the mid at a signal's arrival, for feedback (its entry price is journaled)."""
        self.note_arrivals(account, (signal_id,))

    def note_arrivals(self, account: str, signal_ids: Iterable[SignalId]) -> None:
        """Remember the mid at each signal's arrival (``note_arrival`` for a batch)."""
        runtime = self.service.accounts.get(AccountId(account))
        if runtime is None:
            return
        state = runtime.engine.state
        book = self._book(account)
        for signal_id in signal_ids:
            received = state.signals.get(signal_id)
            # The feedback measures from a journaled entry price when there is one.
            if received is None or received.entry_price is not None:
                continue
            mark = state.marks.get(received.instrument_id)
            if mark is not None:
                book.note_arrival(signal_id, mark)

    def sample_all(self) -> None:
        """Record a portfolio snapshot of every account (at most once per second)."""
        for runtime in self.service.accounts.values():
            self._sample(runtime)

    def _sample(self, runtime: AccountRuntime, force: bool = False) -> None:
        account = runtime.engine.account_id
        book = self._book(account)
        now = self.service.clock.now_ns()
        if not force and book.history and now - book.history[-1][0] < HISTORY_INTERVAL_NS:
            return
        value = runtime.engine.valuation()
        book.history.append((now, value.total, value.cash))
        if not book.persisted or now - book.persisted >= PERSIST_INTERVAL_NS:
            book.persisted = now
            self.directory.record_portfolio(
                account,
                now,
                (
                    value.total,
                    value.cash,
                    value.positions_value,
                    value.realized_pnl,
                    value.unrealized_pnl,
                ),
            )
        if not book.risk_persisted or now - book.risk_persisted >= self.risk_snapshot_interval_ns:
            book.risk_persisted = now
            self._snapshot_risk(runtime, book, now)
        if now // NANOS_PER_DAY != book.day:
            book.day = now // NANOS_PER_DAY
            book.day_start = value.total
        if not force:
            self.hub.publish(
                "portfolio",
                account,
                {"totalValue": format(value.total, "f"), "cashBalance": format(value.cash, "f")},
            )

    def _snapshot_risk(self, runtime: AccountRuntime, book: AccountBook, now: int) -> None:
        """Store the account's risk report; a report that cannot be built is logged."""
        account = runtime.engine.account_id
        try:
            view = risk_metrics_view(
                account,
                runtime.engine.state,
                self.service.registry,
                runtime.engine.fx,
                [(ts, total) for ts, total, _ in book.history],
                self.daily,
                self.risk_benchmark,
                now,
            )
        except (MissingFxRateError, ValueError) as exc:
            log.warning("risk snapshot skipped", account=account, reason=str(exc))
            return
        self.directory.record_risk(risk_snapshot(view, now))

    # Queries -----------------------------------------------------------------------------

    def _runtimes(
        self, allowed: frozenset[str] | None, account_id: str | None
    ) -> list[AccountRuntime]:
        if account_id is not None:
            return [self.service.account(account_id, allowed)]
        return [rt for a, rt in self.service.accounts.items() if allowed is None or a in allowed]

    def list_orders(
        self,
        allowed: frozenset[str] | None,
        account_id: str | None,
        status: OrderStatus | None,
        symbol: str | None,
        from_time: datetime | None,
        to_time: datetime | None,
        offset: int,
        limit: int,
    ) -> OrderList:
        """Return a page of orders, newest first (equal times: in the accounts' order)."""
        low = views.nanos(from_time) if from_time else None
        high = views.nanos(to_time) if to_time else None
        wanted = _api_statuses(status)
        wanted_symbol = symbol.upper() if symbol is not None else None
        runtimes = self._runtimes(allowed, account_id)
        total = 0

        def matching() -> Iterator[tuple[str, Order]]:
            nonlocal total
            for runtime in runtimes:
                account = runtime.engine.account_id
                for order in runtime.engine.state.orders.values():
                    if wanted is not None and order.status not in wanted:
                        continue
                    if wanted_symbol is not None and order.instrument_id != wanted_symbol:
                        continue
                    if (low is not None and order.ts_init < low) or (
                        high is not None and order.ts_init > high
                    ):
                        continue
                    total += 1
                    yield account, order

        # heapq.nlargest is the head of the stable sort, newest first, of every match: the
        # same page without a list and a sort of the whole history (a client polling
        # ``limit=1`` for the total made one tracked tuple per order, and collections).
        newest = heapq.nlargest(offset + limit, matching(), key=_created)
        page = [views.order_view(a, o) for a, o in newest[offset:]]
        return OrderList(items=page, total=total, offset=offset, limit=limit)

    def list_trades(
        self,
        allowed: frozenset[str] | None,
        account_id: str | None,
        symbol: str | None,
        offset: int,
        limit: int,
    ) -> TradeList:
        """Return a page of fills, newest first (``account_book.trade_page``)."""
        books = [
            (str(account), self.books.get(account) or AccountBook())
            for account in (r.engine.account_id for r in self._runtimes(allowed, account_id))
        ]
        return trade_page(self.directory, books, symbol, offset, limit)

    def positions(
        self, allowed: frozenset[str] | None, account_id: str | None
    ) -> list[PositionView]:
        """Return open positions."""
        result = []
        for runtime in self._runtimes(allowed, account_id):
            state = runtime.engine.state
            for position in state.positions.values():
                if position.quantity:
                    result.append(
                        views.position_view(
                            runtime.engine.account_id,
                            position,
                            state.marks.get(position.instrument_id),
                        )
                    )
        return result

    def portfolio(self, account_id: str, allowed: frozenset[str] | None) -> PortfolioView:
        """Return an account's valuation."""
        runtime = self.service.account(account_id, allowed)
        book = self._book(account_id)
        value = runtime.engine.valuation()
        starting = runtime.settings.starting_cash
        curve = [(ts, total) for ts, total, _ in book.history]
        drawdown = max_drawdown(curve, opening_equity=starting) if curve else ZERO
        return views.portfolio_view(
            account_id,
            runtime.engine.state,
            value,
            starting=starting,
            day_start=book.day_start if book.day >= 0 else starting,
            sharpe=None,
            max_drawdown=drawdown,
            now_ns=self.service.clock.now_ns(),
        )

    def risk_metrics(
        self, account_id: str, allowed: frozenset[str] | None, benchmark: str
    ) -> RiskMetricsView:
        """Return an account's risk metrics (VaR, ES, ratios, beta, exposure, leverage)."""
        runtime = self.service.account(account_id, allowed)
        book = self._book(account_id)
        try:
            return risk_metrics_view(
                account_id,
                runtime.engine.state,
                self.service.registry,
                runtime.engine.fx,
                [(ts, total) for ts, total, _ in book.history],
                self.daily,
                benchmark,
                self.service.clock.now_ns(),
            )
        except (MissingFxRateError, ValueError) as exc:
            raise InvalidRequestError("RISK_METRICS_UNAVAILABLE", str(exc)) from None

    def risk_history(
        self,
        account_id: str,
        allowed: frozenset[str] | None,
        limit: int,
        since_ns: int | None,
        until_ns: int | None,
    ) -> list[RiskMetricsView]:
        """Return the stored risk reports of an account in a period, oldest first."""
        self.service.account(account_id, allowed)
        stored = self.directory.risk_history(account_id, limit, since_ns, until_ns)
        return [RiskMetricsView.model_validate_json(s.report) for s in stored]

    def history(
        self, account_id: str, allowed: frozenset[str] | None, limit: int
    ) -> list[PortfolioPoint]:
        """Return the latest portfolio snapshots, oldest first."""
        self.service.account(account_id, allowed)
        stored = self.directory.portfolio_history(account_id, limit)
        newest = stored[-1][0] if stored else -1
        recent = [p for p in self.books.get(account_id, AccountBook()).history if p[0] > newest]
        points = (stored + recent)[-limit:]
        return [
            PortfolioPoint(
                timestamp=views.when(ts),
                totalValue=format(total, "f"),
                cashBalance=format(cash, "f"),
            )
            for ts, total, cash in points
        ]

    def signal_view(self, signal_id: str, allowed: frozenset[str] | None) -> SignalView:
        """Return a signal with its status and feedback."""
        runtime, received, outcome = self.service.signal(signal_id, allowed)
        account = runtime.engine.account_id
        book = self.books.get(account, AccountBook())
        return views.signal_view(
            account,
            received,
            outcome,
            runtime.engine.state,
            received.entry_price,
            book.arrival_mids.get(received.signal_id),
        )

    # WebSocket --------------------------------------------------------------------------

    async def serve_websocket(self, socket: WebSocket, auth: Authenticator) -> None:
        """Speak the WebSocket protocol (see `alphintra.api.websocket`)."""
        await serve_websocket(socket, auth, self)


def _created(item: tuple[str, Order]) -> int:
    return item[1].ts_init


def _api_statuses(status: OrderStatus | None) -> frozenset[OrderStatus] | None:
    """Map an API status filter onto internal states (NEW covers every working state)."""
    if status is None:
        return None
    if status is OrderStatus.NEW:
        return frozenset(
            {
                OrderStatus.NEW,
                OrderStatus.SUBMITTED,
                OrderStatus.ACCEPTED,
                OrderStatus.TRIGGERED,
                OrderStatus.PENDING_CANCEL,
                OrderStatus.PENDING_MODIFY,
            }
        )
    if status is OrderStatus.REJECTED:
        return frozenset({OrderStatus.REJECTED, OrderStatus.DENIED})
    return frozenset({status})


__all__ = ["NotFoundError", "Portal"]
