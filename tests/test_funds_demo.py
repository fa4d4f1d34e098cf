"""The demo county's money: its monthly checks (F1–F6) find exactly the planted cases, month by
month — no payment, project or reward of the generated county raises anything else — and the
generated files pass the contracts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fupin.calendar import month_end, months
from fupin.config import settings
from fupin.demo import render
from fupin.demo.generate import generate
from fupin.demo.population import build_population
from fupin.funds.rules import FUND_COLUMNS, FUND_RULES, Standards, check
from fupin.ingest.pipeline import evaluate

pytestmark = pytest.mark.slow  # renders the county's 36 months


@pytest.fixture(scope="module")
def county():
    return build_population(2016, 1)


def test_each_months_checks_find_exactly_the_planted_cases(county):
    planted = render.funds_planted(county)
    assert {p.rule for p in planted} == set(FUND_RULES)  # every rule is planted
    standards = Standards.of(settings()["funds"])
    employment, paid = [], []
    for month in months("2016-01", "2018-12"):
        employment.append(pd.DataFrame(render.rows(county, "employment", month)).assign(month=month))
        paid += render.rows(county, "fund_payments", month)
        result = check(pd.DataFrame(paid, columns=FUND_COLUMNS["fund_payments"]), pd.DataFrame(render.rows(county, "projects", month)),
                       pd.DataFrame(render.rows(county, "registry", month)), pd.concat(employment), standards=standards,
                       as_of=month_end(month))
        found = set(zip(result.findings["rule"], result.findings["key"], strict=True))
        assert found == {(p.rule, p.key) for p in planted if p.found_in(month)}, month


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
