"""催报: on the report day (the 10th), a reminder to each source whose last month has no accepted
file; on the final day (the 15th), again, copying the poverty office. Both days come from the
calendar (fupin.calendar). The same ledger (`drops`) feeds I19."""

from __future__ import annotations

import datetime as dt

from fupin import queries
from fupin.calendar import current, month_label
from fupin.config import contracts
from fupin.notify.outbox import enqueue
from fupin.runs import Run
from fupin.shares import unc
from fupin.warehouse import db
from fupin.warehouse.db import engine
from fupin.wording import you


def missing_sources(month: str) -> list[str]:
    """Sources with no accepted file for `month` (a rejected one does not count)."""
    with engine().connect() as conn:
        done = queries.submitted_sources(conn, month)
    return [s for s in contracts().sources if s not in done]


def remind(today: dt.date) -> list[str]:
    """Queue the reminders due `today`; returns the sources reminded (none on other days)."""
    cal = current()
    due = cal.reminder_of(today)
    if due is None:
        return []
    month, second = due
    late = missing_sources(month)
    for source in late:
        enqueue("reminder", f"{month}:{today.day}", source, "reminder", cc_units=("poverty_office",) if second else (),
                month_label=month_label(month), today=f"{today.month}月{today.day}日", second=second, due=cal.report_due_label(),
                example=f"{contracts().sources[source].label}_{month_label(month)}.xlsx", you=you(source),
                folder=unc(source))
    return late


def remind_on(run: Run) -> list[str]:
    """submission_reminders' task: the reminders of the run's day (its `date` param, else its
    local date)."""
    given = run.param("date")
    today = dt.date.fromisoformat(given) if given else current().local(run.logical_date).date()
    db.require_current()
    return remind(today)
