"""The memory journal's one-stream commit agrees with the general ``Journal.commit``.

Each scenario runs twice, once through ``MemoryJournal.commit`` (which takes its
one-stream shortcut whenever it can) and once through the base class's commit, and
must leave the same stored rows, heads, results and errors.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from alphintra.domain.events import AnyEvent
from alphintra.domain.identifiers import AccountId
from alphintra.store.journal import DuplicateFillError, EventRow, Journal, JournalError
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
