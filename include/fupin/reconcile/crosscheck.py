"""The province-wide cross-check (跨县比对): rules R7–R9 across every county's latest registries.

People move: the same person registered poor in two counties, or on the registry in one county
and on dibao in another, is invisible to each county's own reconciliation (R1–R6). Once a month
the province reads every county's latest registry and dibao (≤ the month) and finds:

- R7 跨县重复建档: the same person (exact ID, normalised as R1–R6 do) in the poverty registries
  of two counties — one finding per person and pair of counties;
- R8 跨县建档且享受低保: on one county's registry and on another county's dibao in force (在保);
- R9 跨县疑似同一人: R5 across counties — the same name and birth date, ID numbers one digit or
  one neighbour swap apart, in two counties (at least one side in a registry). Listed, never merged.

`find` is pure (the snapshots in, the findings out) and runs on the same engine as R1–R6.
`crosscheck_month` reads the counties' warehouses, stores the findings with how many months each
has persisted in the province's warehouse, and `queue_notices` mails each county its own cases
(masked IDs) and the province office the summary.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import pandas as pd
import pyarrow as pa

from fupin import queries
from fupin.calendar import add_months, month_label
from fupin.county import County, counties, current
from fupin.ids import mask
from fupin.notify.outbox import enqueue, send_pending
from fupin.reconcile.engine import Session, as_arrow
from fupin.reconcile.rules import IN_FORCE, prepare
from fupin.reconcile.run import (
    ESCALATE_AFTER,  # escalated from the same month of persistence as R1–R6
)
from fupin.reconcile.verify import finding_id
from fupin.runs import Run
from fupin.warehouse import db
from fupin.warehouse.db import engine
from fupin.warehouse.schema import crosscheck_findings, crosscheck_runs
from fupin.wording import unit_name, you

log = logging.getLogger(__name__)

# rule -> its name (every case goes to the poverty offices of both counties, copying civil affairs)
CROSS_RULES = {
    "R7": "跨县重复建档",
    "R8": "跨县建档且享受低保",
    "R9": "跨县疑似同一人",
}
CROSS_COLUMNS = {
    "registry": ["id_number", "name", "town", "village"],
    "dibao": ["id_number", "name", "town", "village", "status"],
}
FINDING_COLUMNS = ["rule", "key", "county", "other_county", "person_id", "other_id", "town", "other_town", "detail"]
READ_THREADS = 4  # the counties' warehouses are read a few at a time: the reads wait on the databases


@dataclass
class CrossSummary:
    """A month's cross-check as the province office reads it (跨县比对汇总)."""

    month: str
    counts: dict[str, int]  # rule -> findings
    escalated: int
    by_county: dict[str, dict[str, int]]  # county code -> rule -> findings (and "escalated")
    snapshots: dict[str, dict[str, str | None]]  # county code -> dataset -> month used
    behind: list[str]  # counties whose latest data is older than the month
    missing: list[str]  # counties without a registry or a dibao: not checked
    names: dict[str, str]  # county code -> name

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> CrossSummary:
        return cls(**d)


def _province_table(snapshots: Mapping[str, object | None], dataset: str) -> pa.Table:
    """Every county's snapshot of `dataset` as one Arrow table with a `county` column (no rows
    when no county has one)."""
    columns = CROSS_COLUMNS[dataset]
    parts = [pa.table({c: pa.array([], type=pa.string()) for c in [*columns, "county"]})]
    for code, source in snapshots.items():
        if source is None:
            continue
        table = as_arrow(source, columns).drop_columns(["_row"])
        parts.append(table.append_column("county", pa.array([code] * table.num_rows, type=pa.string())))
    return pa.concat_tables(parts)


def find(registries: Mapping[str, object | None], dibaos: Mapping[str, object | None], names: Mapping[str, str]) -> pd.DataFrame:
    """R7–R9 over the counties' registries and dibao (county code → Arrow table or pandas frame,
    None where a county has none); `names` gives each county's name for the detail text."""
    with Session() as s:
        for name, snapshots, dataset in (("preg", registries, "registry"), ("pdib", dibaos, "dibao")):
            prepare(s, name, _province_table(snapshots, dataset), [*CROSS_COLUMNS[dataset], "county"])
        s.sql("""create or replace temp table reg_people as
            select person_id, county, first(town order by _row) as town from preg group by person_id, county""")
        r7 = s.rows("""select a.person_id, a.county, b.county, a.town, b.town from reg_people a
            join reg_people b on a.person_id = b.person_id and a.county < b.county
            order by a.person_id, a.county, b.county""")
        r8 = s.rows(f"""with d as (select person_id, county, first(town order by _row) as town from pdib
                                   where status = '{IN_FORCE}' group by person_id, county)
            select r.person_id, r.county, d.county, r.town, d.town from reg_people r
            join d on r.person_id = d.person_id and r.county <> d.county
            order by r.person_id, r.county, d.county""")
        # each person once per county and name, with whether the county's registry holds them
        s.sql("""create or replace temp table people as
            select person_id, county, name, substr(person_id, 7, 8) as birth, bool_or(registry) as registry,
                   first(town order by registry desc, _row) as town
            from (select person_id, county, name, town, _row, true as registry from preg
                  union all select person_id, county, name, town, _row, false from pdib)
            where name is not null group by person_id, county, name""")
        # a pair once: from its registry side, or from the smaller ID when both are registered
        r9 = s.rows("""select a.person_id, a.county, b.person_id, b.county, a.town, b.town from people a
            join people b on a.name = b.name and a.birth = b.birth and a.county <> b.county
            where a.registry and (not b.registry or a.person_id < b.person_id) and one_digit_apart(a.person_id, b.person_id)
            order by a.person_id, b.person_id, a.county, b.county""")
    rows = [_r7(names, *r) for r in r7] + [_r8(names, *r) for r in r8] + [_r9(names, *r) for r in r9]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS) if rows else pd.DataFrame(columns=FINDING_COLUMNS)


def _name(names: Mapping[str, str], code: str) -> str:
    return names.get(code) or code


def _r7(names: Mapping[str, str], pid: str, a: str, b: str, town_a: str, town_b: str) -> dict:
    return {"rule": "R7", "key": f"{pid}|{a}|{b}", "county": a, "other_county": b, "person_id": pid, "other_id": pid,
            "town": town_a, "other_town": town_b, "detail": f"同时在{_name(names, a)}、{_name(names, b)}建档立卡"}


def _r8(names: Mapping[str, str], pid: str, reg: str, dib: str, town_r: str, town_d: str) -> dict:
    return {"rule": "R8", "key": f"{pid}|{reg}|{dib}", "county": reg, "other_county": dib, "person_id": pid, "other_id": pid,
            "town": town_r, "other_town": town_d, "detail": f"在{_name(names, reg)}建档立卡，同时在{_name(names, dib)}享受低保（在保）"}


def _r9(names: Mapping[str, str], pid: str, county: str, other: str, other_county: str, town: str, other_town: str) -> dict:
    return {"rule": "R9", "key": f"{pid}|{county}|{other}|{other_county}", "county": county, "other_county": other_county,
            "person_id": pid, "other_id": other, "town": town, "other_town": other_town,
            "detail": f"{_name(names, county)}与{_name(names, other_county)}各登记一人：姓名、出生日期相同，身份证号仅差一位或相邻两位颠倒"}


# --- reading the counties, storing the findings ---------------------------------------------------

def snapshot_months(county: County, month: str) -> tuple[object, dict[str, str | None]]:
    """A county's warehouse (its URL) and the months of its latest registry and dibao ≤ `month`."""
    with county.active():
        db.require_current()
        eng = db.engine()
        with eng.connect() as conn:
            return eng.url, {d: queries.latest_month(conn, d, month) for d in CROSS_COLUMNS}


def read_counties(counties: Sequence[County], month: str) -> dict[str, tuple[dict[str, str | None], pa.Table | None, pa.Table | None]]:
    """Every county's latest registry and dibao ≤ `month`, the columns the rules use, each from
    its own warehouse, read in one go: code → ({dataset: month used or None}, registry, dibao)."""
    with ThreadPoolExecutor(READ_THREADS) as pool:  # the look-ups wait on the databases
        found = dict(zip([c.code for c in counties], pool.map(lambda c: snapshot_months(c, month), counties), strict=True))
    wanted = [(code, url, d, m) for code, (url, months) in found.items() for d, m in months.items() if m]
    tables = dict(zip([(code, d) for code, _, d, _ in wanted],
                      queries.snapshots_arrow([(url, d, m, CROSS_COLUMNS[d]) for _, url, d, m in wanted]), strict=True))
    return {code: (months, tables.get((code, "registry")), tables.get((code, "dibao"))) for code, (_, months) in found.items()}


def crosscheck_month(month: str, counties: Sequence[County], province: County) -> CrossSummary:
    """R7–R9 of `month` across `counties`, stored in `province`'s warehouse (a re-run replaces the
    month); each finding carries how many consecutive months it has been found. The summary:
    counts per rule and per county, the snapshot months used, the counties behind or without data."""
    read = read_counties(counties, month)
    names = {c.code: c.name for c in counties}
    found = find({k: v[1] for k, v in read.items()}, {k: v[2] for k, v in read.items()}, names)
    with province.active():
        db.require_current()
        eng = db.engine()
        with eng.connect() as conn:
            previous = queries.crosscheck_persistence(conn, add_months(month, -1))
        keys = list(zip(found["rule"], found["key"], strict=True))
        found["persisted_months"] = [previous.get(k, 0) + 1 for k in keys]
        found["escalated"] = [n >= ESCALATE_AFTER for n in found["persisted_months"]]
        found["finding_id"] = [finding_id(r, k) for r, k in keys]
        summary = summary_of(month, found, {code: v[0] for code, v in read.items()}, names)
        with eng.begin() as conn:
            for table in (crosscheck_findings, crosscheck_runs):
                conn.execute(table.delete().where(table.c.month == month))
            if len(found):
                conn.execute(crosscheck_findings.insert(), [{**r, "month": month} for r in found.to_dict("records")])
            conn.execute(crosscheck_runs.insert().values(month=month, snapshots=json.dumps(summary.snapshots),
                                                         counts=json.dumps(summary.counts), ran_at=dt.datetime.now(dt.UTC)))
    log.info("cross-checked %s over %d counties: %s", month, len(counties), summary.counts)
    return summary


def summary_of(month: str, found: pd.DataFrame, snapshots: Mapping[str, Mapping[str, str | None]], names: Mapping[str, str]) -> CrossSummary:
    """What the province office reads: counts per rule and county (a finding counts for both its
    counties), the escalated ones, and the counties behind the month or without data."""
    by_county = {code: {**dict.fromkeys(CROSS_RULES, 0), "escalated": 0} for code in snapshots}
    for r in found.itertuples(index=False):
        for code in {r.county, r.other_county}:
            by_county[code][r.rule] += 1
            by_county[code]["escalated"] += int(bool(r.escalated))
    return CrossSummary(
        month=month,
        counts={rule: int((found["rule"] == rule).sum()) for rule in CROSS_RULES},
        escalated=int(found["escalated"].sum()) if len(found) else 0,
        by_county=by_county,
        snapshots={k: dict(v) for k, v in snapshots.items()},
        behind=sorted(c for c, m in snapshots.items() if all(m.values()) and min(m.values()) < month),
        missing=sorted(c for c, m in snapshots.items() if not all(m.values())),
        names=dict(names),
    )


# --- the mails --------------------------------------------------------------------------------------

def _case(r: Mapping, code: str, names: Mapping[str, str], office: str) -> dict:
    """One finding as county `code` reads it: its own person (masked ID, town), what the other
    county holds, and how long it has stood (escalated ones are reported to `office`)."""
    mine = r["county"] == code
    other = _name(names, r["other_county"] if mine else r["county"])
    own_id, their_id = (r["person_id"], r["other_id"]) if mine else (r["other_id"], r["person_id"])
    if r["rule"] == "R7":
        what = f"本县建档立卡，同时在{other}建档立卡"
    elif r["rule"] == "R8":
        what = f"本县建档立卡，同时在{other}享受低保（在保）" if mine else f"本县享受低保（在保），同时在{other}建档立卡"
    else:
        what = f"与{other}登记的 {mask(their_id)} 姓名、出生日期相同，号码仅差一位或相邻两位颠倒，疑似同一人"
    town = r["town"] if mine else r["other_town"]
    months = r["persisted_months"]
    note = f"（已连续 {months} 个月{'，已报' + office if r['escalated'] else ''}）" if months > 1 else ""
    return {"rule": r["rule"], "rule_name": CROSS_RULES[r["rule"]], "masked": mask(own_id), "town": f"（{town}）" if town else "",
            "what": what, "note": note}


def queue_notices(summary: CrossSummary, counties: Sequence[County], province: County) -> int:
    """Each county its own cases (to its poverty office, copying civil affairs; masked IDs, no
    names), and the province office (the province's `poverty_office`) the summary (no IDs)."""
    month, names = summary.month, summary.names
    with province.active():
        with engine().connect() as conn:
            rows = queries.crosscheck_findings_of(conn, month)
        office = unit_name("poverty_office")  # the province office, by the province's units.yaml
    queued = 0
    for county in counties:
        mine = [_case(r, county.code, names, office) for r in rows if county.code in (r["county"], r["other_county"])]
        if not mine:
            continue
        with county.active():
            queued += enqueue("crosscheck", month, "poverty_office", "crosscheck_county", cc_units=("civil_affairs",),
                              month_label=month_label(month), rows=mine, province_name=province.name, province_office=office,
                              you=you("poverty_office"))
    by_county = [{"name": _name(names, code), **c, "total": sum(c[r] for r in CROSS_RULES)}
                 for code, c in summary.by_county.items() if any(c[r] for r in CROSS_RULES)]
    with province.active():
        queued += enqueue("crosscheck_summary", month, "poverty_office", "crosscheck_summary", month_label=month_label(month),
                          province_name=province.name, total=sum(summary.counts.values()),
                          rules=[(r, n, summary.counts[r]) for r, n in CROSS_RULES.items()], escalated=summary.escalated,
                          counties=sorted(by_county, key=lambda c: -c["total"]), n_counties=len(summary.by_county),
                          behind="、".join(_name(names, c) for c in summary.behind),
                          missing="、".join(_name(names, c) for c in summary.missing))
    return queued


# --- what the province_crosscheck DAG's tasks run (the province is the active context) -------------

def month_to_check(run: Run) -> str | None:
    """The month a run cross-checks: the `month` param of a manual run; last month on the
    deadline; else (the counties' reconciliations triggered it) the latest month that every
    county with a reconciliation has reconciled. None when no county has one yet."""
    if run.param("month"):
        return run.param("month")
    logical_month = run.deadline_month()
    if run.scheduled and logical_month:
        return logical_month
    latest = []
    for county in counties():
        with county.active(), engine().connect() as conn:
            months = queries.reconciled_months(conn)
        if months:
            latest.append(months[-1])
    return min(latest) if latest else None


def crosscheck(month: str | None) -> CrossSummary | None:
    """R7–R9 of `month` over the deployment's counties, into the active province's warehouse."""
    return crosscheck_month(month, counties(), current()) if month else None


def notify(summary: CrossSummary | None) -> int:
    """Each county its own cases, the province office the summary."""
    return queue_notices(summary, counties(), current()) if summary else 0


def send_all() -> dict[str, dict[str, int]]:
    """Drain each county's outbox and the active province's (each holds its own notices)."""
    out = {}
    for place in [*counties(), current()]:
        with place.active():
            db.require_current()
            out[place.code or ""] = send_pending()
    return out
