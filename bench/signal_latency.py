"""Latency of ``POST /api/v1/signals``: server-side to venue acknowledgement, and round trip.

Usage: signal_latency.py [--repeats 3] [--signals 2000] [--concurrency 16]

Each run starts a fresh service (demo mode, SQLite journal and directory in a temporary
folder, the simulated venue, the market data feed on; see ``api_throughput.py``) and a
bare FastAPI server that only validates ``SignalIn`` (the floor of HTTP, validation and
client cost). It posts ``--signals`` unique market signals (BUY and SELL of 0.01 BTCUSD
alternating) in two phases:

* sequential: one request after another on one keep-alive connection;
* concurrent: ``--concurrency`` connections share the same number of signals.

The client is a minimal HTTP/1.1 client on asyncio streams with every request encoded
beforehand, in this process (the servers run in their own), so that the client's own cost
shows little in the round trips; the bare server's round trips show what remains of it.

Per phase it reports:

* server p50/p99 of ``trading_order_execution_time_seconds`` (from /metrics, the delta of
  the phase): from the signal's arrival in the engine (after body validation and
  authentication) to the simulated venue's acknowledgement (``OrderAccepted``). These
  quantiles are interpolated inside the histogram's buckets, as Prometheus'
  ``histogram_quantile`` does, so they are only as fine as the buckets;
* client p50/p99 of the round trip, on the real service and on the bare server.

Prints a Markdown table with the medians of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

import httpx

from api_throughput import SIGNALS, Server, signal_body, start_server, wait_tradable

HISTOGRAM = "trading_order_execution_time_seconds"


# Histogram --------------------------------------------------------------------------------


def read_buckets(server: Server) -> dict[float, float]:
    """Return the cumulative bucket counts of the execution-time histogram by upper bound."""
    text = httpx.get(f"{server.base}/metrics", timeout=30).text
    buckets: dict[float, float] = {}
    prefix = f'{HISTOGRAM}_bucket{{le="'
    for line in text.splitlines():
        if line.startswith(prefix):
            bound = line[len(prefix) :].split('"', 1)[0]
            buckets[math.inf if bound == "+Inf" else float(bound)] = float(line.rsplit(" ", 1)[1])
    if not buckets:
        raise RuntimeError(f"{HISTOGRAM} is missing from /metrics")
    return buckets


def histogram_quantile(q: float, before: dict[float, float], after: dict[float, float]) -> float:
    """Return the ``q`` quantile (seconds) of the observations between two snapshots.

    Linear interpolation inside the bucket that holds the rank, as Prometheus does; a rank
    in the +Inf bucket answers the highest finite bound.
    """
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1]
    if total <= 0:
        return math.nan
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return bounds[-2]


def observations(before: dict[float, float], after: dict[float, float]) -> int:
    """Return how many observations were added between two snapshots."""
    return int(after[math.inf] - before.get(math.inf, 0.0))


# Client -----------------------------------------------------------------------------------


def raw_requests(server: Server, prefix: str, count: int) -> list[bytes]:
    """Return ``count`` complete HTTP/1.1 requests, each with a unique signal ID."""
    host = server.base.removeprefix("http://")
    requests = []
    for n in range(count):
        body = json.dumps(signal_body(f"{prefix}-{n}", "BUY" if n % 2 else "SELL")).encode()
        head = (
            f"POST {SIGNALS} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {server.key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        requests.append(head.encode() + body)
    return requests


async def _connection(server: Server, requests: list[bytes], times: list[float]) -> None:
    host, port = server.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            times.append((time.perf_counter() - started) * 1000)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{head.splitlines()[0]!r}: {body[:300]!r}")
    finally:
        writer.close()
        await writer.wait_closed()


def post_all(server: Server, requests: list[bytes], connections: int) -> list[float]:
    """Send ``requests`` over ``connections`` keep-alive connections; return round trips (ms).

    A minimal HTTP/1.1 client on asyncio streams with the requests encoded beforehand, so
    that the client adds little to the round trip. One connection sends one request after
    another.
    """
    times: list[float] = []

    async def run() -> None:
        shares = [requests[i::connections] for i in range(connections)]
        await asyncio.gather(*(_connection(server, share, times) for share in shares))

    asyncio.run(run())
    return times


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# Runs -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Phase:
    """Figures of one phase, one value per run."""

    server_p50: list[float] = field(default_factory=list)
    server_p99: list[float] = field(default_factory=list)
    client_p50: list[float] = field(default_factory=list)
    client_p99: list[float] = field(default_factory=list)
    bare_p50: list[float] = field(default_factory=list)
    bare_p99: list[float] = field(default_factory=list)


def run_phase(
    real: Server, bare: Server, phase: Phase, prefix: str, count: int, connections: int
) -> None:
    """Post one phase to the bare server, then to the real one, and record the figures."""
    bare_times = post_all(bare, raw_requests(bare, prefix, count), connections)
    phase.bare_p50.append(percentile(bare_times, 0.5))
    phase.bare_p99.append(percentile(bare_times, 0.99))
    requests = raw_requests(real, prefix, count)
    before = read_buckets(real)
    times = post_all(real, requests, connections)
    after = read_buckets(real)
    seen = observations(before, after)
    if seen != count:
        raise RuntimeError(f"{prefix}: {seen} acknowledgements observed, {count} sent")
    phase.server_p50.append(histogram_quantile(0.5, before, after) * 1000)
    phase.server_p99.append(histogram_quantile(0.99, before, after) * 1000)
    phase.client_p50.append(percentile(times, 0.5))
    phase.client_p99.append(percentile(times, 0.99))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description="POST /api/v1/signals latency")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--signals", type=int, default=2000, help="signals per phase")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)

    phases = {"sequential": Phase(), f"concurrent ({args.concurrency})": Phase()}
    for run in range(args.repeats):
        with start_server("real") as real, start_server("bare") as bare:
            wait_tradable(real, f"warmup-{run}")
            run_phase(real, bare, phases["sequential"], f"seq-{run}", args.signals, 1)
            run_phase(
                real,
                bare,
                phases[f"concurrent ({args.concurrency})"],
                f"con-{run}",
                args.signals,
                args.concurrency,
            )
        for name, phase in phases.items():
            print(
                f"run {run + 1} {name}: server p50 {phase.server_p50[-1]:.3f} ms "
                f"p99 {phase.server_p99[-1]:.3f} ms; client p50 {phase.client_p50[-1]:.2f} ms "
                f"p99 {phase.client_p99[-1]:.2f} ms; bare p50 {phase.bare_p50[-1]:.2f} ms "
                f"p99 {phase.bare_p99[-1]:.2f} ms",
                file=sys.stderr,
                flush=True,
            )

    def med(values: list[float], digits: int) -> str:
        return f"{statistics.median(values):.{digits}f}"

    print(
        f"POST {SIGNALS}: {args.signals} signals per phase, {args.repeats} runs (medians), "
        f"{os.cpu_count()} CPUs"
    )
    print()
    print(
        "| phase | server p50 ms | server p99 ms | client p50 ms | client p99 ms "
        "| bare client p50 ms | bare client p99 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, phase in phases.items():
        print(
            f"| {name} | {med(phase.server_p50, 3)} | {med(phase.server_p99, 3)} "
            f"| {med(phase.client_p50, 2)} | {med(phase.client_p99, 2)} "
            f"| {med(phase.bare_p50, 2)} | {med(phase.bare_p99, 2)} |"
        )
    print()
    print(
        "server: signal arrival in the engine to venue acknowledgement "
        f"({HISTOGRAM}, interpolated in its buckets); client: HTTP round trip."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
