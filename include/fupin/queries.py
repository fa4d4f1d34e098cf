"""The read layer (查询): every question the platform asks the warehouse, asked once.

Ingest, reconciliation, assessment, the reminders, the CLI, the demo and the dashboard read
through these functions; none of them writes. Each takes an open connection, so a caller can
ask several in one transaction, and returns plain values or typed frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, func, select

from fupin.config import contracts
from fupin.vocab import SUBMITTED, ScoreStatus
from fupin.warehouse.schema import (
    assessment_actions,
    assessment_runs,
    assessment_scores,
    dataset_tables,
    dataset_versions,
    drops,
    findings,
    reconciliation_rates,
    reconciliation_runs,
)

# --- snapshots ---------------------------------------------------------------------------------


def latest_month(conn: Connection, dataset: str, upto: str) -> str | None:
    """The latest month ≤ `upto` with an accepted snapshot of `dataset`, or None."""
    return conn.execute(select(func.max(dataset_versions.c.month))
                        .where(dataset_versions.c.dataset == dataset, dataset_versions.c.month <= upto)).scalar()


def first_month(conn: Connection, dataset: str) -> str | None:
    """The earliest month with an accepted snapshot of `dataset`, or None."""
    return conn.execute(select(func.min(dataset_versions.c.month)).where(dataset_versions.c.dataset == dataset)).scalar()


def snapshot(conn: Connection, dataset: str, month: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The rows of `dataset` for `month` (all columns, or `columns`), typed as the contract says:
    booleans as pandas booleans (SQLite hands back 0/1), whatever the database."""
    table = dataset_tables[dataset]
    cols = [table.c[c] for c in columns] if columns is not None else [table]
    frame = pd.read_sql(select(*cols).where(table.c.month == month), conn)
    for col in contracts().datasets[dataset].columns:
        if col.type == "bool" and col.key in frame:
            frame[col.key] = frame[col.key].astype("boolean")
    return frame


def persons(conn: Connection, dataset: str, month: str, ids: Iterable[str], columns: list[str]) -> dict[str, dict]:
    """What `dataset`'s snapshot of `month` says about these persons: id → {column: value}."""
    table = dataset_tables[dataset]
    wanted = sorted(i for i in ids if isinstance(i, str))
    out: dict[str, dict] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        q = select(table.c.id_number, *[table.c[c] for c in columns]).where(table.c.month == month,
                                                                            table.c.id_number.in_(wanted[start:start + 500]))
        out.update({r.id_number: dict(r._mapping) for r in conn.execute(q)})
    return out


def months_of(conn: Connection, dataset: str, months: list[str], columns: Iterable[str]) -> pd.DataFrame:
    """`columns` (and `month`) of every snapshot of `dataset` in `months`."""
    table = dataset_tables[dataset]
    return pd.read_sql(select(*[table.c[c] for c in columns], table.c.month).where(table.c.month.in_(months)), conn)


def loaded_times(conn: Connection, datasets: Iterable[str]) -> dict[str, dict[str, dt.datetime]]:
    """month → dataset → when its snapshot was loaded, for `datasets`."""
    out: dict[str, dict[str, dt.datetime]] = {}
    for r in conn.execute(select(dataset_versions.c.dataset, dataset_versions.c.month, dataset_versions.c.loaded_at)
                          .where(dataset_versions.c.dataset.in_(list(datasets)))):
        out.setdefault(r.month, {})[r.dataset] = r.loaded_at
    return out


# --- the submission ledger ------------------------------------------------------------------------


def ledger(conn: Connection, month: str | None = None) -> pd.DataFrame:
    """Every drop (source, month, dropped_at, status), or those of `month`."""
    q = select(drops.c.source, drops.c.month, drops.c.dropped_at, drops.c.status)
    return pd.read_sql(q if month is None else q.where(drops.c.month == month), conn)


def submitted_sources(conn: Connection, month: str) -> set[str]:
    """Sources with a valid file for `month` (a rejected one does not count)."""
    return set(conn.execute(select(drops.c.source).where(drops.c.month == month, drops.c.status.in_(SUBMITTED))).scalars())


# --- reconciliation -----------------------------------------------------------------------------


def findings_of(conn: Connection, month: str, *, rule: str | None = None, escalated: bool | None = None) -> list[dict]:
    """The findings of `month` (of one rule, or only the escalated ones), in a stable order."""
    q = select(findings).where(findings.c.month == month)
    if rule is not None:
        q = q.where(findings.c.rule == rule)
    if escalated is not None:
        q = q.where(findings.c.escalated.is_(escalated))
    return [dict(r._mapping) for r in conn.execute(q.order_by(findings.c.rule, findings.c.key))]


def findings_frame(conn: Connection, month: str) -> pd.DataFrame:
    """`month`'s findings as a frame, by rule, town and key (the workbook's order)."""
    return pd.read_sql(select(findings).where(findings.c.month == month).order_by(findings.c.rule, findings.c.town, findings.c.key), conn)


def persistence(conn: Connection, month: str) -> dict[tuple[str, str], int]:
    """(rule, key) → months persisted, of `month`'s findings."""
    return {(r.rule, r.key): r.persisted_months for r in conn.execute(
        select(findings.c.rule, findings.c.key, findings.c.persisted_months).where(findings.c.month == month))}


def households_found(conn: Connection, month: str, rule: str) -> set[str]:
    return set(conn.execute(select(findings.c.household_id).where(findings.c.month == month, findings.c.rule == rule)).scalars())


def rate_basis(conn: Connection, month: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(kind, town) → (numerator, denominator): the basis each rate of `month` rests on."""
    rows = conn.execute(select(reconciliation_rates).where(reconciliation_rates.c.month == month)).all()
    return {(r.kind, r.town): (r.numerator, r.denominator) for r in rows}


def rates_of(conn: Connection, month: str) -> pd.DataFrame:
    """The reconciliation rates (town, kind, numerator, denominator) of `month`; empty if not run."""
    return pd.read_sql(select(reconciliation_rates).where(reconciliation_rates.c.month == month), conn)


def reconciliation_run(conn: Connection, month: str):  # noqa: ANN201 - a Row
    return conn.execute(select(reconciliation_runs).where(reconciliation_runs.c.month == month)).first()


def reconciliation_runs_by_month(conn: Connection) -> dict:
    return {r.month: r for r in conn.execute(select(reconciliation_runs))}


# --- assessment -----------------------------------------------------------------------------------


def scores_of(conn: Connection, period: str, status: ScoreStatus | None = None) -> list:
    """The stored scores of `period` (rows with indicator, unit, value, target, status, ...)."""
    q = select(assessment_scores).where(assessment_scores.c.period == period)
    if status is not None:
        q = q.where(assessment_scores.c.status == status)
    return list(conn.execute(q.order_by(assessment_scores.c.indicator, assessment_scores.c.unit)))


def assessment_run(conn: Connection, period: str):  # noqa: ANN201 - a Row
    return conn.execute(select(assessment_runs).where(assessment_runs.c.period == period)).first()


def earliest_due(conn: Connection, period: str) -> dt.date | None:
    return conn.execute(select(func.min(assessment_actions.c.due)).where(assessment_actions.c.period == period)).scalar()


def has_data(conn: Connection) -> bool:
    """Whether any snapshot was ever accepted."""
    return conn.execute(select(dataset_versions.c.month).limit(1)).first() is not None
