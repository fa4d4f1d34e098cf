"""跨县比对: the province's cross-county findings (R7–R9) and runs, in the province's warehouse
(a county's warehouse has the tables too, empty: one schema, one chain of migrations).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crosscheck_runs",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("snapshots", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "crosscheck_findings",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("rule", sa.String(4), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("county", sa.String(12), nullable=False),
        sa.Column("other_county", sa.String(12), nullable=False),
        sa.Column("person_id", sa.String(18), nullable=False),
        sa.Column("other_id", sa.String(18), nullable=False),
        sa.Column("town", sa.Text()),
        sa.Column("other_town", sa.Text()),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("persisted_months", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("finding_id", sa.String(16), nullable=False),
    )
    op.create_index("ix_crosscheck_findings_month", "crosscheck_findings", ["month", "rule"])


def downgrade() -> None:
    op.drop_index("ix_crosscheck_findings_month", "crosscheck_findings")
    op.drop_table("crosscheck_findings")
    op.drop_table("crosscheck_runs")
