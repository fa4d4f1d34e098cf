"""What the `assessment` DAG's tasks do, as plain functions."""

from __future__ import annotations

import datetime as dt


def period_of(requested: str | None, logical_date: dt.datetime | None) -> str:
    """The period asked for by hand (2017H1, 2017Y), else the one whose last day the run is on."""
    if requested:
        return requested
    if logical_date is None:
        raise ValueError("no period given and no logical date to derive it from")
    local = logical_date.astimezone(dt.timezone(dt.timedelta(hours=8)))  # Asia/Shanghai
    return f"{local.year}{'H1' if local.month <= 6 else 'Y'}"


def assess(period: str, run_date: str | None = None) -> dict:
    from fupin.assess.run import assess_period
    from fupin.warehouse import db

    db.upgrade()
    return assess_period(period, dt.date.fromisoformat(run_date) if run_date else None).to_dict()


def write_reports(result: dict) -> dict:
    from fupin.assess.report import write_reports
    from fupin.config import data_root

    return write_reports(result, data_root() / "reports" / "assessment" / result["period"])


def queue_notices(result: dict, reports: dict) -> int:
    from fupin.notify.notices import queue_assessment

    return queue_assessment(result, reports)
