"""The read layer (查询): every question the platform asks the warehouse, asked once.

Ingest, reconciliation, assessment, the reminders, the CLI, the demo and the dashboard read
through these functions; none of them writes. Each takes an open connection, so a caller can
ask several in one transaction, and returns plain values or typed frames.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import Connection, and_, func, select

from fupin.config import contracts
from fupin.vocab import SUBMITTED, FindingState, ScoreStatus
from fupin.warehouse.schema import (
    assessment_actions,
    assessment_runs,
    assessment_scores,
    crosscheck_findings,
    dataset_tables,
    dataset_versions,
    drops,
    findings,
    fund_check_runs,
    reconciliation_rates,
    reconciliation_runs,
    verifications,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.engine import URL

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


def snapshot_arrow(conn: Connection, dataset: str, month: str, columns: Iterable[str]) -> pa.Table:
    """`columns` of `dataset`'s rows for `month` as an Arrow table, read column-wise (see
    `snapshots_arrow`)."""
    return snapshots_arrow([(conn.engine.url, dataset, month, list(columns))], conn)[0]


def snapshots_arrow(wanted: Iterable[tuple[URL, str, str, list[str]]], conn: Connection | None = None) -> list[pa.Table]:
    """Snapshots (warehouse URL, dataset, month, columns) — of one warehouse or of many — as Arrow
    tables, in order, read column-wise (`fupin.warehouse.arrow`: ADBC on PostgreSQL, a reader
    process for SQLite files): what the reconciliation engines read, with no Python object per
    value. Types are the database's; the engines cast what they need."""
    from fupin.warehouse import arrow

    wanted = list(wanted)
    own = rows_loaded(conn, sorted({m for _, _, m, _ in wanted})) if conn is not None else {}  # what `conn` knows of its own
    return arrow.read_many([arrow.request(url, dataset_tables[d], cols, {"month": m}, own.get((d, m)) if conn is not None and url == conn.engine.url else None)
                            for url, d, m, cols in wanted], conn)


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


def ledger(conn: Connection, month: str | None = None, *, months: list[str] | None = None) -> pd.DataFrame:
    """Every drop (source, month, dropped_at, status, drop_id, file), or those of `month` or of
    `months`, oldest first. `file`: which of its unit's monthly files a loaded drop was (the title
    of `Source.reports` holding a dataset its receipt loaded), else None."""
    import json

    q = select(drops.c.source, drops.c.month, drops.c.dropped_at, drops.c.status, drops.c.drop_id, drops.c.receipt)
    if month is not None:
        q = q.where(drops.c.month == month)
    if months is not None:
        q = q.where(drops.c.month.in_(months))
    frame = pd.read_sql(q.order_by(drops.c.dropped_at, drops.c.drop_id), conn)
    sources = contracts().sources

    def file_of(source: str, receipt: str) -> str | None:
        loaded = [d for d in (json.loads(receipt).get("rows") or {}) if source in sources and d in sources[source].datasets]
        return sources[source].file_of(loaded[0]) if loaded else None

    frame["file"] = [file_of(s, r) for s, r in zip(frame["source"], frame["receipt"], strict=True)]
    return frame.drop(columns="receipt")


def receipt_of(conn: Connection, drop_id: str) -> str | None:
    """The receipt JSON of a drop, or None."""
    return conn.execute(select(drops.c.receipt).where(drops.c.drop_id == drop_id)).scalar()


def rows_loaded(conn: Connection, months: list[str]) -> dict[tuple[str, str], int]:
    """(dataset, month) → rows of the snapshot in force, for `months`."""
    return {(r.dataset, r.month): r.rows for r in conn.execute(
        select(dataset_versions.c.dataset, dataset_versions.c.month, dataset_versions.c.rows)
        .where(dataset_versions.c.month.in_(months)))}


def household_months(conn: Connection, household_id: str) -> list[str]:
    """The months whose registry holds this household, oldest first."""
    table = dataset_tables["registry"]
    return list(conn.execute(select(table.c.month).where(table.c.household_id == household_id).distinct()
                             .order_by(table.c.month)).scalars())


def rows_about(conn: Connection, dataset: str, *, ids: Iterable[str] = (), household_id: str | None = None,
               village: tuple[str, str] | None = None) -> pd.DataFrame:
    """Every month's rows of `dataset` about these persons (or this household; for a dataset kept
    by village, about its (town, village)), oldest first."""
    table = dataset_tables[dataset]
    cond = []
    if ids and "id_number" in table.c:
        cond.append(table.c.id_number.in_(sorted(set(ids))))
    if household_id is not None and "household_id" in table.c:
        cond.append(table.c.household_id == household_id)
    if village is not None and not cond and "id_number" not in table.c and "household_id" not in table.c and "village" in table.c:
        cond.append(and_(table.c.town == village[0], table.c.village == village[1]))
    if not cond:
        return pd.DataFrame()
    from sqlalchemy import or_

    return pd.read_sql(select(table).where(or_(*cond)).order_by(table.c.month, table.c.row_no), conn)


def find_people(conn: Connection, *, name: str | None = None, village: str | None = None, id_head: str | None = None,
                id_tail: str | None = None, id_number: str | None = None, household_id: str | None = None,
                limit: int = 50) -> pd.DataFrame:
    """Persons of the latest registry by name (and village), by the visible parts of a masked ID,
    by their ID or by their household: household_id, name, town, village, id_number. (Exited
    persons stay on the registry.)"""
    table = dataset_tables["registry"]
    month = conn.execute(select(func.max(dataset_versions.c.month)).where(dataset_versions.c.dataset == "registry")).scalar()
    q = select(table.c.household_id, table.c.name, table.c.town, table.c.village, table.c.id_number).where(table.c.month == month)
    if id_number:
        q = q.where(table.c.id_number == id_number)
    if household_id:
        q = q.where(table.c.household_id == household_id)
    if name:
        q = q.where(table.c.name == name)
    if village:
        q = q.where(table.c.village == village)
    if id_head:  # a range, so the ID index serves it (LIKE would not, case-insensitive in SQLite)
        q = q.where(table.c.id_number >= id_head, table.c.id_number < id_head + "\uffff")
    if id_tail:
        q = q.where(table.c.id_number.endswith(id_tail, autoescape=True))
    return pd.read_sql(q.order_by(table.c.household_id).limit(limit), conn)


def households_in_files(conn: Connection, households: list[str], datasets: Iterable[str]) -> set[str]:
    """Of these households, those whose persons (or the household itself) appear in any month of
    these datasets: what a bureau's own files concern."""
    from sqlalchemy import or_

    if not households:
        return set()
    reg = dataset_tables["registry"]
    members = select(reg.c.id_number).where(reg.c.household_id.in_(households)).distinct()
    found: set[str] = set()
    for name in datasets:
        t = dataset_tables[name]
        cond = []
        if "id_number" in t.c:
            cond.append(t.c.id_number.in_(members))
        if "household_id" in t.c:
            cond.append(t.c.household_id.in_(households))
        if not cond:
            continue
        if "household_id" in t.c and "id_number" not in t.c:
            found |= set(conn.execute(select(t.c.household_id).where(or_(*cond)).distinct()).scalars())
        else:
            ids = set(conn.execute(select(t.c.id_number).where(or_(*cond)).distinct()).scalars())
            if ids:
                found |= set(conn.execute(select(reg.c.household_id).where(reg.c.household_id.in_(households),
                                                                              reg.c.id_number.in_(ids)).distinct()).scalars())
    return found


def findings_about(conn: Connection, *, household_id: str, ids: Iterable[str]) -> list[dict]:
    """Every month's findings about this household or its members, oldest first."""
    from sqlalchemy import or_

    wanted = sorted(set(ids))
    q = select(findings).where(or_(findings.c.household_id == household_id, findings.c.person_id.in_(wanted),
                                   findings.c.other_id.in_(wanted)))
    return [dict(r._mapping) for r in conn.execute(q.order_by(findings.c.month, findings.c.rule))]


def loaded_datasets(conn: Connection, month: str) -> set[str]:
    """Datasets with data loaded for `month`."""
    return set(conn.execute(select(dataset_versions.c.dataset).where(dataset_versions.c.month == month)).scalars())


def submitted_sources(conn: Connection, month: str) -> set[str]:
    """Sources with a valid file for `month` (a rejected one does not count)."""
    return set(conn.execute(select(drops.c.source).where(drops.c.month == month, drops.c.status.in_(SUBMITTED))).scalars())


# --- reconciliation -----------------------------------------------------------------------------


# a finding verified 不属实 with unchanged data is kept (the dashboard counts it) but not reported
REPORTED = findings.c.state != FindingState.DISMISSED


def findings_of(conn: Connection, month: str, *, rule: str | None = None, escalated: bool | None = None,
                rules: Iterable[str] | None = None) -> list[dict]:
    """The reported findings of `month` (of one rule, or of `rules`, or only the escalated ones), in a stable order."""
    q = select(findings).where(findings.c.month == month, REPORTED)
    if rules is not None:
        q = q.where(findings.c.rule.in_(list(rules)))
    if rule is not None:
        q = q.where(findings.c.rule == rule)
    if escalated is not None:
        q = q.where(findings.c.escalated.is_(escalated))
    return [dict(r._mapping) for r in conn.execute(q.order_by(findings.c.rule, findings.c.key))]


def findings_frame(conn: Connection, month: str, rules: Iterable[str]) -> pd.DataFrame:
    """`month`'s reported findings of `rules` as a frame, by rule, town and key (the workbook's order)."""
    return pd.read_sql(select(findings).where(findings.c.month == month, REPORTED, findings.c.rule.in_(list(rules)))
                       .order_by(findings.c.rule, findings.c.town, findings.c.key), conn)


def all_findings(conn: Connection, month: str | None = None) -> list[dict]:
    """Every finding of `month` (of every month, oldest first, when None), the dismissed ones too
    (the dashboard shows what was left out)."""
    q = select(findings) if month is None else select(findings).where(findings.c.month == month)
    return [dict(r._mapping) for r in conn.execute(q.order_by(findings.c.month, findings.c.rule, findings.c.town, findings.c.key))]


def finding_counts(conn: Connection) -> dict[tuple[str, str, str | None], int]:
    """(month, rule, town) → the reported findings."""
    q = (select(findings.c.month, findings.c.rule, findings.c.town, func.count()).where(REPORTED)
         .group_by(findings.c.month, findings.c.rule, findings.c.town))
    return {(m, r, t): n for m, r, t, n in conn.execute(q)}


def persistence(conn: Connection, month: str) -> dict[tuple[str, str], int]:
    """(rule, key) → months persisted, of `month`'s reported findings."""
    return {(r.rule, r.key): r.persisted_months for r in conn.execute(
        select(findings.c.rule, findings.c.key, findings.c.persisted_months).where(findings.c.month == month, REPORTED))}


def households_found(conn: Connection, month: str, rule: str) -> set[str]:
    return set(conn.execute(select(findings.c.household_id).where(findings.c.month == month, findings.c.rule == rule,
                                                                  REPORTED)).scalars())


def finding(conn: Connection, finding_id: str) -> dict | None:
    """The latest month's row of a finding, or None."""
    row = conn.execute(select(findings).where(findings.c.finding_id == finding_id)
                       .order_by(findings.c.month.desc()).limit(1)).first()
    return None if row is None else dict(row._mapping)


def drops_without_receipt(conn: Connection) -> list[str]:
    """The stored receipts (JSON) of recorded drops whose receipt is not in the outbox."""
    from fupin.warehouse.schema import drops, outbox

    q = (select(drops.c.receipt).select_from(drops.outerjoin(outbox, and_(outbox.c.kind == "receipt", outbox.c.period == drops.c.drop_id)))
         .where(outbox.c.kind.is_(None)).order_by(drops.c.recorded_at))
    return list(conn.execute(q).scalars())


def findings_by_id(conn: Connection, finding_ids: Iterable[str]) -> dict[str, dict]:
    """finding id → the latest month's row of that finding (the ids that are findings), a few hundred at a time."""
    wanted = sorted({f for f in finding_ids if f})
    out: dict[str, dict] = {}
    for start in range(0, len(wanted), 500):
        for row in conn.execute(select(findings).where(findings.c.finding_id.in_(wanted[start:start + 500]))
                                .order_by(findings.c.month)):
            out[row.finding_id] = dict(row._mapping)  # later months overwrite earlier ones
    return out


def latest_verifications(conn: Connection, finding_ids: Iterable[str] | None = None) -> dict[str, dict]:
    """finding id → its latest verification (of these findings, or of all)."""
    latest = select(func.max(verifications.c.id)).group_by(verifications.c.finding_id)
    q = select(verifications).where(verifications.c.id.in_(latest))
    if finding_ids is not None:
        wanted = sorted(set(finding_ids))
        out: dict[str, dict] = {}
        for start in range(0, len(wanted), 500):
            out.update({r.finding_id: dict(r._mapping) for r in conn.execute(q.where(
                verifications.c.finding_id.in_(wanted[start:start + 500])))})
        return out
    return {r.finding_id: dict(r._mapping) for r in conn.execute(q)}


def verification_history(conn: Connection, finding_id: str) -> list[dict]:
    """Every verification of a finding, oldest first."""
    return [dict(r._mapping) for r in conn.execute(select(verifications).where(verifications.c.finding_id == finding_id)
                                                   .order_by(verifications.c.id))]


def rate_basis(conn: Connection, month: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(kind, town) → (numerator, denominator): the basis each rate of `month` rests on."""
    rows = conn.execute(select(reconciliation_rates).where(reconciliation_rates.c.month == month)).all()
    return {(r.kind, r.town): (r.numerator, r.denominator) for r in rows}


def rates_of(conn: Connection, month: str) -> pd.DataFrame:
    """The reconciliation rates (town, kind, numerator, denominator) of `month`; empty if not run."""
    return pd.read_sql(select(reconciliation_rates).where(reconciliation_rates.c.month == month), conn)


def reconciliation_run(conn: Connection, month: str):  # a Row
    return conn.execute(select(reconciliation_runs).where(reconciliation_runs.c.month == month)).first()


def reconciled_months(conn: Connection) -> list[str]:
    return list(conn.execute(select(reconciliation_runs.c.month).order_by(reconciliation_runs.c.month)).scalars())


def reconciliation_runs_by_month(conn: Connection) -> dict:
    return {r.month: r for r in conn.execute(select(reconciliation_runs))}


# --- 资金监管 (F1–F6) ----------------------------------------------------------------------------------


def months_arrow(conn: Connection, wanted: Mapping[str, tuple[str, Iterable[str], Iterable[str]]]) -> dict[str, pa.Table]:
    """Several datasets' months in one column-wise read (`snapshots_arrow`: one reader process
    for SQLite, ADBC connections side by side on PostgreSQL): name → (dataset, months, columns),
    each name's months stacked into one table (`stack`)."""
    plan = [(name, dataset, m, list(columns)) for name, (dataset, months, columns) in wanted.items() for m in months]
    tables = snapshots_arrow([(conn.engine.url, dataset, m, columns) for _, dataset, m, columns in plan], conn)
    return {name: stack([t for (n, *_), t in zip(plan, tables, strict=True) if n == name], list(columns))
            for name, (_, _, columns) in wanted.items()}


def months_loaded(conn: Connection, dataset: str, upto: str) -> list[str]:
    """Every month ≤ `upto` with an accepted snapshot of `dataset`, oldest first."""
    return list(conn.execute(select(dataset_versions.c.month).where(dataset_versions.c.dataset == dataset, dataset_versions.c.month <= upto)
                             .order_by(dataset_versions.c.month)).scalars())


def stack(tables: Iterable[pa.Table], columns: list[str]) -> pa.Table:
    """Months' tables as one. A column a reader found empty (a month with no reward, a month with
    no row) carries only its guess of a type (null, int64): it is typed by the others'."""
    import pyarrow as pa

    kept = [pa.table([t[c] if t[c].null_count < t.num_rows else pa.nulls(t.num_rows) for c in columns], names=columns)
            for t in tables if t.num_rows]
    if not kept:
        return pa.table({c: pa.array([], type=pa.string()) for c in columns})
    return pa.concat_tables(kept, promote_options="default")


def distinct_findings(conn: Connection, rules: Iterable[str]) -> dict[str, int]:
    """Rule (of `rules`) → distinct findings ever found, each counted once however many months it persisted."""
    q = (select(findings.c.rule, func.count(func.distinct(findings.c.key))).where(findings.c.rule.in_(list(rules)))
         .group_by(findings.c.rule))
    return {rule: int(n) for rule, n in conn.execute(q)}


def paid_by_project(conn: Connection, month: str) -> pd.DataFrame:
    """project_no, paid (元): every payment loaded for the months up to `month`, summed per project."""
    t = dataset_tables["fund_payments"]
    return pd.read_sql(select(t.c.project_no, func.sum(t.c.amount).label("paid")).where(t.c.month <= month)
                       .group_by(t.c.project_no), conn)


def fund_findings_upto(conn: Connection, month: str, rules: Iterable[str]) -> pd.DataFrame:
    """One row per finding of `rules` found in a month up to `month`, dismissed ones too: rule,
    key, finding_id, town, unit, project and payment (as last found), first and last month found."""
    q = (select(findings.c.rule, findings.c.key, findings.c.finding_id, findings.c.town, findings.c.unit, findings.c.project_no,
                findings.c.payment_no, findings.c.month)
         .where(findings.c.month <= month, findings.c.rule.in_(list(rules))).order_by(findings.c.month))
    rows = pd.read_sql(q, conn)
    if rows.empty:
        return rows.drop(columns="month").assign(first=pd.Series(dtype=object), last=pd.Series(dtype=object))
    g = rows.groupby(["rule", "key"], sort=True)
    out = g.last().rename(columns={"month": "last"})
    out["first"] = g["month"].min()
    return out.reset_index()


def last_fund_check(conn: Connection, month: str) -> str | None:
    """The latest month up to `month` whose funds were checked."""
    return conn.execute(select(func.max(fund_check_runs.c.month)).where(fund_check_runs.c.month <= month)).scalar()


def payments_numbered(conn: Connection, month: str, numbers: Iterable[str], columns: list[str]) -> dict[str, list[dict]]:
    """拨付单号 → what 县财政局's files up to `month` say of the payments with it (one number can be
    written twice: F2), in the order they came."""
    t = dataset_tables["fund_payments"]
    wanted = sorted({n for n in numbers if isinstance(n, str)})
    out: dict[str, list[dict]] = {}
    for start in range(0, len(wanted), 500):
        q = (select(t.c.payment_no, *[t.c[c] for c in columns if c != "payment_no"])
             .where(t.c.month <= month, t.c.payment_no.in_(wanted[start:start + 500])).order_by(t.c.month, t.c.sheet, t.c.row_no))
        for r in conn.execute(q):
            out.setdefault(r.payment_no, []).append(dict(r._mapping))
    return out


def households_in_registry(conn: Connection, month: str, household_ids: Iterable[str]) -> dict[str, dict]:
    """户编号 → where the registry of `month` has the household and how many it counts: {town, village, members}."""
    t = dataset_tables["registry"]
    wanted = sorted({h for h in household_ids if isinstance(h, str)})
    out: dict[str, dict] = {}
    for start in range(0, len(wanted), 500):
        q = (select(t.c.household_id, func.min(t.c.town).label("town"), func.min(t.c.village).label("village"), func.count().label("members"))
             .where(t.c.month == month, t.c.household_id.in_(wanted[start:start + 500])).group_by(t.c.household_id))
        out.update({r.household_id: dict(r._mapping) for r in conn.execute(q)})
    return out


def project_names(conn: Connection, numbers: Iterable[str]) -> dict[str, str]:
    """项目编号 → the project's name in the latest library that lists it."""
    t = dataset_tables["projects"]
    wanted = sorted({n for n in numbers if isinstance(n, str)})
    out: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        q = select(t.c.project_no, t.c.project_name).where(t.c.project_no.in_(wanted[start:start + 500])).order_by(t.c.month)
        out.update({r.project_no: r.project_name for r in conn.execute(q)})  # a later month's name replaces an earlier
    return out


def fund_check_runs_by_month(conn: Connection) -> dict:
    return {r.month: r for r in conn.execute(select(fund_check_runs))}


def fund_check_run(conn: Connection, month: str):  # a Row
    return conn.execute(select(fund_check_runs).where(fund_check_runs.c.month == month)).first()


# --- the province's cross-check (跨县比对), in the province's warehouse -------------------------------


def crosscheck_persistence(conn: Connection, month: str) -> dict[tuple[str, str], int]:
    """(rule, key) → months persisted, of `month`'s cross-county findings."""
    return {(r.rule, r.key): r.persisted_months for r in conn.execute(
        select(crosscheck_findings.c.rule, crosscheck_findings.c.key, crosscheck_findings.c.persisted_months)
        .where(crosscheck_findings.c.month == month))}


def crosscheck_findings_of(conn: Connection, month: str, county: str | None = None) -> list[dict]:
    """`month`'s cross-county findings (those naming `county`, on either side), by rule and key."""
    q = select(crosscheck_findings).where(crosscheck_findings.c.month == month)
    if county is not None:
        q = q.where((crosscheck_findings.c.county == county) | (crosscheck_findings.c.other_county == county))
    return [dict(r._mapping) for r in conn.execute(q.order_by(crosscheck_findings.c.rule, crosscheck_findings.c.key))]

# --- assessment -----------------------------------------------------------------------------------


def scores_of(conn: Connection, period: str, status: ScoreStatus | None = None) -> list:
    """The stored scores of `period` (rows with indicator, unit, value, target, status, ...)."""
    q = select(assessment_scores).where(assessment_scores.c.period == period)
    if status is not None:
        q = q.where(assessment_scores.c.status == status)
    return list(conn.execute(q.order_by(assessment_scores.c.indicator, assessment_scores.c.unit)))


def assessment_run(conn: Connection, period: str):  # a Row
    return conn.execute(select(assessment_runs).where(assessment_runs.c.period == period)).first()


def actions_of(conn: Connection, period: str) -> list[dict]:
    """The actions (通报, 限期整改, 约谈) of `period`, by unit."""
    return [dict(r._mapping) for r in conn.execute(select(assessment_actions).where(assessment_actions.c.period == period)
                                                   .order_by(assessment_actions.c.unit, assessment_actions.c.action))]


def assessed_periods(conn: Connection) -> list[str]:
    return list(conn.execute(select(assessment_runs.c.period).order_by(assessment_runs.c.period)).scalars())


def all_scores(conn: Connection) -> list:
    """Every period's scores (period, indicator, unit, value, target, status): the trend."""
    return list(conn.execute(select(assessment_scores.c.period, assessment_scores.c.indicator, assessment_scores.c.unit,
                                    assessment_scores.c.value, assessment_scores.c.target, assessment_scores.c.status)
                             .order_by(assessment_scores.c.period)))


def earliest_due(conn: Connection, period: str) -> dt.date | None:
    return conn.execute(select(func.min(assessment_actions.c.due)).where(assessment_actions.c.period == period)).scalar()


def has_data(conn: Connection) -> bool:
    """Whether any snapshot was ever accepted."""
    return conn.execute(select(dataset_versions.c.month).limit(1)).first() is not None
