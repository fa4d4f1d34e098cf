"""
### assessment — 半年和年终考核

On the last day of each period (30 June and 31 December, 20:00 Asia/Shanghai: `settings.yaml` →
`calendar`) scores every town and responsible bureau on
indicators I01–I19 (targets in `config/assessment.yaml`) from the latest accepted data, stores
the scores and the actions (通报; at year end 限期整改 with its due date, and 约谈), writes the
scorecard (workbook, HTML page with charts, a chart and a workbook per lagging unit), then
mails each lagging unit its own, the leadership the 约谈, the poverty office the 考核总表.

Run any period by hand with `{"period": "2017Y"}`: re-running replaces its results; notices
already sent are not sent again. With `require_approval` on, the notices wait for the poverty
office to approve the scorecard in the Airflow UI.
"""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import MultipleCronTriggerTimetable, Param, dag

from fupin import calendar, config
from fupin.assets import warehouse_pool
from fupin.county import County, counties
from fupin.notify.alerts import TaskFailed, watch
from fupin.tasking import county_task


def require_approval() -> bool:
    """The active county's `require_approval` (config/assessment.yaml); FUPIN_REQUIRE_APPROVAL=1/0
    overrides it for the whole deployment."""
    forced = os.environ.get("FUPIN_REQUIRE_APPROVAL", "")
    return forced == "1" or (forced != "0" and bool(config.assessment().get("require_approval", False)))


# results are replaced in one transaction: fix the cause and re-run the period
GAVE_UP = '处理：考核结果在一个事务中整体替换，不会只存一半。排除故障后，在 Airflow 中以参数 {"period": "2017Y"} 重新运行该期；已发出的通报不会重复发送。'


def assessment_dag(county: County) -> None:
    """One county's assessment (the only one in a county deployment; see fupin.county)."""
    with county.active():
        cal, approval = calendar.current(), require_approval()

    @dag(
        dag_id=county.dag_id("assessment"),
        schedule=MultipleCronTriggerTimetable(*cal.assessment_crons(), timezone=cal.timezone, run_immediately=timedelta(0)),
        # no start date and run_immediately=0: the first run is the next scheduled time (a start date with
        # catchup=False fires the latest past tick at once, and so does Airflow's default within 10% of the
        # gap: last deadline's reminders, a stale reconciliation, per county)
        catchup=False,
        max_active_runs=1,
        tags=["fupin", "assessment", *county.tags],
        params={
            "period": Param(None, type=["null", "string"], pattern=r"^\d{4}(H1|Y)$", description="2017H1 or 2017Y"),
            "as_of": Param(None, type=["null", "string"], format="date", description="the assessment date (deadlines count from it); default today"),
        },
        default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True,
                      "on_failure_callback": TaskFailed(county, "半年和年终考核", GAVE_UP)},
        doc_md=__doc__,
    )
    def assessment():
        @county_task(county, "fupin.assess.run:assess", pool=warehouse_pool(county.code))
        def assess(run=None) -> dict: ...

        @county_task(county, "fupin.assess.report:write_summary")
        def write_summary(result: dict) -> dict: ...

        @county_task(county, "fupin.assess.report:lagging_units")
        def lagging_units(result: dict) -> list[str]: ...

        @county_task(county, "fupin.assess.report:write_unit_report", map_index_template="{{ unit }}")
        def write_unit_report(result: dict, unit: str) -> dict: ...

        # none_failed: with no lagging unit the mapped reports are skipped, and the 考核总表 is still due
        @county_task(county, "fupin.assess.notices:queue_notices", trigger_rule="none_failed")
        def queue_notices(result: dict, summary: dict, unit_reports: list[dict]) -> int: ...

        @county_task(county, "fupin.notify.outbox:send_notices", trigger_rule="all_done")
        def send_notices() -> dict: ...

        result = assess()
        summary = write_summary(result)
        unit_reports = write_unit_report.partial(result=result).expand(unit=lagging_units(result))
        queued = queue_notices(result, summary, unit_reports)
        if approval:
            from airflow.providers.standard.operators.hitl import ApprovalOperator

            approve = ApprovalOperator(task_id="approve_scorecard", subject="请审核考核结果后再发出通报", trigger_rule="none_failed",
                                       body="考核结果已生成，批准后将向各单位发出考核通报、约谈建议和考核总表。")
            [summary, unit_reports] >> approve >> queued
        queued >> send_notices()

    watch(assessment())  # the run fails when a task did, though its notices still go out


for _county in counties():
    assessment_dag(_county)
