"""The demo county's money: its monthly checks (F1–F6) find exactly the planted cases, month by
month — no payment, project or reward of the generated county raises anything else — and the
generated files pass the contracts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fupin.calendar import month_end, months
from fupin.config import settings, unit_named
from fupin.demo import render
from fupin.demo.generate import generate
from fupin.demo.population import build_population
from fupin.funds.rules import FUND_COLUMNS, FUND_RULES, Standards, check
from fupin.ingest.pipeline import evaluate

pytestmark = pytest.mark.slow  # renders the county's 36 months


@pytest.fixture(scope="module")
def county():
    return build_population(2016, 1)


@pytest.fixture(scope="module")
def checked(county):
    """Every month's checks on the generated files' rows: month → (findings, projects, payments so far)."""
    standards = Standards.of(settings()["funds"])
    employment, paid, out = [], [], {}
    for month in months("2016-01", "2018-12"):
        employment.append(pd.DataFrame(render.rows(county, "employment", month)).assign(month=month))
        paid += render.rows(county, "fund_payments", month)
        payments, projects = pd.DataFrame(paid, columns=FUND_COLUMNS["fund_payments"]), pd.DataFrame(render.rows(county, "projects", month))
        result = check(payments, projects, pd.DataFrame(render.rows(county, "registry", month)), pd.concat(employment),
                       standards=standards, as_of=month_end(month))
        out[month] = (result.findings, projects, payments)
    return out


def test_each_months_checks_find_exactly_the_planted_cases(county, checked):
    planted = render.funds_planted(county)
    assert {p.rule for p in planted} == set(FUND_RULES)  # every rule is planted
    for month, (found, _, _) in checked.items():
        assert set(zip(found["rule"], found["key"], strict=True)) == {(p.rule, p.key) for p in planted if p.found_in(month)}, month


def test_the_fund_indicators_miss_where_the_planted_cases_are(county, checked):
    """I20–I22 on each period's data as the assessment gathers it (findings with their first and
    last month and checking unit; nobody checks them) miss exactly where the generator says."""
    from fupin.assess.indicators import Inputs, fund_findings_frame
    from fupin.assess.score import score_period
    from fupin.calendar import current
    from fupin.config import assessment
    from fupin.demo.generate import expected_fund_misses
    from fupin.reconcile.catalog import owner_of

    cal, grace = current(), settings()["funds"]["grace"]
    fund_indicators = [i for i in assessment()["indicators"] if i["level"] == "funds"]
    seen: dict[tuple[str, str], dict] = {}
    expected = expected_fund_misses(county)
    for month, (found, projects, payments) in checked.items():
        for f in found.to_dict("records"):
            unit = unit_named(f["unit"]) if isinstance(f["unit"], str) else None
            row = seen.setdefault((f["rule"], f["key"]), {"rule": f["rule"], "key": f["key"], "finding_id": f["key"], "town": f["town"],
                                                          "unit": owner_of({"rule": f["rule"], "unit": unit}), "first": month})
            row["last"] = month
        period = next((p for p in expected if cal.period_last_month(p) == month), None)
        if period is None:
            continue
        inputs = Inputs(period, {"projects": projects}, {}, thresholds={"complete_days": grace["complete_days"], "pay_months": grace["pay_months"]})
        inputs.paid = payments.groupby("project_no", as_index=False)["amount"].sum().rename(columns={"amount": "paid"})
        frame = pd.DataFrame(list(seen.values()), columns=["rule", "key", "finding_id", "town", "unit", "first", "last"])
        inputs.fund_findings = fund_findings_frame(frame, {}, month, settings()["funds"]["rectify_months"])
        missed = sorted([s.unit, s.indicator] for s in score_period(inputs, fund_indicators) if s.status == "未达标")
        assert missed == expected[period], period
    assert any(expected.values())  # the planted cases do make units miss


def test_the_generated_money_files_pass_the_contracts(tmp_path):
    manifest = generate(tmp_path, seed=2016, months=["2017-03"])
    drops = [d for d in manifest["drops"] if d["source"] in ("finance", "poverty_office")]
    assert len(drops) == 3  # 建档立卡, 扶贫项目库 (two sheets), 拨付明细
    frames = {}
    for d in drops:
        ev = evaluate(Path(d["file"]), d["source"], Path(d["file"]).name)
        assert not ev.errors, ev.errors[:3]
        frames.update(ev.frames)
    assert set(frames) == {"registry", "projects", "project_households", "fund_payments"}
    assert len(frames["fund_payments"]) == len(render.rows(build_population(2016, 1), "fund_payments", "2017-03"))
    assert manifest["fund_findings"]["2017-03"]  # the ground truth the tests and the demo read
