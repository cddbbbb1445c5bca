"""Checkpoint the SQLite journal's write-ahead log from a thread of its own.

In WAL mode every commit appends pages to the log, and the commit that takes it past
1,000 pages copies the whole log into the database file and syncs it (an automatic
checkpoint): several milliseconds during which the event loop, which made the commit,
serves nobody. This checkpointer runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own
connection every ``interval_s`` in a worker thread instead; SQLite releases the GIL
while it copies, so the copy runs beside the event loop, and the log stays short enough
that commits rarely checkpoint themselves. A passive checkpoint never waits for a
writer or blocks one, and what a checkpoint does has no bearing on durability: a
transaction is as durable once its commit returns as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("alphintra.checkpoint")

DEFAULT_INTERVAL_S = 0.1


class WalCheckpointer:
    """Passive WAL checkpoints of one SQLite file, every ``interval_s``, off the event loop."""

    def __init__(self, path: str | Path, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.path = str(path)
        self.interval_s = interval_s
        self.checkpoints = 0
        """Checkpoints run so far."""
        self.frames_copied = 0
        """Log frames copied into the database file so far."""
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def checkpoint(self) -> tuple[int, int]:
        """Run one passive checkpoint now; return (frames in the log, frames copied)."""
        with self._lock:
            if self._connection is None:
                self._connection = sqlite3.connect(
                    self.path, timeout=5.0, isolation_level=None, check_same_thread=False
                )
            _, logged, copied = self._connection.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        self.checkpoints += 1
        self.frames_copied += max(copied, 0)
        return logged, copied

    async def run(self) -> None:
        """Checkpoint every ``interval_s`` until cancelled; a failure is logged, not raised."""
        try:
            while True:
                await asyncio.sleep(self.interval_s)
                try:
                    await asyncio.to_thread(self.checkpoint)
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
        finally:
            self.close()

    def close(self) -> None:
        """Close the checkpointer's connection."""
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._connection.close()
                self._connection = None


def sqlite_path(database_url: str) -> Path | None:
    """Return the file of a ``sqlite:///`` URL (query string dropped), or None for others."""
    if not database_url.startswith("sqlite:///"):
        return None
    path = database_url.removeprefix("sqlite:///").split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


__all__ = ["DEFAULT_INTERVAL_S", "WalCheckpointer", "sqlite_path"]
