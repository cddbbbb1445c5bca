"""Persistence: the hash-chained event journal (memory, SQLite, PostgreSQL) and its verifier.

Backends are imported lazily by ``open_journal()``, so importing this package does not
load a database driver.
"""

from alphintra.store.journal import (
    ZERO_HASH,
    DuplicateFillError,
    EventRow,
    Journal,
    JournalConflictError,
    JournalError,
    JournalRecord,
    JournalUrlError,
    SnapshotError,
    SnapshotInfo,
    StreamHead,
    chain_hash,
    open_journal,
)
from alphintra.store.verify import VerificationReport, verify, verify_all

__all__ = [
    "ZERO_HASH",
    "DuplicateFillError",
    "EventRow",
    "Journal",
    "JournalConflictError",
    "JournalError",
    "JournalRecord",
    "JournalUrlError",
    "SnapshotError",
    "SnapshotInfo",
    "StreamHead",
    "VerificationReport",
    "chain_hash",
    "open_journal",
    "verify",
    "verify_all",
]
