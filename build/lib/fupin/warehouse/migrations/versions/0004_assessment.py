"""Assessment: runs, scores per unit and indicator, actions.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assessment_runs",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("data_months", sa.Text(), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "assessment_scores",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("indicator", sa.String(4), primary_key=True),
        sa.Column("unit", sa.String(32), primary_key=True),
        sa.Column("numerator", sa.Float()),
        sa.Column("denominator", sa.Float()),
        sa.Column("value", sa.Float()),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("compare", sa.String(2), nullable=False),
        sa.Column("status", sa.String(4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_table(
        "assessment_actions",
        sa.Column("period", sa.String(8), primary_key=True),
        sa.Column("unit", sa.String(32), primary_key=True),
        sa.Column("action", sa.String(8), primary_key=True),
        sa.Column("indicators", sa.Text(), nullable=False),
        sa.Column("due", sa.Date()),
        sa.Column("reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assessment_actions")
    op.drop_table("assessment_scores")
    op.drop_table("assessment_runs")
