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
