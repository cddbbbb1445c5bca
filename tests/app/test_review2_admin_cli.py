"""Operator commands on bad databases, and ``replay`` as the audit trail's check.

Every failure must be one ``error:`` line on standard error with exit code 1 or 2 (no
traceback), ``--json`` must print JSON even on errors, and ``replay`` must say where
and what when the journal (or its audit_log copy) was tampered with.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from rich.progress import Progress

from alphintra.app import admin_commands
from alphintra.app.cli import main
from alphintra.domain.enums import SignalAction
from alphintra.domain.events import AuditRecorded
from alphintra.domain.identifiers import AccountId, InstrumentId, ModelId, SignalId
from alphintra.domain.market import QuoteTick
from alphintra.domain.registry import InstrumentRegistry
from alphintra.domain.signals import TradingSignal
from alphintra.engine.clock import SimulatedClock
from alphintra.service.trading import AccountSettings, TradingService, signal_state
from alphintra.store.journal import open_journal
from alphintra.store.migrate import upgrade
from alphintra.store.projection import ReadModelProjector
from store.factories import T0, fill, funded

ACCOUNT = "ACC-A"
EURUSD = InstrumentId("EURUSD")
EURUSD_TICK = QuoteTick(EURUSD, Decimal("1.1"), Decimal("1.1001"), Decimal(0), Decimal(0), T0)


def _eurusd_buy() -> TradingSignal:
    return TradingSignal(
        signal_id=SignalId("s-1"),
        model_id=ModelId("m"),
        instrument_id=EURUSD,
        action=SignalAction.BUY,
        confidence=Decimal("0.5"),
        ts=T0,
        quantity=Decimal(1000),
    )


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _audit(n: int) -> AuditRecorded:
    return AuditRecorded(
        account_id=AccountId(ACCOUNT),
        ts_event=T0 + n,
        ts_recv=T0 + n,
        actor="alice",
        action="RISK_LIMITS_CHANGED",
        address="10.0.0.1",
        target=ACCOUNT,
        old_value='{"maxOrderNotional": "1000"}',
        new_value='{"maxOrderNotional": "2000"}',
    )


def _database(tmp_path: Path, *, audit: bool = False) -> Path:
    """Return a migrated SQLite database holding five events of ACCOUNT.

    With ``audit``, seq 3 is an ``AuditRecorded`` with its audit_log row, as the
    service's projection writes it.
    """
    path = tmp_path / "alphintra.db"
    assert main(["migrate", "--database-url", _url(path)]) == 0
    journal = open_journal(_url(path))
    try:
        for n in range(1, 6):
            journal.append(_audit(n) if audit and n == 3 else funded(ACCOUNT, n))
        journal.commit()
    finally:
        journal.close()
    if audit:
        event = _audit(3)
        _sql(
            path,
            "INSERT INTO audit_log (account_id, seq, actor, action, address, target,"
            " old_value, new_value, ts_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ACCOUNT,
            3,
            event.actor,
            event.action,
            event.address,
            event.target,
            event.old_value,
            event.new_value,
            event.ts_event,
        )
    return path


def _sql(path: Path, statement: str, *params: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def _tamper(path: Path, statement: str, *params: object) -> None:
    """Run ``statement`` after removing the append-only triggers, as an admin could."""
    for trigger in ("events_no_update", "events_no_delete"):
        _sql(path, f"DROP TRIGGER IF EXISTS journal_{trigger}")
    _sql(path, statement, *params)


def _replay_json(
    capsys: pytest.CaptureFixture[str], path: Path, *extra: str
) -> tuple[int, dict[str, object]]:
    capsys.readouterr()  # what came before (migrate's line)
    code = main(["replay", ACCOUNT, "--json", "--database-url", _url(path), *extra])
    out = capsys.readouterr().out
    return code, json.loads(out)


# --- bad databases ------------------------------------------------------------------


def test_replay_missing_database_file_exits_2_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "typo.db"
    code = main(["replay", ACCOUNT, "--database-url", _url(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"no database at {path}" in err
    assert not path.exists()


def test_replay_missing_database_json_error_is_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", ACCOUNT, "--json", "--database-url", _url(tmp_path / "typo.db")])
    captured = capsys.readouterr()
    assert code == 2
    assert "no database at" in json.loads(captured.out)["error"]
    assert captured.err.startswith("error: ")


@pytest.mark.parametrize(
    "argv",
    [
        ["migrate"],
        ["users", "list"],
        ["users", "add", "bob", "--role", "admin"],
        ["keys", "create", "bob"],
        ["keys", "revoke", "K-1"],
        ["replay", ACCOUNT],
    ],
)
def test_admin_command_corrupt_database_exits_1_with_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a SQLite database, just garbage" * 100)
    code = main([*argv, "--database-url", _url(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ")
    assert "not a database" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["migrate"], ["users", "list"], ["replay", ACCOUNT]])
def test_admin_command_unsupported_database_url_exits_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code = main([*argv, "--database-url", "bogus://user:secret@host/db"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert "bogus" in err
    assert "secret" not in err


def test_migrate_unopenable_path_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["migrate", "--database-url", _url(tmp_path / "no" / "such" / "dir.db")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ")
    assert "unable to open database file" in err


def test_users_list_missing_database_exits_2_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "typo.db"
    code = main(["users", "list", "--json", "--database-url", _url(path)])
    captured = capsys.readouterr()
    assert code == 2
    assert "no database at" in json.loads(captured.out)["error"]
    assert not path.exists()


# --- replay: the audit trail --------------------------------------------------------


def test_replay_unknown_account_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _database(tmp_path)
    code = main(["replay", "NOBODY", "--database-url", _url(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "no events for account 'NOBODY'" in err


def test_replay_untouched_journal_prints_head_to_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database(tmp_path)
    code, summary = _replay_json(capsys, path)
    assert code == 0
    assert summary["chainVerified"] is True
    assert summary["events"] == 5
    ((digest,),) = _sql(path, "SELECT hash FROM journal_events WHERE seq = 5")
    assert isinstance(digest, bytes)
    assert summary["head"] == f"5:{digest.hex()}"


def test_replay_deleted_tail_detected_against_recorded_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database(tmp_path)
    _, before = _replay_json(capsys, path)
    _tamper(path, "DELETE FROM journal_events WHERE seq >= 4")
    code, summary = _replay_json(capsys, path)
    assert code == 0  # the chain alone cannot see a cut tail
    code, summary = _replay_json(capsys, path, "--recorded-head", str(before["head"]))
    assert code == 1
    assert summary["chainVerified"] is False
    assert summary["problemKind"] == "HEAD_MISMATCH"
    assert summary["problemSeq"] == 3
    assert "events 4..5 were removed" in str(summary["problem"])


def test_replay_recorded_head_passes_once_the_stream_has_grown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database(tmp_path)
    _, before = _replay_json(capsys, path)
    journal = open_journal(_url(path))
    journal.append(funded(ACCOUNT, 6))
    journal.commit()
    journal.close()
    code, summary = _replay_json(capsys, path, "--recorded-head", str(before["head"]))
    assert code == 0, summary
    assert summary["events"] == 6


def test_replay_bad_recorded_head_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["replay", ACCOUNT, "--recorded-head", "5:nothex", "--database-url", _url(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--recorded-head" in err
    assert "SEQ:HASH" in err
    assert "'5:nothex'" in err


def test_replay_undecodable_edited_payload_reports_where_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database(tmp_path)
    _tamper(path, "UPDATE journal_events SET payload = ? WHERE seq = 3", b"\x00garbage")
    code, summary = _replay_json(capsys, path)
    assert code == 1
    assert (summary["problemSeq"], summary["problemKind"]) == (3, "HASH_MISMATCH")
    assert summary["events"] == 2  # the state shown is the verified prefix's


def test_replay_edited_audit_log_row_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database(tmp_path, audit=True)
    code, summary = _replay_json(capsys, path)
    assert code == 0, summary
    _sql(path, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    code, summary = _replay_json(capsys, path)
    assert code == 1
    assert summary["chainVerified"] is True
    assert (summary["problemSeq"], summary["problemKind"]) == (3, "AUDIT_LOG_MISMATCH")
    assert "actor" in str(summary["problem"])
    assert "mallory" in str(summary["problem"])


def test_replay_deleted_audit_log_row_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database(tmp_path, audit=True)
    _sql(path, "DELETE FROM audit_log WHERE seq = 3")
    code, summary = _replay_json(capsys, path)
    assert code == 1
    assert (summary["problemSeq"], summary["problemKind"]) == (3, "AUDIT_LOG_MISMATCH")
    assert "missing" in str(summary["problem"])


def test_replay_inserted_audit_log_row_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _database(tmp_path, audit=True)
    _sql(
        path,
        "INSERT INTO audit_log (account_id, seq, actor, action, address, target, old_value,"
        " new_value, ts_ns) VALUES (?, 4, 'alice', 'KEY_REVOKED', '', 'K-1', '', '', ?)",
        ACCOUNT,
        T0 + 4,
    )
    code, summary = _replay_json(capsys, path)
    assert code == 1
    assert (summary["problemSeq"], summary["problemKind"]) == (4, "AUDIT_LOG_MISMATCH")
    assert "AccountFunded" in str(summary["problem"])


def test_replay_service_written_audit_trail_verifies_then_edit_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "alphintra.db"
    upgrade(_url(path))
    journal = open_journal(_url(path))
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    journal.add_commit_hook(ReadModelProjector(signal_state, service.account_state))
    service.open_account(AccountSettings(account_id=AccountId(ACCOUNT), owner="alice"))
    asyncio.run(
        service.audit(
            ACCOUNT,
            actor="alice",
            action="RISK_LIMITS_CHANGED",
            address="127.0.0.1",
            target=ACCOUNT,
            old_value="{}",
            new_value='{"maxOrderNotional": "2000"}',
        )
    )
    journal.close()
    (seq,) = (row[0] for row in _sql(path, "SELECT seq FROM audit_log"))
    code, summary = _replay_json(capsys, path)
    assert code == 0, summary
    _sql(path, "UPDATE audit_log SET new_value = '{}'")
    code, summary = _replay_json(capsys, path)
    assert code == 1
    assert (summary["problemSeq"], summary["problemKind"]) == (seq, "AUDIT_LOG_MISMATCH")
    assert "new_value '{}'" in str(summary["problem"])


def test_replay_progress_counts_every_event_and_stays_off_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, float | None, float]] = []

    class Recording(Progress):
        def __exit__(self, *exc: object) -> None:
            seen.extend((t.description, t.total, t.completed) for t in self.tasks)
            super().__exit__(None, None, None)

    monkeypatch.setattr(admin_commands, "Progress", Recording)
    path = _database(tmp_path)
    journal = open_journal(_url(path))
    for n in range(6, 2_501):
        journal.append(funded(ACCOUNT, n))
    journal.commit()
    journal.close()
    code, summary = _replay_json(capsys, path)
    assert code == 0
    assert summary["events"] == 2_500
    assert seen == [("verify", 2_500, 2_500), ("rebuild", 2_500, 2_500)]


def _traded_database(tmp_path: Path) -> tuple[Path, int]:
    """Return a database where the service bought EURUSD (one fill), and the fill's seq."""
    path = tmp_path / "alphintra.db"
    upgrade(_url(path))
    journal = open_journal(_url(path))
    service = TradingService(
        journal=journal, registry=InstrumentRegistry(), clock=SimulatedClock(T0)
    )
    journal.add_commit_hook(ReadModelProjector(signal_state, service.account_state))
    service.open_account(AccountSettings(account_id=AccountId(ACCOUNT), owner="alice"))
    asyncio.run(service.on_market_data(EURUSD_TICK))
    asyncio.run(service.submit_signal(ACCOUNT, _eurusd_buy(), None))
    for n in range(3):  # later events, after the fill
        asyncio.run(service.audit(ACCOUNT, actor="alice", action="NOTE", address="", target=str(n)))
    journal.close()
    ((seq,),) = _sql(path, "SELECT seq FROM journal_fills")
    return path, int(seq)  # type: ignore[call-overload]


def test_replay_cut_tail_holding_a_fill_detected_without_recorded_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, fill_seq = _traded_database(tmp_path)
    code, summary = _replay_json(capsys, path)
    assert code == 0, summary
    _tamper(path, "DELETE FROM journal_events WHERE seq >= ?", fill_seq)
    _sql(path, "DELETE FROM audit_log")  # the attacker tidies the audit copy too
    code, summary = _replay_json(capsys, path)
    assert code == 1
    assert (summary["problemSeq"], summary["problemKind"]) == (fill_seq, "FILL_INDEX_MISMATCH")
    assert "removed from the end" in str(summary["problem"])


def test_replay_events_that_do_not_fold_report_it_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "alphintra.db"
    assert main(["migrate", "--database-url", _url(path)]) == 0
    journal = open_journal(_url(path))
    journal.append(funded(ACCOUNT, 1))
    journal.append(fill(ACCOUNT, "T-1"))  # a fill of an order never created
    journal.commit()
    journal.close()
    code, summary = _replay_json(capsys, path)
    assert code == 1
    assert summary["chainVerified"] is True
    assert "UnknownOrderError" in str(summary["rebuildError"])
    assert "orders" not in summary
