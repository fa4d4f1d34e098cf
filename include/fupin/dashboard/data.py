"""What the officials' pages show (扶贫数据), as JSON-ready dicts: the reporting board, the
findings and their checks, the scorecards, the household file. Every number comes through the
read layer (`fupin.queries`); what the viewer may see of IDs is decided by `Viewer`.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
from sqlalchemy import Connection

from fupin import queries
from fupin.calendar import Calendar, add_months, date_label, month_label, months, time_label
from fupin.config import Source, contracts
from fupin.dashboard.access import Viewer, may_verify, sees_finding, sees_household, sees_project, sees_source, sees_unit
from fupin.reconcile import verify
from fupin.reconcile.catalog import owner_of, past_event, rule_name
from fupin.reconcile.rules import RULES
from fupin.reconcile.run import month_changes
from fupin.vocab import OUTCOME_LABELS, STATE_LABELS, SUBMITTED, DropStatus, FindingState, Outcome
from fupin.wording import gap, indicator_name, period_label, show, unit_name

# a cell of the reporting board (报送情况)
CELL_LABELS = {"on_time": "按时", "late": "逾期", "rejected": "未通过", "missing": "未报送", "not_due": "未到期"}


def _iso(value: object) -> str | None:
    """A stored moment as officials read it, in Beijing time: 2017年6月5日 09:06."""
    return None if value is None or pd.isna(value) else time_label(pd.Timestamp(value).to_pydatetime())


def cell_status(month: str, dropped: pd.DataFrame, cal: Calendar, now: dt.datetime, source: Source) -> str:
    """on_time | late | rejected | missing | not_due for one unit's month, from its drops. A unit
    that sends several files is on time when each came by the deadline, late when any came after
    it or has not come once the deadline passed."""
    valid = dropped[dropped["status"].isin(SUBMITTED)]
    if len(valid):
        times = source.arrivals(list(valid["file"]), list(valid["dropped_at"])).values()
        pending = now <= cal.report_deadline(month)  # a file not yet come is not late before the deadline
        return "on_time" if all(cal.on_time(month, pd.to_datetime(pd.Series(t, dtype=object))) or (not t and pending)
                                for t in times) else "late"
    if (dropped["status"] == DropStatus.REJECTED).any():
        return "rejected"
    return "missing" if now > cal.report_deadline(month) else "not_due"


def submissions(conn: Connection, year: int, cal: Calendar, now: dt.datetime, viewer: Viewer) -> dict:
    """Unit × month of `year`: status, first and last drop, rows loaded, the latest receipt; per
    unit and period the reporting rate (有效报送/应报) and the on-time rate (按时/应报), as DHIS2
    counts them: a month is expected once its deadline has passed."""
    ms = months(f"{year}-01", f"{year}-12")
    drops = queries.ledger(conn, months=ms)
    rows = queries.rows_loaded(conn, ms)
    sources = contracts().sources
    units = []
    for key, src in sources.items():
        if not sees_unit(viewer, key):
            continue
        mine = drops[drops["source"] == key]
        cells = []
        for m in ms:
            d = mine[mine["month"] == m]
            status = cell_status(m, d, cal, now, src)
            cells.append({"month": m, "status": status, "label": CELL_LABELS[status],
                          "first_drop": _iso(d["dropped_at"].min()) if len(d) else None,
                          "last_drop": _iso(d["dropped_at"].max()) if len(d) else None,
                          "drops": int(len(d)),
                          "rows": sum(rows.get((ds, m), 0) for ds in src.datasets) if status in ("on_time", "late") else None,
                          "receipt": d["drop_id"].iloc[-1] if len(d) else None})
        rates = {}
        for p in cal.periods:
            period = f"{year}{p.key}"
            expected = [c for c in cells if c["month"] in cal.period_months(period) and c["status"] != "not_due"]
            got = sum(c["status"] in ("on_time", "late") for c in expected)
            in_time = sum(c["status"] == "on_time" for c in expected)
            rates[period] = {"label": f"{year}年{p.label}", "expected": len(expected), "reported": got, "on_time": in_time,
                             "reporting_rate": got / len(expected) if expected else None,
                             "on_time_rate": in_time / len(expected) if expected else None}
        units.append({"unit": key, "name": src.label, "cells": cells, "rates": rates})
    return {"year": year, "months": ms, "month_labels": [f"{int(m[5:])}月" for m in ms], "due": cal.report_due_label(),
            "units": units}


def receipt(conn: Connection, drop_id: str, viewer: Viewer) -> dict | None:
    from fupin.receipts import Receipt, render_text

    raw = queries.receipt_of(conn, drop_id)
    if raw is None:
        return None
    r = Receipt.from_json(raw)
    if not (sees_unit(viewer, r.source) or (r.sender is not None and sees_unit(viewer, r.sender))):
        return None  # as if there were none: a receipt id confirms nothing to another unit
    return {"drop_id": drop_id, "file": r.file, "status": r.status, "month": r.month, "text": viewer.text(render_text(r))}


def unit_names() -> dict[str, str]:
    from fupin.config import units

    return {k: u.name for k, u in units().items()}


def _finding_out(f: dict, latest: dict | None, viewer: Viewer, today: dt.date, names: dict[str, str]) -> dict:
    owner = owner_of(f)
    state = (verify.state_of(latest, f["fingerprint"], f["month"], today, past_event=past_event(f["rule"])) if f.get("fingerprint")
             else FindingState(f["state"]))
    shown = {
        "id": f["finding_id"], "month": f["month"], "month_label": month_label(f["month"]), "rule": f["rule"], "rule_name": rule_name(f["rule"]),
        "town": f["town"], "household_id": f["household_id"], "card_no": f["card_no"],
        "person_id": viewer.id(f["person_id"]), "other_id": viewer.id(f["other_id"]), "detail": viewer.text(f["detail"]),
        "persisted_months": f["persisted_months"], "escalated": bool(f["escalated"]),
        "state": str(state), "state_label": STATE_LABELS[state], "may_verify": may_verify(viewer, f, owner, names),
        "verification": None,
    }
    if latest:
        shown["verification"] = {"outcome": latest["outcome"], "label": OUTCOME_LABELS[Outcome(latest["outcome"])],
                                 "due": date_label(latest["due"]) if latest["due"] else None, "reason": viewer.text(latest["reason"]),
                                 "by": latest["by_user"], "unit": names.get(latest["by_unit"] or "", latest["by_unit"]),
                                 "at": _iso(latest["at"]), "via": "报表" if str(latest["via"]).startswith("file:") else "网页"}
    return shown


def findings(conn: Connection, month: str, viewer: Viewer, today: dt.date, *, rule: str | None = None,
             town: str | None = None, state: str | None = None) -> dict:
    """A month's findings: per rule new / persisting / resolved / dismissed, the list (with each
    one's check), per town the open and escalated."""
    # the registries' reconciliation (R1–R6); the money's findings (F1–F6) are not its
    rows = [r for r in queries.all_findings(conn, month) if r["rule"] in RULES and sees_finding(viewer, r, owner_of(r))]
    latest = queries.latest_verifications(conn, [r["finding_id"] for r in rows if r["finding_id"]])
    before = [(r["rule"], r["key"]) for r in queries.all_findings(conn, add_months(month, -1))
              if r["rule"] in RULES and r["state"] != FindingState.DISMISSED and sees_finding(viewer, r, owner_of(r))]
    names = unit_names()
    shown = [_finding_out(r, latest.get(r["finding_id"]), viewer, today, names) for r in rows]
    changes = month_changes(((s["rule"], r["key"], s["state"]) for r, s in zip(rows, shown, strict=True)), before)
    per_rule = {key: {"name": name, "found": changes[key]["new"] + changes[key]["persisting"], **changes[key],
                      "escalated": sum(s["escalated"] for s in shown if s["rule"] == key and s["state"] != FindingState.DISMISSED)}
                for key, (name, _owner, _) in RULES.items()}
    towns: dict[str, dict] = {}
    for s in shown:
        if s["state"] == FindingState.DISMISSED:
            continue
        t = towns.setdefault(s["town"] or "—", {"town": s["town"] or "—", "open": 0, "escalated": 0, "verified": 0})
        t["verified" if s["verification"] else "open"] += 1
        t["escalated"] += s["escalated"]
    listed = [s for s in shown if (rule is None or s["rule"] == rule) and (town is None or s["town"] == town)
              and (state is None or s["state"] == state)]
    run = queries.reconciliation_run(conn, month)
    return {"month": month, "label": month_label(month), "reconciled": run is not None,
            "basis": None if run is None else {"registry": run.registry_month, "dibao": run.dibao_month, "note": run.note},
            "rules": per_rule, "towns": sorted(towns.values(), key=lambda t: (-t["open"] - t["escalated"], t["town"])),
            "findings": listed, "states": {str(k): v for k, v in STATE_LABELS.items()}}


def trend(conn: Connection, viewer: Viewer) -> dict:
    """Every reconciled month's findings per rule (the chart over the months), of what the viewer sees."""
    runs = queries.reconciliation_runs_by_month(conn)
    ms = sorted(runs)
    if viewer.county_wide:
        counts = {r: [json.loads(runs[m].counts).get(r, 0) for m in ms] for r in RULES}
    else:
        seen: dict[tuple[str, str], int] = {}  # (rule, month) → the reported findings the viewer sees
        for (m, r, t), n in queries.finding_counts(conn).items():
            if r in RULES and sees_finding(viewer, {"town": t}, RULES[r][1]):
                seen[(r, m)] = seen.get((r, m), 0) + n
        counts = {r: [seen.get((r, m), 0) for m in ms] for r in RULES}
    return {"months": ms, "rules": counts, "names": {r: v[0] for r, v in RULES.items()}}


def to_verify(conn: Connection, viewer: Viewer, today: dt.date) -> dict:
    """Every finding this viewer's unit may check and has not closed, each at its latest month:
    overdue first, then the longest-standing."""
    ms = queries.reconciled_months(conn)
    if not ms:
        return {"month": None, "findings": []}
    names = unit_names()
    latest_rows: dict[str, dict] = {}
    for r in queries.all_findings(conn):  # oldest month first: a later month's row replaces an earlier
        if r["finding_id"] and may_verify(viewer, r, owner_of(r), names):
            latest_rows[r["finding_id"]] = r
    checks = queries.latest_verifications(conn, list(latest_rows))
    waiting = (FindingState.OPEN, FindingState.OVERDUE, FindingState.REOPENED, FindingState.CONFIRMED)
    shown = [_finding_out(r, checks.get(fid), viewer, today, names) for fid, r in latest_rows.items()]
    mine = [f for f in shown if f["state"] in waiting]
    mine.sort(key=lambda f: (f["state"] != FindingState.OVERDUE, f["month"], -f["persisted_months"], f["rule"], f["town"] or ""))
    return {"month": ms[-1], "label": month_label(ms[-1]), "findings": mine, "states": {str(k): v for k, v in STATE_LABELS.items()}}


def record_verification(conn: Connection, finding_id: str, body: dict, viewer: Viewer, today: dt.date) -> dict:
    """Store a viewer's check of a finding; the finding as now shown. Raises LookupError (no such
    finding), PermissionError (not the viewer's to check) or verify.Refused (the answer is incomplete)."""
    f = queries.finding(conn, finding_id)
    if f is None:
        raise LookupError(finding_id)
    names = unit_names()
    if not may_verify(viewer, f, owner_of(f), names):
        raise PermissionError(f"{rule_name(f['rule'])}（{f['town'] or '—'}）不由您的单位核查")
    answer = verify.Verification.of(body.get("outcome"), body.get("due"), body.get("reason"), today)
    verify.record(conn, f, answer, user=viewer.name, unit=viewer.unit, via="web")
    latest = queries.latest_verifications(conn, [finding_id]).get(finding_id)
    return _finding_out(f, latest, viewer, today, names)


# --- 考核 ----------------------------------------------------------------------------------------


def scorecard(conn: Connection, period: str, viewer: Viewer) -> dict:
    """Every unit × indicator of `period` the viewer sees: value, target, gap, status, and each unit's actions."""
    scores = [s for s in queries.scores_of(conn, period) if sees_unit(viewer, s.unit)]
    actions = [a for a in queries.actions_of(conn, period) if sees_unit(viewer, a["unit"])]
    rows = [{"indicator": s.indicator, "indicator_name": indicator_name(s.indicator), "unit": s.unit, "unit_name": unit_name(s.unit),
             "value": s.value, "value_text": show(s.indicator, s.value), "target": s.target,
             "target_text": show(s.indicator, s.target), "gap": gap(s.indicator, s.value, s.target, s.compare),
             "status": s.status, "reason": s.reason,
             "actions": [a["action"] for a in actions if a["unit"] == s.unit and s.indicator in json.loads(a["indicators"])]}
            for s in scores]
    acts = [{"unit": a["unit"], "unit_name": unit_name(a["unit"]), "action": a["action"],
             "indicators": [indicator_name(i) for i in json.loads(a["indicators"])],
             "due": date_label(a["due"]) if a["due"] else None, "reason": a["reason"]} for a in actions]
    history = {}
    for s in queries.all_scores(conn):
        if not sees_unit(viewer, s.unit):
            continue
        history.setdefault(f"{s.unit}|{s.indicator}", {})[s.period] = s.value
    return {"period": period, "label": period_label(period), "assessed": queries.assessment_run(conn, period) is not None,
            "periods": (ps := queries.assessed_periods(conn)), "period_labels": {q: period_label(q) for q in ps}, "scores": rows, "actions": acts,
            "trend": {k: history.get(f"{r['unit']}|{r['indicator']}", {}) for r in rows for k in [f"{r['unit']}|{r['indicator']}"]}}


# --- 资金项目 ----------------------------------------------------------------------------------

PROJECT_COLUMNS = ["project_no", "project_name", "project_type", "town", "village", "responsible_unit", "planned_investment",
                   "approved_on", "started_on", "completed_on", "accepted_on"]
STAGES = ("未立项", "未开工", "在建", "已完工待验收", "已验收")


def stage_of(p: dict) -> str:
    """Where a project stands, by the actual dates the library gives."""
    for stage, date in zip(STAGES, ("approved_on", "started_on", "completed_on", "accepted_on"), strict=False):
        if _plain(p.get(date)) is None:
            return stage
    return STAGES[-1]


def funds(conn: Connection, month: str | None, viewer: Viewer, today: dt.date) -> dict:
    """资金项目: a checked month's projects the viewer may see, by stage and town, paid against
    planned, and the fund findings (F1–F6) the viewer may see, each with its check."""
    from fupin.config import responsible_unit
    from fupin.funds.rules import FUND_RULES, WAN
    from fupin.funds.run import audit_after, goes_to_audit

    checked = sorted(queries.fund_check_runs_by_month(conn))
    month = month or (checked[-1] if checked else None)
    run = queries.fund_check_run(conn, month) if month else None
    if run is None:
        return {"month": month, "checked": False, "months": checked, "projects": [], "towns": [], "findings": [], "rules": {}}
    projects = (queries.snapshot(conn, "projects", run.projects_month, PROJECT_COLUMNS).to_dict("records")
                if run.projects_month and not viewer.audit_only else [])
    paid = dict(queries.paid_by_project(conn, month).itertuples(index=False))
    after, names = audit_after(), unit_names()
    rows = [r for r in queries.all_findings(conn, month) if r["rule"] in FUND_RULES
            and sees_finding(viewer, r, owner_of(r), goes_to_audit(r["rule"], r["persisted_months"], r["escalated"], after))]
    checks = queries.latest_verifications(conn, [r["finding_id"] for r in rows if r["finding_id"]])
    shown = [_finding_out(r, checks.get(r["finding_id"]), viewer, today, names) | {"project_no": r["project_no"], "payment_no": r["payment_no"]}
             for r in rows]
    behind = {r["project_no"]: f["detail"] for r, f in zip(rows, shown, strict=True) if r["rule"] == "F6" and f["state"] != FindingState.DISMISSED}
    listed, towns = [], {}
    for p in sorted(projects, key=lambda p: (p["town"] or "", p["project_no"])):
        unit = responsible_unit(p["responsible_unit"])
        if not sees_project(viewer, p["town"], unit):
            continue
        planned = float(p["planned_investment"] or 0) * WAN
        got = float(paid.get(p["project_no"], 0.0))
        stage = stage_of(p)
        listed.append({"project_no": p["project_no"], "name": p["project_name"], "type": p["project_type"], "town": p["town"],
                       "village": p["village"], "unit": p["responsible_unit"], "planned": planned, "paid": got,
                       "paid_share": got / planned if planned else None, "stage": stage, "behind": behind.get(p["project_no"])})
        t = towns.setdefault(p["town"] or "—", {"town": p["town"] or "—", "stages": dict.fromkeys(STAGES, 0), "planned": 0.0, "paid": 0.0,
                                                 "behind": 0})
        t["stages"][stage] += 1
        t["planned"] += planned
        t["paid"] += min(got, planned)
        t["behind"] += p["project_no"] in behind
    per_rule = {r: {"name": v[0], "found": sum(1 for f in shown if f["rule"] == r and f["state"] != FindingState.DISMISSED)}
                for r, v in FUND_RULES.items()}
    return {"month": month, "label": month_label(month), "checked": True, "months": checked,
            "basis": {"projects": run.projects_month, "note": run.note}, "stages": list(STAGES),
            "projects": listed, "towns": sorted(towns.values(), key=lambda t: t["town"]),
            "totals": {"planned": sum(t["planned"] for t in towns.values()), "paid": sum(t["paid"] for t in towns.values())},
            "rules": per_rule, "findings": shown, "states": {str(k): v for k, v in STATE_LABELS.items()}}


# --- 一户一档 -----------------------------------------------------------------------------------

def audit(conn: Connection, viewer: Viewer, action: str, target: str, results: int | None) -> None:
    """访问记录: who looked for what, and how much they were shown (ID numbers masked)."""
    from sqlalchemy import insert

    from fupin.ids import mask_ids_in
    from fupin.warehouse.schema import access_log

    conn.execute(insert(access_log).values(at=dt.datetime.now(dt.UTC), by_user=viewer.name, by_unit=viewer.unit, action=action,
                                           target=mask_ids_in((target or "").strip())[:200], results=results))


MASKED_ID = re.compile(r"^(\d{6})\*{8}(\d{3}[\dX])$")
FULL_ID = re.compile(r"^\d{17}[\dX]$")
HOUSEHOLD_NO = re.compile(r"^\d{16}$")


class BadQuery(ValueError):
    """A search the platform does not take, with what to type instead (Chinese)."""


def search(conn: Connection, q: str, viewer: Viewer, village: str | None = None) -> list[dict]:
    """Households the viewer may see, by household number, by a full ID (roles that see full
    IDs), by a masked ID in exactly its masked shape (440224********123X), or by name (and
    village). Nothing outside the viewer's scope is ever listed or hinted at."""
    q = (q or "").strip().upper()
    if not q:
        return []
    if HOUSEHOLD_NO.match(q):
        people = queries.find_people(conn, household_id=q)
    elif FULL_ID.match(q):
        if not viewer.full_ids:
            raise BadQuery("您的账号不能按完整身份证号查询：请按脱敏格式输入（如 440224********123X），或输入户编号、姓名")
        people = queries.find_people(conn, id_number=q)
    elif m := MASKED_ID.match(q):
        people = queries.find_people(conn, id_head=m[1], id_tail=m[2])
    elif re.search(r"[\d*]", q):
        raise BadQuery("请输入 16 位户编号、姓名，或按脱敏格式输入身份证号（前 6 位、8 个 *、后 4 位，如 440224********123X）")
    else:
        people = queries.find_people(conn, name=q, village=village or None)
    people = people.drop_duplicates("household_id")
    seen = _visible_households(conn, viewer, list(people["household_id"]), dict(zip(people["household_id"], people["town"], strict=True)))
    return [{"household_id": p.household_id, "name": p.name, "town": p.town, "village": p.village}
            for p in people.itertuples(index=False) if p.household_id in seen]


def _visible_households(conn: Connection, viewer: Viewer, households: list[str], towns: dict[str, str | None]) -> set[str]:
    """Of these households (with their latest registry town), those the viewer may see."""
    bureau = not viewer.county_wide and viewer.town is None and viewer.unit in contracts().sources
    # a bureau's own files are asked only for a bureau: the others' scope needs no query
    in_files = queries.households_in_files(conn, households, contracts().sources[viewer.unit].datasets) if bureau else set()
    return {h for h in households if sees_household(viewer, towns.get(h), {viewer.unit} if h in in_files else set())}


def household(conn: Connection, household_id: str, viewer: Viewer, today: dt.date) -> dict | None:
    """一户一档: the household at a glance (members, status, this month across the sources, open
    findings and their checks, income against the year's threshold), then month by month what
    each source the viewer may see said about it. None when there is no such household — or none
    the viewer may see (the same answer: a file never confirms what it does not show)."""
    ms = queries.household_months(conn, household_id)
    if not ms:
        return None
    reg = queries.rows_about(conn, "registry", household_id=household_id)
    latest = reg[reg["month"] == ms[-1]]
    if household_id not in _visible_households(conn, viewer, [household_id], {household_id: latest["town"].iloc[0]}):
        return None
    ids = sorted(set(reg["id_number"].dropna()))
    ds = contracts().datasets
    timeline, this_month = [], []
    payments = None  # 县财政局's payments to the household, when the viewer sees that file
    for name, dataset in ds.items():
        if not sees_source(viewer, dataset.source) and name != "registry":
            continue
        rows = reg if name == "registry" else queries.rows_about(conn, name, ids=ids, household_id=household_id,
                                                                 village=(latest["town"].iloc[0], latest["village"].iloc[0]))
        if name == PAYMENTS:
            payments = rows
        held = sorted(set(rows["month"])) if not rows.empty else []
        this_month.append({"source": _source_name(name), "dataset": dataset.title, "months": held,
                           "latest": month_label(held[-1]) if held else None})
        if rows.empty:
            continue
        cols = [c for c in dataset.columns if c.key not in ("id_number", "town", "month", "household_id", "name")]
        per_month = []
        for m, g in rows.groupby("month", sort=True):
            per_month.append({"month": m, "label": month_label(m), "rows": [
                {"id": viewer.id(r.get("id_number")), "name": r.get("name"),
                 "facts": [[c.header, v] for c in cols if c.key in r
                           and (v := viewer.id(r[c.key]) if c.personal else _shown(r[c.key])) is not None]}
                for r in g.to_dict("records")]})
        timeline.append({"dataset": name, "name": dataset.title, "source": _source_name(name), "months": per_month,
                         "span": _span(held)})
    found = [f for f in queries.findings_about(conn, household_id=household_id, ids=ids) if sees_finding(viewer, f, owner_of(f))]
    checks = queries.latest_verifications(conn, [f["finding_id"] for f in found if f["finding_id"]])
    names = unit_names()
    shown_findings = [_finding_out(f, checks.get(f["finding_id"]), viewer, today, names) for f in found]
    members = [{"id": viewer.id(r.id_number), "name": r.name, "relation": getattr(r, "relation", None),
                "labor": _shown(getattr(r, "labor_capacity", None)), "status": _shown(getattr(r, "exit_status", None))}
               for r in latest.itertuples(index=False)]
    return {"household_id": household_id, "town": latest["town"].iloc[0], "village": latest["village"].iloc[0],
            "months": ms, "span": _span(ms), "members": members, "summary": _summary(latest, ms[-1], this_month, shown_findings),
            "timeline": timeline, "findings": shown_findings, "payments": _payments(conn, payments, household_id, viewer)}


PAYMENTS = "fund_payments"  # 县财政局's 扶贫资金拨付明细 (docs/spec/funds.md)


def _payments(conn: Connection, rows: pd.DataFrame | None, household_id: str, viewer: Viewer) -> dict | None:
    """The money the household received (县财政局's payments to it), newest first, with each
    year's total and the project's name; None when the viewer does not see the payments' file."""
    from fupin.validate.issues import amount

    if rows is None:
        return None
    mine = rows[rows["household_id"] == household_id] if not rows.empty else rows
    if mine.empty:
        return {"rows": [], "years": [], "total": amount(0, "元")}
    names = queries.project_names(conn, set(mine["project_no"].dropna()))
    out = [{"paid_on": _shown(r["paid_on"]), "fund_type": r["fund_type"], "project_no": r["project_no"],
            "project": names.get(r["project_no"]), "payee": r["payee_name"], "payee_id": viewer.id(r["payee_id"]),
            "amount": amount(float(r["amount"]), "元"), "payment_no": r["payment_no"]}
           for r in mine.sort_values(["paid_on", "payment_no"], ascending=False).to_dict("records")]
    years = mine.assign(year=pd.to_datetime(mine["paid_on"]).dt.year).groupby("year")["amount"].sum()
    return {"rows": out, "years": [{"year": int(y), "total": amount(float(v), "元")} for y, v in years.items()],
            "total": amount(float(mine["amount"].sum()), "元")}


def _summary(latest: pd.DataFrame, month: str, sources: list[dict], found: list[dict]) -> dict:
    """What the person at the counter reads first."""
    from fupin.config import settings
    from fupin.validate.issues import amount

    year = int(month[:4])
    threshold = settings()["reconciliation"]["exit_threshold"].get(year)
    income = latest["income_per_capita"].dropna()
    value = float(income.iloc[0]) if len(income) else None
    status = latest["exit_status"].dropna()
    open_ids = {f["id"] for f in found if f["state"] not in (FindingState.DISMISSED, FindingState.RECTIFIED)}  # each finding once
    return {"month": month, "month_label": month_label(month), "members": len(latest),
            "status": str(status.iloc[0]) if len(status) else None,
            "income": None if value is None else amount(value, "元"), "threshold": None if threshold is None else amount(threshold, "元"),
            "below_threshold": None if value is None or threshold is None else value < threshold,
            "below_label": None if value is None or threshold is None else ("低于" if value < threshold else "不低于"),
            "sources": [{"source": s["source"], "dataset": s["dataset"], "this_month": month in s["months"], "latest": s["latest"]}
                        for s in sources],
            "open_findings": len(open_ids)}


def _span(ms: list[str]) -> str:
    """在册月份 as officials write them: 2016年1月至2018年12月."""
    if not ms:
        return "—"
    return month_label(ms[0]) if len(ms) == 1 else f"{month_label(ms[0])}至{month_label(ms[-1])}"


def _shown(v: object) -> object:
    """A value as an official reads it: dates 2018年1月30日, yes/no 是/否, numbers as they are."""
    v = _plain(v)
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v):
        return date_label(v)
    return v


def _plain(v: object) -> object:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, (dt.date, pd.Timestamp)):
        return v.isoformat()[:10]
    return v.item() if hasattr(v, "item") else v


def _source_name(dataset: str) -> str:
    for src in contracts().sources.values():
        if dataset in src.datasets:
            return src.label
    return ""
