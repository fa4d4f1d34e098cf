"""The month's fund checks through the warehouse: findings stored beside R1–R6's without touching
them, persisting and escalating from their third month, F1/F2/F4 counted for 县审计局 then, a
re-run replacing them, the checking unit of F6 from the project's 责任单位, and a 属实已整改 of a
past payment that holds while the payment is as it was."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from sqlalchemy import select

from fupin import queries
from fupin.calendar import months
from fupin.config import contracts
from fupin.funds.run import NotReady, check_month, months_to_check
from fupin.reconcile import verify
from fupin.reconcile.catalog import owner_of
from fupin.runs import Run
from fupin.vocab import FindingState, Outcome
from fupin.warehouse.db import engine
from fupin.warehouse.schema import findings
from tests.helpers import store_snapshot as _store
from tests.test_funds_rules import E1, employment, payments, projects, registry

MONTHS = ("2017-07", "2017-08", "2017-09")


@pytest.fixture
def loaded(sqlite_warehouse):
    """The hand-made county of test_funds_rules, its July payments loaded, the same registry,
    library and employment every month."""
    return _fill(sqlite_warehouse)


def _fill(url: str) -> str:
    pay = payments()
    for month in MONTHS:
        store_snapshot(url, "registry", month, registry())
        store_snapshot(url, "projects", month, projects())
    for month in months("2016-07", "2017-09"):
        store_snapshot(url, "employment", month, _employment_of(month))
    july = pay[pay["paid_on"] <= dt.date(2017, 7, 31)]
    store_snapshot(url, "fund_payments", "2017-07", july)  # the month's file holds earlier months' too here
    store_snapshot(url, "fund_payments", "2017-08", pay.iloc[:0])  # a month with no payment
    store_snapshot(url, "fund_payments", "2017-09", pay.iloc[:0])
    return url


@pytest.mark.slow  # a second database: the fast tier runs the same checks on SQLite
@pytest.mark.postgres
@pytest.mark.parametrize("warehouse", ["postgres"], indirect=True)
def test_postgresql_gives_the_same_findings(warehouse):
    """On PostgreSQL the checks read through ADBC (column-wise, a connection per read): the same
    findings, in the same months, as on SQLite (test_findings_persist_…)."""
    _fill(warehouse)
    first, _, third = (check_month(m) for m in MONTHS)
    assert first.counts == {"F1": 2, "F2": 2, "F3": 2, "F4": 2, "F5": 2, "F6": 2}
    assert third.escalated == 12 and third.to_audit == 6


def store_snapshot(url: str, dataset: str, month: str, frame: pd.DataFrame) -> None:
    """`frame` stored as the month's `dataset`, the columns the checks do not read left empty."""
    _store(url, dataset, month, frame.reindex(columns=[c.key for c in contracts().datasets[dataset].columns]))


def _employment_of(month: str) -> pd.DataFrame:
    e = employment()
    return e[e["month"] == month].drop(columns="month")


def test_findings_persist_escalate_and_go_to_audit_in_their_third_month(loaded):
    first, second, third = (check_month(m) for m in MONTHS)
    assert first.counts == {"F1": 2, "F2": 2, "F3": 2, "F4": 2, "F5": 2, "F6": 2}
    assert first.new == first.counts and second.persisting["F1"] == 2 and second.new["F1"] == 0
    assert first.escalated == second.escalated == 0 and first.to_audit == second.to_audit == 0
    # the third month: every finding escalates, and F1, F2 and F4 (six of them) go to 县审计局 as 疑似
    assert third.escalated == 12 and third.to_audit == 6
    with engine().connect() as conn:
        stored = queries.findings_of(conn, "2017-09")
        assert {f["rule"] for f in stored} == {"F1", "F2", "F3", "F4", "F5", "F6"}
        f6 = [f for f in stored if f["rule"] == "F6"]
        assert {owner_of(f) for f in f6} == {"transport", "water"}  # 县交通局's road, 县水务局's water works
        assert queries.fund_check_run(conn, "2017-09").projects_month == "2017-09"


def test_a_rerun_replaces_the_months_fund_findings_and_leaves_the_registries(loaded):
    check_month("2017-07")
    with engine().begin() as conn:  # an R finding of the same month, as a reconciliation stores it
        conn.execute(findings.insert().values(month="2017-07", rule="R1", key="4402240000000009", persisted_months=1,
                                              escalated=False, state="open", finding_id="r1"))
    again = check_month("2017-07")
    with engine().connect() as conn:
        rules = [r for (r,) in conn.execute(select(findings.c.rule).where(findings.c.month == "2017-07"))]
    assert rules.count("R1") == 1 and len(rules) == 1 + sum(again.counts.values())


def test_a_recovered_payment_stays_put_right_while_it_is_as_it_was(loaded):
    check_month("2017-07")
    with engine().begin() as conn:
        (f1,) = [f for f in queries.findings_of(conn, "2017-07", rule="F1") if f["payment_no"] == "CZ02"]
        verify.record(conn, f1, verify.Verification(Outcome.RECTIFIED, reason="已追回"), user="fpb", unit="poverty_office", via="web")
    check_month("2017-08")
    with engine().connect() as conn:
        (later,) = [f for f in queries.all_findings(conn, "2017-08") if f["finding_id"] == f1["finding_id"]]
    assert later["state"] == FindingState.RECTIFIED and not later["escalated"]


def test_the_months_a_run_checks(loaded):
    assert [d["month"] for d in months_to_check(Run("asset_triggered"))] == list(MONTHS)
    check_month("2017-07")
    assert [d["month"] for d in months_to_check(Run("asset_triggered"))] == ["2017-08", "2017-09"]
    deadline = months_to_check(Run("scheduled", dt.datetime(2017, 11, 15, 1, tzinfo=dt.UTC)))
    assert deadline[-1] == {"month": "2017-10", "at_deadline": True}
    with pytest.raises(NotReady):
        check_month("2017-10")  # no payments of October, and not the deadline: wait
    assert check_month("2017-10", at_deadline=True).note.startswith("县财政局本月拨付明细未到")
    assert E1  # the enterprise of the planted rewards


def test_the_assessment_scores_the_money_per_town_and_responsible_unit(loaded):
    from fupin.assess.run import assess_period

    for m in MONTHS:
        check_month(m)
    result = assess_period("2017Y", dt.date(2017, 12, 31))
    got = {(s.indicator, s.unit): s for s in result.scores if s.indicator in ("I20", "I21", "I22")}
    # the water works (20 万元, due in March) paid 25 万 — counted as its 20 万 — and completed on its plan
    assert got["I20", "water"].value == 1.0 and got["I21", "water"].value == 1.0
    assert ("I20", "transport") not in got  # the road is due in 2018
    # every finding of July was due by August's data and is still found in September: none closed in time
    i22 = {u: (s.numerator, s.denominator) for (i, u), s in got.items() if i == "I22"}
    assert {u: d for u, (n, d) in i22.items() if d} == {"poverty_office": 2, "finance": 6, "hrss": 2, "transport": 1, "water": 1,
                                                         "440224001": 8, "440224100": 2}
    assert all(n == 0 for n, _ in i22.values())
    # the scorecard says what to act on, without a person's ID: the payments and projects late
    assert got["I22", "finance"].reason.startswith("未按期整改：F2 疑似重复拨付（拨付单号 CZ04、CZ05，8月31日到期）")
    assert "项目 440224XM20170002" in got["I22", "transport"].reason and not re.search(r"\d{17}[\dX]", got["I22", "finance"].reason)
    assert {u for u in result.lagging if u in ("finance", "hrss", "poverty_office")} == {"finance", "hrss", "poverty_office"}
