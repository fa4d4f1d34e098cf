"""
### funds_supervision — 扶贫资金项目监管

Runs as soon as a month's payments (`fupin/fund_payments`, 县财政局's 扶贫资金拨付明细), the
project library (`fupin/projects`, 县扶贫办's 扶贫项目库) or the registry (`fupin/registry`, which
the payments are judged against) are loaded, and on the deadline (the 15th, 09:00: `settings.yaml`
→ `calendar`) for last month, with whatever has come.

Applies checks F1–F6 (docs/spec/funds.md) to every payment up to the month against the month's
registry, the latest project library and 县人社局's employment records, and stores the findings
beside R1–R6's: they persist, escalate and take 核查 the same way. Re-running a month replaces its
fund findings. Then the month's 资金监管 workbook and mail go to 县财政局 and 县扶贫办, each 责任单位
gets its projects behind schedule, and 县审计局 the F1, F2 and F4 cases left unanswered into their
third month, as 疑似. Trigger by hand with `{"month": "2017-06"}`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag

from fupin import calendar
from fupin.assets import dataset_asset, warehouse_pool
from fupin.county import County, counties
from fupin.notify.alerts import TaskFailed, watch
from fupin.tasking import county_task

GAVE_UP = ('处理：资金监管结果在一个事务中整体替换，不会只存一半。排除故障后，在 Airflow 中以参数 {"month": "YYYY-MM"} 重新运行该月；'
           '已发出的资金监管通知不会重复发送。')


def funds_supervision_dag(county: County) -> None:
    """One county's fund checks, on that county's payments, projects and registry."""
    with county.active():
        cal = calendar.current()

    @dag(
        dag_id=county.dag_id("funds_supervision"),
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(cal.reconcile_cron(), timezone=cal.timezone, run_immediately=timedelta(0)),
            assets=(dataset_asset("fund_payments", county.code) | dataset_asset("projects", county.code)
                    | dataset_asset("registry", county.code)),
        ),
        catchup=False,
        max_active_runs=1,
        tags=["fupin", "funds", *county.tags],
        params={"month": Param(None, type=["null", "string"], pattern=r"^\d{4}-\d{2}$", description="YYYY-MM to (re)check")},
        default_args={
            "retries": 2,
            "retry_delay": timedelta(minutes=1),
            "retry_exponential_backoff": True,
            "on_failure_callback": TaskFailed(county, "扶贫资金项目监管", GAVE_UP),
        },
        doc_md=__doc__,
    )
    def funds_supervision():
        @county_task(county, "fupin.funds.run:months_to_check")
        def months_to_check(run=None) -> list[dict]: ...

        @county_task(county, "fupin.funds.run:check_months", pool=warehouse_pool(county.code))
        def check(items: list[dict]) -> list[dict]: ...

        @county_task(county, "fupin.funds.report:write_reports")
        def write_reports(summaries: list[dict]) -> list[dict]: ...

        @county_task(county, "fupin.funds.notices:queue_notices")
        def queue_notices(summaries: list[dict], reports: list[dict]) -> int: ...

        @county_task(county, "fupin.notify.outbox:send_notices", trigger_rule="all_done")
        def send_notices() -> dict: ...

        summaries = check(months_to_check())
        queue_notices(summaries, write_reports(summaries)) >> send_notices()

    watch(funds_supervision())  # the run fails when a task did


for _county in counties():
    funds_supervision_dag(_county)
