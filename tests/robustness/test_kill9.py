"""Kill -9: the real service, SIGKILLed under load, loses no acknowledged signal.

The service runs as a subprocess on a SQLite database. Eight clients post 2,000 signals
(single posts and batches); part-way the process is SIGKILLed. It restarts on the same
database; every signal that got a 2xx must be there with its orders, nothing may exist
twice, and the journal's hash chain must verify. The signals that were never
acknowledged are then posted again and must go through.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import open_journal
from alphintra.store.verify import verify

SIGNALS = 2_000
CLIENTS = 8
SEED = 20240607
ACCOUNT = AccountId("DEMO")
KEY_LINE = "Demo API key (shown once): "
INSTRUMENTS = (("SPY", "1"), ("BTCUSD", "0.001"), ("EURUSD", "1000"))
RESTING = {  # limit prices no market in the data reaches
    "SPY": {"BUY": "1.00", "SELL": "100000.00"},
    "EURUSD": {"BUY": "0.10000", "SELL": "10.00000"},
}
CLOSED = {"FILLED", "CANCELLED", "REJECTED", "EXPIRED", "DENIED"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(slots=True)
class Service:
    """One run of ``alphintra serve --demo`` on a given database and port."""

    process: subprocess.Popen[bytes]
    base_url: str
    stdout: Path

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill when it does not exit in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _command() -> list[str]:
    script = Path(sys.executable).with_name("alphintra")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "alphintra.app.cli"]


def start(directory: Path, database_url: str, run: int) -> Service:
    """Start the service and wait until it answers /healthz."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALPHINTRA_")}
    env.update(
        DATABASE_URL=database_url, ALPHINTRA_FEED_INTERVAL_MS="20", ALPHINTRA_LOG_LEVEL="WARNING"
    )
    port = _free_port()
    stdout = directory / f"stdout-{run}.txt"
    stderr = directory / f"stderr-{run}.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [*_command(), "serve", "--demo", "--port", str(port)],
            stdout=out,
            stderr=err,
            env=env,
            cwd=directory,
        )
    service = Service(process, f"http://127.0.0.1:{port}", stdout)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"the service exited with {process.returncode}: {stderr.read_text()[-2000:]}"
            )
        try:
            if httpx.get(f"{service.base_url}/healthz", timeout=1).status_code == 200:
                return service
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    service.stop()
    raise AssertionError(f"the service did not start: {stderr.read_text()[-2000:]}")


def demo_key(service: Service) -> str:
    """Return the demo API key the first run printed."""
    for line in service.stdout.read_text().splitlines():
        if line.startswith(KEY_LINE):
            return line.removeprefix(KEY_LINE).strip()
    raise AssertionError(f"no demo API key in the output: {service.stdout.read_text()!r}")


@contextmanager
def running(directory: Path, database_url: str, run: int) -> Iterator[Service]:
    """Run the service for the duration of the block; always stop it afterwards."""
    service = start(directory, database_url, run)
    try:
        yield service
    finally:
        service.stop()


def make_signals(rng: random.Random) -> list[dict[str, Any]]:
    """Return the signals: unique IDs; market orders, resting limits and closes mixed.

    Limits far from any price stay working across the kill, so the restart must send
    them to the (new, empty) venue again; closes without a position are rejected with
    no order at all, so only the journal remembers them.
    """
    signals = []
    for index in range(SIGNALS):
        symbol, quantity = rng.choice(INSTRUMENTS)
        signal: dict[str, Any] = {
            "signalId": f"k9-{index:04d}",
            "modelId": "kill9",
            "symbol": symbol,
            "action": rng.choice(("BUY", "SELL")),
            "confidence": 0.6,
            "quantity": quantity,
        }
        kind = rng.random()
        if kind < 0.15 and symbol in RESTING:
            signal["orderType"] = "LIMIT"
            signal["entryPrice"] = RESTING[symbol][signal["action"]]
        elif kind < 0.3:
            signal["action"] = rng.choice(("CLOSE_LONG", "CLOSE_SHORT"))
        signals.append(signal)
    return signals


def make_posts(signals: list[dict[str, Any]], rng: random.Random) -> list[list[dict[str, Any]]]:
    """Split the signals into posts: about half single, the rest batches of 2 to 25."""
    posts: list[list[dict[str, Any]]] = []
    index = 0
    while index < len(signals):
        size = 1 if rng.random() < 0.5 else rng.randint(2, 25)
        posts.append(signals[index : index + size])
        index += size
    return posts


@dataclass(slots=True)
class Load:
    """What the clients saw while the service was being killed."""

    kill_after: int
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Signal ID -> the answer, for every signal answered with a 2xx."""
    refused: list[str] = field(default_factory=list)
    killed: bool = False


async def post_until_killed(
    service: Service, key: str, posts: list[list[dict[str, Any]]], load: Load
) -> None:
    """Post from ``CLIENTS`` concurrent clients; SIGKILL the service after ``kill_after`` acks."""
    queue = deque(posts)

    def acknowledge(result: dict[str, Any]) -> None:
        if result.get("status") == "INVALID":
            load.refused.append(f"{result['signalId']}: {result}")
            return
        load.acked[result["signalId"]] = result
        if not load.killed and len(load.acked) >= load.kill_after:
            load.killed = True
            service.process.send_signal(signal.SIGKILL)

    async def client() -> None:
        async with httpx.AsyncClient(
            base_url=service.base_url, headers={"X-API-Key": key}, timeout=30
        ) as http:
            while queue and not load.killed:
                post = queue.popleft()
                try:
                    if len(post) == 1:
                        response = await http.post("/api/v1/signals", json=post[0])
                    else:
                        response = await http.post("/api/v1/signals/batch", json={"signals": post})
                except httpx.TransportError:
                    return  # killed while this post was in flight: not acknowledged
                if response.status_code // 100 != 2:
                    load.refused.append(f"{response.status_code}: {response.text[:300]}")
                    continue
                payload = response.json()
                for result in payload["results"] if len(post) != 1 else [payload]:
                    acknowledge(result)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))


async def pages(http: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    """Return every item of a paged list endpoint."""
    items: list[dict[str, Any]] = []
    while True:
        response = await http.get(path, params={"offset": len(items), "limit": 1000})
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if len(items) >= page["total"] or not page["items"]:
            return items


async def snapshot(http: httpx.AsyncClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return (orders, fills) as of one moment: no fill arrived while the orders were read.

    Orders sent after the restart wait for the feed's next quote, so fills may still come.
    """
    for _ in range(100):
        before = await pages(http, "/api/v1/trades")
        orders = await pages(http, "/api/v1/orders")
        after = await pages(http, "/api/v1/trades")
        if len(before) == len(after):
            return orders, after
        await asyncio.sleep(0.05)
    raise AssertionError("fills kept arriving: no quiet moment to compare orders and fills")


async def check_no_duplicates(http: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Assert no order, entry order per signal or fill exists twice; return orders by ID."""
    orders, trades = await snapshot(http)
    ids = Counter(o["orderId"] for o in orders)
    assert [i for i, n in ids.items() if n > 1] == []
    entries = Counter(o["signalId"] for o in orders if o["signalId"] and o["parentId"] is None)
    assert [s for s, n in entries.items() if n > 1] == []
    trade_ids = Counter((t["venue"], t["tradeId"]) for t in trades)
    assert [t for t, n in trade_ids.items() if n > 1] == []
    by_id = {o["orderId"]: o for o in orders}
    filled: Counter[str] = Counter()
    for trade in trades:
        filled[trade["orderId"]] += Decimal(trade["quantity"])  # type: ignore[assignment]
    for order_id, quantity in filled.items():
        order = by_id[order_id]
        assert quantity == Decimal(order["filledQuantity"]) <= Decimal(order["quantity"]), order
    return by_id


async def check_acknowledged(
    http: httpx.AsyncClient,
    acked: dict[str, dict[str, Any]],
    orders: dict[str, dict[str, Any]],
) -> None:
    """Assert every acknowledged signal is there with the orders it was answered with."""
    semaphore = asyncio.Semaphore(CLIENTS)

    async def check(signal_id: str, answer: dict[str, Any]) -> None:
        async with semaphore:
            response = await http.get(f"/api/v1/signals/{signal_id}")
        assert response.status_code == 200, f"{signal_id}: {response.text}"
        assert response.json()["orderIds"] == answer["orderIds"], signal_id
        for order_id in answer["orderIds"]:
            assert orders[order_id]["signalId"] == signal_id

    await asyncio.gather(*(check(s, answer) for s, answer in acked.items()))


async def check_resting_orders_work(
    http: httpx.AsyncClient,
    signals: list[dict[str, Any]],
    acked: dict[str, dict[str, Any]],
    orders: dict[str, dict[str, Any]],
) -> None:
    """Assert the limits acknowledged as working still work after the restart (cancel them)."""
    limits = {s["signalId"] for s in signals if s.get("orderType") == "LIMIT"}
    working = {s for s in limits if s in acked and acked[s]["status"] == "ACCEPTED"}
    resting = [o for o in orders.values() if o["signalId"] in working]
    assert resting, "no resting limit order to carry across the kill"
    assert [o for o in resting if o["status"] in CLOSED] == []
    for order in resting:
        response = await http.delete(f"/api/v1/orders/{order['orderId']}")
        assert response.status_code == 200, response.text
        assert response.json()["status"] in {"CANCELLED", "PENDING_CANCEL"}


def check_journal(database_url: str) -> int:
    """Verify the account's hash chain with the service stopped; return the head seq."""
    journal = open_journal(database_url)
    try:
        report = verify(journal, ACCOUNT)
        assert report.ok, str(report)
        assert report.checked > 0
        return report.head.seq
    finally:
        journal.close()


async def scenario(directory: Path) -> None:
    database_url = f"sqlite:///{directory / 'a.db'}"
    rng = random.Random(SEED)
    signals = make_signals(rng)
    posts = make_posts(signals, rng)
    load = Load(kill_after=rng.randint(SIGNALS // 5, SIGNALS * 3 // 5))

    first = start(directory, database_url, 1)
    try:
        key = demo_key(first)
        await post_until_killed(first, key, posts, load)
        assert load.killed, "every signal was acknowledged before the kill"
        assert first.process.wait(timeout=20) == -signal.SIGKILL
    finally:
        first.stop()
    assert load.refused == []
    assert len(load.acked) >= load.kill_after
    head_after_kill = check_journal(database_url)

    with running(directory, database_url, 2) as second:
        async with httpx.AsyncClient(
            base_url=second.base_url, headers={"X-API-Key": key}, timeout=30
        ) as http:
            orders = await check_no_duplicates(http)
            await check_acknowledged(http, load.acked, orders)

            remaining = [s for s in signals if s["signalId"] not in load.acked]
            assert remaining, "the kill came after the last signal"
            results: dict[str, dict[str, Any]] = {}
            for start_at in range(0, len(remaining), 100):
                chunk = remaining[start_at : start_at + 100]
                response = await http.post("/api/v1/signals/batch", json={"signals": chunk})
                assert response.status_code == 200, response.text
                results.update((r["signalId"], r) for r in response.json()["results"])
            assert [r for r in results.values() if r["status"] == "INVALID"] == []
            assert set(results) == {s["signalId"] for s in remaining}

            orders = await check_no_duplicates(http)
            await check_acknowledged(http, results, orders)
            await check_acknowledged(http, load.acked, orders)
            await check_resting_orders_work(http, signals, load.acked, orders)
    assert check_journal(database_url) > head_after_kill


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_service_sigkilled_under_load_keeps_every_acknowledged_signal_once(
    tmp_path: Path,
) -> None:
    asyncio.run(scenario(tmp_path))
