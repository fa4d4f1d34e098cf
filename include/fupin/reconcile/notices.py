"""The notices the reconciliation queues: the month's 比对结果 to civil affairs and the poverty
office, and each town its own R6 cases (退出核查)."""

from __future__ import annotations

from fupin import queries
from fupin.calendar import month_label
from fupin.config import geography, settings
from fupin.ids import mask
from fupin.notify.outbox import enqueue
from fupin.reconcile.report import rate_text
from fupin.reconcile.rules import RULES
from fupin.reconcile.run import Summary
from fupin.validate.issues import amount
from fupin.vocab import COUNTY_TOTAL
from fupin.warehouse.db import engine
from fupin.wording import you


def queue_notices(summaries: list[Summary], workbooks: list[str]) -> int:
    """registry_reconcile's task: 比对结果 for each reconciled month (escalated findings listed with
    masked IDs), and each town its own R6 cases (owner: poverty office; cc: the town)."""
    queued = 0
    for summary, workbook in zip(summaries, workbooks, strict=True):
        with engine().connect() as conn:
            rows = queries.findings_of(conn, summary.month, escalated=True, rules=RULES)
            r6 = queries.findings_of(conn, summary.month, rule="R6")
        queued += queue_reconciliation(summary, workbook, rows)
        queued += queue_exit_checks(summary, r6)
    return queued


def queue_reconciliation(summary: Summary, workbook: str, escalated_rows: list[dict]) -> int:
    """比对结果 to civil affairs and the poverty office; the escalated ones copy the office's leaders."""
    with engine().connect() as conn:
        basis = queries.rate_basis(conn, summary.month)

    def rate(kind: str) -> str:
        return rate_text(basis.get((kind, COUNTY_TOTAL)))

    shown = [{"rule": r["rule"], "town": r["town"] or "", "months": r["persisted_months"],
              "who": " ".join(x for x in (r.get("household_id") or "", mask(r["person_id"]) if r.get("person_id") else "",
                                           r.get("card_no") or "") if x)} for r in escalated_rows]
    queued = 0
    for unit in ("civil_affairs", "poverty_office"):
        queued += enqueue(
            "reconciliation", summary.month, unit, "reconciliation", attachments=(workbook,),
            cc_leaders_of=("poverty_office",) if shown else (),
            summary=summary, month_label=month_label(summary.month), total=sum(summary.counts.values()),
            escalated=summary.escalated, rules=[(r, v[0]) for r, v in RULES.items()],
            rate_cover=rate("应保尽保率"), rate_register=rate("应扶尽扶率"), escalated_rows=shown,
        )
    return queued


def queue_exit_checks(summary: Summary, r6_rows: list[dict]) -> int:
    """R6 goes to the poverty office with the month's result, and to each town its own cases
    only (masked IDs, no workbook: a town has no business with other towns' people)."""
    codes = geography().towns
    year = int(summary.month[:4])
    threshold = settings()["reconciliation"]["exit_threshold"].get(year)
    by_town: dict[str, list[dict]] = {}
    for r in r6_rows:
        if r.get("town") in codes:
            by_town.setdefault(codes[r["town"]], []).append(
                {"household_id": r["household_id"], "masked": mask(r["person_id"]), "months": r["persisted_months"]})
    return sum(
        enqueue("exit_check", summary.month, town, "exit_check", month_label=month_label(summary.month), rows=rows,
                year=year, threshold="—" if threshold is None else amount(threshold, "元"), you=you(town))
        for town, rows in sorted(by_town.items())
    )
