"""What the `registry_reconcile` DAG's tasks do, as plain functions."""

from __future__ import annotations

import datetime as dt
import logging

from fupin.config import data_root

log = logging.getLogger(__name__)


def months_to_reconcile(run_type: str, logical_month: str | None, requested: str | None) -> list[dict]:
    """What this run reconciles, oldest first (each month builds on the previous one's findings).

    - a manual run with a `month` param: that month (at the deadline: never waits);
    - a run on the deadline (the 15th): last month, against earlier snapshots if one is missing;
    - a run on data (both Assets updated): every month whose two snapshots are loaded and newer
      than its last reconciliation.
    """
    from fupin.reconcile.run import months_due
    from fupin.warehouse import db

    db.require_current()
    if requested:
        return [{"month": requested, "at_deadline": True}]
    due = [{"month": m, "at_deadline": False} for m in months_due()]
    if run_type == "scheduled" and logical_month and logical_month not in {d["month"] for d in due}:
        due.append({"month": logical_month, "at_deadline": True})
    return sorted(due, key=lambda d: d["month"])


def reconcile_months(items: list[dict]) -> list[dict]:
    from fupin.reconcile.run import NotReady, reconcile_month

    out = []
    for item in items:
        try:
            out.append(reconcile_month(item["month"], at_deadline=item["at_deadline"]).to_dict())
        except NotReady as exc:
            log.warning("not reconciling %s: %s", item["month"], exc)
    return out


def write_reports(summaries: list[dict]) -> list[str]:
    from fupin.reconcile.report import write_workbook
    from fupin.reconcile.run import Summary

    paths = []
    for s in summaries:
        path = data_root() / "reports" / "reconciliation" / f"比对结果_{s['month']}.xlsx"
        paths.append(str(write_workbook(Summary(**s), path)))
    return paths


def deadline_month(logical_date: dt.datetime) -> str:
    """The reporting month whose deadline falls on this run's (local) date: the month before it."""
    from fupin.calendar import current

    cal = current()
    return cal.deadline_month(cal.local(logical_date).date())


def queue_notices(summaries: list[dict], workbooks: list[str]) -> int:
    """比对结果 for each reconciled month (escalated findings listed with masked IDs), and each
    town its own R6 cases (owner: poverty office; cc: the town)."""
    from fupin import queries
    from fupin.reconcile.notices import queue_exit_checks, queue_reconciliation
    from fupin.warehouse.db import engine

    queued = 0
    for summary, workbook in zip(summaries, workbooks, strict=True):
        with engine().connect() as conn:
            rows = queries.findings_of(conn, summary["month"], escalated=True)
            r6 = queries.findings_of(conn, summary["month"], rule="R6")
        queued += queue_reconciliation(summary, workbook, rows)
        queued += queue_exit_checks(summary, r6)
    return queued
