"""Requests/s of ``POST /api/v1/signals``: the real service against a bare FastAPI endpoint.

Usage: api_throughput.py [--repeats 3] [--connections 16] [--duration 10] [--threads 2]

Both servers run in their own process with the same uvicorn settings (one worker, uvloop,
httptools, access log off) on a free 127.0.0.1 port:

* bare: a FastAPI app whose ``POST /api/v1/signals`` validates the body as ``SignalIn`` and
  returns a constant;
* real: the service as ``alphintra serve --demo`` builds it (``build_runtime``): SQLite
  journal and directory in a temporary folder, the simulated venue, the market data feed
  on, API key authentication.

The load comes from ``wrk`` (a separate process) with a Lua script that gives every request
a unique ``signalId`` (market BUY and SELL of 0.01 BTCUSD, alternating) and sends the API
key to both. The runs alternate bare, real, bare, real, ...; each run gets a fresh server.
Prints a Markdown table with the medians and the ratio real / bare (target: at least 60%),
and each server's CPU time per request (user + system, all its threads, from /proc): a
figure that other load on the machine moves much less than requests/s.
With ``--profile DIR`` py-spy records the real server during each run (collapsed stacks,
for flamegraph.pl or speedscope).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from alphintra.api.schemas import SignalIn  # module level: FastAPI resolves the annotation

SYMBOL = "BTCUSD"
QUANTITY = "0.01"
SIGNALS = "/api/v1/signals"

LUA = r"""
local counter = 0
local prefix = "x"
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function init(args)
  prefix = args[1] .. "-" .. tostring(tid) .. "-"
end

function request()
  counter = counter + 1
  local action = "BUY"
  if counter % 2 == 0 then action = "SELL" end
  local body = '{"signalId":"' .. prefix .. counter .. '","modelId":"bench","symbol":"'
    .. args_symbol .. '","action":"' .. action .. '","confidence":0.8,"quantity":'
    .. args_quantity .. '}'
  return wrk.format("POST", nil, nil, body)
end
"""


# Servers --------------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def uvicorn_config(app: Any, port: int) -> Any:
    """Return the uvicorn settings both servers share."""
    import uvicorn

    return uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
    )


def serve_bare(port: int) -> None:
    """Serve the bare endpoint: validate ``SignalIn``, return a constant."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    constant: dict[str, Any] = {
        "signalId": "constant",
        "status": "ACCEPTED",
        "reasonCode": None,
        "reason": None,
        "orderIds": [],
        "duplicate": False,
    }

    @app.post(SIGNALS)
    async def post_signal(body: SignalIn) -> dict[str, Any]:
        _ = body
        return constant

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    print(json.dumps({"bench_key": "unused"}), flush=True)
    uvicorn.Server(uvicorn_config(app, port)).run()


def serve_real(port: int, directory: Path, feed_interval_ms: int) -> None:
    """Serve the real service in demo mode with its journal and directory in ``directory``."""
    import uvicorn

    from alphintra.app.config import Settings
    from alphintra.app.server import build_runtime, configure_logging

    settings = Settings(
        demo=True,
        database_url=f"sqlite:///{directory / 'alphintra.db'}",
        port=port,
        log_level="WARNING",
        feed_interval_ms=feed_interval_ms,
    )
    configure_logging(settings.log_level)
    runtime = build_runtime(settings, {})
    print(json.dumps({"bench_key": runtime.demo_key}), flush=True)
    try:
        uvicorn.Server(uvicorn_config(runtime.app, port)).run()
    finally:
        runtime.service.flush_all()
        runtime.journal.close()
        runtime.directory.close()


@dataclass(slots=True)
class Server:
    """A server process started by :func:`start_server`."""

    kind: str
    process: subprocess.Popen[str]
    base: str
    key: str


@contextlib.contextmanager
def start_server(kind: str, feed_interval_ms: int = 250) -> Iterator[Server]:
    """Start ``kind`` ("bare" or "real") in a child process; stop it and clean up on exit."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix=f"alphintra-bench-{kind}-"))
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve",
        kind,
        "--port",
        str(port),
        "--dir",
        str(workdir),
        "--feed-interval-ms",
        str(feed_interval_ms),
    ]
    stderr = (workdir / "stderr.log").open("w")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert process.stdout is not None
        key = None
        while key is None:  # structlog may print log lines to stdout before the key
            line = process.stdout.readline()
            if not line:
                log = (workdir / "stderr.log").read_text()
                raise RuntimeError(f"{kind} server exited: {log}")
            with contextlib.suppress(ValueError):
                key = json.loads(line).get("bench_key")
        threading.Thread(target=drain, args=(process.stdout,), daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        yield Server(kind, process, base, key)
    finally:
        stop(process)
        stderr.close()
        shutil.rmtree(workdir, ignore_errors=True)


def drain(stream: IO[str]) -> None:
    """Read a child's stdout to its end so that it never blocks on a full pipe."""
    with contextlib.suppress(ValueError, OSError):
        for _ in stream:
            pass


def wait_healthy(base: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    """Wait until ``/healthz`` answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server at {base} did not become healthy in {timeout} s")


def stop(process: subprocess.Popen[str]) -> None:
    """Stop a server gracefully (SIGINT), then by force."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def signal_body(signal_id: str, action: str) -> dict[str, Any]:
    """Return a market signal body with a fixed quantity on the benchmark symbol."""
    return {
        "signalId": signal_id,
        "modelId": "bench",
        "symbol": SYMBOL,
        "action": action,
        "confidence": 0.8,
        "quantity": float(QUANTITY),
    }


def wait_tradable(server: Server, prefix: str, timeout: float = 30) -> None:
    """Post one signal and wait for its order to fill (the feed has quoted the symbol).

    The simulated venue fills a market order on the next quote of its symbol, so a
    signal answers ACCEPTED and its order fills within one feed interval.
    """
    headers = {"X-API-Key": server.key}
    with httpx.Client(base_url=server.base, headers=headers, timeout=10) as client:
        response = client.post(SIGNALS, json=signal_body(f"{prefix}-1", "BUY"))
        response.raise_for_status()
        if server.kind == "bare":
            return
        order_id = response.json()["orderIds"][0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            order = client.get(f"/api/v1/orders/{order_id}").json()
            if order["status"] == "FILLED":
                client.post(SIGNALS, json=signal_body(f"{prefix}-2", "SELL")).raise_for_status()
                return
            time.sleep(0.05)
    raise RuntimeError(f"the warm-up order on {server.base} did not fill within {timeout} s")


# Load generator -------------------------------------------------------------------------


@dataclass(slots=True)
class WrkResult:
    """What one wrk run measured."""

    requests_per_s: float
    requests: int
    non_2xx: int
    socket_errors: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    cpu_us_per_request: float | None = None
    """The server process's CPU time (all threads) per request, where /proc tells it."""


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"cannot read wrk duration {text!r}")
    value = float(match.group(1))
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Read requests/s, counts and latency percentiles from wrk's report."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rate is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        latency_p50_ms=_ms(p50.group(1)) if p50 else None,
        latency_p99_ms=_ms(p99.group(1)) if p99 else None,
    )


def run_wrk(
    server: Server,
    run_id: str,
    connections: int,
    duration: int,
    threads: int,
) -> WrkResult:
    """Post unique signals with wrk for ``duration`` seconds; return what it measured."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    with tempfile.TemporaryDirectory(prefix="alphintra-wrk-") as tmp:
        script = Path(tmp) / "signals.lua"
        prelude = f'args_symbol = "{SYMBOL}"\nargs_quantity = "{QUANTITY}"\n'
        script.write_text(prelude + LUA, encoding="utf-8")
        command = [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            "-H",
            "Content-Type: application/json",
            "-H",
            f"X-API-Key: {server.key}",
            f"{server.base}{SIGNALS}",
            "--",
            run_id,
        ]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
    return parse_wrk(done.stdout)


def filled_orders(server: Server) -> int:
    """Return how many of the real server's orders are FILLED."""
    response = httpx.get(
        f"{server.base}/api/v1/orders",
        params={"status": "FILLED", "limit": 1},
        headers={"X-API-Key": server.key},
        timeout=60,
    )
    response.raise_for_status()
    total: int = response.json()["total"]
    return total


def process_cpu_s(pid: int) -> float | None:
    """Return the user + system CPU seconds of a process so far (Linux /proc), or None.

    A measure the other processes on the machine do not move, unlike requests/s.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def profiling(pid: int, out: Path | None) -> Iterator[None]:
    """Record ``pid`` with py-spy into ``out`` (collapsed stacks) while the block runs."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    process = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--output",
            str(out),
            "--format",
            "raw",
            "--rate",
            "250",
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Main -----------------------------------------------------------------------------------


def _us(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def measure(kind: str, run: int, args: argparse.Namespace) -> tuple[WrkResult, int | None]:
    """Start a fresh ``kind`` server, load it with wrk; return the result and new fills."""
    with start_server(kind) as server:
        wait_tradable(server, f"warmup-{run}")
        before = filled_orders(server) if kind == "real" else None
        out = None
        if args.profile is not None and kind == "real":
            out = Path(args.profile) / f"api_real_{run}.txt"
        cpu_before = process_cpu_s(server.process.pid)
        with profiling(server.process.pid, out):
            result = run_wrk(server, f"r{run}", args.connections, args.duration, args.threads)
        cpu_after = process_cpu_s(server.process.pid)
        if cpu_before is not None and cpu_after is not None and result.requests:
            result.cpu_us_per_request = (cpu_after - cpu_before) * 1e6 / result.requests
        filled = None
        if before is not None:
            time.sleep(1)  # market orders fill on the next quote
            filled = filled_orders(server) - before
    return result, filled


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print a Markdown table."""
    parser = argparse.ArgumentParser(description="POST /api/v1/signals: real vs bare FastAPI")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--profile", help="folder for py-spy stacks of the real server")
    parser.add_argument("--serve", choices=("bare", "real"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--feed-interval-ms", type=int, default=250, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve == "bare":
        serve_bare(args.port)
        return 0
    if args.serve == "real":
        serve_real(args.port, Path(args.dir), args.feed_interval_ms)
        return 0
    if args.profile is not None:
        Path(args.profile).mkdir(parents=True, exist_ok=True)

    samples: dict[str, list[WrkResult]] = {"bare": [], "real": []}
    for run in range(args.repeats):
        for kind in ("bare", "real"):
            result, filled = measure(kind, run, args)
            samples[kind].append(result)
            note = "" if filled is None else f", {filled} orders FILLED"
            print(
                f"run {run + 1} {kind}: {result.requests_per_s:,.0f} req/s, "
                f"{result.requests} requests, {result.non_2xx} non-2xx, "
                f"{result.socket_errors} socket errors, p50 {result.latency_p50_ms} ms, "
                f"p99 {result.latency_p99_ms} ms, server CPU "
                f"{_us(result.cpu_us_per_request)} us/request{note}",
                file=sys.stderr,
                flush=True,
            )

    bare = statistics.median(r.requests_per_s for r in samples["bare"])
    real = statistics.median(r.requests_per_s for r in samples["real"])

    def p(kind: str, attr: str) -> str:
        values = [getattr(r, attr) for r in samples[kind] if getattr(r, attr) is not None]
        return f"{statistics.median(values):.1f}" if values else "n/a"

    def cpu(kind: str) -> str:
        values = [r.cpu_us_per_request for r in samples[kind] if r.cpu_us_per_request]
        return f"{statistics.median(values):,.0f}" if values else "n/a"

    def runs(kind: str) -> str:
        return ", ".join(f"{r.requests_per_s:,.0f}" for r in samples[kind])

    errors = {k: sum(r.non_2xx + r.socket_errors for r in v) for k, v in samples.items()}
    print(
        f"POST {SIGNALS}, wrk {args.connections} connections, {args.threads} threads, "
        f"{args.duration} s per run, {args.repeats} alternating runs, {os.cpu_count()} CPUs"
    )
    print()
    print(
        "| server | runs (req/s) | median req/s | p50 ms | p99 ms | server CPU us/req | errors"
        " | ratio to bare |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    print(
        f"| bare FastAPI + SignalIn | {runs('bare')} | {bare:,.0f} | {p('bare', 'latency_p50_ms')}"
        f" | {p('bare', 'latency_p99_ms')} | {cpu('bare')} | {errors['bare']} | 100% |"
    )
    ratio = real / bare if bare else 0.0
    print(
        f"| alphintra service | {runs('real')} | {real:,.0f} | {p('real', 'latency_p50_ms')}"
        f" | {p('real', 'latency_p99_ms')} | {cpu('real')} | {errors['real']} | {ratio:.0%} |"
    )
    print()
    print(f"Target real >= 60% of bare: {'met' if ratio >= 0.6 else 'NOT met'} ({ratio:.0%}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
