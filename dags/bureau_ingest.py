"""
### bureau_ingest — 报送文件入库

When bureaus drop files into `inbox/<source>/`: the county's inbox Asset (`fupin/inbox`) is
updated by an AssetWatcher whose trigger (`fupin.ingest.watch.InboxTrigger`, in the triggerer)
sees settled files, and this DAG runs — no per-minute clock, no run while nothing arrives — plus
an hourly sweep (`ingest.watch.sweep_cron`) for claims left behind. It claims the files, then
ingests them a few to a mapped task (`ingest.claims.files_per_task`), each file in turn: archive,
read, validate with Great Expectations, load — or reject with a receipt (报送回执) in Chinese.

Every receipt is queued in the outbox and sent to the unit by the last task (a rejected
file's receipt carries the marked-up workbook). Each accepted file emits an event on the Asset of every dataset it loaded (`fupin/registry`,
`fupin/dibao`, ...), so downstream DAGs run on data, not on the clock.
A bad file is not an error of this DAG: it gets a receipt. Only transient faults (database,
disk) fail a task, and those are retried with back-off.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetAlias, AssetOrTimeSchedule, CronTriggerTimetable, dag

from fupin.assets import ingest_alias, warehouse_pool
from fupin.config import settings
from fupin.county import County, counties
from fupin.ingest.watch import inbox_asset
from fupin.notify.alerts import TaskFailed, watch
from fupin.tasking import county_task

# a task that gave up after its retries: the engineers are mailed (fupin.notify.alerts)
GAVE_UP = "处理：未处理完的文件仍在 work/ 中保持认领，排除故障（数据库、磁盘、权限）后，下一次运行会自动重新处理，报送单位无需重报。"


def bureau_ingest_dag(county: County) -> None:
    """One county's ingest (the only one in a county deployment; see fupin.county)."""
    alias = AssetAlias(ingest_alias(county.code))
    with county.active():
        watching = settings()["ingest"]["watch"]
        sweep = CronTriggerTimetable(watching["sweep_cron"], timezone="UTC", run_immediately=timedelta(0))
        schedule = (AssetOrTimeSchedule(timetable=sweep, assets=inbox_asset(county.code))
                    if watching["mode"] == "event" else CronTriggerTimetable("* * * * *", timezone="UTC"))

    @dag(
        dag_id=county.dag_id("bureau_ingest"),
        schedule=schedule,
        # no start date and run_immediately=0: the first run is the next scheduled time (a start date with
        # catchup=False fires the latest past tick at once, and so does Airflow's default within 10% of the
        # gap: last deadline's reminders, a stale reconciliation, per county)
        catchup=False,
        max_active_runs=1,
        tags=["fupin", "ingest", *county.tags],
        default_args={
            "retries": 3,
            "retry_delay": timedelta(seconds=30),
            "retry_exponential_backoff": True,
            "max_retry_delay": timedelta(minutes=10),
            "on_failure_callback": TaskFailed(county, "报送文件入库", GAVE_UP),
        },
        doc_md=__doc__,
    )
    def bureau_ingest():
        @county_task(county, "fupin.ingest.batch:claim_files")
        def claim_files() -> list[dict]: ...

        @county_task(county, "fupin.ingest.batch:ingest_files", outlets=[alias], pool=warehouse_pool(county.code),
                     map_index_template="{{ batch.label }}")
        def ingest_files(batch: dict, *, outlet_events=None) -> list[dict]: ...

        @county_task(county, "fupin.notify.outbox:send_notices", trigger_rule="all_done")
        def send_notices() -> dict: ...

        ingest_files.expand(batch=claim_files()) >> send_notices()

    watch(bureau_ingest())  # the run fails when a task did, though its notices still go out


for _county in counties():
    bureau_ingest_dag(_county)
