"""``alphintra replay`` on each SQL store: the journal_fills check finds a cut tail."""

from __future__ import annotations

import json

import pytest

from alphintra.app.cli import main
from alphintra.store.migrate import upgrade
from store.backends import Backend
from store.factories import fill, funded

ACCOUNT = "ACC-A"


def _replay(backend: Backend, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    capsys.readouterr()
    main(["replay", ACCOUNT, "--json", "--database-url", backend.url])
    summary: dict[str, object] = json.loads(capsys.readouterr().out)
    return summary


def test_replay_fill_index_finds_cut_tail(
    sql_backend: Backend, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(sql_backend.url)
    journal = sql_backend.open()
    journal.append(funded(ACCOUNT, 1))
    journal.append(fill(ACCOUNT, "T-1", n=2))
    journal.append(funded(ACCOUNT, 3))
    journal.append(fill(ACCOUNT, "T-2", n=4))
    journal.commit()
    assert _replay(sql_backend, capsys)["problemKind"] is None
    sql_backend.allow_tampering()
    sql_backend.sql("DELETE FROM journal_events WHERE account_id = ? AND seq >= 3", ACCOUNT)
    summary = _replay(sql_backend, capsys)
    assert (summary["problemSeq"], summary["problemKind"]) == (4, "FILL_INDEX_MISMATCH")
    assert "SIM/T-2 at seq 4" in str(summary["problem"])
