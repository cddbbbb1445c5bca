"""trades by account and time

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:15:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_trades_account_executed", "trades", ["account_id", "executed_at_ns"])


def downgrade() -> None:
    op.drop_index("ix_trades_account_executed", table_name="trades")
