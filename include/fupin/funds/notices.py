"""The notices the fund checks queue (资金监管, docs/spec/funds.md): the month's result to 县财政局
and 县扶贫办 with the whole workbook; each 责任单位 its own projects behind schedule; 县审计局 the
F1, F2 and F4 cases left unanswered into their third month, as 疑似 — what the files say, never an
accusation, each case once, in the month it first qualifies (the 资金项目 page lists them all).
Bodies name projects and payments; a person appears only by masked ID."""

from __future__ import annotations

from fupin import queries
from fupin.calendar import add_months, month_label
from fupin.funds.rules import FUND_RULES
from fupin.funds.run import FundSummary, audit_after, goes_to_audit
from fupin.ids import mask
from fupin.notify.outbox import enqueue
from fupin.reconcile.catalog import owner_of
from fupin.warehouse.db import engine

TO_BOTH = ("finance", "poverty_office")  # the two units whose files are checked: each gets the whole month
LISTED = 50  # a mail lists this many findings, then counts the rest: the workbook has them all


def _shown(r: dict) -> dict:
    """A finding as a mail lists it: where, what, how long — a person by masked ID only."""
    detail = _masked_detail(r)
    payment = r.get("payment_no") or ""
    return {"rule": r["rule"], "name": FUND_RULES[r["rule"]][0], "town": r.get("town") or "", "project_no": r.get("project_no") or "",
            "payment_no": "" if payment and payment.split("、")[0] in detail else payment,  # F2's detail names its numbers itself
            "detail": detail, "months": r["persisted_months"]}


def _masked_detail(r: dict) -> str:
    """The rule's own words, with any ID number in them masked (F2 of a household names its payee)."""
    text = r.get("detail") or ""
    for pid in (r.get("person_id"), r.get("other_id")):
        if pid:
            text = text.replace(pid, mask(pid))
    return text


def queue_notices(summaries: list[FundSummary], reports: list[dict]) -> int:
    """funds_supervision's task: for each checked month, the result to 县财政局 and 县扶贫办, each
    责任单位's F6 projects, and 县审计局's 疑似 cases (each at most once per month and unit)."""
    queued = 0
    after = audit_after()
    for summary, paths in zip(summaries, reports, strict=True):
        with engine().connect() as conn:
            rows = queries.findings_of(conn, summary.month, rules=FUND_RULES)
            before = queries.findings_of(conn, add_months(summary.month, -1), rules=FUND_RULES)
        label = month_label(summary.month)
        escalated = [_shown(r) for r in rows if r["escalated"]]
        for unit in TO_BOTH:
            queued += enqueue("fund_supervision", summary.month, unit, "fund_supervision", attachments=(paths["all"],),
                              cc_leaders_of=(unit,) if escalated else (), summary=summary, month_label=label,
                              total=sum(summary.counts.values()), rules=[(r, v[0]) for r, v in FUND_RULES.items()],
                              escalated_rows=escalated, to_audit=summary.to_audit, after=after, listed=LISTED,
                              projects_label=month_label(summary.projects_month) if summary.projects_month else "无",
                              registry_label=month_label(summary.registry_month) if summary.registry_month else "无")
        for unit, path in sorted(paths["units"].items()):
            mine = [_shown(r) for r in rows if r["rule"] == "F6" and owner_of(r) == unit]
            queued += enqueue("fund_projects", summary.month, unit, "fund_projects", attachments=(path,), month_label=label, rows=mine,
                              listed=LISTED, cc_units=("poverty_office",))
        suspected = [r for r in rows if goes_to_audit(r["rule"], r["persisted_months"], r["escalated"], after)]
        copied = {r["finding_id"] for r in before if goes_to_audit(r["rule"], r["persisted_months"], r["escalated"], after)}
        new = [_shown(r) for r in suspected if r["finding_id"] not in copied]  # each case is copied once, when it first qualifies
        if new and paths["audit"]:
            queued += enqueue("fund_audit", summary.month, "audit", "fund_audit", attachments=(paths["audit"],), month_label=label,
                              rows=new, after=after, listed=LISTED, earlier=len(suspected) - len(new))
    return queued
