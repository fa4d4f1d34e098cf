"""Engineers hear of a task that gave up: one alert per failure (not per retry), through the
outbox, or straight to the SMTP server when the warehouse itself is down."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.helpers import drops, rows, sheet, write

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def _fast_retries(dag, retries: int = 1) -> None:
    """The DAG as deployed, with its retries immediate: the test sees the retry, not the wait."""
    for task in dag.tasks:
        task.retries, task.retry_delay, task.retry_exponential_backoff = retries, dt.timedelta(0), False


def _alerts(mailbox) -> list:
    return [m for m in mailbox.messages if m["Subject"].startswith("【平台告警】")]


@pytest.mark.slow
def test_every_dag_alerts_the_engineers_when_a_task_gives_up(dagbag):
    from fupin.notify.alerts import WATCHER, TaskFailed

    for dag_id, dag in dagbag.dags.items():
        watcher = dag.get_task(WATCHER)  # the leaf that turns the run red, which alerts nobody itself
        assert watcher.upstream_task_ids == {t.task_id for t in dag.tasks} - {WATCHER}, dag_id
        assert not watcher.on_failure_callback and watcher.trigger_rule == "one_failed"
        for task in dag.tasks:
            if task.task_id == WATCHER:
                continue
            callbacks = task.on_failure_callback if isinstance(task.on_failure_callback, list) else [task.on_failure_callback]
            assert any(isinstance(c, TaskFailed) for c in callbacks), (dag_id, task.task_id)
            assert not task.on_retry_callback, (dag_id, task.task_id)  # a retry is not news


@pytest.mark.slow
@pytest.mark.airflow
def test_a_task_that_fails_after_its_retries_sends_one_alert_through_the_outbox(dagbag, airflow_db, sqlite_warehouse, data_root,
                                                                                people, mailbox):
    """A 2021 month has no exit threshold in settings.yaml: reconciliation fails, twice."""
    from fupin.notify.outbox import notices

    write(drops(data_root, "poverty_office") / "扶贫办_2021年6月.xlsx", sheet("registry", rows("registry", people, "2021-06")))
    write(drops(data_root, "civil_affairs") / "民政局_2021年6月.xlsx", sheet("dibao", rows("dibao", people, "2021-06")))
    assert dagbag.dags["bureau_ingest"].test().state == "success"
    dag = dagbag.dags["registry_reconcile"]
    _fast_retries(dag)
    run = dag.test(run_conf={"month": "2021-06"})
    assert run.state == "failed"
    alerts = _alerts(mailbox)
    assert len(alerts) == 1  # two tries, one alert
    mail = alerts[0]
    assert mail["To"] == "ops@renhua.fupin.example"
    assert "仁化县建档立卡与低保数据比对：任务 reconcile 失败（共尝试 2 次）" in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()
    assert "registry_reconcile" in body and "ValueError: no exit threshold (脱贫标准) for 2021" in body
    assert f"/dags/registry_reconcile/runs/{run.run_id.replace(':', '%3A').replace('+', '%2B')}/tasks/reconcile" in body
    assert '{"month": "YYYY-MM"}' in body  # what to do next
    page = mail.get_body(("html",)).get_content()
    assert '<a href="http://localhost:8080/dags/registry_reconcile/runs/' in page  # the log one click away
    kept = [n for n in notices() if n.kind == "alert:task_failed"]
    assert [(n.unit, n.status) for n in kept] == [("ops", "sent")]


@pytest.mark.slow
@pytest.mark.airflow
def test_with_the_warehouse_down_the_alert_goes_straight_to_the_mail_server(dagbag, airflow_db, data_root, mailbox, monkeypatch):
    from fupin.ops.cluster import free_port

    # nothing listens there: every connection is refused at once
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", f"postgresql+psycopg2://fupin@127.0.0.1:{free_port()}/fupin")
    dag = dagbag.dags["submission_reminders"]
    _fast_retries(dag, retries=2)
    run = dag.test(run_conf={"date": "2017-07-10"})
    assert run.state == "failed"
    # both tasks need the warehouse: each failed after its three tries, and each is told once
    alerts = {m["Subject"]: m for m in _alerts(mailbox)}
    assert sorted(alerts) == ["【平台告警】仁化县催报：任务 queue_reminders 失败（共尝试 3 次）",
                              "【平台告警】仁化县催报：任务 send_notices 失败（共尝试 3 次）"]
    body = alerts["【平台告警】仁化县催报：任务 queue_reminders 失败（共尝试 3 次）"].get_body(("plain",)).get_content()
    assert "数据库无法连接" in body and "Connection refused" in body and '{"date": "YYYY-MM-DD"}' in body


def test_an_alert_never_carries_an_id_number():
    from fupin.notify.alerts import first_line

    line = first_line(RuntimeError("duplicate key (id_number)=(440224199001011234) and 44022419900101123X\nDETAIL: more"))
    assert "440224199001011234" not in line and "44022419900101123X" not in line
    assert "440224********1234" in line and "DETAIL" not in line


def test_an_alert_names_the_cause_of_a_fault():
    import errno

    from sqlalchemy.exc import OperationalError

    from fupin.notify.alerts import first_line

    full = first_line(OSError(errno.ENOSPC, "No space left on device", "/data/archive/ab/x.tmp"))
    assert full.startswith("磁盘已满") and "/data/archive" in full
    assert first_line(PermissionError(errno.EACCES, "Permission denied", "/data/inbox/x.xlsx")).startswith("无权访问")
    lost = first_line(OperationalError("SELECT 1", {}, ConnectionRefusedError("connection to server at 127.0.0.1 refused")))
    assert lost.startswith("数据库无法连接") and "refused" in lost and "\n" not in lost


@pytest.mark.slow
@pytest.mark.airflow
def test_a_warehouse_not_migrated_fails_the_task_with_what_to_run(dagbag, airflow_db, data_root, mailbox, monkeypatch):
    """Tasks never migrate (workers need no DDL rights): on a warehouse behind the code they stop
    at once, and the engineers read which revision it is at and the command that fixes it."""
    from sqlalchemy import inspect

    from fupin.warehouse import db

    url = f"sqlite:///{data_root / 'behind.sqlite'}"
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    dag = dagbag.dags["submission_reminders"]
    _fast_retries(dag, retries=0)
    assert dag.test(run_conf={"date": "2017-07-10"}).state == "failed"
    assert inspect(db.engine(url)).get_table_names() == []  # nothing created behind deploy's back
    body = {m["Subject"]: m for m in _alerts(mailbox)}["【平台告警】仁化县催报：任务 queue_reminders 失败（共尝试 1 次）"]
    text = body.get_body(("plain",)).get_content()
    assert "SchemaBehind" in text and "is at migration none (empty), this code needs" in text and "fupin db upgrade" in text
