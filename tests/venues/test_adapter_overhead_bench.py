"""Smoke test of bench/adapter_overhead.py: a tiny run reports every figure."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "adapter_overhead.py"
VENUES = {"ccxt-binance", "ccxt-kraken", "alpaca", "oanda", "simulated"}


def test_adapter_overhead_bench_reports_every_venue_and_operation() -> None:
    command = [sys.executable, str(BENCH), "--n", "4", "--warmup", "2"]
    command += ["--loops", "20", "--repeats", "2", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1, "--json prints exactly one line"
    report = json.loads(lines[0])
    assert report["n"] == 4
    assert set(report["venues"]) == VENUES
    for name, entry in report["venues"].items():
        assert entry["same_requests"], (name, entry.get("baseline_requests"))
        for op in ("market", "limit_cancel"):
            row = entry[op]
            assert row["ours_us"] > 0, (name, op)
            assert row["baseline_us"] > 0, (name, op)
            assert row["ratio"] > 0, (name, op)
            # With 4 orders the sign of the difference is noise; it must be the difference.
            assert math.isclose(
                row["overhead_us"], row["ours_us"] - row["baseline_us"], abs_tol=0.11
            )
            assert math.isfinite(row["paired_overhead_us"])
            if name != "simulated":
                assert entry["requests"][op], (name, op, "the fake saw no request")
        if name == "simulated":
            assert entry["translation"] == {}
        else:
            translation = entry["translation"]
            assert translation["request_us"] > 0, name
            assert translation["response_us"] > 0, name
            assert translation["total_us"] >= translation["response_us"], name
    alpaca = report["venues"]["alpaca"]["market"]
    assert alpaca["baseline_thread_us"] > 0
    assert "overhead_thread_us" in alpaca
