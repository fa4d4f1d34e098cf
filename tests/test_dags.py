"""The DAG files: they import cleanly, follow the house rules, and really run (dag.test())."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.helpers import count, drops, rows, sheet, write

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dag_files_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "bureau_ingest" in dagbag.dag_ids


def test_every_dag_has_tags_no_catchup_and_a_docstring(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.catchup is False, dag_id
        assert dag.doc_md, dag_id


def test_a_new_dag_waits_for_its_next_scheduled_time(dagbag, monkeypatch):
    """Created or unpaused (a new county, a first `make serve`), no DAG fires its latest past
    tick at once — not even a minute after it (Airflow's default still does within 10% of the
    gap: for the reminders, 2.5 days after the 15th): no stale reminders, no stale reconciliation."""
    import datetime as dt

    import pendulum
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable
    from airflow.timetables import trigger
    from airflow.timetables.base import TimeRestriction

    for ticked in ("2026-12-15T01:01:00+00:00", "2026-12-15T09:05:00+08:00", "2026-12-31T20:01:00+08:00"):
        now = pendulum.parse(ticked)  # a minute or so after a tick of the hourly, reminder, reconcile or assessment cron
        monkeypatch.setattr(trigger, "utcnow", lambda now=now: now.in_timezone("UTC"))
        for dag_id, dag in dagbag.dags.items():
            timetable = decode_timetable(encode_timetable(dag.timetable))  # as the scheduler holds it
            first = timetable.next_dagrun_info(last_automated_data_interval=None,
                                               restriction=TimeRestriction(earliest=dag.start_date, latest=None, catchup=False))
            assert first is None or first.run_after >= now - dt.timedelta(seconds=1), (dag_id, ticked, first)


def test_no_task_can_run_for_ever(dagbag):
    """Every task of every DAG has an execution timeout (settings.yaml → task_timeouts): a hang
    (a FIFO opened, a share that stops answering) fails the task instead of holding its DAG, whose
    max_active_runs=1 would keep every later run waiting."""
    from fupin.config import settings

    limits = settings()["task_timeouts"]
    seen = 0
    for dag_id, dag in dagbag.dags.items():
        for t in dag.tasks:
            assert t.execution_timeout is not None, f"{dag_id}.{t.task_id} has no execution_timeout"
            assert t.execution_timeout.total_seconds() == 60 * float(limits.get(t.task_id, limits["default"])), (dag_id, t.task_id)
            seen += 1
    assert seen >= 20
    assert dagbag.dags["bureau_ingest"].get_task("claim_files").execution_timeout.total_seconds() == 60 * limits["claim_files"]


def test_ingest_tasks_retry_with_back_off(dagbag):
    from fupin.notify.alerts import WATCHER

    dag = dagbag.dags["bureau_ingest"]
    for task in (t for t in dag.tasks if t.task_id != WATCHER):  # the watcher only reports: nothing to retry
        assert task.retries == 3
        assert task.retry_exponential_backoff
        assert task.on_failure_callback
    assert dag.max_active_runs == 1


def test_every_task_keeps_its_result_as_one_xcom(dagbag):
    """A result annotated `dict` is one XCom, not one per key (each a round trip to the API server
    that nothing reads)."""
    split = [(d, t.task_id) for d, dag in dagbag.dags.items() for t in dag.tasks if getattr(t, "multiple_outputs", False)]
    assert split == []


def test_heavy_tasks_share_the_warehouse_pool_and_per_file_per_unit_work_is_mapped(dagbag):
    import json

    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from fupin.assets import pools

    heavy = {("bureau_ingest", "ingest_files"), ("registry_reconcile", "reconcile"), ("funds_supervision", "check"), ("assessment", "assess")}
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            assert (task.pool == "fupin_warehouse") == ((dag_id, task.task_id) in heavy), (dag_id, task.task_id, task.pool)
    assert pools()["fupin_warehouse"]["slots"] == json.loads((DAGS.parent / "config" / "pools.json").read_text())["fupin_warehouse"]["slots"] >= 1
    mapped = {(d, t.task_id) for d, dag in dagbag.dags.items() for t in dag.tasks if isinstance(t, MappedOperator)}
    assert mapped == {("bureau_ingest", "ingest_files"), ("assessment", "write_unit_report")}


def test_dag_files_import_no_heavy_library_at_top_level():
    import ast

    for path in DAGS.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in {"pandas", "great_expectations", "openpyxl", "sqlalchemy", "numpy"} for n in names), path


@pytest.mark.slow
@pytest.mark.airflow
def test_bureau_ingest_runs_end_to_end(dagbag, airflow_db, sqlite_warehouse, data_root, people, mailbox):
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    write(drops(data_root, "poverty_office") / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
    bad = copy.deepcopy(rows("dibao", people))
    bad[0]["status"] = "不详"
    write(drops(data_root, "civil_affairs") / "民政局_2017年6月.xls", sheet("dibao", bad))
    write(drops(data_root, "health") / "health_201706.csv", sheet("medical", rows("medical", people)))
    run = dagbag.dags["bureau_ingest"].test()
    assert run.state == "success"
    assert count("registry", "2017-06") == len(rows("registry", people))
    assert count("medical", "2017-06") == len(rows("medical", people))
    assert count("dibao") == 0
    assert [p.name for p in drops(data_root, "civil_affairs").iterdir()] == []
    assert any(p.name.endswith("民政局_2017年6月.xls.回执.txt") for p in (data_root / "quarantine" / "civil_affairs").iterdir())
    assert len(list((data_root / "archive" / "receipts").glob("*.json"))) == 3
    with create_session() as session:
        events = {e.asset.name: e.extra for e in session.query(AssetEvent).filter(AssetEvent.source_run_id == run.run_id)}
    assert set(events) == {"fupin/registry", "fupin/medical"}
    assert events["fupin/registry"]["month"] == "2017-06"
    # one receipt mail per file, to the unit that sent it
    to = sorted(m["To"] for m in mailbox.messages)
    assert to == ["fpb@renhua.fupin.example", "mzj@renhua.fupin.example", "wjj@renhua.fupin.example"]
    rejected = next(m for m in mailbox.messages if m["To"].startswith("mzj"))
    assert "未通过" in rejected["Subject"] and len(list(rejected.iter_attachments())) == 1


@pytest.mark.slow
@pytest.mark.airflow
def test_registry_reconcile_runs_on_both_snapshots_and_writes_the_workbook(dagbag, airflow_db, sqlite_warehouse, data_root, people, mailbox):
    from openpyxl import load_workbook
    from sqlalchemy import select

    from fupin.demo.samples import make_population
    from fupin.warehouse.db import engine
    from fupin.warehouse.schema import findings, reconciliation_rates

    write(drops(data_root, "poverty_office") / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
    dib = rows("dibao", people)
    outsider = make_population(1, seed=123)[0]
    dib.append({**dib[0], "dibao_card_no": "DBX", "id_number": outsider.id_number, "name": outsider.name, "income_per_capita": 3100.0})
    write(drops(data_root, "civil_affairs") / "民政局_2017年6月.xlsx", sheet("dibao", dib))
    assert dagbag.dags["bureau_ingest"].test().state == "success"
    run = dagbag.dags["registry_reconcile"].test()
    assert run.state == "success"
    with engine().connect() as conn:
        got = [(r.rule, r.person_id) for r in conn.execute(select(findings).where(findings.c.month == "2017-06"))]
        rate = conn.execute(select(reconciliation_rates).where(reconciliation_rates.c.kind == "应扶尽扶率",
                                                               reconciliation_rates.c.town == "全县")).one()
    assert got == [("R2", outsider.id_number)]
    assert rate.numerator == rate.denominator - 1
    wb = load_workbook(data_root / "reports" / "reconciliation" / "比对结果_2017-06.xlsx")
    assert wb.sheetnames[0] == "汇总" and "R2 低保未建档" in wb.sheetnames
    ws = wb["R2 低保未建档"]
    assert ws.cell(row=2, column=4).value == outsider.id_number
    # the two units get the month's result once, counts and masked IDs only
    mails = [m for m in mailbox.messages if "比对结果" in m["Subject"]]
    assert sorted(m["To"] for m in mails) == ["fpb@renhua.fupin.example", "mzj@renhua.fupin.example"]
    body = mails[0].get_body(("html",)).get_content()
    assert "R2 低保未建档：1 条" in body and outsider.id_number not in body
    # re-running the month replaces, never duplicates, and sends nothing again
    assert dagbag.dags["registry_reconcile"].test(run_conf={"month": "2017-06"}).state == "success"
    with engine().connect() as conn:
        assert len(conn.execute(select(findings)).all()) == 1
    assert len([m for m in mailbox.messages if "比对结果" in m["Subject"]]) == 2


@pytest.mark.slow
def test_reconcile_cli_prints_counts_and_rates(tmp_path, sqlite_warehouse, data_root, people):
    import subprocess
    import sys

    from tests.helpers import ingest

    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", rows("registry", people))))
    ingest("civil_affairs", write(tmp_path / "dibao_201706.xlsx", sheet("dibao", rows("dibao", people))))
    fupin = str(Path(sys.executable).with_name("fupin"))
    out = subprocess.run([fupin, "reconcile", "--month", "2017-06", "--json"], capture_output=True, text=True, check=True)
    import json

    summary = json.loads(out.stdout)
    assert summary["counts"] == {f"R{i}": 0 for i in range(1, 7)}
    assert summary["rates"]["应保尽保率"]["全县"] == 1.0
    early = subprocess.run([fupin, "reconcile", "--month", "2017-07"], capture_output=True, text=True)
    assert early.returncode == 2 and "--at-deadline" in early.stderr
    # at the deadline with neither registry of the month: nothing new to compare, said so
    late = subprocess.run([fupin, "reconcile", "--month", "2017-07", "--at-deadline"], capture_output=True, text=True)
    assert late.returncode == 2 and "neither" in late.stderr and "--at-deadline" not in late.stderr


@pytest.mark.slow
@pytest.mark.airflow
def test_assessment_dag_scores_a_period_and_mails_the_laggards(dagbag, airflow_db, sqlite_warehouse, data_root, people, mailbox):
    from sqlalchemy import select

    from fupin.warehouse.db import engine
    from fupin.warehouse.schema import assessment_actions, assessment_scores

    write(drops(data_root, "poverty_office") / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
    write(drops(data_root, "civil_affairs") / "民政局_2017年6月.xlsx", sheet("dibao", rows("dibao", people)))
    assert dagbag.dags["bureau_ingest"].test().state == "success"
    assert dagbag.dags["registry_reconcile"].test().state == "success"
    run = dagbag.dags["assessment"].test(run_conf={"period": "2017H1", "as_of": "2017-06-30"})
    assert run.state == "success"
    with engine().connect() as conn:
        missing = {(r.indicator, r.reason) for r in conn.execute(select(assessment_scores).where(assessment_scores.c.status == "未达标"))}
        actions = {(r.unit, r.action) for r in conn.execute(select(assessment_actions))}
    # only two of seven sources reported: the bureaus without data miss with the reason 无数据
    assert ("I11", "无数据") in missing and ("I07", "无数据") in missing
    assert ("health", "通报") in actions
    subjects = [m["Subject"] for m in mailbox.messages]
    assert any(s.startswith("【考核通报】2017年上半年") for s in subjects)
    assert sum(s.startswith("【考核总表】") for s in subjects) == 2
    health = next(m for m in mailbox.messages if m["To"] == "wjj@renhua.fupin.example" and "考核通报" in m["Subject"])
    html = health.get_body(("html",)).get_content()
    assert "无数据" in html
    # its own scorecard: the chart shown inline (in multipart/related, by Content-ID), its workbook attached
    (chart,) = [p for p in health.walk() if p.get_content_type() == "image/png"]
    assert f'cid:{chart["Content-ID"].strip("<>")}' in html and chart.get_content_disposition() == "inline"
    files = {p.get_filename(): p for p in health.iter_attachments()}
    assert any(n.endswith("考核表_县卫计局.xlsx") for n in files) and not any(n.endswith(".png") for n in files)
    from tests.helpers import mail_problems

    assert all(mail_problems(m.as_bytes()) == [] for m in mailbox.messages)
    from tests.helpers import internal_words

    assert {m["Subject"]: internal_words(m["Subject"] + m.get_body(("plain",)).get_content()) for m in mailbox.messages
            if internal_words(m["Subject"] + m.get_body(("plain",)).get_content())} == {}
    office = next(m for m in mailbox.messages if m["To"] == "fpb@renhua.fupin.example" and "考核总表" in m["Subject"])
    assert sorted(p.get_filename()[-5:] for p in office.iter_attachments()) == [".html", ".xlsx"]
    # re-running the period replaces the results and sends nothing twice
    before = len(mailbox.messages)
    assert dagbag.dags["assessment"].test(run_conf={"period": "2017H1", "as_of": "2017-06-30"}).state == "success"
    assert len(mailbox.messages) == before


@pytest.mark.slow
def test_assess_cli_prints_the_scorecard(sqlite_warehouse, data_root, tmp_path, people):
    import subprocess
    import sys

    from tests.helpers import ingest

    ingest("poverty_office", write(tmp_path / "reg_201612.xlsx", sheet("registry", rows("registry", people))))
    fupin = str(Path(sys.executable).with_name("fupin"))
    out = subprocess.run([fupin, "assess", "--period", "2016Y"], capture_output=True, text=True, check=True)
    assert "丹霞街道 (440224001)" in out.stdout and "I01" in out.stdout and "通报" in out.stdout
    bad = subprocess.run([fupin, "assess", "--period", "2016Q3"], capture_output=True, text=True)
    assert bad.returncode == 2 and "2017H1" in bad.stderr


@pytest.mark.slow
def test_a_rerun_keeps_the_assessment_date_and_deadlines_of_the_record(sqlite_warehouse, data_root, tmp_path, people):
    """The 限期整改 deadline that went out in the mail stays the record's, unless --as-of says otherwise."""
    import json
    import subprocess
    import sys

    from tests.helpers import ingest

    ingest("poverty_office", write(tmp_path / "reg_201612.xlsx", sheet("registry", rows("registry", people))))
    fupin = str(Path(sys.executable).with_name("fupin"))

    def dues(*extra: str) -> set[str]:
        out = subprocess.run([fupin, "assess", "--period", "2016Y", "--json", *extra], capture_output=True, text=True, check=True)
        return {a["due"] for a in json.loads(out.stdout)["actions"] if a["action"] == "限期整改"}

    assert dues("--as-of", "2016-12-31") == {"2017-01-30"}
    assert dues() == {"2017-01-30"}  # re-run today: the record is unchanged
    assert dues("--as-of", "2017-01-10") == {"2017-02-09"}  # said otherwise, on purpose
    assert dues() == {"2017-02-09"}
    bad = subprocess.run([fupin, "assess", "--period", "2016Y", "--as-of", "2016-13-01"], capture_output=True, text=True)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


@pytest.mark.slow
@pytest.mark.airflow
def test_submission_reminders_dag_mails_the_missing_sources(dagbag, airflow_db, sqlite_warehouse, data_root, people, mailbox):
    write(data_root / "shares" / "poverty_office" / "报送" / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
    assert dagbag.dags["bureau_ingest"].test().state == "success"
    mailbox.messages.clear()
    assert dagbag.dags["submission_reminders"].test(run_conf={"date": "2017-07-10"}).state == "success"
    assert len(mailbox.messages) == 8 and all(m["Subject"].startswith("【催报】") for m in mailbox.messages)
    # 县扶贫办 sent its 建档立卡: it is reminded of its other file only, by name
    office = [m for m in mailbox.messages if m["To"] == "fpb@renhua.fupin.example"]
    assert len(office) == 1 and "扶贫项目库" in office[0]["Subject"] and "建档立卡" not in office[0]["Subject"]


def test_with_approval_required_no_notice_goes_out_before_the_office_approves(monkeypatch):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("FUPIN_REQUIRE_APPROVAL", "1")
    dag = DagBag(dag_folder=str(DAGS / "assessment.py")).dags["assessment"]
    approve = dag.get_task("approve_scorecard")
    assert type(approve).__name__ == "ApprovalOperator"
    assert "approve_scorecard" in dag.get_task("queue_notices").upstream_task_ids
    assert dag.get_task("send_notices").upstream_task_ids == {"queue_notices"}
    monkeypatch.setenv("FUPIN_REQUIRE_APPROVAL", "0")
    assert "approve_scorecard" not in DagBag(dag_folder=str(DAGS / "assessment.py")).dags["assessment"].task_ids


@pytest.mark.slow
def test_reconciliation_workbook_shows_both_sides_of_each_finding_and_the_rates_basis(tmp_path, sqlite_warehouse, data_root, people):
    """A case worker acts on a finding without opening either registry: each row carries what the
    poverty registry and the dibao register say of its person; each rate says what it rests on."""
    import copy

    from openpyxl import load_workbook

    from fupin.reconcile.report import write_workbook
    from fupin.reconcile.run import reconcile_month
    from tests.helpers import ingest

    reg = rows("registry", people)
    dib = copy.deepcopy(rows("dibao", people))
    renamed = next(d for d in dib if any(r["id_number"] == d["id_number"] for r in reg))
    registry_name = next(r["name"] for r in reg if r["id_number"] == renamed["id_number"])
    renamed["name"] = registry_name[0] + "某某"  # R3: 姓名不一致
    ingest("poverty_office", write(tmp_path / "扶贫办_2017年6月.xlsx", sheet("registry", reg)))
    ingest("civil_affairs", write(tmp_path / "民政局_2017年6月.xlsx", sheet("dibao", dib)))
    s = reconcile_month("2017-06")
    wb = load_workbook(write_workbook(s, tmp_path / "r.xlsx"))
    r3 = wb[next(n for n in wb.sheetnames if n.startswith("R3"))]
    header = [c.value for c in r3[1]]
    row = next(r for r in r3.iter_rows(min_row=2, values_only=True) if r[header.index("身份证号")] == renamed["id_number"])
    assert row[header.index("建档立卡·姓名")] == registry_name and row[header.index("低保·姓名")] == renamed["name"]
    income = r3.cell(row=2, column=header.index("低保·家庭年人均收入") + 1)
    assert isinstance(income.value, int | float) and income.number_format.endswith('" 元"')
    assert r3.freeze_panes == "A2" and r3.auto_filter.ref
    summary = wb["汇总"]
    rates = {r[0]: r for r in summary.iter_rows(values_only=True) if r[0] in ("应保尽保率", "应扶尽扶率")}
    assert len(rates) == 2 and all(isinstance(v[1], int | float) or v[1] == "无对象" for v in rates.values()), rates
    assert all(v[2].endswith(" 户") or v[2] == "无对象" for v in rates.values())
