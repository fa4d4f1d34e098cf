"""
### submission_reminders — 催报

Every day at 09:00 (Asia/Shanghai); on the 10th, a 催报 to each bureau whose last month has no
accepted file yet; on the 15th, again, copying the poverty office. Other days it does nothing.
Each reminder is keyed (month, day, bureau) in the outbox: a re-run never mails twice.
Run for a given date with `{"date": "2017-07-10"}`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from fupin.county import County, counties

log = logging.getLogger(__name__)


def on_reminder_failure(context) -> None:
    """A failed run only delays reminders: the next run (or a re-run) queues what is missing."""
    log.error("submission_reminders failed in %s", context["task_instance"].task_id)


def submission_reminders_dag(county: County) -> None:
    """One county's submission reminders (the only one in a county deployment; see fupin.county)."""

    @dag(
        dag_id=county.dag_id("submission_reminders"),
        schedule="0 9 * * *",
        start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
        catchup=False,
        max_active_runs=1,
        tags=["fupin", "notify", *county.tags],
        params={"date": Param(None, type=["null", "string"], format="date", description="the day to act as (default: the run's date)")},
        default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True,
                      "on_failure_callback": on_reminder_failure},
        doc_md=__doc__,
    )
    def submission_reminders():
        @task
        def queue_reminders() -> list[str]:
            import datetime as dt

            from fupin.notify.reminders import remind
            from fupin.warehouse import db

            ctx = get_current_context()
            given = ctx["params"].get("date")
            today = dt.date.fromisoformat(given) if given else ctx["logical_date"].in_timezone("Asia/Shanghai").date()
            with county.active():
                db.upgrade()
                return remind(today)

        @task(trigger_rule="all_done")
        def send_notices() -> dict:
            from fupin.notify.tasks import send_notices

            with county.active():
                return send_notices()

        queue_reminders() >> send_notices()

    submission_reminders()


for _county in counties():
    submission_reminders_dag(_county)
