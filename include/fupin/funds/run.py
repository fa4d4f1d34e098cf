"""Check a month's money (资金监管): load the payments up to the month, the latest project library,
the month's registry and the rewarded labourers' employment records, apply F1–F6, store the
findings beside R1–R6's (one findings table, one 核查, one persistence) and a run record.

Re-running a month replaces its fund findings and run record in one transaction. A finding
persists while it is found in consecutive months and escalates from its third, as R1–R6 do;
F1, F2 and F4 in their third month are copied to 县审计局 as 疑似 (`funds.audit_after_months`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field

from sqlalchemy import delete, insert

from fupin import queries
from fupin.calendar import add_months, month_end
from fupin.config import settings, unit_named
from fupin.funds.rules import FUND_COLUMNS, FUND_RULES, Standards, check
from fupin.reconcile.run import apply_verifications, month_changes
from fupin.runs import Run
from fupin.warehouse import db
from fupin.warehouse.db import engine
from fupin.warehouse.schema import findings, fund_check_runs

log = logging.getLogger(__name__)
TO_AUDIT = ("F1", "F2", "F4")  # 收款户不在册, 疑似重复拨付, 奖补无稳定就业: copied to 县审计局 as 疑似


@dataclass
class FundSummary:
    """A month's fund checks (资金监管), as the workbook, the mails and the demo report them."""

    month: str
    projects_month: str | None
    note: str
    counts: dict[str, int]
    new: dict[str, int] = field(default_factory=dict)
    persisting: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)
    dismissed: dict[str, int] = field(default_factory=dict)
    escalated: int = 0
    to_audit: int = 0
    registry_month: str | None = None  # the registry the payments were judged against

    def to_dict(self) -> dict:
        return self.__dict__.copy()

    @classmethod
    def from_dict(cls, d: dict) -> FundSummary:
        return cls(**d)


class NotReady(Exception):
    """No payments of the month are loaded and it is not yet the deadline."""


def check_month(month: str, *, at_deadline: bool = False) -> FundSummary:
    """F1–F6 on `month` (its payments and every earlier month's; the latest project library up to
    it; its registry, or at the deadline the latest earlier one), stored."""
    eng = engine()
    with eng.connect() as conn:
        paid_month = queries.latest_month(conn, "fund_payments", month)
        reg_month = queries.latest_month(conn, "registry", month)
        projects_month = queries.latest_month(conn, "projects", month)
        if paid_month != month and not at_deadline:
            raise NotReady(f"the payments of {month} are not loaded (waiting for them)")
        if reg_month is None:
            raise NotReady(f"no registry up to {month} is loaded: nothing to check payments against")
        notes = []
        if paid_month != month:
            notes.append("县财政局本月拨付明细未到" + ("，使用此前各月的拨付" if paid_month else ""))
        if reg_month != month:
            notes.append(f"建档立卡本月数据未到，使用 {reg_month} 的数据")
        if projects_month != month:
            notes.append(f"扶贫项目库本月数据未到，使用 {projects_month} 的数据" if projects_month else "尚无扶贫项目库数据")
        # one column-wise read (Arrow) of all of it: a province's payments and employment are millions of rows.
        # Every payment up to the month; every employment record up to it (F4 keeps the rewarded labourers').
        got = queries.months_arrow(conn, {
            "payments": ("fund_payments", queries.months_loaded(conn, "fund_payments", month), FUND_COLUMNS["fund_payments"]),
            "employment": ("employment", queries.months_loaded(conn, "employment", month), FUND_COLUMNS["employment"]),
            "registry": ("registry", [reg_month], FUND_COLUMNS["registry"]),
            "projects": ("projects", [projects_month] if projects_month else [], FUND_COLUMNS["projects"])})
        previous = queries.persistence(conn, add_months(month, -1))
    result = check(got["payments"], got["projects"], got["registry"], got["employment"], standards=Standards.of(settings()["funds"]),
                   as_of=month_end(month))
    found = result.findings
    found["unit"] = [unit_named(u) for u in found["unit"]]  # 责任单位 as the directory's unit
    with eng.connect() as conn:
        f = apply_verifications(found, month, previous, lambda ids: queries.latest_verifications(conn, ids))
    changes = month_changes(zip(f["rule"], f["key"], f["state"], strict=True), previous, FUND_RULES)
    note = "；".join(notes)
    after = audit_after()
    to_audit = sum(1 for r, n, e in zip(f["rule"], f["persisted_months"], f["escalated"], strict=True) if goes_to_audit(r, n, e, after))
    summary = FundSummary(month, projects_month, note, {r: c["new"] + c["persisting"] for r, c in changes.items()},
                          {r: c["new"] for r, c in changes.items()}, {r: c["persisting"] for r, c in changes.items()},
                          {r: c["resolved"] for r, c in changes.items()}, {r: c["dismissed"] for r, c in changes.items()},
                          int(f["escalated"].sum()), to_audit, reg_month)
    with eng.begin() as conn:
        conn.execute(delete(findings).where(findings.c.month == month, findings.c.rule.in_(list(FUND_RULES))))
        conn.execute(delete(fund_check_runs).where(fund_check_runs.c.month == month))
        rows = f.astype(object).where(f.notna(), None).to_dict("records")
        if rows:
            conn.execute(insert(findings), [{**r, "month": month} for r in rows])
        conn.execute(insert(fund_check_runs).values(month=month, projects_month=projects_month, note=note,
                                                    counts=json.dumps(summary.counts), ran_at=dt.datetime.now(dt.UTC)))
    log.info("checked the funds of %s (projects %s, registry %s): %s", month, projects_month, reg_month, summary.counts)
    return summary


def goes_to_audit(rule: str, persisted_months: int, escalated: bool, after: int) -> bool:
    """疑似, for 县审计局: an F1, F2 or F4 found `after` months running and left unanswered (escalated:
    nobody has checked it, its due date passed, or it was reported put right yet is still there)."""
    return rule in TO_AUDIT and bool(escalated) and persisted_months >= after


def audit_after() -> int:
    """The month of persistence from which F1, F2 and F4 go to 县审计局 (settings.yaml → funds)."""
    return int(settings()["funds"]["audit_after_months"])


def months_due() -> list[str]:
    """Months whose payments are loaded and that have no check since the later of their loads
    (payments, project library, registry)."""
    with engine().connect() as conn:
        loaded = queries.loaded_times(conn, ("fund_payments", "projects", "registry"))
        runs = queries.fund_check_runs_by_month(conn)
    due = []
    for month, times in sorted(loaded.items()):
        if "fund_payments" not in times:
            continue
        run = runs.get(month)
        if run is None or run.ran_at < max(times.values()):
            due.append(month)
    return due


# --- what the funds_supervision DAG's tasks run ----------------------------------------------------

def months_to_check(run: Run) -> list[dict]:
    """What this run checks (`Run.months`): on data, every month whose payments are loaded and
    newer than its last check."""
    db.require_current()
    return run.months(months_due())


def check_months(items: list[dict]) -> list[FundSummary]:
    """Check each month asked for; one not ready is left (said in the log)."""
    out = []
    for item in items:
        try:
            out.append(check_month(item["month"], at_deadline=item["at_deadline"]))
        except NotReady as exc:
            log.warning("not checking the funds of %s: %s", item["month"], exc)
    return out
