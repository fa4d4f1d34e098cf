"""催报: on the report day (the 10th), a reminder to each source whose last month has no accepted
file; on the final day (the 15th), again, copying the poverty office. Both days come from the
calendar (fupin.calendar). The same ledger (`drops`) feeds I19."""

from __future__ import annotations

import datetime as dt

from fupin import queries
from fupin.calendar import current, month_label
from fupin.config import contracts
from fupin.notify.outbox import enqueue
from fupin.shares import unc
from fupin.warehouse.db import engine
from fupin.wording import you


def missing_sources(month: str, url: str | None = None) -> list[str]:
    """Sources with no accepted file for `month` (a rejected one does not count)."""
    with engine(url).connect() as conn:
        done = queries.submitted_sources(conn, month)
    return [s for s in contracts().sources if s not in done]


def remind(today: dt.date, url: str | None = None) -> list[str]:
    """Queue the reminders due `today`; returns the sources reminded (none on other days)."""
    cal = current()
    due = cal.reminder_of(today)
    if due is None:
        return []
    month, second = due
    late = missing_sources(month, url)
    for source in late:
        enqueue("reminder", f"{month}:{today.day}", source, "reminder", cc_units=("poverty_office",) if second else (), url=url,
                month_label=month_label(month), today=f"{today.month}月{today.day}日", second=second, due=cal.report_due_label(),
                example=f"{contracts().sources[source].label}_{month_label(month)}.xlsx", you=you(source),
                folder=unc(source))
    return late
