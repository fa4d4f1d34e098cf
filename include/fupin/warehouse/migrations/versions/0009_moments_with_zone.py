"""Every stored moment with its zone: PostgreSQL's timestamps become `timestamptz`, the values
written before (naive, by servers whose clock is UTC, as Airflow's) read as UTC. SQLite keeps no
zone: there the schema's `Moment` type stores UTC and reads it back aware.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MOMENTS = {
    "files": ["processed_at"],
    "drops": ["dropped_at", "recorded_at"],
    "dataset_versions": ["dropped_at", "loaded_at"],
    "reconciliation_runs": ["ran_at"],
    "crosscheck_runs": ["ran_at"],
    "verifications": ["at"],
    "assessment_runs": ["ran_at"],
    "outbox": ["created_at", "next_attempt_at", "sent_at"],
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in MOMENTS.items():
        for c in columns:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN "{c}" TYPE timestamptz USING "{c}" AT TIME ZONE \'UTC\'')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in MOMENTS.items():
        for c in columns:
            op.execute(f'ALTER TABLE {table} ALTER COLUMN "{c}" TYPE timestamp USING "{c}" AT TIME ZONE \'UTC\'')
