"""On the demo county the assessment finds exactly the planted laggards, every period 2016H1–2018Y.

The warehouse is filled straight from the generator's rows (the file path is covered by the
ingest tests and the demo): the period-end snapshots, every month of student aid, the first
registry, and the submission ledger with the drop times the generator gives the files. The fund
indicators I20–I22 need every month's payments and fund checks: test_funds_demo scores them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from fupin.assess.run import assess_period
from fupin.calendar import month_end
from fupin.config import assessment, contracts
from fupin.demo import plan
from fupin.demo.generate import expected_assessment
from fupin.demo.population import build_population
from fupin.reconcile.run import reconcile_month
from tests.helpers import fill_demo_warehouse, on_warehouse

pytestmark = pytest.mark.slow  # each test here starts processes or replays months

PERIOD_ENDS = {"2016H1": "2016-06", "2016Y": "2016-12", "2017H1": "2017-06", "2017Y": "2017-12", "2018H1": "2018-06", "2018Y": "2018-12"}


def without_funds(patch: pytest.MonkeyPatch) -> None:
    """Assess with I01–I19 only: this warehouse holds no month-by-month money to score I20–I22 on."""
    cfg = assessment()
    indicators = [i for i in cfg["indicators"] if i["level"] != "funds"]
    patch.setattr("fupin.assess.run.assessment", lambda: {**cfg, "indicators": indicators})


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory):
    """The demo county's warehouse with every period scored: (population, url, results)."""
    import os

    root = tmp_path_factory.mktemp("assess")
    url = f"sqlite:///{root / 'w.sqlite'}"
    os.environ["FUPIN_WAREHOUSE_URL"] = url
    from fupin.warehouse import db

    db.upgrade(url)
    patch = pytest.MonkeyPatch()
    without_funds(patch)
    population = build_population(2016)
    wanted = {(d, m) for m in PERIOD_ENDS.values() for d in contracts().datasets}
    wanted |= {("registry", "2016-01")} | {("student_aid", m) for m in plan.months()}
    fill_demo_warehouse(url, population, wanted, plan.months())
    results = {}
    for period, month in PERIOD_ENDS.items():
        with on_warehouse(url):
            reconcile_month(month)
        with on_warehouse(url):
            results[period] = assess_period(period, dt.date.fromisoformat(month_end(month).isoformat()))
    os.environ.pop("FUPIN_WAREHOUSE_URL")
    patch.undo()
    return population, url, results


@pytest.fixture(scope="module")
def assessed(demo_warehouse):
    population, _, results = demo_warehouse
    return population, results


@pytest.mark.slow
def test_lagging_units_are_the_planted_ones_every_period(assessed):
    population, results = assessed
    expected = expected_assessment(population, funds=False)
    for period, result in results.items():
        missed = sorted([s.unit, s.indicator] for s in result.scores if s.status == "未达标")
        assert missed == expected[period]["missed"], period


@pytest.mark.slow
def test_year_end_actions_follow(assessed):
    population, results = assessed
    expected = expected_assessment(population, funds=False)
    for period in ("2016Y", "2017Y", "2018Y"):
        acts = results[period].actions
        assert sorted(a.unit for a in acts if a.action == "约谈") == expected[period]["interviews"], period
        assert {a.unit for a in acts if a.action == "限期整改"} == {u for u, _ in expected[period]["missed"]}


@pytest.mark.slow
def test_reports_colour_the_laggards_and_carry_no_personal_data(assessed, tmp_path):
    import re

    from openpyxl import load_workbook

    from fupin.assess.report import write_reports
    from fupin.wording import unit_name

    population, results = assessed
    result = results["2017H1"]
    paths = write_reports(result, tmp_path)
    wb = load_workbook(paths["workbook"])
    # a few sheets, not one per unit and indicator
    assert wb.sheetnames == ["总览", "总表", "未达标明细", "处置"]
    ws = wb["总览"]
    header = [c.value for c in ws[4]]
    col = next(i for i, h in enumerate(header, 1) if h and h.startswith("I07"))
    lag = unit_name(population.scenarios["employment_lag_town"])
    row = next(r for r in range(5, ws.max_row + 1) if ws.cell(row=r, column=1).value == lag)
    assert ws.cell(row=row, column=col).fill.fgColor.rgb.endswith("FFC7CE")
    ok_row = next(r for r in range(5, ws.max_row + 1) if ws.cell(row=r, column=1).value not in (lag, None)
                  and ws.cell(row=r, column=col).value not in ("—", None))
    assert ws.cell(row=ok_row, column=col).fill.fgColor.rgb.endswith("C6EFCE")
    # numbers stored as numbers, shown with their unit; the misses with their gap and basis
    assert isinstance(ws.cell(row=row, column=col).value, float) and ws.cell(row=row, column=col).number_format == "0.0%"
    missed = list(wb["未达标明细"].iter_rows(min_row=4, values_only=True))
    assert any(r[0] == lag and r[1] == "I07" and isinstance(r[5], float) and r[5] > 0 and "/" in r[6] for r in missed), missed
    assert wb["总表"].freeze_panes == "A5" and wb["总表"].auto_filter.ref.startswith("A4:")
    own = load_workbook(paths["units"][population.scenarios["employment_lag_town"]]["workbook"])
    assert own["总表"]["A1"].value.endswith(f"{lag}考核表") and "总览" not in own.sheetnames
    assert paths["units"][population.scenarios["employment_lag_town"]]["workbook"].endswith(f"考核表_{lag}.xlsx")
    page = open(paths["html"], encoding="utf-8").read()
    assert "<svg" in page and lag in page and "td class='bad'" in page
    assert "目标" in page and "差 " in page and "name=\"viewport\"" in page and "reconciliation" not in page
    chart = paths["units"][population.scenarios["employment_lag_town"]]["chart"]
    assert open(chart, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    id_like = re.compile(r"\d{17}[\dX]")
    for path in [paths["html"]]:
        assert not id_like.search(open(path, encoding="utf-8").read())
    for row in wb["总表"].iter_rows(values_only=True):
        assert not any(isinstance(v, str) and id_like.search(v) for v in row)


@pytest.mark.slow
@pytest.mark.airflow
def test_a_period_where_every_unit_meets_every_target_still_sends_its_scorecard(demo_warehouse, airflow_db, data_root, monkeypatch, mailbox):
    """2016H1: nobody lags, so nothing is mapped per unit — the 考核总表 goes out all the same,
    to the poverty office and the leadership, and nothing else."""
    from airflow.dag_processing.dagbag import DagBag

    population, url, results = demo_warehouse
    assert not [s for s in results["2016H1"].scores if s.status == "未达标"]
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    without_funds(monkeypatch)  # dag.test runs the tasks in this process
    dag = DagBag(dag_folder=str(Path(__file__).resolve().parents[1] / "dags")).dags["assessment"]
    run = dag.test(run_conf={"period": "2016H1", "as_of": "2016-06-30"})
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["queue_notices"] == "success" and states["send_notices"] == "success", states
    got = sorted((m["To"], m["Subject"]) for m in mailbox.messages)
    assert [to for to, _ in got] == ["fpb@renhua.fupin.example", "leaders@renhua.fupin.example"]
    assert all(s.startswith("【考核总表】2016年上半年") for _, s in got)
    body = mailbox.messages[0].get_body(("html",)).get_content()
    assert "全部单位各项指标均达标" in body


@pytest.mark.slow
def test_the_year_end_notice_gives_its_deadline_as_officials_write_it(demo_warehouse, monkeypatch, mailbox):
    """2017Y, assessed on 31 December 2017: 限期整改 within 30 days, by 2018年1月30日; the plan and
    the office it reports to come from the county's configuration."""
    from fupin.assess.notices import queue_assessment
    from fupin.notify.outbox import send_pending

    population, url, results = demo_warehouse
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    result = results["2017Y"]
    assert {a.due for a in result.actions if a.action == "限期整改"} == {dt.date(2018, 1, 30)}
    queue_assessment(result)
    send_pending()
    notices = [m for m in mailbox.messages if m["Subject"].startswith("【考核通报】2017年年终")]
    assert notices and all(m["Subject"].endswith("请于2018年1月30日前整改") for m in notices), [m["Subject"] for m in notices]
    body = notices[0].get_body(("plain",)).get_content()
    assert "根据《仁化县新时期精准扶贫精准脱贫三年攻坚实施方案》考核督查要求" in body
    assert "请于2018年1月30日前完成整改，并将整改情况报县扶贫办。" in body and "2018-01-30" not in body
