"""Every rule whose findings the platform stores, in one table: R1–R6 of the two registries
(两项制度衔接) and F1–F6 of the money (资金监管) — what the dashboard, the returned 核查 workbook
and the household file look a stored finding's name and checking unit up by.
"""

from __future__ import annotations

from collections.abc import Mapping

from fupin.config import project_library_unit, units
from fupin.funds.rules import FUND_RULES, PAST_EVENTS
from fupin.reconcile.rules import RULES

FINDING_RULES: dict[str, tuple[str, str, str]] = {**RULES, **FUND_RULES}  # rule -> (Chinese name, owner, cc)
RESPONSIBLE = "responsible"  # an owner that is each finding's own unit (F6: the project's 责任单位)


def rule_name(rule: str) -> str:
    return FINDING_RULES[rule][0]


def owner_of(finding: Mapping) -> str:
    """The unit (or "both" registries' offices) that checks `finding`: its rule's owner, or for a
    rule owned by each project's 责任单位 the unit stored with the finding (the project library's
    keeper when the library named a unit the directory does not know: `config.responsible_unit`)."""
    owner = FINDING_RULES[finding["rule"]][1]
    if owner != RESPONSIBLE:
        return owner
    unit = finding.get("unit")
    return unit if unit in units() else project_library_unit()


def past_event(rule: str) -> bool:
    """Findings about a payment made (verify.state_of): a 属实已整改 holds while their data are unchanged."""
    return rule in PAST_EVENTS
