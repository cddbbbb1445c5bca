"""A live service for end-to-end tests: real database, real HTTP server, real WebSocket.

``Deployment`` owns one database (a SQLite file or a PostgreSQL schema), the secrets
and the seeded users; ``Deployment.start()`` builds the runtime exactly as
``alphintra serve`` does and runs its ASGI app under uvicorn on a free local port in a
background thread. ``Deployment.start()`` may be called again after ``stop()`` to
restart the service on the same database.
"""

from __future__ import annotations

import base64
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

import httpx
import psycopg
import uvicorn

from alphintra.app.config import Settings
from alphintra.app.server import Runtime, build_runtime
from alphintra.security import MASTER_KEY_ENV, MasterKey, Role, generate_api_key
from alphintra.store.directory import Directory
from alphintra.store.migrate import upgrade

API: Final = "/api/v1"
SYMBOL: Final = "BTCUSD"
QUANTITY: Final = Decimal("0.01")
RESTING_BUY_PRICE: Final = Decimal("5000.00")
"""Below every BTCUSD quote in the replayed data (lowest bid 6580.99): a BUY limit rests."""
STOP_LOSS: Final = Decimal("5000.00")
TAKE_PROFIT: Final = Decimal("9000.00")
"""Above every BTCUSD quote in the replayed data (highest ask 7424.91)."""
STARTING_CASH: Final = Decimal(100_000)
FEED_INTERVAL_MS: Final = 20
WAIT_S: Final = 15.0
"""Upper bound of every poll; a healthy run needs a fraction of a second."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class User:
    """A seeded user, its API key and the account it owns (if any)."""

    user_id: str
    role: Role
    key: str
    account_id: str | None

    @property
    def headers(self) -> dict[str, str]:
        """Return the headers that authenticate as this user."""
        return {"X-API-Key": self.key}


KEY_CACHE_TTL_S: Final = 0.25
"""How long the service trusts a key it verified (a revocation elsewhere waits this long)."""
SEEDED: Final = (
    ("alice", Role.TRADER, "ALICE-1"),
    ("bob", Role.TRADER, "BOB-1"),
    ("rita", Role.RISK_OFFICER, "RISK-1"),
    ("rory", Role.READ_ONLY, "READ-1"),
    ("ada", Role.ADMIN, None),
)


class LiveService:
    """One running runtime: uvicorn on 127.0.0.1 in a background thread."""

    def __init__(self, runtime: Runtime, log_level: str) -> None:
        self.runtime = runtime
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        self.port: int = listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}{API}/ws"
        config = uvicorn.Config(
            runtime.app,
            lifespan="on",
            log_level=log_level,
            ws="websockets-sansio",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [listener]},
            name=f"uvicorn-{self.port}",
            daemon=True,
        )
        self._stopped = False
        self._thread.start()
        deadline = time.monotonic() + WAIT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the service on port {self.port} did not start")
            time.sleep(0.01)

    def client(self, user: User | None = None) -> httpx.Client:
        """Return an HTTP client, authenticated as ``user`` when given."""
        headers = user.headers if user is not None else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=WAIT_S)

    def async_client(self, user: User) -> httpx.AsyncClient:
        """Return an async HTTP client authenticated as ``user``, with room for 100 requests."""
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers=user.headers,
            timeout=WAIT_S * 2,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
        )

    def stop(self) -> None:
        """Shut down gracefully (the lifespan flushes the journal) and close the stores."""
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        self._thread.join(timeout=WAIT_S)
        alive = self._thread.is_alive()
        self.runtime.journal.close()
        self.runtime.directory.close()
        if alive:
            raise RuntimeError(f"the service on port {self.port} did not shut down")


class Deployment:
    """A database with seeded users, and the services started on it."""

    def __init__(self, database_url: str, market_data_dir: Path) -> None:
        self.database_url = database_url
        self.settings = Settings(
            demo=False,
            database_url=database_url,
            jwt_secret=secrets.token_urlsafe(48),
            api_key_pepper=base64.b64encode(secrets.token_bytes(32)).decode(),
            market_data_dir=market_data_dir,
            feed_interval_ms=FEED_INTERVAL_MS,
            api_key_cache_ttl_s=KEY_CACHE_TTL_S,
        )
        self.master_key = MasterKey.generate()
        self.env = {MASTER_KEY_ENV: self.master_key.to_base64()}
        self.users = self._seed()
        self._services: list[LiveService] = []

    def _seed(self) -> dict[str, User]:
        upgrade(self.database_url)
        directory = Directory(self.database_url)
        try:
            users = {}
            for user_id, role, account_id in SEEDED:
                directory.add_user(user_id, role.value)
                key = generate_api_key(self.settings.pepper_bytes())
                directory.add_key(key.key_id, user_id, key.key_hash, "e2e")
                if account_id is not None:
                    directory.add_account(
                        account_id, user_id, "SIM", "USD", str(STARTING_CASH), None
                    )
                users[user_id] = User(user_id, role, key.full_key, account_id)
        finally:
            directory.close()
        return users

    def start(self, log_level: str = "warning") -> LiveService:
        """Build a runtime on this database, as ``alphintra serve`` does, and serve it."""
        service = LiveService(build_runtime(self.settings, self.env), log_level)
        self._services.append(service)
        return service

    def close(self) -> None:
        """Stop every service still running."""
        for service in self._services:
            service.stop()

    def sql(self, statement: str) -> list[tuple[Any, ...]]:
        """Run one read-only statement on the raw database; return its rows."""
        if self.database_url.startswith("sqlite:///"):
            connection = sqlite3.connect(self.sqlite_path())
            try:
                return connection.execute(statement).fetchall()
            finally:
                connection.close()
        with psycopg.connect(self.database_url) as pg:
            rows: list[tuple[Any, ...]] = pg.execute(statement).fetchall()
            return rows

    def dump(self) -> list[Any]:
        """Return every cell of every table of the raw database."""
        if self.database_url.startswith("sqlite:///"):
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            query = (
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        tables = [str(name) for (name,) in self.sql(query)]
        return [
            cell for table in tables for row in self.sql(f'SELECT * FROM "{table}"') for cell in row
        ]

    def sqlite_path(self) -> Path:
        """Return the SQLite database file."""
        return Path(urlsplit(self.database_url).path[1:])


def wait_for(probe: Callable[[], T | None], what: str, timeout: float = WAIT_S) -> T:
    """Poll ``probe`` until it returns something other than None; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def signal_body(
    signal_id: str, action: str = "BUY", quantity: Decimal | None = QUANTITY, **extra: Any
) -> dict[str, Any]:
    """Return a signal request body for BTCUSD."""
    body: dict[str, Any] = {
        "signalId": signal_id,
        "modelId": "e2e-model",
        "symbol": SYMBOL,
        "action": action,
        "confidence": 0.8,
        **extra,
    }
    if quantity is not None:
        body["quantity"] = str(quantity)
    return body


def limit_order_body(
    client_order_id: str | None = None, price: Decimal = RESTING_BUY_PRICE, **extra: Any
) -> dict[str, Any]:
    """Return a resting BUY limit order body for BTCUSD."""
    body: dict[str, Any] = {
        "symbol": SYMBOL,
        "side": "BUY",
        "type": "LIMIT",
        "quantity": str(QUANTITY),
        "price": str(price),
        **extra,
    }
    if client_order_id is not None:
        body["clientOrderId"] = client_order_id
    return body


def post_ok(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST and return the JSON body; fail with the response when it is not a 2xx."""
    response = client.post(f"{API}{path}", json=body)
    assert response.is_success, f"POST {path} -> {response.status_code}: {response.text}"
    result: dict[str, Any] = response.json()
    return result


def get_ok(client: httpx.Client, path: str, **params: str) -> Any:
    """GET and return the JSON body; fail with the response when it is not 200."""
    response = client.get(f"{API}{path}", params=params)
    assert response.status_code == 200, f"GET {path} -> {response.status_code}: {response.text}"
    return response.json()


def wait_order(client: httpx.Client, order_id: str, status: str) -> dict[str, Any]:
    """Poll GET /orders/{id} until the order has ``status``; return it."""

    def probe() -> dict[str, Any] | None:
        order: dict[str, Any] = get_ok(client, f"/orders/{order_id}")
        return order if order["status"] == status else None

    return wait_for(probe, f"order {order_id} to be {status}")


def orders_of(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    """Return every order the caller sees (one page of up to 1000)."""
    page = get_ok(client, "/orders", limit="1000", **params)
    assert page["total"] <= 1000, "more orders than one page"
    items: list[dict[str, Any]] = page["items"]
    return items
