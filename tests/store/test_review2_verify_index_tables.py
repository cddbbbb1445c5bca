"""`check_fill_index` and `check_audit_log`: the tables written beside the events."""

from __future__ import annotations

from alphintra.domain.events import AuditRecorded
from alphintra.domain.identifiers import AccountId
from alphintra.store.verify import (
    AuditRow,
    FillIndexRow,
    ProblemKind,
    check_audit_log,
    check_fill_index,
)

FILLS = [(3, "SIM", "T-1"), (5, "SIM", "T-2")]


def _audit(seq: int) -> tuple[int, str, AuditRecorded]:
    event = AuditRecorded(
        account_id=AccountId("A"), ts_event=seq, ts_recv=seq, actor="al", action="X",
        address="", target="A",
    )  # fmt: skip
    return seq, "AuditRecorded", event


def test_check_fill_index_matching_rows_pass() -> None:
    rows = [FillIndexRow("SIM", "T-2", 5), FillIndexRow("SIM", "T-1", 3)]
    assert check_fill_index(FILLS, rows, 6) is None


def test_check_fill_index_rows_past_the_end_mean_a_cut_tail() -> None:
    rows = [FillIndexRow("SIM", "T-1", 3), FillIndexRow("SIM", "T-2", 5)]
    problem = check_fill_index(FILLS[:1], rows, 4)
    assert problem is not None
    assert (problem.seq, problem.kind) == (5, ProblemKind.FILL_INDEX_MISMATCH)
    assert "past the end of the stream at seq 4" in problem.description


def test_check_fill_index_replaced_and_inserted_fills_named() -> None:
    replaced = check_fill_index([(3, "SIM", "T-9")], [FillIndexRow("SIM", "T-1", 3)], 4)
    assert replaced is not None and "replaced" in replaced.description
    inserted = check_fill_index(FILLS, [FillIndexRow("SIM", "T-1", 3)], 6)
    assert inserted is not None
    assert (inserted.seq, "inserted" in inserted.description) == (5, True)


def test_check_fill_index_fill_committed_after_the_rows_were_read_is_not_a_problem() -> None:
    rows = [FillIndexRow("SIM", "T-1", 3)]  # read while the head was seq 4
    assert check_fill_index(FILLS, rows, 6, indexed_upto=4) is None


def test_check_audit_log_audit_committed_after_the_rows_were_read_is_not_a_problem() -> None:
    row = AuditRow(2, "al", "X", "", "A", "", "", 2)
    assert check_audit_log([_audit(2), _audit(7)], [row], indexed_upto=4) is None
    missing = check_audit_log([_audit(2), _audit(7)], [row])
    assert missing is not None and (missing.seq, "missing" in missing.description) == (7, True)
