"""Assess a period: gather the latest accepted data up to its last month, score, decide the
actions, store it all (re-running a period replaces its results in one transaction)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, delete, insert

from fupin import queries
from fupin.assess.indicators import Inputs, fund_findings_frame
from fupin.assess.score import Action, Score, decide_actions, score_period
from fupin.calendar import BadPeriod, current
from fupin.config import assessment, contracts, settings
from fupin.funds.rules import FUND_RULES
from fupin.reconcile.catalog import owner_of
from fupin.runs import Run
from fupin.vocab import ScoreStatus
from fupin.warehouse import db
from fupin.warehouse.db import engine
from fupin.warehouse.schema import (
    assessment_actions,
    assessment_runs,
    assessment_scores,
)

log = logging.getLogger(__name__)
__all__ = ["Assessment", "BadPeriod", "assess", "assess_period", "gather", "period_of"]


@dataclass
class Assessment:
    period: str
    data_months: dict[str, str | None]
    scores: list[Score]
    actions: list[Action]

    def to_dict(self) -> dict:
        return {"period": self.period, "data_months": self.data_months, "scores": [s.to_dict() for s in self.scores],
                "actions": [a.to_dict() for a in self.actions]}

    @classmethod
    def from_dict(cls, d: dict) -> Assessment:
        """An assessment back from XCom's JSON (the task edge)."""
        return cls(d["period"], dict(d["data_months"]), [Score(**s) for s in d["scores"]], [Action.from_dict(a) for a in d["actions"]])

    @property
    def lagging(self) -> list[str]:
        return sorted({s.unit for s in self.scores if s.status == ScoreStatus.MISSED})


def gather(conn: Connection, period: str) -> Inputs:
    upto = current().period_last_month(period)
    frames, used = {}, {}
    for dataset in contracts().datasets:
        month = queries.latest_month(conn, dataset, upto)
        used[dataset] = month
        if month is not None:
            frames[dataset] = queries.snapshot(conn, dataset, month)
    aid_period = queries.months_of(conn, "student_aid", current().period_months(period), ["id_number", "enrollment", "aid_amount"])
    reg_month = used.get("registry")
    rates = r6 = None
    if reg_month is not None:
        rates = queries.rates_of(conn, reg_month)
        ran = not rates.empty
        r6 = queries.households_found(conn, reg_month, "R6") if ran else None
        rates = rates if ran else None
    first_month = queries.first_month(conn, "registry")
    first = queries.snapshot(conn, "registry", first_month, ["town", "id_number"]) if first_month else None
    ledger = queries.ledger(conn)
    thresholds = {"I16": {}}
    for ind in assessment()["indicators"]:
        if ind["id"] == "I16":
            thresholds["I16"] = {int(y): v for y, v in ind["thresholds"].items()}
    used["reconciliation"] = reg_month if rates is not None else None
    grace = settings()["funds"]["grace"]
    thresholds.update(complete_days=int(grace["complete_days"]), pay_months=int(grace["pay_months"]))
    paid = queries.paid_by_project(conn, upto) if used.get("fund_payments") else None
    return Inputs(period, frames, used, aid_period if not aid_period.empty else None, rates, r6, first, ledger, thresholds,
                  paid, _fund_findings(conn, upto))


def _fund_findings(conn: Connection, upto: str) -> pd.DataFrame | None:
    """The fund findings up to `upto` with their checking unit, due and closing dates (I22), or
    None when no month's funds were checked by then."""
    last = queries.last_fund_check(conn, upto)
    if last is None:
        return None
    found = queries.fund_findings_upto(conn, upto, FUND_RULES)
    found["unit"] = [owner_of(r) for r in found[["rule", "unit"]].to_dict("records")]
    checks = queries.latest_verifications(conn, list(found["finding_id"])) if len(found) else {}
    return fund_findings_frame(found, checks, last, int(settings()["funds"]["rectify_months"]))


def _stored_scores(conn: Connection, period: str | None) -> list[Score]:
    if period is None:
        return []
    return [Score(r.indicator, "", r.unit, r.numerator, r.denominator, r.value, r.target, r.compare, r.status, r.reason)
            for r in queries.scores_of(conn, period)]


def _assessed_on(conn, period: str, rectification_days: int) -> dt.date | None:
    """The assessment date a stored run of `period` was made with (runs stored before the date
    was kept: read back from its 限期整改 deadlines, else the day it ran); None if never run."""
    run = queries.assessment_run(conn, period)
    if run is None:
        return None
    if run.assessed_on is not None:
        return run.assessed_on
    due = queries.earliest_due(conn, period)

    return (due - dt.timedelta(days=rectification_days)) if due else current().local(run.ran_at).date()


def assess_period(period: str, run_date: dt.date | None = None) -> Assessment:
    """Score `period` (2017H1, 2017Y) from the warehouse and store scores and actions."""
    current().check_period(period)
    cfg = assessment()
    eng = engine()
    with eng.connect() as conn:
        inputs = gather(conn, period)
        previous = _stored_scores(conn, current().previous_period(period))
        # a re-run keeps the assessment date of the record (and of the mail that went out)
        on = run_date or _assessed_on(conn, period, int(cfg["rectification_days"])) or dt.date.today()
    scores = score_period(inputs, cfg["indicators"])
    actions = decide_actions(period, scores, previous, on, int(cfg["rectification_days"]))
    with eng.begin() as conn:
        for table in (assessment_scores, assessment_actions, assessment_runs):
            conn.execute(delete(table).where(table.c.period == period))
        conn.execute(insert(assessment_scores), [{**{k: v for k, v in s.to_dict().items() if k != "name"}, "period": period} for s in scores])
        if actions:
            conn.execute(insert(assessment_actions), [
                {"period": period, "unit": a.unit, "action": a.action, "indicators": json.dumps(a.indicators), "due": a.due, "reason": a.reason}
                for a in actions])
        conn.execute(insert(assessment_runs).values(period=period, data_months=json.dumps(inputs.months_used), ran_at=dt.datetime.now(dt.UTC),
                                                    assessed_on=on))
    result = Assessment(period, inputs.months_used, scores, actions)
    log.info("assessed %s: %d scores, lagging units %s", period, len(scores), result.lagging)
    return result


# --- what the assessment DAG's first task runs ------------------------------------------------------

def period_of(run: Run) -> str:
    """The period asked for by hand (`period`: 2017H1, 2017Y), else the one whose last day the run is on."""
    if run.param("period"):
        return run.param("period")
    if run.logical_date is None:
        raise ValueError("no period given and no logical date to derive it from")
    cal = current()
    return cal.period_of(cal.local(run.logical_date).date())


def assess(run: Run) -> Assessment:
    """Assess the run's period, as of its `as_of` param (default: today)."""
    db.require_current()
    as_of = run.param("as_of")
    return assess_period(period_of(run), dt.date.fromisoformat(as_of) if as_of else None)
