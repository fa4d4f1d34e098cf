"""What the `assessment` DAG's tasks do, as plain functions."""

from __future__ import annotations

import datetime as dt


def period_of(requested: str | None, logical_date: dt.datetime | None) -> str:
    """The period asked for by hand (2017H1, 2017Y), else the one whose last day the run is on."""
    if requested:
        return requested
    if logical_date is None:
        raise ValueError("no period given and no logical date to derive it from")
    from fupin.calendar import current

    cal = current()
    return cal.period_of(cal.local(logical_date).date())


def assess(period: str, run_date: str | None = None) -> dict:
    from fupin.assess.run import assess_period
    from fupin.warehouse import db

    db.require_current()
    return assess_period(period, dt.date.fromisoformat(run_date) if run_date else None).to_dict()


def _folder(period: str):
    from fupin.config import data_root

    return data_root() / "reports" / "assessment" / period


def write_summary(result: dict) -> dict:
    from fupin.assess.report import write_summary

    return write_summary(result, _folder(result["period"]))


def lagging_units(result: dict) -> list[str]:
    from fupin.assess.report import lagging_units

    return lagging_units(result)


def write_unit_report(result: dict, unit: str) -> dict:
    from fupin.assess.report import write_unit_report

    return write_unit_report(result, unit, _folder(result["period"]))


def queue_notices(result: dict, summary: dict, unit_reports: list[dict]) -> int:
    from fupin.assess.notices import queue_assessment

    return queue_assessment(result, {**summary, "units": {r["unit"]: r for r in unit_reports}})
