"""The real service as a subprocess, trading on Binance fakes that run in this process.

Each fake serves on 127.0.0.1 from its own thread and event loop, so the test can move
its market, fill, cancel or stop it while the service runs (or lies dead). The service
account ``LIVE1`` is created in the directory with its API keys encrypted under a
fresh master key, exactly as an operator would, and the venues are configured through
``ALPHINTRA_VENUES`` and ``ALPHINTRA_FAILOVER``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import httpx

from alphintra.app.config import Settings
from alphintra.security import CredentialVault, MasterKey, Role, generate_api_key
from alphintra.store.directory import Directory
from alphintra.store.migrate import upgrade
from venues.fakes.binance import FakeBinance
from venues.fakes.binance_wire import BALANCES

ACCOUNT = "LIVE1"
TRADER = "trader"
SYMBOL = "BTCUSDT"
_T = TypeVar("_T")
STATUS = {  # the fake's order status -> the service's
    "NEW": "ACCEPTED",
    "PARTIALLY_FILLED": "PARTIALLY_FILLED",
    "FILLED": "FILLED",
    "CANCELED": "CANCELLED",
    "EXPIRED": "EXPIRED",
    "REJECTED": "REJECTED",
}


class FakeVenue:
    """A ``FakeBinance`` served from a thread; every call runs on the fake's own loop."""

    def __init__(
        self,
        api_key: str = "fake-binance-key",
        secret: str = "fake-binance-secret",
        *,
        serve: bool = True,
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = self.call(lambda: FakeBinance(api_key=api_key, secret=secret))
        self.base_url = self.fake.base_url
        if serve:
            self.serve()

    def serve(self) -> None:
        """Start answering on the port bound at construction (refused until then)."""
        self._run(self.fake.start())

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    def call(self, action: Callable[[], _T]) -> _T:
        """Run ``action`` on the fake's loop (the fake is not thread-safe) and return it."""

        async def run() -> _T:
            return action()

        result: _T = self._run(run())
        return result

    def set_quote(self, bid: str, ask: str, symbol: str = SYMBOL) -> None:
        """Move the market: resting orders it crosses fill at their limit price."""
        self.call(lambda: self.fake.set_quote(symbol, Decimal(bid), Decimal(ask)))

    def stop(self) -> None:
        """Stop serving (connections are refused from now on)."""
        self._run(self.fake.stop())

    def close(self) -> None:
        """Stop serving and end the thread."""
        with_runner = self.fake._runner is not None
        if with_runner:
            self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def position(self) -> Decimal:
        """Return the BTC the account gained at the fake (its position from fills)."""

        def held() -> Decimal:
            book = self.fake.book
            return book.free.get("BTC", Decimal(0)) + book.locked.get("BTC", Decimal(0))

        return self.call(held) - BALANCES["BTC"]

    def orders(self) -> list[dict[str, Any]]:
        """Return every order the fake holds: client ID, status, filled, quantity."""
        return self.call(
            lambda: [
                {
                    "client_id": o.client_id,
                    "status": o.status,
                    "filled": o.filled,
                    "quantity": o.quantity,
                    "side": o.side,
                }
                for o in sorted(self.fake.book.orders.values(), key=lambda o: o.seq)
            ]
        )

    def trades(self) -> dict[str, tuple[str, Decimal, Decimal]]:
        """Return the fake's executions: trade ID -> (side, quantity, price)."""
        return self.call(lambda: {t.tid: (t.side, t.qty, t.price) for t in self.fake.book.trades})


@dataclass(slots=True)
class Service:
    """One run of ``alphintra serve`` on a given database and port."""

    process: subprocess.Popen[bytes]
    base_url: str
    stderr: Path
    stdout: Path

    def kill(self) -> None:
        """SIGKILL the service and reap it."""
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=20) == -signal.SIGKILL

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill when it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        """Return the end of the service's log."""
        return self.stderr.read_text()[-2000:] + self.stdout.read_text()[-4000:]

    def events(self, event: str) -> list[dict[str, Any]]:
        """Return the service's structured log records of ``event`` (JSON lines on stdout)."""
        records = []
        for line in self.stdout.read_text().splitlines():
            if line.startswith("{") and f'"event": "{event}"' in line:
                records.append(json.loads(line))
        return records


@dataclass(slots=True)
class Deployment:
    """A database with a trader, a live account and the environment to serve it."""

    directory: Path
    database_url: str
    env: dict[str, str]
    key: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command() -> list[str]:
    script = Path(sys.executable).with_name("alphintra")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "alphintra.app.cli"]


def venue_settings(fake: FakeVenue, instruments: list[str]) -> dict[str, Any]:
    """Return the ``ALPHINTRA_VENUES`` entry for a ccxt binance connection to ``fake``."""
    return {
        "kind": "ccxt",
        "instruments": instruments,
        "settings": {
            "exchange_id": "binance",
            "base_url": fake.base_url,
            "enable_rate_limit": False,
            "timeout_s": 2.0,
            "poll_interval_s": 0.2,
            "max_backoff_s": 1.0,
        },
    }


def deploy(
    directory: Path,
    venues: dict[str, FakeVenue],
    failover: dict[str, list[str]] | None = None,
    instruments: tuple[str, ...] = (SYMBOL,),
) -> Deployment:
    """Create the database, the trader and ``LIVE1`` on the first venue, with its keys."""
    database_url = f"sqlite:///{directory / 'live.db'}"
    master = base64.b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(demo=True, database_url=database_url, market_data_dir=None)
    api_key = generate_api_key(settings.pepper_bytes())
    upgrade(database_url)
    store = Directory(database_url)
    try:
        store.add_user(TRADER, Role.TRADER.value)
        store.add_key(api_key.key_id, TRADER, api_key.key_hash, "live venue tests")
        credentials: dict[str, str] = {}
        for name, venue in venues.items():
            credentials[f"{name}.api_key"] = venue.fake.api_key
            credentials[f"{name}.secret"] = venue.fake.secret
        vault = CredentialVault(MasterKey.from_base64(master))
        store.add_account(
            ACCOUNT,
            TRADER,
            next(iter(venues)),
            "USDT",
            "10000000",
            vault.encrypt(json.dumps(credentials).encode(), ACCOUNT.encode()),
        )
    finally:
        store.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHINTRA_")}
    env.update(
        DATABASE_URL=database_url,
        ALPHINTRA_MASTER_KEY=master,
        ALPHINTRA_FEED_INTERVAL_MS="1000",
        ALPHINTRA_LOG_LEVEL="INFO",
        ALPHINTRA_VENUES=json.dumps(
            {n: venue_settings(v, list(instruments)) for n, v in venues.items()}
        ),
        ALPHINTRA_FAILOVER=json.dumps(failover or {}),
        ALPHINTRA_VENUE_HEALTH_INTERVAL_S="0.3",
        ALPHINTRA_RECONCILE_INTERVAL_S="2",
    )
    return Deployment(directory, database_url, env, api_key.full_key)


def start(deployment: Deployment, run: int, *, ready: bool = True) -> Service:
    """Start the service; wait until it is healthy (and ready, with ``ready``)."""
    port = _free_port()
    stdout = deployment.directory / f"stdout-{run}.txt"
    stderr = deployment.directory / f"stderr-{run}.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*_command(), "serve", "--demo", "--port", str(port)],
            stdout=out,
            stderr=err,
            env=deployment.env,
            cwd=deployment.directory,
        )
    service = Service(process, f"http://127.0.0.1:{port}", stderr, stdout)
    path = "/readyz" if ready else "/healthz"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the service exited with {process.returncode}: {service.log()}")
        try:
            if httpx.get(f"{service.base_url}{path}", timeout=2).status_code == 200:
                return service
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    service.stop()
    raise AssertionError(f"the service did not get to {path}: {service.log()}")


@contextmanager
def running(deployment: Deployment, run: int, *, ready: bool = True) -> Iterator[Service]:
    """Run the service for the duration of the block; always stop it afterwards."""
    service = start(deployment, run, ready=ready)
    try:
        yield service
    finally:
        service.stop()


def client(service: Service, key: str) -> httpx.Client:
    """Return an HTTP client for the service, authenticated as the trader."""
    return httpx.Client(base_url=service.base_url, headers={"X-API-Key": key}, timeout=30)


def pages(http: httpx.Client, path: str) -> list[dict[str, Any]]:
    """Return every item of a paged list endpoint for ``LIVE1``."""
    items: list[dict[str, Any]] = []
    while True:
        response = http.get(
            path, params={"accountId": ACCOUNT, "offset": len(items), "limit": 1000}
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if len(items) >= page["total"] or not page["items"]:
            return items


def wait_for(
    condition: Callable[[], _T], what: str, timeout_s: float = 60, service: Service | None = None
) -> _T:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    last: _T = condition()
    while not last:
        if time.monotonic() > deadline:
            tail = f"\nservice log:\n{service.log()}" if service is not None else ""
            raise AssertionError(f"timed out waiting for {what}: last {last!r}{tail}")
        time.sleep(0.1)
        last = condition()
    return last
