"""Outbox: per-recipient delivery (the addresses a server has accepted a notice for).

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


def downgrade() -> None:
    op.drop_column("outbox", "delivered")
