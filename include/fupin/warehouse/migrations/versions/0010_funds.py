"""资金项目监管: 县财政局's payments and 县扶贫办's project library (with its beneficiary sheet), and
what fund findings carry beyond the registries' (the payment, the project, the unit that checks),
and a record of each month's checks.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FILE = (
    ("month", sa.String(7), False),
    ("sha256", sa.String(64), False),
    ("sheet", sa.Text(), False),
    ("row_no", sa.Integer(), False),
)

TABLES = {
    "fund_payments": [
        ("payment_no", sa.Text()), ("paid_on", sa.Date()), ("project_no", sa.Text()), ("fund_type", sa.Text()),
        ("payee_type", sa.Text()), ("payee_name", sa.Text()), ("payee_id", sa.Text()), ("household_id", sa.Text()),
        ("worker_id", sa.String(18)), ("amount", sa.Float()),
    ],
    "projects": [
        ("project_no", sa.Text()), ("project_name", sa.Text()), ("project_type", sa.Text()), ("town", sa.Text()),
        ("village", sa.Text()), ("responsible_unit", sa.Text()), ("planned_investment", sa.Float()), ("length_km", sa.Float()),
        ("approved_plan", sa.Date()), ("approved_on", sa.Date()), ("start_plan", sa.Date()), ("started_on", sa.Date()),
        ("complete_plan", sa.Date()), ("completed_on", sa.Date()), ("accept_plan", sa.Date()), ("accepted_on", sa.Date()),
    ],
    "project_households": [("project_no", sa.Text()), ("household_id", sa.Text()), ("id_number", sa.String(18))],
}
# the household file (一户一档) looks these up across months, as it does every dataset's
LOOKUPS = {"fund_payments": ["household_id"], "project_households": ["id_number", "household_id"]}


def upgrade() -> None:
    for name, columns in TABLES.items():
        op.create_table(name, *(sa.Column(c, t, nullable=n) for c, t, n in _FILE), *(sa.Column(c, t) for c, t in columns))
        op.create_index(f"ix_{name}_month", name, ["month"])
        for key in LOOKUPS.get(name, []):
            op.create_index(f"ix_{name}_{key}", name, [key])
    op.create_table(
        "fund_check_runs",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("projects_month", sa.String(7)),  # the project library used (the latest up to the month)
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),  # JSON: findings per rule
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("project_no", sa.Text()))
        batch.add_column(sa.Column("payment_no", sa.Text()))
        batch.add_column(sa.Column("unit", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.drop_column("unit")
        batch.drop_column("payment_no")
        batch.drop_column("project_no")
    op.drop_table("fund_check_runs")
    for name in TABLES:
        op.drop_table(name)
