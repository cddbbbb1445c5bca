"""Concurrent requests of one account share one commit, and are answered only after it."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest

from alphintra.service.coalesce import CommitGroup


class Ledger:
    """A dispatch that records what each commit made durable."""

    def __init__(self, fail: bool = False) -> None:
        self.buffered: list[int] = []
        self.commits: list[list[int]] = []
        self.fail = fail

    def work(self, item: int) -> int:
        self.buffered.append(item)
        if item < 0:
            raise ValueError(f"refused item {item}")
        return item * 10

    def dispatch(self) -> None:
        if self.fail:
            raise OSError("disk full")
        self.commits.append(self.buffered)
        self.buffered = []


def test_concurrent_items_share_one_commit_and_get_their_own_results() -> None:
    ledger = Ledger()

    async def scenario() -> list[int]:
        group: CommitGroup[int] = CommitGroup(asyncio.Lock(), ledger.dispatch)
        return await asyncio.gather(*(group.run(partial(ledger.work, i)) for i in range(5)))

    assert asyncio.run(scenario()) == [0, 10, 20, 30, 40]
    assert ledger.commits == [[0, 1, 2, 3, 4]]


def test_a_failing_item_fails_alone_and_the_others_are_committed() -> None:
    ledger = Ledger()

    async def scenario() -> list[int | BaseException]:
        group: CommitGroup[int] = CommitGroup(asyncio.Lock(), ledger.dispatch)
        runs = (group.run(partial(ledger.work, i)) for i in (1, -2, 3))
        return await asyncio.gather(*runs, return_exceptions=True)

    first, refused, third = asyncio.run(scenario())
    assert (first, third) == (10, 30)
    assert isinstance(refused, ValueError) and "-2" in str(refused)
    assert ledger.commits == [[1, -2, 3]]


def test_a_failed_commit_fails_every_item_of_the_group() -> None:
    ledger = Ledger(fail=True)

    async def scenario() -> list[int | BaseException]:
        group: CommitGroup[int] = CommitGroup(asyncio.Lock(), ledger.dispatch)
        runs = (group.run(partial(ledger.work, i)) for i in range(3))
        return await asyncio.gather(*runs, return_exceptions=True)

    results = asyncio.run(scenario())
    assert all(isinstance(r, OSError) for r in results), results


def test_items_arriving_while_a_group_holds_the_lock_form_the_next_group() -> None:
    ledger = Ledger()

    async def scenario() -> list[int]:
        lock = asyncio.Lock()
        group: CommitGroup[int] = CommitGroup(lock, ledger.dispatch)
        await lock.acquire()  # someone else (the feed) holds the account
        first = [asyncio.ensure_future(group.run(partial(ledger.work, i))) for i in (1, 2)]
        await asyncio.sleep(0.01)
        assert ledger.commits == [] and not any(f.done() for f in first)
        lock.release()
        results = await asyncio.gather(*first)
        results.append(await group.run(lambda: ledger.work(3)))
        return results

    assert asyncio.run(scenario()) == [10, 20, 30]
    assert ledger.commits == [[1, 2], [3]]


def test_a_caller_that_goes_away_does_not_strand_the_others() -> None:
    ledger = Ledger()

    async def scenario() -> int:
        lock = asyncio.Lock()
        group: CommitGroup[int] = CommitGroup(lock, ledger.dispatch)
        await lock.acquire()
        leaver = asyncio.ensure_future(group.run(lambda: ledger.work(1)))
        stayer = asyncio.ensure_future(group.run(lambda: ledger.work(2)))
        await asyncio.sleep(0)
        leaver.cancel()
        lock.release()
        with pytest.raises(asyncio.CancelledError):
            await leaver
        return await asyncio.wait_for(stayer, timeout=5)

    assert asyncio.run(scenario()) == 20
    # The leaver's work still ran and is durable: it may have been a signal the caller
    # will post again, and the signal ID makes that repeat harmless.
    assert ledger.commits == [[1, 2]]


@pytest.mark.parametrize(("rounds", "commits"), [(2, [[1, 2]]), (0, [[1], [2]])])
def test_an_item_arriving_a_loop_round_later_joins_while_the_group_gathers(
    rounds: int, commits: list[list[int]]
) -> None:
    ledger = Ledger()

    async def scenario() -> list[int]:
        group: CommitGroup[int] = CommitGroup(asyncio.Lock(), ledger.dispatch, rounds)
        first = asyncio.ensure_future(group.run(partial(ledger.work, 1)))
        await asyncio.sleep(0)  # the next request is parsed one loop round later
        second = asyncio.ensure_future(group.run(partial(ledger.work, 2)))
        return list(await asyncio.gather(first, second))

    assert asyncio.run(scenario()) == [10, 20]
    assert ledger.commits == commits


def test_gather_rounds_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="gather_rounds must not be negative, got -1"):
        CommitGroup(asyncio.Lock(), Ledger().dispatch, -1)


def test_a_cancelled_drainer_cancels_its_waiting_requests_and_the_next_one_runs() -> None:
    async def scenario() -> None:
        lock = asyncio.Lock()
        dispatched: list[int] = []
        group: CommitGroup[int] = CommitGroup(lock, lambda: dispatched.append(1))
        await lock.acquire()  # another request holds the account
        first = asyncio.ensure_future(group.run(lambda: 1))
        second = asyncio.ensure_future(group.run(lambda: 2))
        await asyncio.sleep(0.01)  # both wait behind the drainer, which waits for the lock
        (drainer,) = tuple(group._drainers)
        drainer.cancel()  # as at shutdown
        results = await asyncio.wait_for(
            asyncio.gather(first, second, return_exceptions=True), timeout=5
        )
        assert [type(r) for r in results] == [asyncio.CancelledError] * 2
        lock.release()
        assert await asyncio.wait_for(group.run(lambda: 3), timeout=5) == 3
        assert dispatched == [1]

    asyncio.run(scenario())
