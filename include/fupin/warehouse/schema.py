"""The warehouse schema (SQLAlchemy 2 Core). Alembic migrations create it; this is what code uses.

- `files`: one row per distinct file (by SHA-256): where it is archived, what became of it.
- `drops`: one row per time a file was dropped (duplicates included), with its receipt: the
  submission ledger.
- `dataset_versions`: which file currently provides each dataset for each month.
- one table per dataset of the contracts, keyed by month, holding that month's rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

from fupin.config import contracts

metadata = MetaData()


class Moment(TypeDecorator):
    """A moment in time, stored with its zone (PostgreSQL `timestamptz`; SQLite, which keeps no
    zone, as UTC) and always read back aware, in UTC. A naive value given is taken as UTC (what
    the servers' clocks and Airflow use); shown to officials in the campaign's time zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        import datetime as dt

        if value is None:
            return None
        value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        import datetime as dt

        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

files = Table(
    "files", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("original_name", Text, nullable=False),
    Column("month", String(7)),
    Column("format", String(8)),
    Column("size", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # accepted | rejected | superseded
    Column("archive_path", Text, nullable=False),
    Column("processed_at", Moment, nullable=False),
)

drops = Table(
    "drops", metadata,
    Column("drop_id", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("source", String(32), nullable=False),
    Column("original_name", Text, nullable=False),
    Column("month", String(7)),
    Column("dropped_at", Moment, nullable=False),  # the file's mtime in the inbox
    Column("status", String(16), nullable=False),  # accepted | rejected | duplicate | superseded
    Column("receipt", Text, nullable=False),  # the receipt JSON
    Column("recorded_at", Moment, nullable=False),
    Index("ix_drops_source_month", "source", "month"),
)

dataset_versions = Table(
    "dataset_versions", metadata,
    Column("dataset", String(32), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("source", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("dropped_at", Moment, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("loaded_at", Moment, nullable=False),
)

# --- reconciliation (两项制度衔接) -------------------------------------------------------------

reconciliation_runs = Table(
    "reconciliation_runs", metadata,
    Column("month", String(7), primary_key=True),
    Column("registry_month", String(7), nullable=False),  # the snapshot used (an earlier one at the deadline)
    Column("dibao_month", String(7), nullable=False),
    Column("note", Text, nullable=False),
    Column("counts", Text, nullable=False),  # JSON: findings per rule
    Column("dismissed", Text),  # JSON: per rule, findings left out as verified 不属实 with unchanged data
    Column("ran_at", Moment, nullable=False),
)

findings = Table(
    "findings", metadata,
    Column("month", String(7), nullable=False),
    Column("rule", String(4), nullable=False),
    Column("key", Text, nullable=False),  # what the finding is about, stable from month to month
    Column("town", Text),
    Column("household_id", Text),
    Column("card_no", Text),
    Column("person_id", String(18)),
    Column("other_id", String(18)),
    Column("detail", Text),
    Column("persisted_months", Integer, nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("project_no", Text),  # fund findings (F1–F6): the project and payment they are about
    Column("payment_no", Text),
    Column("unit", String(32)),  # the unit that checks it where the rule's owner depends on the finding (F6: 责任单位)
    Column("finding_id", String(16), index=True),  # verify.finding_id(rule, key): the same finding from month to month
    Column("fingerprint", String(16)),  # verify.fingerprint: what the data said; a dismissal holds while it is the same
    Column("state", String(12), nullable=False, server_default="open"),  # vocab.FindingState at the run
    Index("ix_findings_month_rule", "month", "rule"),
)

# 跨县比对 (province_crosscheck): in the province's warehouse, findings across counties (R7–R9)
fund_check_runs = Table(
    "fund_check_runs", metadata,
    Column("month", String(7), primary_key=True),
    Column("projects_month", String(7)),  # the project library used (the latest up to the month)
    Column("note", Text, nullable=False),
    Column("counts", Text, nullable=False),  # JSON: findings per rule (F1–F6)
    Column("ran_at", Moment, nullable=False),
)

crosscheck_runs = Table(
    "crosscheck_runs", metadata,
    Column("month", String(7), primary_key=True),
    Column("snapshots", Text, nullable=False),  # JSON: county -> {"registry": month, "dibao": month} (null: none loaded)
    Column("counts", Text, nullable=False),  # JSON: findings per rule
    Column("ran_at", Moment, nullable=False),
)

crosscheck_findings = Table(
    "crosscheck_findings", metadata,
    Column("month", String(7), nullable=False),
    Column("rule", String(4), nullable=False),
    Column("key", Text, nullable=False),  # the person (or pair) and the two counties, stable from month to month
    Column("county", String(12), nullable=False),  # the county whose registry holds the person
    Column("other_county", String(12), nullable=False),
    Column("person_id", String(18), nullable=False),
    Column("other_id", String(18), nullable=False),
    Column("town", Text),
    Column("other_town", Text),
    Column("detail", Text, nullable=False),
    Column("persisted_months", Integer, nullable=False),
    Column("escalated", Boolean, nullable=False),
    Column("finding_id", String(16), nullable=False),
    Index("ix_crosscheck_findings_month", "month", "rule"),
)

# 核查反馈: what a unit found when it checked a finding; append-only, the latest per finding counts
verifications = Table(
    "verifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", String(16), nullable=False),
    Column("rule", String(4), nullable=False),
    Column("month", String(7), nullable=False),  # the month of the finding checked
    Column("fingerprint", String(16), nullable=False),  # the finding's data when checked
    Column("outcome", String(12), nullable=False),  # vocab.Outcome
    Column("due", Date),  # 属实待整改: by when
    Column("reason", Text),  # 不属实: why; otherwise what was done
    Column("by_user", Text, nullable=False),
    Column("by_unit", String(32)),
    Column("via", Text, nullable=False),  # web | file:<drop id>
    Column("at", Moment, nullable=False),
    Index("ix_verifications_finding", "finding_id", "id"),
)

reconciliation_rates = Table(
    "reconciliation_rates", metadata,
    Column("month", String(7), primary_key=True),
    Column("town", Text, primary_key=True),  # a town, or 全县
    Column("kind", String(8), primary_key=True),  # 应保尽保率 | 应扶尽扶率
    Column("numerator", Integer, nullable=False),
    Column("denominator", Integer, nullable=False),
)

# --- assessment (考核) ----------------------------------------------------------------------------

assessment_runs = Table(
    "assessment_runs", metadata,
    Column("period", String(8), primary_key=True),
    Column("data_months", Text, nullable=False),  # JSON: dataset -> month used (null: no data)
    Column("ran_at", Moment, nullable=False),
    Column("assessed_on", Date),  # the assessment date (deadlines count from it); kept on re-runs
)

assessment_scores = Table(
    "assessment_scores", metadata,
    Column("period", String(8), primary_key=True),
    Column("indicator", String(4), primary_key=True),
    Column("unit", String(32), primary_key=True),
    Column("numerator", Float),
    Column("denominator", Float),
    Column("value", Float),
    Column("target", Float, nullable=False),
    Column("compare", String(2), nullable=False),
    Column("status", String(4), nullable=False),  # 达标 | 未达标
    Column("reason", Text, nullable=False),
)

assessment_actions = Table(
    "assessment_actions", metadata,
    Column("period", String(8), primary_key=True),
    Column("unit", String(32), primary_key=True),
    Column("action", String(8), primary_key=True),  # 通报 | 限期整改 | 约谈
    Column("indicators", Text, nullable=False),  # JSON list
    Column("due", Date),
    Column("reason", Text, nullable=False),
)

# --- notices (the outbox) -------------------------------------------------------------------------

access_log = Table(
    "access_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Moment, nullable=False),
    Column("by_user", Text, nullable=False),
    Column("by_unit", String(32)),
    Column("action", String(16), nullable=False),  # search | household
    Column("target", Text, nullable=False),  # the query or household number, ID numbers masked
    Column("results", Integer),  # households shown (None: refused, or nothing the viewer may see)
    Index("ix_access_log_at", "at"),
)

outbox = Table(
    "outbox", metadata,
    Column("kind", String(32), primary_key=True),  # receipt, reconciliation, reminder, assessment, ...
    Column("period", String(64), primary_key=True),  # a month, a period, a drop id
    Column("unit", String(32), primary_key=True),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("recipients", Text, nullable=False),  # JSON {"to": [...], "cc": [...]}
    Column("attachments", Text, nullable=False),  # JSON [path, ...]
    Column("status", String(8), nullable=False),  # pending | sending (interrupted: a person checks) | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("created_at", Moment, nullable=False),
    Column("next_attempt_at", Moment, nullable=False),
    Column("sent_at", Moment),
    Column("delivered", Text),  # JSON [address, ...]: recipients the server accepted it for
    Index("ix_outbox_status", "status"),
)

SQL_TYPES = {
    "str": Text, "name": Text, "enum": Text, "town": Text, "village": Text,
    "id": lambda: String(18), "money": Float, "int": Integer, "date": Date, "bool": Boolean,
}


# the household file (一户一档) looks people up by these across every month
LOOKUP_COLUMNS = ("id_number", "household_id")


def _dataset_table(md: MetaData, ds) -> Table:  # ds: a config.Dataset
    keys = {c.key for c in ds.columns}
    return Table(
        ds.name, md,
        Column("month", String(7), nullable=False),
        Column("sha256", String(64), nullable=False),
        Column("sheet", Text, nullable=False),
        Column("row_no", Integer, nullable=False),
        *(Column(c.key, SQL_TYPES[c.type]()) for c in ds.columns),
        Index(f"ix_{ds.name}_month", "month"),
        *(Index(f"ix_{ds.name}_{k}", k) for k in LOOKUP_COLUMNS if k in keys),
    )


@cache
def _tables_for(contracts_file: Path) -> dict[str, Table]:
    """The dataset tables of one contracts file (a MetaData of their own: another county's
    contracts may give a table of the same name other columns)."""
    md = MetaData()
    return {name: _dataset_table(md, ds) for name, ds in contracts().datasets.items()}


class _DatasetTables(Mapping[str, Table]):
    """dataset name → its table, by the active county's contracts (fupin.county): built once per
    contracts file, looked up at each use — never fixed at import by whichever county was active."""

    def _current(self) -> dict[str, Table]:
        from fupin.config import county_file

        return _tables_for(county_file("config", "contracts.yaml"))

    def __getitem__(self, name: str) -> Table:
        return self._current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())


dataset_tables: Mapping[str, Table] = _DatasetTables()


def full_metadata() -> MetaData:
    """The whole schema the active county's code expects: the platform's tables and its contracts'."""
    md = MetaData()
    for t in metadata.tables.values():
        t.to_metadata(md)
    for t in dataset_tables.values():
        t.to_metadata(md)
    return md
