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


def missing_files(month: str) -> dict[str, list[str]]:
    """Per unit with something missing for `month`: the titles of its files with no accepted drop
    (a rejected one does not count). A unit that sends several files (县扶贫办: 建档立卡 and
    扶贫项目库) has each counted by the datasets loaded for the month."""
    with engine().connect() as conn:
        done = queries.submitted_sources(conn, month)
        loaded = queries.loaded_datasets(conn, month)
    out = {}
    for key, src in contracts().sources.items():
        files = src.reports
        missing = [title for title, held in files.items() if key not in done or (len(files) > 1 and not set(held) & loaded)]
        if missing:
            out[key] = missing
    return out


def missing_sources(month: str) -> list[str]:
    """Units with a file missing for `month`."""
    return list(missing_files(month))


def remind(today: dt.date) -> list[str]:
    """Queue the reminders due `today`; returns the sources reminded (none on other days)."""
    cal = current()
    due = cal.reminder_of(today)
    if due is None:
        return []
    month, second = due
    late = missing_files(month)
    for source, titles in late.items():
        src = contracts().sources[source]
        several = len(src.reports) > 1  # name the file only where the unit sends more than one
        enqueue("reminder", f"{month}:{today.day}", source, "reminder", cc_units=("poverty_office",) if second else (),
                month_label=month_label(month), today=f"{today.month}月{today.day}日", second=second, due=cal.report_due_label(),
                example=f"{src.file_label(titles[0])}_{month_label(month)}.xlsx", you=you(source),
                folder=unc(source), files="、".join(f"“{t}”" for t in titles) if several else "")
    return list(late)


def remind_on(run: Run) -> list[str]:
    """submission_reminders' task: the reminders of the run's day (its `date` param, else its
    local date)."""
    given = run.param("date")
    today = dt.date.fromisoformat(given) if given else current().local(run.logical_date).date()
    db.require_current()
    return remind(today)
