"""Run Alphintra and NautilusTrader side by side and print the throughput ratios.

Usage: compare.py [--n 10000] [--repeats 3] [--journals memory,sqlite] [--modes market,limit]
                  [--risk-levels off,basic,all] [--no-floor]

Each repetition runs NautilusTrader and then every Alphintra configuration on the
same workload, one after another, so the machine's load affects both alike. The
table reports medians and the ratio of medians. NautilusTrader is installed into a
venv outside the project by ../shared/bench/run_nautilus.sh on first use.

When the SQLite journal is compared, each repetition also runs ``sqlite_floor.py``:
one bare SQLite transaction per order with the rows the engine writes and no engine
work, the ceiling of any write-ahead SQLite journal on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAUTILUS = HERE.parent.parent / "shared" / "bench" / "run_nautilus.sh"


def _run(command: list[str]) -> dict[str, object]:
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return result


def _rate(result: dict[str, object]) -> float:
    value = result["orders_per_s"]
    assert isinstance(value, int | float)
    return float(value)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print a Markdown table."""
    parser = argparse.ArgumentParser(description="Alphintra vs NautilusTrader throughput")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default="market,limit,market_flip")
    parser.add_argument("--journals", default="memory,sqlite")
    parser.add_argument(
        "--risk-levels",
        default="basic",
        help="comma-separated pre-trade check levels to run: off, basic, all",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the bare SQLite commit floor")
    args = parser.parse_args(argv)
    ours = [sys.executable, str(HERE / "engine_throughput.py")]
    floor = [sys.executable, str(HERE / "sqlite_floor.py")]
    with_floor = "sqlite" in args.journals.split(",") and not args.no_floor
    print("| workload | configuration | median orders/s | ratio to NautilusTrader |")
    print("|---|---|---:|---:|")
    for mode in args.modes.split(","):
        samples: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            if NAUTILUS.exists():
                nautilus = _run(["bash", str(NAUTILUS), mode, str(args.n)])
                samples.setdefault("NautilusTrader 1.221.0", []).append(_rate(nautilus))
            for journal in args.journals.split(","):
                for level in args.risk_levels.split(","):
                    result = _run([*ours, mode, str(args.n), "--journal", journal, "--risk", level])
                    samples.setdefault(f"alphintra, {journal} journal, risk {level}", []).append(
                        _rate(result)
                    )
            if with_floor:
                samples.setdefault("bare SQLite commit per order (no engine)", []).append(
                    _rate(_run([*floor, str(args.n)]))
                )
        baseline = statistics.median(samples.get("NautilusTrader 1.221.0", [0.0]))
        for name, values in samples.items():
            median = statistics.median(values)
            ratio = f"{median / baseline:.1f}x" if baseline else "n/a"
            print(f"| {mode} {args.n} | {name} | {median:,.0f} | {ratio} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
