"""Engineers told when a task gives up (平台告警).

`TaskFailed` is an Airflow notifier: set as a DAG's `on_failure_callback` (in `default_args`), the
task runner calls it once, when a task instance fails for good — not on the retries before. It
queues one mail to the `ops` unit of `units.yaml` through the outbox and sends it at once; when
the warehouse that holds the outbox is what failed, the same mail goes straight to the SMTP
server instead. Either way the mail names the county, the DAG, the task (and its mapped item),
the error's first line (ID numbers masked), when, and the link to the task's log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from airflow.sdk.bases.notifier import BaseNotifier

from fupin.county import County

log = logging.getLogger(__name__)
ALERT_UNIT = "ops"


@dataclass(frozen=True)
class Failure:
    """One task instance that failed after its retries."""

    dag: str
    task: str
    run_id: str
    map_index: int | None
    item: str  # the mapped item's label (an ingest batch's file names), if any
    tries: int
    error: str  # first line, ID numbers masked
    log_url: str
    when: str  # local, as officials write it

    @property
    def key(self) -> str:
        """One alert per failed task instance: what the outbox keys it by."""
        index = "" if self.map_index is None else f"[{self.map_index}]"
        return f"{self.dag}/{self.run_id}/{self.task}{index}"


def first_line(error: BaseException | str | None) -> str:
    from fupin.ids import mask_ids_in

    if error is None:
        return "（未记录错误信息：见日志）"
    if isinstance(error, BaseException):  # named by its cause: a full disk, a lost database
        from fupin.faults import describe

        return describe(error)
    line = next((part.strip() for part in error.splitlines() if part.strip()), error)
    return mask_ids_in(line)[:300]


def failure_of(context: dict) -> Failure:
    """What an Airflow callback's context says about the failed task instance."""
    import datetime as dt

    from fupin.calendar import time_label

    ti = context["ti"]
    index = getattr(ti, "map_index", -1)
    index = None if index is None or index < 0 else index
    try:
        url = ti.log_url
    except Exception:  # no api base_url configured: the run id still finds it
        url = "（未配置 Airflow 地址：在 Airflow 界面中按运行和任务查找）"
    label = getattr(ti, "rendered_map_index", None) or ""
    return Failure(context["dag"].dag_id if context.get("dag") else ti.dag_id, ti.task_id, ti.run_id, index, str(label),
                   int(getattr(ti, "try_number", 1) or 1), first_line(context.get("exception")), url,
                   time_label(dt.datetime.now(dt.UTC)))


def send_alert(failure: Failure, county: County, title: str, hint: str) -> str:
    """Queue and send the alert; returns how it went out (`outbox`, `direct`) or `lost`."""
    from fupin.notify.outbox import enqueue, send_direct, send_pending

    context = dict(county=county.name or _county_name(), dag=failure.dag, dag_title=title, task=failure.task,
                   map_index=failure.map_index, item=failure.item, tries=failure.tries, when=failure.when, error=failure.error,
                   log_url=failure.log_url, run_id=failure.run_id, hint=hint)
    kind = "alert:task_failed"
    try:
        enqueue(kind, failure.key, ALERT_UNIT, "task_failed", **context)
    except Exception as exc:  # the warehouse may be what failed: go around it
        log.warning("alert for %s: outbox unavailable (%s); sending directly", failure.key, type(exc).__name__)
    else:
        # only this notice: a failing task is no time to drain the whole outbox
        sent = send_pending(only=(kind, failure.key, ALERT_UNIT))
        return "outbox" if sent["sent"] else "queued"  # else the next send step retries it
    try:
        send_direct(ALERT_UNIT, "task_failed", key=f"alert:task_failed/{failure.key}", **context)
        return "direct"
    except Exception:  # nothing else to try: the task's own log keeps the error
        log.exception("alert for %s could not be sent", failure.key)
        return "lost"


def _county_name() -> str:
    from fupin.config import county_settings

    return county_settings()["name"]


class TaskFailed(BaseNotifier):
    """`on_failure_callback` of every fupin DAG: one alert per task instance that gave up."""

    def __init__(self, county: County, title: str, hint: str) -> None:
        super().__init__()
        self.county, self.title, self.hint = county, title, hint

    def notify(self, context) -> None:  # Airflow's Context
        from fupin.files import restrict_umask

        restrict_umask()  # an entry point of its own: the task may have failed before it set one
        failure = failure_of(context)
        log.error("%s gave up after %d tries: %s", failure.key, failure.tries, failure.error)
        with self.county.active():
            how = send_alert(failure, self.county, self.title, self.hint)
        log.info("alert for %s: %s", failure.key, how)


WATCHER = "any_task_failed"


def watch(dag) -> None:  # an airflow.sdk DAG
    """Bound every task's run time (`task_timeouts`), and add a leaf that fails the run when any task failed.

    Every DAG ends with `send_notices` (trigger rule all_done: receipts go out even when a file
    failed), and Airflow judges a run by its leaves, so without this a run whose reconciliation
    failed would show green. The watcher sends no alert of its own: the failed task did."""
    from airflow.sdk import task

    from fupin.config import task_timeout

    others = list(dag.tasks)
    for other in others:  # and no task may hang for ever (settings.yaml → task_timeouts)
        if other.execution_timeout is None:
            other.execution_timeout = task_timeout(other.task_id)
    with dag:
        @task(task_id=WATCHER, trigger_rule="one_failed", retries=0, on_failure_callback=None, execution_timeout=task_timeout(WATCHER))
        def any_task_failed() -> None:
            raise RuntimeError("a task of this run failed after its retries (see the alert mail and that task's log)")

        watcher = any_task_failed()
    for other in others:
        other >> watcher
