"""Crash safety: a writer SIGKILLed at random never loses an acknowledged commit."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from alphintra.domain.identifiers import AccountId
from alphintra.store import open_journal, verify
from store.crash_writer import ACCOUNTS, event_for

WRITER = Path(__file__).with_name("crash_writer.py")


def _parse(line: str) -> dict[str, int]:
    return {a: int(s) for a, _, s in (item.partition("=") for item in line.split())}


def _run_and_kill(url: str, seed: int, delay: float, wait_ready: bool) -> tuple[list[str], int]:
    """Start a writer, SIGKILL it after ``delay`` seconds; return its complete lines."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), url, str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.endswith("\n"):  # a line cut by the kill was never acknowledged
                lines.append(line.rstrip("\n"))
                if line.startswith("ready"):
                    ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    if wait_ready:
        assert ready.wait(20), "writer did not start"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    returncode = proc.wait(10)
    reader.join(10)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    assert returncode == -signal.SIGKILL, f"writer exited by itself ({returncode}): {stderr}"
    return lines, returncode


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_sqlite_journal_sigkill_keeps_every_acknowledged_commit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/crash.db"
    rng = random.Random(1729)
    acknowledged = dict.fromkeys(ACCOUNTS, 0)
    total_acks = 0
    for round_no in range(8):
        early = round_no in (2, 5)  # kill some writers while they start up
        delay = rng.uniform(0.0, 0.15) if early else rng.uniform(0.05, 0.5)
        lines, _ = _run_and_kill(url, seed=round_no, delay=delay, wait_ready=not early)
        for line in lines:
            if line.startswith("ready"):
                recovered = _parse(line.removeprefix("ready"))
                for account in ACCOUNTS:
                    assert recovered[account] >= acknowledged[account], (round_no, line)
                continue
            total_acks += 1
            for name, seq in _parse(line).items():
                acknowledged[AccountId(name)] = max(acknowledged[AccountId(name)], seq)

        journal = open_journal(url)
        for account in ACCOUNTS:
            report = verify(journal, account)
            assert report.ok, f"round {round_no}: {report}"
            assert report.head.seq >= acknowledged[account], f"round {round_no}: lost commits"
        journal.close()

    assert total_acks > 50, f"the writer acknowledged only {total_acks} commits"
    journal = open_journal(url)
    for account in ACCOUNTS:
        records = list(journal.read(account))
        assert [r.seq for r in records] == list(range(1, len(records) + 1))
        assert all(r.event == event_for(account, r.seq) for r in records)
        # The journal carries on after the last crash.
        seq = journal.append(event_for(account, len(records) + 1))
        assert seq == len(records) + 1
    journal.commit()
    assert all(verify(journal, account).ok for account in ACCOUNTS)
    journal.close()
