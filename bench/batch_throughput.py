"""End-to-end signals/s through ``POST /api/v1/signals/batch`` on the real service.

Usage: batch_throughput.py [--repeats 3] [--batches 10] [--batch-size 1000] [--concurrency 2]

Each run starts a fresh service (demo mode, SQLite journal and directory in a temporary
folder, the simulated venue, the market data feed on; see ``api_throughput.py``), waits
until the feed has quoted the symbol, then posts ``--batches`` batches of unique market
signals (BUY and SELL of 0.01 BTCUSD alternating, quantity given) over ``--concurrency``
keep-alive connections. The request bodies are encoded before the clock starts.

* accepted signals/s: signals / (first request to last response);
* filled signals/s: signals / (first request to the moment every order is FILLED), polled
  with ``GET /api/v1/orders?status=FILLED&limit=1`` (its ``total``) every 50 ms.

The simulated venue fills a market order on the next quote of its symbol, so the filled
time includes up to one feed interval (``--feed-interval-ms``, the service default 250).
The server's CPU time (user + system, all threads, from /proc) per signal is reported for
the same span: a figure that other load on the machine moves much less than signals/s.
Prints a Markdown table with the medians of the runs (target: at least 10,000 signals/s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from api_throughput import (
    QUANTITY,
    SIGNALS,
    SYMBOL,
    Server,
    process_cpu_s,
    profiling,
    start_server,
    wait_tradable,
)

BATCH = f"{SIGNALS}/batch"
ORDERS = "/api/v1/orders"
POLL_S = 0.05


@dataclass(slots=True)
class BatchRun:
    """What one run measured."""

    signals: int
    accepted_s: float
    filled_s: float
    refused: int
    request_ms: list[float]
    cpu_s: float | None = None
    """The server's CPU seconds from the first request until every order filled."""

    @property
    def cpu_us_per_signal(self) -> float | None:
        """Server CPU microseconds per signal, accepting and filling it."""
        return None if self.cpu_s is None else self.cpu_s * 1e6 / self.signals

    @property
    def accepted_rate(self) -> float:
        """Signals per second from the first request to the last response."""
        return self.signals / self.accepted_s

    @property
    def filled_rate(self) -> float:
        """Signals per second from the first request until every order filled."""
        return self.signals / self.filled_s


def batch_bodies(run: int, batches: int, size: int) -> list[bytes]:
    """Return the encoded request bodies: unique IDs, BUY and SELL alternating."""
    bodies = []
    n = 0
    for b in range(batches):
        signals = []
        for _ in range(size):
            n += 1
            signals.append(
                {
                    "signalId": f"batch-{run}-{b}-{n}",
                    "modelId": "bench",
                    "symbol": SYMBOL,
                    "action": "BUY" if n % 2 else "SELL",
                    "confidence": 0.8,
                    "quantity": float(QUANTITY),
                }
            )
        bodies.append(json.dumps({"signals": signals}).encode())
    return bodies


async def filled_total(client: httpx.AsyncClient) -> int:
    """Return how many orders of the account are FILLED."""
    response = await client.get(ORDERS, params={"status": "FILLED", "limit": 1})
    response.raise_for_status()
    total: int = response.json()["total"]
    return total


async def post_batches(
    server: Server, bodies: list[bytes], concurrency: int, expected: int
) -> tuple[float, float, int, list[float]]:
    """Post every body; return (accepted s, filled s, refused signals, request ms)."""
    headers = {"X-API-Key": server.key, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency + 1)
    async with httpx.AsyncClient(
        base_url=server.base, headers=headers, timeout=300, limits=limits
    ) as client:
        baseline = await filled_total(client)
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)
        refused = 0
        request_ms: list[float] = []

        async def worker() -> None:
            nonlocal refused
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(BATCH, content=body)
                request_ms.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                for result in response.json()["results"]:
                    if result["status"] in ("INVALID", "REJECTED"):
                        refused += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        accepted = time.perf_counter() - start
        while await filled_total(client) - baseline < expected - refused:
            if time.perf_counter() - start > 600:
                raise RuntimeError("orders did not all fill within 600 s")
            await asyncio.sleep(POLL_S)
        filled = time.perf_counter() - start
    return accepted, filled, refused, request_ms


def measure(run: int, args: argparse.Namespace) -> BatchRun:
    """Run one measurement on a fresh service."""
    bodies = batch_bodies(run, args.batches, args.batch_size)
    expected = args.batches * args.batch_size
    with start_server("real", args.feed_interval_ms) as server:
        wait_tradable(server, f"warmup-{run}")
        out = None if args.profile is None else Path(args.profile) / f"batch_real_{run}.txt"
        cpu_before = process_cpu_s(server.process.pid)
        with profiling(server.process.pid, out):
            accepted, filled, refused, request_ms = asyncio.run(
                post_batches(server, bodies, args.concurrency, expected)
            )
        cpu_after = process_cpu_s(server.process.pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return BatchRun(expected, accepted, filled, refused, request_ms, cpu)


def _us(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description="signals/s through POST /api/v1/signals/batch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2, help="connections posting")
    parser.add_argument("--feed-interval-ms", type=int, default=250)
    parser.add_argument("--profile", help="folder for py-spy stacks of the server")
    args = parser.parse_args(argv)
    if args.profile is not None:
        Path(args.profile).mkdir(parents=True, exist_ok=True)

    runs = []
    for run in range(args.repeats):
        result = measure(run, args)
        runs.append(result)
        print(
            f"run {run + 1}: {result.signals} signals, accepted in {result.accepted_s:.2f} s "
            f"({result.accepted_rate:,.0f}/s), all filled in {result.filled_s:.2f} s "
            f"({result.filled_rate:,.0f}/s), {result.refused} refused, batch request ms "
            f"p50 {statistics.median(result.request_ms):.0f} max {max(result.request_ms):.0f}, "
            f"server CPU {_us(result.cpu_us_per_signal)} us/signal",
            file=sys.stderr,
            flush=True,
        )

    accepted = statistics.median(r.accepted_rate for r in runs)
    filled = statistics.median(r.filled_rate for r in runs)
    request = statistics.median(statistics.median(r.request_ms) for r in runs)
    target = 10_000
    print(
        f"POST {BATCH}: {args.batches} batches of {args.batch_size} signals per run, "
        f"{args.concurrency} connections, feed every {args.feed_interval_ms} ms, "
        f"{args.repeats} runs, {os.cpu_count()} CPUs"
    )
    print()
    print("| measure | runs | median | target | ratio to target |")
    print("|---|---|---:|---:|---:|")
    for name, values, median in (
        ("accepted signals/s", [r.accepted_rate for r in runs], accepted),
        ("filled signals/s", [r.filled_rate for r in runs], filled),
    ):
        listed = ", ".join(f"{v:,.0f}" for v in values)
        print(f"| {name} | {listed} | {median:,.0f} | {target:,} | {median / target:.2f} |")
    listed = ", ".join(f"{statistics.median(r.request_ms):,.0f}" for r in runs)
    print(f"| batch request ms (p50) | {listed} | {request:,.0f} | | |")
    cpus = [r.cpu_us_per_signal for r in runs if r.cpu_us_per_signal is not None]
    if cpus:
        listed = ", ".join(f"{v:,.0f}" for v in cpus)
        print(f"| server CPU us/signal | {listed} | {statistics.median(cpus):,.0f} | | |")
    refused = sum(r.refused for r in runs)
    print()
    print(
        f"Refused signals: {refused}. Target >= {target:,} signals/s: accepted "
        f"{'met' if accepted >= target else 'NOT met'}, filled "
        f"{'met' if filled >= target else 'NOT met'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
