"""访问记录: who searched for whom and opened which household's file on the dashboard (an
auditor's question: who looked at this person?). ID numbers in a query are stored masked.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user", sa.Text(), nullable=False),
        sa.Column("by_unit", sa.String(32)),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("results", sa.Integer()),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_access_log_at", table_name="access_log")
    op.drop_table("access_log")
