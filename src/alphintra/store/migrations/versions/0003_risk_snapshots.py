"""risk snapshots

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_EXACT = sa.Numeric().with_variant(sa.String(length=64), "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_snapshots",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("ts_ns", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=16), nullable=False),
        sa.Column("equity", _EXACT, nullable=False),
        sa.Column("gross_exposure", _EXACT, nullable=False),
        sa.Column("net_exposure", _EXACT, nullable=False),
        sa.Column("leverage", _EXACT, nullable=True),
        sa.Column("var_95_1d", _EXACT, nullable=True),
        sa.Column("es_95_1d", _EXACT, nullable=True),
        sa.Column("var_99_1d", _EXACT, nullable=True),
        sa.Column("es_99_1d", _EXACT, nullable=True),
        sa.Column("max_drawdown", _EXACT, nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "ts_ns"),
    )


def downgrade() -> None:
    op.drop_table("risk_snapshots")
