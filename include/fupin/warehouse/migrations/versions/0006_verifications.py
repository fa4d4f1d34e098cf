"""核查反馈: verifications of findings (who said what, when), each finding's stable id, its data
fingerprint and state at the run; the dismissed count of each run; and the indexes the household
file (一户一档) looks people up by.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

PERSON_TABLES = ("registry", "dibao", "employment", "medical", "student_aid")


def _finding_id(rule: str, key: str) -> str:
    # the same as fupin.reconcile.verify.finding_id, frozen here as a migration must be
    return hashlib.sha1(f"{rule}|{key}".encode()).hexdigest()[:16]


def upgrade() -> None:
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("finding_id", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(4), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("due", sa.Date()),
        sa.Column("reason", sa.Text()),
        sa.Column("by_user", sa.Text(), nullable=False),
        sa.Column("by_unit", sa.String(32)),
        sa.Column("via", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_verifications_finding", "verifications", ["finding_id", "id"])
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("finding_id", sa.String(16)))
        batch.add_column(sa.Column("fingerprint", sa.String(16)))
        batch.add_column(sa.Column("state", sa.String(12), nullable=False, server_default="open"))
    op.create_index("ix_findings_finding_id", "findings", ["finding_id"])
    op.add_column("reconciliation_runs", sa.Column("dismissed", sa.Text()))  # JSON: dismissed per rule
    bind = op.get_bind()
    findings = sa.table("findings", sa.column("rule"), sa.column("key"), sa.column("finding_id"))
    pairs = bind.execute(sa.select(findings.c.rule, findings.c.key).distinct()).all()
    for rule, key in pairs:
        bind.execute(sa.update(findings).where(findings.c.rule == rule, findings.c.key == key)
                     .values(finding_id=_finding_id(rule, key)))
    for table in PERSON_TABLES:
        op.create_index(f"ix_{table}_id_number", table, ["id_number"])
    op.create_index("ix_registry_household_id", "registry", ["household_id"])
    op.create_index("ix_industry_household_id", "industry", ["household_id"])


def downgrade() -> None:
    op.drop_index("ix_industry_household_id", "industry")
    op.drop_index("ix_registry_household_id", "registry")
    for table in PERSON_TABLES:
        op.drop_index(f"ix_{table}_id_number", table)
    op.drop_column("reconciliation_runs", "dismissed")
    op.drop_index("ix_findings_finding_id", "findings")
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("state")
        batch.drop_column("fingerprint")
        batch.drop_column("finding_id")
    op.drop_index("ix_verifications_finding", "verifications")
    op.drop_table("verifications")
