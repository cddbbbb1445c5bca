"""The floor of a write-ahead SQLite journal: one bare commit per order, no engine at all.

Usage: sqlite_floor.py N [--events 4] [--payload-bytes 300]

Under the write-ahead rule an order's ``OrderSubmitted`` must be durable before the
venue may see the order, so a sequential workload (one order per tick, as in
``engine_throughput.py``) costs at least one SQLite transaction per order. This script
measures that transaction alone, on the journal's own tables (created by
`SqliteJournal`, WAL mode, ``synchronous=NORMAL`` as the journal's default), writing
the rows the engine writes per market order: four event rows (prebuilt payloads and
hashes) and one fill row. Nothing is encoded, hashed, matched or folded while timing,
so no engine using this SQLite configuration can go faster on the same machine.

Prints one JSON line with ``orders_per_s`` (commits per second).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from alphintra.store.sqlite import SqliteJournal

EVENT_KINDS = ("OrderInitialized", "OrderSubmitted", "OrderAccepted", "OrderFilled")
INSERT_EVENT = (
    "INSERT INTO journal_events (account_id, seq, event_type, payload, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
INSERT_FILL = "INSERT INTO journal_fills (account_id, venue, trade_id, seq) VALUES (?, ?, ?, ?)"


Row = tuple[object, ...]


def build_rows(n: int, events: int, payload_bytes: int) -> list[tuple[list[Row], Row]]:
    """Return, per order, its event rows and its fill row (built before timing)."""
    account = "FLOOR"
    payload = os.urandom(payload_bytes)
    digest = os.urandom(32)
    orders: list[tuple[list[Row], Row]] = []
    seq = 0
    for k in range(n):
        rows: list[Row] = []
        for j in range(events):
            seq += 1
            rows.append((account, seq, EVENT_KINDS[j % len(EVENT_KINDS)], payload, digest, digest))
        orders.append((rows, (account, "SIM", f"T-{k}", seq)))
    return orders


def run(n: int, events: int, payload_bytes: int) -> dict[str, object]:
    """Time ``n`` transactions of ``events`` event rows and one fill row each."""
    folder = Path(tempfile.mkdtemp(prefix="alphintra-floor-"))
    path = folder / "journal.db"
    SqliteJournal(path).close()  # the journal's own tables, triggers and format marker
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    cursor = connection.cursor()
    orders = build_rows(n, events, payload_bytes)
    start = time.perf_counter()
    for rows, fill in orders:
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(INSERT_EVENT, rows)
        cursor.execute(INSERT_FILL, fill)
        cursor.execute("COMMIT")
    wall = time.perf_counter() - start
    connection.close()
    return {
        "engine": "sqlite-floor",
        "n": n,
        "events_per_order": events,
        "payload_bytes": payload_bytes,
        "wall_s": round(wall, 4),
        "orders_per_s": round(n / wall),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run once and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", type=int)
    parser.add_argument("--events", type=int, default=4, help="event rows per order")
    parser.add_argument(
        "--payload-bytes",
        type=int,
        default=320,
        help="bytes per event payload (the engine averages about 320)",
    )
    args = parser.parse_args(argv)
    if args.n <= 0 or args.events <= 0 or args.payload_bytes < 0:
        parser.error(
            f"n and --events must be positive and --payload-bytes not negative; got "
            f"n={args.n}, --events={args.events}, --payload-bytes={args.payload_bytes}"
        )
    sys.stdout.write(json.dumps(run(args.n, args.events, args.payload_bytes)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
