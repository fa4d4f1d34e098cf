"""The notices the assessment queues: 考核通报 (with 限期整改 at year end) to each lagging unit,
约谈 to the leadership, and the 考核总表."""

from __future__ import annotations

from fupin.assess.run import Assessment
from fupin.calendar import date_label
from fupin.config import units
from fupin.notify.outbox import enqueue
from fupin.vocab import ActionKind, ScoreStatus
from fupin.wording import data_months, gap, indicator_name, period_label, show, unit_name, you


def queue_notices(result: Assessment, summary: dict, unit_reports: list[dict]) -> int:
    """The assessment DAG's task: the notices, with the scorecard's files (`summary`) and each
    lagging unit's own (`unit_reports`) attached."""
    return queue_assessment(result, {**summary, "units": {r["unit"]: r for r in unit_reports}})


def queue_assessment(result: Assessment, reports: dict | None = None) -> int:
    """考核通报 (with 限期整改 at year end) to each lagging unit, 约谈 to the leadership copying the
    unit's leaders, and the 考核总表 to the poverty office and the leadership."""
    period = result.period
    months = data_months(result.data_months)
    scores = result.scores

    def missed(unit: str) -> list[dict]:  # what the templates show of each miss
        return [{**s.to_dict(), "shown_value": show(s.indicator, s.value), "shown_target": show(s.indicator, s.target),
                 "gap": gap(s.indicator, s.value, s.target, s.compare)}
                for s in scores if s.unit == unit and s.status == ScoreStatus.MISSED]

    queued = 0
    actions = result.actions
    for a in (a for a in actions if a.action == ActionKind.NOTICE):
        due = next((x.due for x in actions if x.unit == a.unit and x.action == ActionKind.RECTIFY), None)
        own = (reports or {}).get("units", {}).get(a.unit, {})
        queued += enqueue("assessment", period, a.unit, "assessment", period_label=period_label(period),
                          attachments=tuple(own[k] for k in ("chart", "workbook") if k in own),
                          missed=missed(a.unit), due=date_label(due) if due else None, months=months, you=you(a.unit))
    for a in (a for a in actions if a.action == ActionKind.INTERVIEW):
        queued += enqueue("interview", period, a.unit, "interview", address="leadership", cc_leaders_of=(a.unit,),
                          period_label=period_label(period), subject_unit=units()[a.unit], reason=a.reason,
                          missed=[m for m in missed(a.unit) if m["indicator"] in a.indicators])
    lagging: dict[str, list[str]] = {}
    for s in scores:
        if s.status == ScoreStatus.MISSED:
            lagging.setdefault(unit_name(s.unit), []).append(f"{s.indicator} {indicator_name(s.indicator)}")
    interviews = "、".join(unit_name(a.unit) for a in actions if a.action == ActionKind.INTERVIEW)
    for unit in ("poverty_office", "leadership"):
        queued += enqueue("scorecard", period, unit, "scorecard", period_label=period_label(period),
                          attachments=tuple((reports or {})[k] for k in ("workbook", "html") if k in (reports or {})),
                          lagging=[(n, "、".join(sorted(i))) for n, i in sorted(lagging.items())], interviews=interviews,
                          units=len({s.unit for s in scores}), indicators=len({s.indicator for s in scores}), months=months)
    return queued

