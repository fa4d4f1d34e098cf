"""
### registry_reconcile — 建档立卡与农村低保数据比对

Runs as soon as both registries of a month are loaded (the Assets `fupin/registry` and
`fupin/dibao` from `bureau_ingest`), and on the deadline (the 15th, 09:00: `settings.yaml` → `calendar`) for last month,
then against the latest earlier snapshot of a registry that has not arrived, saying so.

Applies rules R1–R6, stores the findings (with how many months each has persisted) and the
rates 应保尽保率 / 应扶尽扶率, and writes the month's workbook for civil affairs and the poverty
office, mailed to both (findings persisting three months also to the office's leaders).
Re-running a month replaces its results; its email is not sent again. Trigger by hand with `{"month": "2017-06"}`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag

from fupin import calendar
from fupin.assets import dataset_asset, warehouse_pool
from fupin.county import County, counties
from fupin.notify.alerts import TaskFailed, watch
from fupin.tasking import county_task

# nothing half-stored: a month's results are replaced in one transaction
GAVE_UP = '处理：比对结果在一个事务中整体替换，不会只存一半。排除故障后，在 Airflow 中以参数 {"month": "YYYY-MM"} 重新运行该月；已发出的比对结果不会重复发送。'


def registry_reconcile_dag(county: County) -> None:
    """One county's reconciliation, on that county's two registries."""
    with county.active():
        cal = calendar.current()

    @dag(
        dag_id=county.dag_id("registry_reconcile"),
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(cal.reconcile_cron(), timezone=cal.timezone, run_immediately=timedelta(0)),
            assets=(dataset_asset("registry", county.code) & dataset_asset("dibao", county.code)),
        ),
        # no start date and run_immediately=0: the first run is the next scheduled time (a start date with
        # catchup=False fires the latest past tick at once, and so does Airflow's default within 10% of the
        # gap: last deadline's reminders, a stale reconciliation, per county)
        catchup=False,
        max_active_runs=1,
        tags=["fupin", "reconcile", *county.tags],
        params={"month": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", description="YYYY-MM to (re)reconcile")},
        default_args={
            "retries": 2,
            "retry_delay": timedelta(minutes=1),
            "retry_exponential_backoff": True,
            "on_failure_callback": TaskFailed(county, "建档立卡与低保数据比对", GAVE_UP),
        },
        doc_md=__doc__,
    )
    def registry_reconcile():
        @county_task(county, "fupin.reconcile.run:months_to_reconcile")
        def months_to_reconcile(run=None) -> list[dict]: ...

        # the province's cross-check waits for every county's reconciliation Asset
        @county_task(county, "fupin.reconcile.run:reconcile_months", pool=warehouse_pool(county.code),
                     outlets=[dataset_asset("reconciliation", county.code)])
        def reconcile(items: list[dict]) -> list[dict]: ...

        @county_task(county, "fupin.reconcile.report:write_reports")
        def write_reports(summaries: list[dict]) -> list[str]: ...

        @county_task(county, "fupin.reconcile.notices:queue_notices")
        def queue_notices(summaries: list[dict], workbooks: list[str]) -> int: ...

        @county_task(county, "fupin.notify.outbox:send_notices", trigger_rule="all_done")
        def send_notices() -> dict: ...

        summaries = reconcile(months_to_reconcile())
        queue_notices(summaries, write_reports(summaries)) >> send_notices()

    watch(registry_reconcile())  # the run fails when a task did, though its notices still go out


for _county in counties():
    registry_reconcile_dag(_county)
