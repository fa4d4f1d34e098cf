"""On the demo county the findings are exactly the planted ones, every month of the campaign."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from fupin.config import settings
from fupin.demo import plan, render
from fupin.demo.population import build_population, expected_findings
from fupin.reconcile.rules import reconcile

pytestmark = pytest.mark.slow  # each test here starts processes or replays months


def _as_manifest(rule: str, key: str):
    if rule == "R4":
        return key.split(":", 1)
    if rule == "R5":
        return key.split("|")
    return key


@pytest.fixture(scope="module")
def population():
    return build_population(2016)


@pytest.mark.slow
def test_findings_equal_the_planted_set_every_month(population):
    cfg = settings()["reconciliation"]
    for month in plan.months():
        reg = pd.DataFrame(render.rows(population, "registry", month))
        dib = pd.DataFrame(render.rows(population, "dibao", month))
        result = reconcile(reg, dib, poverty_standard=cfg["poverty_standard"], exit_threshold=cfg["exit_threshold"][int(month[:4])])
        got = {r: sorted(_as_manifest(r, k) for k in result.findings.loc[result.findings["rule"] == r, "key"])
               for r in ("R1", "R2", "R3", "R4", "R5", "R6")}
        assert got == expected_findings(population, month), month


def test_the_deadline_run_reconciles_last_month_against_an_earlier_snapshot(tmp_path, sqlite_warehouse, people):
    from fupin.reconcile.run import months_to_reconcile, reconcile_month
    from fupin.runs import Run
    from tests.helpers import ingest, rows, sheet, write

    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", rows("registry", people))))
    ingest("civil_affairs", write(tmp_path / "dibao_201705.xlsx", sheet("dibao", rows("dibao", people))))
    # on data: June's dibao has not come, nothing is due
    assert months_to_reconcile(Run("asset_triggered")) == []
    # on the 15th of July (09:00 Beijing time): June, at the deadline
    due = months_to_reconcile(Run("scheduled", dt.datetime(2017, 7, 15, 1, tzinfo=dt.UTC)))
    assert due == [{"month": "2017-06", "at_deadline": True}]
    summary = reconcile_month("2017-06", at_deadline=True)
    assert (summary.registry_month, summary.dibao_month) == ("2017-06", "2017-05")
    assert "低保本月数据未到" in summary.note


def test_a_deadline_with_neither_registry_of_the_month_reconciles_nothing(tmp_path, sqlite_warehouse, people):
    """On a first start in a later year the deadline run finds nothing of last month: it must not
    reconcile old snapshots under the new month's name (nor trip over a year without a threshold)."""
    from sqlalchemy import func, select

    from fupin.reconcile.run import NotReady, months_to_reconcile, reconcile_month, reconcile_months
    from fupin.runs import Run
    from fupin.warehouse.db import engine
    from fupin.warehouse.schema import reconciliation_runs
    from tests.helpers import ingest, rows, sheet, write

    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", rows("registry", people))))
    ingest("civil_affairs", write(tmp_path / "dibao_201706.xlsx", sheet("dibao", rows("dibao", people))))
    due = months_to_reconcile(Run("scheduled", dt.datetime(2026, 11, 15, 1, tzinfo=dt.UTC)))
    assert due == [{"month": "2017-06", "at_deadline": False}, {"month": "2026-10", "at_deadline": True}]
    assert [s.month for s in reconcile_months(due)] == ["2017-06"]
    with engine().connect() as conn:
        assert conn.execute(select(reconciliation_runs.c.month)).scalars().all() == ["2017-06"]
    with pytest.raises(NotReady, match="neither"):
        reconcile_month("2026-10", at_deadline=True)
    # one registry of a year with no exit threshold configured: a clear error, not a KeyError
    ingest("poverty_office", write(tmp_path / "reg_202610.xlsx", sheet("registry", rows("registry", people, month="2026-10"))))
    with pytest.raises(ValueError, match="exit_threshold.2026"):
        reconcile_month("2026-10", at_deadline=True)
    with engine().connect() as conn:
        assert conn.execute(select(func.count()).select_from(reconciliation_runs)).scalar_one() == 1
