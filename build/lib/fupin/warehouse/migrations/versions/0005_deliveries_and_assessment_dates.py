"""Outbox: per-recipient delivery (the addresses a server has accepted a notice for);
assessment runs: the assessment date their actions count from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("delivered", sa.Text(), nullable=True))  # JSON [address, ...]
    op.add_column("assessment_runs", sa.Column("assessed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("assessment_runs", "assessed_on")
    op.drop_column("outbox", "delivered")
