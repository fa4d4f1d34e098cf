"""
### submission_reminders — 催报

On the 10th at 09:00 (Asia/Shanghai), a 催报 to each bureau whose last month has no accepted file
yet; on the 15th, again, copying the poverty office (days and time: `settings.yaml` → `calendar`).
Each reminder is keyed (month, day, bureau) in the outbox: a re-run never mails twice.
Run for a given date with `{"date": "2017-07-10"}`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag

from fupin import calendar
from fupin.county import County, counties
from fupin.notify.alerts import TaskFailed, watch
from fupin.tasking import county_task

# a failed run only delays reminders: a re-run queues what is missing, never twice
GAVE_UP = '处理：催报只是推迟。排除故障后，在 Airflow 中以参数 {"date": "YYYY-MM-DD"} 重新运行当天；已发出的催报不会重复发送。'


def submission_reminders_dag(county: County) -> None:
    """One county's submission reminders (the only one in a county deployment; see fupin.county)."""
    with county.active():
        cal = calendar.current()

    @dag(
        dag_id=county.dag_id("submission_reminders"),
        schedule=CronTriggerTimetable(cal.reminder_cron(), timezone=cal.timezone, run_immediately=timedelta(0)),
        # no start date and run_immediately=0: the first run is the next scheduled time (a start date with
        # catchup=False fires the latest past tick at once, and so does Airflow's default within 10% of the
        # gap: last deadline's reminders, a stale reconciliation, per county)
        catchup=False,
        max_active_runs=1,
        tags=["fupin", "notify", *county.tags],
        params={"date": Param(None, type=["null", "string"], format="date", description="the day to act as (default: the run's date)")},
        default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "retry_exponential_backoff": True,
                      "on_failure_callback": TaskFailed(county, "催报", GAVE_UP)},
        doc_md=__doc__,
    )
    def submission_reminders():
        @county_task(county, "fupin.notify.reminders:remind_on")
        def queue_reminders(run=None) -> list[str]: ...

        @county_task(county, "fupin.notify.outbox:send_notices", trigger_rule="all_done")
        def send_notices() -> dict: ...

        queue_reminders() >> send_notices()

    watch(submission_reminders())  # the run fails when a task did, though its notices still go out


for _county in counties():
    submission_reminders_dag(_county)
