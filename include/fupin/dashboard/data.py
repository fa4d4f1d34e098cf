"""What the officials' pages show (扶贫数据), as JSON-ready dicts: the reporting board, the
findings and their checks, the scorecards, the household file. Every number comes through the
read layer (`fupin.queries`); what the viewer may see of IDs is decided by `Viewer`.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import Connection

from fupin import queries
from fupin.calendar import Calendar, add_months, month_label, months
from fupin.config import contracts
from fupin.dashboard.access import Viewer, may_verify
from fupin.reconcile import verify
from fupin.reconcile.rules import RULES
from fupin.reconcile.run import month_changes
from fupin.vocab import OUTCOME_LABELS, STATE_LABELS, SUBMITTED, DropStatus, FindingState, Outcome

# a cell of the reporting board (报送情况)
CELL_LABELS = {"on_time": "按时", "late": "逾期", "rejected": "未通过", "missing": "未报送", "not_due": "未到期"}


def _iso(value: object) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat(sep=" ", timespec="minutes")


def cell_status(month: str, dropped: pd.DataFrame, cal: Calendar, now: dt.datetime) -> str:
    """on_time | late | rejected | missing | not_due for one unit's month, from its drops."""
    valid = dropped[dropped["status"].isin(SUBMITTED)]
    if len(valid):
        return "on_time" if cal.on_time(month, pd.to_datetime(valid["dropped_at"])) else "late"
    if (dropped["status"] == DropStatus.REJECTED).any():
        return "rejected"
    return "missing" if now > cal.report_deadline(month) else "not_due"


def submissions(conn: Connection, year: int, cal: Calendar, now: dt.datetime) -> dict:
    """Unit × month of `year`: status, first and last drop, rows loaded, the latest receipt; per
    unit and period the reporting rate (有效报送/应报) and the on-time rate (按时/应报), as DHIS2
    counts them: a month is expected once its deadline has passed."""
    ms = months(f"{year}-01", f"{year}-12")
    drops = queries.ledger(conn, months=ms)
    rows = queries.rows_loaded(conn, ms)
    sources = contracts().sources
    units = []
    for key, src in sources.items():
        mine = drops[drops["source"] == key]
        cells = []
        for m in ms:
            d = mine[mine["month"] == m]
            status = cell_status(m, d, cal, now)
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
    return {"drop_id": drop_id, "file": r.file, "status": r.status, "month": r.month, "text": viewer.text(render_text(r))}


def unit_names() -> dict[str, str]:
    from fupin.config import units

    return {k: u.name for k, u in units().items()}


def _finding_out(f: dict, latest: dict | None, viewer: Viewer, today: dt.date, names: dict[str, str]) -> dict:
    owner = RULES[f["rule"]][1]
    state = verify.state_of(latest, f["fingerprint"], f["month"], today) if f.get("fingerprint") else FindingState(f["state"])
    shown = {
        "id": f["finding_id"], "month": f["month"], "rule": f["rule"], "rule_name": RULES[f["rule"]][0],
        "town": f["town"], "household_id": f["household_id"], "card_no": f["card_no"],
        "person_id": viewer.id(f["person_id"]), "other_id": viewer.id(f["other_id"]), "detail": viewer.text(f["detail"]),
        "persisted_months": f["persisted_months"], "escalated": bool(f["escalated"]),
        "state": str(state), "state_label": STATE_LABELS[state], "may_verify": may_verify(viewer, f, owner, names),
        "verification": None,
    }
    if latest:
        shown["verification"] = {"outcome": latest["outcome"], "label": OUTCOME_LABELS[Outcome(latest["outcome"])],
                                 "due": latest["due"].isoformat() if latest["due"] else None, "reason": viewer.text(latest["reason"]),
                                 "by": latest["by_user"], "unit": names.get(latest["by_unit"] or "", latest["by_unit"]),
                                 "at": _iso(latest["at"]), "via": "报表" if str(latest["via"]).startswith("file:") else "网页"}
    return shown


def findings(conn: Connection, month: str, viewer: Viewer, today: dt.date, *, rule: str | None = None,
             town: str | None = None, state: str | None = None) -> dict:
    """A month's findings: per rule new / persisting / resolved / dismissed, the list (with each
    one's check), per town the open and escalated."""
    rows = queries.all_findings(conn, month)
    latest = queries.latest_verifications(conn, [r["finding_id"] for r in rows if r["finding_id"]])
    before = queries.persistence(conn, add_months(month, -1))
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


def trend(conn: Connection) -> dict:
    """Every reconciled month's findings per rule (the chart over the months)."""
    runs = queries.reconciliation_runs_by_month(conn)
    ms = sorted(runs)
    return {"months": ms, "rules": {r: [json.loads(runs[m].counts).get(r, 0) for m in ms] for r in RULES},
            "names": {r: v[0] for r, v in RULES.items()}}


def to_verify(conn: Connection, viewer: Viewer, today: dt.date) -> dict:
    """The latest reconciled month's findings this viewer's unit may check and has not closed."""
    ms = queries.reconciled_months(conn)
    if not ms:
        return {"month": None, "findings": []}
    out = findings(conn, ms[-1], viewer, today)
    waiting = (FindingState.OPEN, FindingState.OVERDUE, FindingState.REOPENED, FindingState.CONFIRMED)
    mine = [f for f in out["findings"] if f["may_verify"] and f["state"] in waiting]
    mine.sort(key=lambda f: (not f["escalated"], -f["persisted_months"], f["rule"], f["town"] or ""))
    return {"month": out["month"], "label": out["label"], "findings": mine, "states": out["states"]}


def record_verification(conn: Connection, finding_id: str, body: dict, viewer: Viewer, today: dt.date) -> dict:
    """Store a viewer's check of a finding; the finding as now shown. Raises LookupError (no such
    finding), PermissionError (not the viewer's to check) or verify.Refused (the answer is incomplete)."""
    f = queries.finding(conn, finding_id)
    if f is None:
        raise LookupError(finding_id)
    names = unit_names()
    if not may_verify(viewer, f, RULES[f["rule"]][1], names):
        raise PermissionError(f"{RULES[f['rule']][0]}（{f['town'] or '—'}）不由您的单位核查")
    answer = verify.Verification.of(body.get("outcome"), body.get("due"), body.get("reason"), today)
    verify.record(conn, f, answer, user=viewer.name, unit=viewer.unit, via="web")
    latest = queries.latest_verifications(conn, [finding_id]).get(finding_id)
    return _finding_out(f, latest, viewer, today, names)


# --- 考核 ----------------------------------------------------------------------------------------


def scorecard(conn: Connection, period: str) -> dict:
    """Every unit × indicator of `period`: value, target, gap, status, and each unit's actions."""
    from fupin.notify.notices import gap, indicator_name, period_label, show, unit_name

    scores = queries.scores_of(conn, period)
    actions = queries.actions_of(conn, period)
    rows = [{"indicator": s.indicator, "indicator_name": indicator_name(s.indicator), "unit": s.unit, "unit_name": unit_name(s.unit),
             "value": s.value, "value_text": show(s.indicator, s.value), "target": s.target,
             "target_text": show(s.indicator, s.target), "gap": gap(s.indicator, s.value, s.target, s.compare),
             "status": s.status, "reason": s.reason,
             "actions": [a["action"] for a in actions if a["unit"] == s.unit and s.indicator in json.loads(a["indicators"])]}
            for s in scores]
    acts = [{"unit": a["unit"], "unit_name": unit_name(a["unit"]), "action": a["action"],
             "indicators": [indicator_name(i) for i in json.loads(a["indicators"])],
             "due": a["due"].isoformat() if a["due"] else None, "reason": a["reason"]} for a in actions]
    history = {}
    for s in queries.all_scores(conn):
        history.setdefault(f"{s.unit}|{s.indicator}", {})[s.period] = s.value
    return {"period": period, "label": period_label(period), "assessed": queries.assessment_run(conn, period) is not None,
            "periods": (ps := queries.assessed_periods(conn)), "period_labels": {q: period_label(q) for q in ps}, "scores": rows, "actions": acts,
            "trend": {k: history.get(f"{r['unit']}|{r['indicator']}", {}) for r in rows for k in [f"{r['unit']}|{r['indicator']}"]}}


# --- 一户一档 -----------------------------------------------------------------------------------

# the person-level datasets, and what the file shows of each month's row
PERSON_FACTS = {
    "registry": ["name", "relation", "village", "labor_capacity", "income_per_capita", "exit_status"],
    "dibao": ["dibao_card_no", "name", "village", "income_per_capita", "status"],
    "employment": None, "medical": None, "student_aid": None,
}


def search(conn: Connection, q: str, village: str | None = None) -> list[dict]:
    """Households by household number, by name (and village), or by a masked ID's visible parts."""
    q = (q or "").strip()
    if not q:
        return []
    if q.isdigit() and len(q) >= 10 and queries.household_months(conn, q):
        return [{"household_id": q, "name": None, "town": None, "village": None}]
    if "*" in q:
        head, tail = q.split("*", 1)[0], q.rsplit("*", 1)[-1]
        people = queries.find_people(conn, id_head=head or None, id_tail=tail or None)
    else:
        people = queries.find_people(conn, name=q, village=village or None)
    return [{"household_id": p.household_id, "name": p.name, "town": p.town, "village": p.village}
            for p in people.drop_duplicates("household_id").itertuples(index=False)]


def household(conn: Connection, household_id: str, viewer: Viewer, today: dt.date) -> dict | None:
    """一户一档: the household's members (its latest registry month) and, month by month, what each
    source said about each of them, with the household's findings and their checks."""
    ms = queries.household_months(conn, household_id)
    if not ms:
        return None
    reg = queries.rows_about(conn, "registry", household_id=household_id)
    ids = sorted(set(reg["id_number"].dropna()))
    latest = reg[reg["month"] == ms[-1]]
    ds = contracts().datasets
    members = [{"id": viewer.id(r.id_number), "name": r.name, "relation": getattr(r, "relation", None),
                "town": r.town, "village": r.village} for r in latest.itertuples(index=False)]
    timeline = []
    for dataset, facts in PERSON_FACTS.items():
        if dataset not in ds:
            continue
        rows = reg if dataset == "registry" else queries.rows_about(conn, dataset, ids=ids)
        if rows.empty:
            continue
        cols = facts or [c.key for c in ds[dataset].columns if c.key not in ("id_number", "town", "month")]
        labels = {c.key: c.header for c in ds[dataset].columns}
        per_month = []
        for m, g in rows.groupby("month", sort=True):
            per_month.append({"month": m, "label": month_label(m), "people": [
                {"id": viewer.id(r["id_number"]), "name": r.get("name"),
                 "facts": {labels.get(c, c): _plain(r.get(c)) for c in cols if c in r and c != "name"}}
                for r in g.to_dict("records")]})
        timeline.append({"dataset": dataset, "name": ds[dataset].title, "source": _source_name(dataset), "months": per_month})
    found = queries.findings_about(conn, household_id=household_id, ids=ids)
    checks = queries.latest_verifications(conn, [f["finding_id"] for f in found if f["finding_id"]])
    names = unit_names()
    return {"household_id": household_id, "town": latest["town"].iloc[0], "village": latest["village"].iloc[0],
            "months": ms, "members": members, "timeline": timeline,
            "findings": [_finding_out(f, checks.get(f["finding_id"]), viewer, today, names) for f in found]}


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
