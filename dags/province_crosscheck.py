"""
### province_crosscheck — 跨县数据比对（省级）

Only in a province's deployment (`FUPIN_COUNTIES` with a `province:` entry). Once every county
has reconciled the month (each county's `fupin/<code>/reconciliation` Asset), and on the
deadline (the 15th, 18:00: `settings.yaml` → `calendar.crosscheck_time`) for last month, reads
every county's latest registry and dibao and finds what no county sees alone: R7 the same person
registered poor in two counties, R8 registered in one and on dibao in force in another, R9 a
suspected same person across counties (same name and birth date, IDs one digit apart).

The findings go to the province's warehouse with how many months each has persisted; each
county's poverty office (copying civil affairs) is mailed its own cases with masked IDs, the
province office the summary. Re-running a month replaces its findings; mail already sent is
not sent again. Trigger by hand with `{"month": "2018-06"}`.
"""

from __future__ import annotations

from datetime import timedelta
from functools import reduce

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag

from fupin import calendar
from fupin.assets import dataset_asset
from fupin.county import County, counties, province
from fupin.notify.alerts import TaskFailed, watch
from fupin.tasking import county_task

GAVE_UP = ('处理：跨县比对结果在一个事务中整体替换，不会只存一半。排除故障（某县数据库不可达时，日志中有该县代码）后，'
           '在 Airflow 中以参数 {"month": "YYYY-MM"} 重新运行该月；已发出的邮件不会重复发送。')


def province_crosscheck_dag(prov: County, listed: list[County]) -> None:
    with prov.active():
        cal = calendar.current()

    @dag(
        dag_id="province_crosscheck",
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(cal.crosscheck_cron(), timezone=cal.timezone, run_immediately=timedelta(0)),
            assets=reduce(lambda a, b: a & b, [dataset_asset("reconciliation", c.code) for c in listed]),
        ),
        catchup=False,  # no start date: the first run is the next scheduled time (see registry_reconcile)
        max_active_runs=1,
        tags=["fupin", "reconcile", "province"],
        params={"month": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", description="YYYY-MM to (re)check")},
        default_args={
            "retries": 2,
            "retry_delay": timedelta(minutes=1),
            "retry_exponential_backoff": True,
            "on_failure_callback": TaskFailed(prov, "跨县数据比对", GAVE_UP),
        },
        doc_md=__doc__,
    )
    def province_crosscheck():
        @county_task(prov, "fupin.reconcile.crosscheck:month_to_check")
        def month_to_check(run=None) -> str | None: ...

        @county_task(prov, "fupin.reconcile.crosscheck:crosscheck")
        def crosscheck(month: str | None) -> dict | None: ...

        @county_task(prov, "fupin.reconcile.crosscheck:notify")
        def queue_notices(summary: dict | None) -> int: ...

        @county_task(prov, "fupin.reconcile.crosscheck:send_all", trigger_rule="all_done")
        def send_notices() -> dict: ...

        queue_notices(crosscheck(month_to_check())) >> send_notices()

    watch(province_crosscheck())  # the run fails when a task did, though the notices still go out


_province = province()
if _province is not None:
    province_crosscheck_dag(_province, counties())
