"""Users, API keys and trading accounts (with encrypted broker credentials), in SQL.

The tables are created by the Alembic migrations (``alphintra migrate``); this module
reads and writes them through SQLAlchemy Core. Credentials are stored only as the
ciphertext the caller hands in: this module never sees plaintext.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from alphintra.store.schema import (
    api_keys,
    broker_credentials,
    metadata,
    portfolio_snapshots,
    risk_snapshots,
    trades,
    trading_accounts,
    users,
)

MAX_CACHED_KEYS = 10_000
"""API keys kept in a directory's cache at most (it starts afresh when full)."""


def engine_url(url: str) -> str:
    """Return the SQLAlchemy URL for a journal-style database URL."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    """An account's risk report at one moment: headline figures and the whole report.

    Amounts are in ``currency`` (the account's base currency); VaR and ES are losses
    over one day, positive numbers, None when the history was too short.
    """

    account_id: str
    ts_ns: int
    currency: str
    equity: Decimal
    gross_exposure: Decimal
    net_exposure: Decimal
    leverage: Decimal | None
    var_95_1d: Decimal | None
    es_95_1d: Decimal | None
    var_99_1d: Decimal | None
    es_99_1d: Decimal | None
    max_drawdown: Decimal | None
    report: str
    """The whole report as JSON."""


def _exact(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _decimal(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """A fill as the ``trades`` read table holds it."""

    account_id: str
    venue: str
    trade_id: str
    order_id: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: str
    executed_at_ns: int


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user and their role."""

    user_id: str
    role: str
    password_hash: str | None


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """A trading account as stored."""

    account_id: str
    owner: str
    venue: str
    base_currency: str
    starting_cash: str
    has_credentials: bool


class Directory:
    """Reads and writes users, keys and accounts.

    With ``key_cache_ttl_s`` above zero, an active API key found by `key` is kept in
    memory for that many seconds, so that authenticating a request does not query the
    database every time. A key revoked through this object (`revoke_key`) is dropped
    from the cache at once; a key revoked by another process sharing the database (the
    ``alphintra keys revoke`` command, another node) is refused at the latest
    ``key_cache_ttl_s`` seconds later. Unknown and revoked keys are never cached, so a
    new key works at once. ``clock`` (nanoseconds, monotonic) is for tests.
    """

    def __init__(
        self,
        url: str,
        *,
        key_cache_ttl_s: float = 0.0,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if key_cache_ttl_s < 0:
            raise ValueError(f"key_cache_ttl_s must not be negative, got {key_cache_ttl_s}")
        self.engine = sa.create_engine(engine_url(url), future=True)
        self._key_ttl_ns = int(key_cache_ttl_s * 1_000_000_000)
        self._clock = clock
        self._keys: dict[str, tuple[str, str, int]] = {}
        """key_id -> (user_id, key_hash, time the entry expires)."""

    def create_tables(self) -> None:
        """Create the tables if absent, without migrations (tests only)."""
        metadata.create_all(self.engine)

    def ping(self) -> bool:
        """Return True when the database answers."""
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def add_user(self, user_id: str, role: str, password_hash: str | None = None) -> None:
        """Create a user; raise ``ValueError`` when the ID is taken."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    users.insert().values(
                        user_id=user_id,
                        role=role,
                        password_hash=password_hash,
                        created_at_ns=time.time_ns(),
                    )
                )
        except sa.exc.IntegrityError:
            raise ValueError(f"user {user_id!r} already exists") from None

    def user(self, user_id: str) -> UserRecord | None:
        """Return a user, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(users.c.user_id, users.c.role, users.c.password_hash).where(
                    users.c.user_id == user_id
                )
            ).first()
        return UserRecord(row[0], row[1], row[2]) if row else None

    def list_users(self) -> list[UserRecord]:
        """Return every user."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(users.c.user_id, users.c.role, users.c.password_hash).order_by(
                    users.c.user_id
                )
            ).all()
        return [UserRecord(r[0], r[1], r[2]) for r in rows]

    def add_key(self, key_id: str, user_id: str, key_hash: str, label: str = "") -> None:
        """Store an API key's ID and hash (never the key)."""
        with self.engine.begin() as connection:
            connection.execute(
                api_keys.insert().values(
                    key_id=key_id,
                    user_id=user_id,
                    key_hash=key_hash,
                    label=label,
                    created_at_ns=time.time_ns(),
                )
            )

    def key(self, key_id: str) -> tuple[str, str] | None:
        """Return (user_id, key_hash) of an active key, or None (see the class docstring)."""
        caching = self._key_ttl_ns > 0
        now = self._clock() if caching else 0
        if caching:
            cached = self._keys.get(key_id)
            if cached is not None and now < cached[2]:
                return cached[0], cached[1]
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(api_keys.c.user_id, api_keys.c.key_hash).where(
                    api_keys.c.key_id == key_id, api_keys.c.revoked_at_ns.is_(None)
                )
            ).first()
        if row is None:
            self._keys.pop(key_id, None)
            return None
        if caching:
            if len(self._keys) >= MAX_CACHED_KEYS:
                self._keys.clear()
            self._keys[key_id] = (row[0], row[1], now + self._key_ttl_ns)
        return row[0], row[1]

    def revoke_key(self, key_id: str) -> bool:
        """Revoke a key; return False when it did not exist or was revoked already.

        The key is refused at once by this object's `key`, even when it was cached.
        """
        self._keys.pop(key_id, None)
        with self.engine.begin() as connection:
            result = connection.execute(
                api_keys.update()
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at_ns.is_(None))
                .values(revoked_at_ns=time.time_ns())
            )
        self._keys.pop(key_id, None)  # again: a lookup may have cached it meanwhile
        return bool(result.rowcount)

    def add_account(
        self,
        account_id: str,
        owner: str,
        venue: str,
        base_currency: str,
        starting_cash: str,
        ciphertext: bytes | None,
    ) -> None:
        """Create a trading account (and its encrypted credentials) atomically."""
        now = time.time_ns()
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    trading_accounts.insert().values(
                        account_id=account_id,
                        owner=owner,
                        venue=venue,
                        base_currency=base_currency,
                        starting_cash=starting_cash,
                        created_at_ns=now,
                    )
                )
                if ciphertext is not None:
                    connection.execute(
                        broker_credentials.insert().values(
                            account_id=account_id, ciphertext=ciphertext, updated_at_ns=now
                        )
                    )
        except sa.exc.IntegrityError:
            raise ValueError(f"account {account_id!r} already exists") from None

    def accounts(self, owner: str | None = None) -> list[AccountRecord]:
        """Return every account (of ``owner`` when given)."""
        query = sa.select(
            trading_accounts.c.account_id,
            trading_accounts.c.owner,
            trading_accounts.c.venue,
            trading_accounts.c.base_currency,
            trading_accounts.c.starting_cash,
            broker_credentials.c.account_id.is_not(None),
        ).select_from(
            trading_accounts.outerjoin(
                broker_credentials,
                broker_credentials.c.account_id == trading_accounts.c.account_id,
            )
        )
        if owner is not None:
            query = query.where(trading_accounts.c.owner == owner)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(trading_accounts.c.account_id)).all()
        return [AccountRecord(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def credentials(self, account_id: str) -> bytes | None:
        """Return the encrypted credentials of an account, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(broker_credentials.c.ciphertext).where(
                    broker_credentials.c.account_id == account_id
                )
            ).first()
        return bytes(row[0]) if row else None

    def record_portfolio(
        self,
        account_id: str,
        ts_ns: int,
        values: tuple[Decimal, Decimal, Decimal, Decimal, Decimal],
    ) -> None:
        """Store one portfolio snapshot: total, cash, positions value, realised, unrealised."""
        total, cash, positions_value, realized, unrealized = (format(v, "f") for v in values)
        with self.engine.begin() as connection:
            connection.execute(
                portfolio_snapshots.insert().values(
                    account_id=account_id,
                    ts_ns=ts_ns,
                    total_value=total,
                    cash=cash,
                    positions_value=positions_value,
                    realized_pnl=realized,
                    unrealized_pnl=unrealized,
                )
            )

    def portfolio_history(self, account_id: str, limit: int) -> list[tuple[int, Decimal, Decimal]]:
        """Return the latest ``limit`` snapshots (ts, total, cash), oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(
                    portfolio_snapshots.c.ts_ns,
                    portfolio_snapshots.c.total_value,
                    portfolio_snapshots.c.cash,
                )
                .where(portfolio_snapshots.c.account_id == account_id)
                .order_by(portfolio_snapshots.c.ts_ns.desc())
                .limit(limit)
            ).all()
        return [(int(r[0]), Decimal(str(r[1])), Decimal(str(r[2]))) for r in reversed(rows)]

    def newest_trade_keys(
        self, account_id: str, symbol: str | None, count: int
    ) -> list[tuple[int, str, str]]:
        """Return the (execution time, venue, trade ID) of an account's ``count`` newest
        trades, in no order.

        Every trade executed at the time of the ``count``-th newest is returned too, so
        that a caller ordering equal times its own way sees all of them. ``symbol``
        (exact) keeps that instrument's trades alone. Only the keys are read: a caller
        reads in full (`trades_by_id`) the few it keeps.
        """
        where = trades.c.account_id == account_id
        if symbol is not None:
            where = where & (trades.c.symbol == symbol)
        with self.engine.connect() as connection:
            oldest = connection.execute(
                sa.select(trades.c.executed_at_ns)
                .where(where)
                .order_by(trades.c.executed_at_ns.desc())
                .offset(count - 1)
                .limit(1)
            ).scalar()
            query = sa.select(trades.c.executed_at_ns, trades.c.venue, trades.c.trade_id)
            query = query.where(where)
            if oldest is not None:
                query = query.where(trades.c.executed_at_ns >= oldest)
            rows = connection.execute(query).all()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    def trades_by_id(self, account_id: str, keys: Iterable[tuple[str, str]]) -> list[TradeRecord]:
        """Return an account's trades with the given (venue, trade ID) keys, in no order."""
        wanted = set(keys)
        if not wanted:
            return []
        with self.engine.connect() as connection:
            rows = (
                connection.execute(
                    sa.select(trades).where(
                        (trades.c.account_id == account_id)
                        & trades.c.trade_id.in_(sorted({t for _, t in wanted}))
                    )
                )
                .mappings()
                .all()
            )
        return [
            TradeRecord(
                account_id=str(r["account_id"]),
                venue=str(r["venue"]),
                trade_id=str(r["trade_id"]),
                order_id=str(r["order_id"]),
                symbol=str(r["symbol"]),
                side=str(r["side"]),
                quantity=Decimal(str(r["quantity"])),
                price=Decimal(str(r["price"])),
                fee=Decimal(str(r["fee"])),
                fee_currency=str(r["fee_currency"]),
                liquidity=str(r["liquidity"]),
                executed_at_ns=int(r["executed_at_ns"]),
            )
            for r in rows
            if (str(r["venue"]), str(r["trade_id"])) in wanted
        ]

    def record_risk(self, snapshot: RiskSnapshot) -> None:
        """Store one risk snapshot (a second one at the same nanosecond is ignored)."""
        row = {
            "account_id": snapshot.account_id,
            "ts_ns": snapshot.ts_ns,
            "currency": snapshot.currency,
            "equity": _exact(snapshot.equity),
            "gross_exposure": _exact(snapshot.gross_exposure),
            "net_exposure": _exact(snapshot.net_exposure),
            "leverage": _exact(snapshot.leverage),
            "var_95_1d": _exact(snapshot.var_95_1d),
            "es_95_1d": _exact(snapshot.es_95_1d),
            "var_99_1d": _exact(snapshot.var_99_1d),
            "es_99_1d": _exact(snapshot.es_99_1d),
            "max_drawdown": _exact(snapshot.max_drawdown),
            "report": snapshot.report,
        }
        key = (risk_snapshots.c.account_id == snapshot.account_id) & (
            risk_snapshots.c.ts_ns == snapshot.ts_ns
        )
        with self.engine.begin() as connection:
            if connection.execute(sa.select(risk_snapshots.c.ts_ns).where(key)).first() is None:
                connection.execute(risk_snapshots.insert().values(**row))

    def risk_history(
        self,
        account_id: str,
        limit: int,
        since_ns: int | None = None,
        until_ns: int | None = None,
    ) -> list[RiskSnapshot]:
        """Return the latest ``limit`` risk snapshots in ``[since_ns, until_ns]``, oldest first."""
        query = sa.select(risk_snapshots).where(risk_snapshots.c.account_id == account_id)
        if since_ns is not None:
            query = query.where(risk_snapshots.c.ts_ns >= since_ns)
        if until_ns is not None:
            query = query.where(risk_snapshots.c.ts_ns <= until_ns)
        query = query.order_by(risk_snapshots.c.ts_ns.desc()).limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            RiskSnapshot(
                account_id=str(r["account_id"]),
                ts_ns=int(r["ts_ns"]),
                currency=str(r["currency"]),
                equity=Decimal(str(r["equity"])),
                gross_exposure=Decimal(str(r["gross_exposure"])),
                net_exposure=Decimal(str(r["net_exposure"])),
                leverage=_decimal(r["leverage"]),
                var_95_1d=_decimal(r["var_95_1d"]),
                es_95_1d=_decimal(r["es_95_1d"]),
                var_99_1d=_decimal(r["var_99_1d"]),
                es_99_1d=_decimal(r["es_99_1d"]),
                max_drawdown=_decimal(r["max_drawdown"]),
                report=str(r["report"]),
            )
            for r in reversed(rows)
        ]

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()
