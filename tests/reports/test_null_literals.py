"""Differential test: `NullLiterals` batches store what the plain statements store.

Random ``execution_quality`` rows (any nullable column None or not, keys drawn from a
few so that later commits update earlier rows) go through `UPSERT` and `HORIZON_UPDATE`
one row at a time into one database, and through `UPSERT_ROWS` and `HORIZON_ROWS` (None
values written as NULL literals) into another: both tables must end up the same.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from alphintra.reports.records import (
    COLUMNS,
    HORIZON_UPDATE,
    UPSERT,
    UPSERT_ROWS,
    Params,
)
from alphintra.store.schema import execution_quality, metadata

_KEYS = [("A", "O-1", ""), ("A", "O-1", "t1"), ("A", "O-2", ""), ("B", "O-1", "#5")]
_INTEGERS = {"ts_ns", "arrival_ts_ns", "end_ts_ns", "execution_time_ns"}


def _value(name: str, draw: st.DrawFn) -> object:
    if name in _INTEGERS:
        return draw(st.integers(0, 10**18))
    if name == "decision_from_signal":
        return draw(st.booleans())
    return draw(st.sampled_from(["0", "-0", "1.5", "0.0909082644703229970636630576085671", "x"]))


@st.composite
def _commits(draw: st.DrawFn) -> list[tuple[list[Params], list[Params]]]:
    commits = []
    for _ in range(draw(st.integers(1, 4))):
        keys = draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=4, unique=True))
        upserts = []
        for key in keys:
            row: list[object] = list(key)
            for name in COLUMNS[3:]:
                nullable = execution_quality.c[name].nullable
                row.append(None if nullable and draw(st.booleans()) else _value(name, draw))
            upserts.append(tuple(row))
        updates: list[Params] = [
            (
                *(draw(st.none() | st.sampled_from(["1.2", "-0.5"])) for _ in range(3)),
                *key,
            )
            for key in draw(st.lists(st.sampled_from(_KEYS), max_size=3, unique=True))
        ]
        commits.append((upserts, updates))
    return commits


def _database(path: Path) -> sqlite3.Connection:
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine, tables=[execution_quality])
    engine.dispose()
    return sqlite3.connect(path, isolation_level=None)


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> tuple[sqlite3.Connection, ...]:
    folder = tmp_path_factory.mktemp("null-literals")
    return _database(folder / "plain.db"), _database(folder / "literals.db")


@settings(max_examples=150, deadline=None)
@given(_commits())
def test_null_literal_batches_store_the_same_rows_as_the_plain_statements(
    databases: tuple[sqlite3.Connection, sqlite3.Connection],
    commits: list[tuple[list[Params], list[Params]]],
) -> None:
    plain, literals = databases
    for db in databases:
        db.execute("DELETE FROM execution_quality")
    for upserts, updates in commits:
        plain.executemany(UPSERT, upserts)
        plain.executemany(HORIZON_UPDATE, updates)
        for sql, rows in UPSERT_ROWS.batches(upserts):
            literals.executemany(sql, rows)
        literals.executemany(HORIZON_UPDATE, updates)

    query = "SELECT * FROM execution_quality ORDER BY account_id, order_id, trade_id"
    assert literals.execute(query).fetchall() == plain.execute(query).fetchall()


def test_null_literals_pick_the_first_shape_a_row_fits_else_the_plain_statement() -> None:
    row = ("A", "O-1", "", *([None] * (len(COLUMNS) - 3)))
    filled = tuple(
        "1" if name == "mid" else value for name, value in zip(COLUMNS, row, strict=True)
    )

    ((lean, lean_rows),) = UPSERT_ROWS.batches([row])  # fits the first shape, the ORDER one
    ((plain, plain_rows),) = UPSERT_ROWS.batches([filled])  # mid: no ORDER shape; FILL ones?

    assert lean.count("NULL") == 11 and len(lean_rows[0]) == len(COLUMNS) - 11
    assert UPSERT_ROWS.full(lean, lean_rows[0]) == row
    assert "NULL" in plain and plain != lean  # a FILL shape: the FILL columns are None
    assert UPSERT_ROWS.full(plain, plain_rows[0]) == filled
    everything = tuple("1" for _ in COLUMNS)
    assert UPSERT_ROWS.batches([everything]) == [(UPSERT, [everything])]
