"""Reconciliation: runs, findings with their persistence, and the two coverage rates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("registry_month", sa.String(7), nullable=False),
        sa.Column("dibao_month", sa.String(7), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("rule", sa.String(4), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("town", sa.Text()),
        sa.Column("household_id", sa.Text()),
        sa.Column("card_no", sa.Text()),
        sa.Column("person_id", sa.String(18)),
        sa.Column("other_id", sa.String(18)),
        sa.Column("detail", sa.Text()),
        sa.Column("persisted_months", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_findings_month_rule", "findings", ["month", "rule"])
    op.create_table(
        "reconciliation_rates",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("town", sa.Text(), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("numerator", sa.Integer(), nullable=False),
        sa.Column("denominator", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reconciliation_rates")
    op.drop_table("findings")
    op.drop_table("reconciliation_runs")
