"""On the demo county the findings are exactly the planted ones, every month of the campaign."""

from __future__ import annotations

import pandas as pd
import pytest

from fupin.config import settings
from fupin.demo import plan, render
from fupin.demo.county import build_county, expected_findings
from fupin.reconcile.rules import reconcile


def _as_manifest(rule: str, key: str):
    if rule == "R4":
        return key.split(":", 1)
    if rule == "R5":
        return key.split("|")
    return key


@pytest.fixture(scope="module")
def county():
    return build_county(2016)


@pytest.mark.slow
def test_findings_equal_the_planted_set_every_month(county):
    cfg = settings()["reconciliation"]
    for month in plan.months():
        reg = pd.DataFrame(render.rows(county, "registry", month))
        dib = pd.DataFrame(render.rows(county, "dibao", month))
        result = reconcile(reg, dib, month, poverty_standard=cfg["poverty_standard"], exit_threshold=cfg["exit_threshold"][int(month[:4])])
        got = {r: sorted(_as_manifest(r, k) for k in result.findings.loc[result.findings["rule"] == r, "key"])
               for r in ("R1", "R2", "R3", "R4", "R5", "R6")}
        assert got == expected_findings(county, month), month


def test_the_deadline_run_reconciles_last_month_against_an_earlier_snapshot(tmp_path, sqlite_warehouse, people):
    from airflow.sdk.api.datamodels._generated import DagRunType

    from fupin.reconcile.run import reconcile_month
    from fupin.reconcile.tasks import months_to_reconcile
    from tests.helpers import ingest, rows, sheet, write

    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", rows("registry", people))))
    ingest("civil_affairs", write(tmp_path / "dibao_201705.xlsx", sheet("dibao", rows("dibao", people))))
    # on data: June's dibao has not come, nothing is due
    assert months_to_reconcile(DagRunType.ASSET_TRIGGERED.value, None, None) == []
    # on the 15th of July: June, at the deadline
    due = months_to_reconcile(DagRunType.SCHEDULED.value, "2017-06", None)
    assert due == [{"month": "2017-06", "at_deadline": True}]
    summary = reconcile_month("2017-06", at_deadline=True)
    assert (summary.registry_month, summary.dibao_month) == ("2017-06", "2017-05")
    assert "低保本月数据未到" in summary.note
