"""Initial warehouse: file ledger, drops, dataset versions and one table per dataset.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("clinic_standard", sa.Boolean()),
    )
    op.create_index("ix_clinic_month", "clinic", ["month"])
    op.create_table(
        "cooperative",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("coop_name", sa.Text()),
        sa.Column("households_driven", sa.Integer()),
    )
    op.create_index("ix_cooperative_month", "cooperative", ["month"])
    op.create_table(
        "dataset_versions",
        sa.Column("dataset", sa.String(32), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("dropped_at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "dibao",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("dibao_card_no", sa.Text()),
        sa.Column("id_number", sa.String(18)),
        sa.Column("name", sa.Text()),
        sa.Column("relation", sa.Text()),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("category", sa.Text()),
        sa.Column("monthly_benefit", sa.Float()),
        sa.Column("income_per_capita", sa.Float()),
        sa.Column("start_date", sa.Date()),
        sa.Column("status", sa.Text()),
    )
    op.create_index("ix_dibao_month", "dibao", ["month"])
    op.create_table(
        "drops",
        sa.Column("drop_id", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("month", sa.String(7)),
        sa.Column("dropped_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_drops_sha256", "drops", ["sha256"])
    op.create_index("ix_drops_source_month", "drops", ["source", "month"])
    op.create_table(
        "employment",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(18)),
        sa.Column("name", sa.Text()),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("employment_status", sa.Text()),
        sa.Column("employer", sa.Text()),
        sa.Column("employment_start", sa.Date()),
        sa.Column("monthly_wage", sa.Float()),
        sa.Column("training_willing", sa.Boolean()),
        sa.Column("trained", sa.Boolean()),
        sa.Column("training_program", sa.Text()),
    )
    op.create_index("ix_employment_month", "employment", ["month"])
    op.create_table(
        "files",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("month", sa.String(7)),
        sa.Column("format", sa.String(8)),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("archive_path", sa.Text(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "industry",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Text()),
        sa.Column("head_id_number", sa.String(18)),
        sa.Column("head_name", sa.Text()),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("industry", sa.Text()),
        sa.Column("driver_entity", sa.Text()),
        sa.Column("driver_mode", sa.Text()),
        sa.Column("coop_member", sa.Boolean()),
        sa.Column("monthly_income", sa.Float()),
    )
    op.create_index("ix_industry_month", "industry", ["month"])
    op.create_table(
        "medical",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(18)),
        sa.Column("name", sa.Text()),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("basic_insurance", sa.Boolean()),
        sa.Column("critical_insurance", sa.Boolean()),
        sa.Column("inpatient_cost_ytd", sa.Float()),
        sa.Column("medical_aid_ytd", sa.Float()),
    )
    op.create_index("ix_medical_month", "medical", ["month"])
    op.create_table(
        "registry",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Text()),
        sa.Column("id_number", sa.String(18)),
        sa.Column("name", sa.Text()),
        sa.Column("relation", sa.Text()),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("labor_capacity", sa.Text()),
        sa.Column("poverty_cause", sa.Text()),
        sa.Column("income_per_capita", sa.Float()),
        sa.Column("exit_status", sa.Text()),
        sa.Column("exit_year", sa.Integer()),
        sa.Column("helper_unit", sa.Text()),
        sa.Column("helper_name", sa.Text()),
    )
    op.create_index("ix_registry_month", "registry", ["month"])
    op.create_table(
        "student_aid",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(18)),
        sa.Column("name", sa.Text()),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("stage", sa.Text()),
        sa.Column("school", sa.Text()),
        sa.Column("enrollment", sa.Text()),
        sa.Column("aid_amount", sa.Float()),
    )
    op.create_index("ix_student_aid_month", "student_aid", ["month"])
    op.create_table(
        "teacher_subsidy",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("school", sa.Text()),
        sa.Column("town", sa.Text()),
        sa.Column("teachers", sa.Integer()),
        sa.Column("subsidy_per_teacher", sa.Float()),
    )
    op.create_index("ix_teacher_subsidy_month", "teacher_subsidy", ["month"])
    op.create_table(
        "water_supply",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("sheet", sa.Text(), nullable=False),
        sa.Column("row_no", sa.Integer(), nullable=False),
        sa.Column("town", sa.Text()),
        sa.Column("village", sa.Text()),
        sa.Column("households_total", sa.Integer()),
        sa.Column("households_tap", sa.Integer()),
        sa.Column("water_safe", sa.Boolean()),
        sa.Column("investment", sa.Float()),
    )
    op.create_index("ix_water_supply_month", "water_supply", ["month"])


def downgrade() -> None:
    op.drop_table("water_supply")
    op.drop_table("teacher_subsidy")
    op.drop_table("student_aid")
    op.drop_table("registry")
    op.drop_table("medical")
    op.drop_table("industry")
    op.drop_table("files")
    op.drop_table("employment")
    op.drop_table("drops")
    op.drop_table("dibao")
    op.drop_table("dataset_versions")
    op.drop_table("cooperative")
    op.drop_table("clinic")
