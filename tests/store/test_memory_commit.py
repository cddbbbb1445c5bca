"""The memory journal's shortcuts agree with the general paths.

Each commit scenario runs twice, once through ``MemoryJournal.commit`` (which takes its
one-stream shortcut whenever it can) and once through the base class's commit, and
must leave the same stored rows, heads, results and errors. The packed streams must
read back what SQLite stores for the same events.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from alphintra.domain.events import AnyEvent, OrderFilled
from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import (
    DuplicateFillError,
    EventRow,
    Journal,
    JournalError,
    open_journal,
)
from alphintra.store.memory import MemoryJournal
from store.factories import every_event_type, fill, funded


class _GeneralCommit(MemoryJournal):
    """A memory journal that always commits through ``Journal.commit``."""

    def commit(self) -> dict[AccountId, int]:
        return Journal.commit(self)


Step = tuple[str, object]


def _run(journal: MemoryJournal, steps: list[Step]) -> list[object]:
    """Apply ``steps`` and return what each returned or raised, then every stored row."""
    outcomes: list[object] = []
    for action, arg in steps:
        try:
            if action == "append":
                assert isinstance(arg, tuple)
                outcomes.append(journal.append(arg[0]))
            elif action == "commit":
                outcomes.append(journal.commit())
            else:
                outcomes.append(journal.discard())
        except JournalError as exc:
            outcomes.append((type(exc).__name__, str(exc)))
    stored: list[EventRow] = []
    for account in journal.accounts():
        stored.extend(journal.read_rows(account))
        outcomes.append(journal.head(account))
    outcomes.append(stored)
    outcomes.append(journal.pending)
    return outcomes


def _both(steps: list[Step]) -> tuple[list[object], list[object]]:
    return _run(MemoryJournal(), steps), _run(_GeneralCommit(), steps)


def _append(event: AnyEvent) -> Step:
    return ("append", (event,))


def test_single_stream_batches_agree() -> None:
    steps: list[Step] = []
    for n, event in enumerate(every_event_type("A")):
        steps.append(_append(event))
        if n % 3 == 2:
            steps.append(("commit", None))
    steps.append(("commit", None))
    shortcut, general = _both(steps)
    assert shortcut == general
    assert shortcut[-1] == 0


def test_duplicate_fill_rolls_back_alike() -> None:
    steps: list[Step] = [
        _append(funded("A", 1)),
        _append(fill("A", "T1")),
        ("commit", None),
        _append(funded("A", 2)),
        _append(fill("A", "T1")),  # already stored: the whole batch fails
        ("commit", None),
        _append(funded("A", 3)),
        _append(fill("A", "T2")),
        _append(fill("A", "T2")),  # twice in one batch
        ("commit", None),
        _append(fill("A", "T3")),
        ("commit", None),
    ]
    shortcut, general = _both(steps)
    assert shortcut == general
    assert any(isinstance(o, tuple) and o[0] == DuplicateFillError.__name__ for o in shortcut), (
        shortcut
    )


@pytest.mark.parametrize("seed", range(20))
def test_random_interleavings_agree(seed: int) -> None:
    rnd = random.Random(seed)
    makers: list[Callable[[str, int], AnyEvent]] = [
        funded,
        lambda account, n: fill(account, f"T{rnd.randrange(12)}", n=n),
    ]
    steps: list[Step] = []
    for n in range(60):
        roll = rnd.random()
        if roll < 0.2:
            steps.append(("commit", None))
        elif roll < 0.25:
            steps.append(("discard", None))
        else:
            account = rnd.choice(("A", "A", "A", "B"))
            steps.append(_append(rnd.choice(makers)(account, n)))
    steps.append(("commit", None))
    shortcut, general = _both(steps)
    assert shortcut == general


@pytest.mark.parametrize("seed", range(5))
def test_packed_rows_read_back_as_sqlite_stores_them(seed: int, tmp_path: Path) -> None:
    """The packed memory streams read back every row exactly as SQLite stores it."""
    rnd = random.Random(seed)
    memory = MemoryJournal()
    sqlite = open_journal(f"sqlite:///{tmp_path / 'journal.db'}")
    try:
        for n in range(80):
            account = rnd.choice(("A", "A", "B"))
            events = [e for e in every_event_type(account) if not isinstance(e, OrderFilled)]
            event = fill(account, f"T{n}", n=n) if rnd.random() < 0.3 else rnd.choice(events)
            for journal in (memory, sqlite):
                journal.append(event)
                if n % 7 == 6:
                    journal.commit()
        memory.commit()
        sqlite.commit()
        assert memory.accounts() == sqlite.accounts()
        for account in memory.accounts():
            assert memory.head(account) == sqlite.head(account)
            stored = list(sqlite.read_rows(account))
            for after in range(len(stored) + 2):
                assert list(memory.read_rows(account, after)) == stored[after:]
            for row in stored:
                memory.save_snapshot(account, row.seq, b"state")
            assert [s.event_hash for s in memory.snapshots(account)] == [r.hash for r in stored]
    finally:
        sqlite.close()
