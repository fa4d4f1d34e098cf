"""Scores (达标/未达标 per unit and indicator) and the actions they lead to. Pure functions.

Units: each town (by code) for town-level indicators, whose county total is answered for by
the owning bureau (or, for the towns' own indicators, the lead unit); the owning bureau for
county-level ones; every source for I19.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from fupin.assess.indicators import FORMULAS, Inputs, exit_targets, town_codes
from fupin.calendar import current
from fupin.config import contracts
from fupin.vocab import COUNTY_TOTAL, ActionKind, ScoreStatus


@dataclass
class Score:
    indicator: str
    name: str
    unit: str  # a town code or a unit key of config/units.yaml
    numerator: float | None
    denominator: float | None
    value: float | None
    target: float
    compare: str
    status: str
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Action:
    unit: str
    action: str  # 通报 | 限期整改 | 约谈
    indicators: list[str] = field(default_factory=list)
    due: dt.date | None = None
    reason: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["due"] = self.due.isoformat() if self.due else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Action:
        return cls(d["unit"], d["action"], list(d["indicators"]), dt.date.fromisoformat(d["due"]) if d.get("due") else None, d.get("reason", ""))


def _target(ind: dict, inputs: Inputs, unit_key: str) -> float | None:
    if ind["id"] == "I01":
        if inputs.first_registry is None:
            return None
        cumulative = {int(y): v for y, v in ind["targets"]["cumulative"].items()}
        return float(exit_targets(cumulative, inputs.first_registry, inputs.period)[unit_key])
    t = ind["targets"].get(inputs.period)
    return None if t is None else float(t)


def assessed(ind: dict, period: str) -> bool:
    return ind["id"] == "I01" or period in ind["targets"]


def _units(ind: dict, measures: dict | None) -> list[tuple[str, str]]:
    """(measure key, unit) pairs this indicator scores. A fund indicator (level `funds`) scores
    each town and each responsible unit with projects or findings in the measure; its county total
    is no unit's score (the units are what answer for it); without data, its owner misses it."""
    if ind["level"] == "source":
        return [(s, s) for s in contracts().sources]
    if ind["level"] == "funds":
        if measures is None:  # no projects, payments or checks to measure: the unit that owns the data answers (无数据)
            return [(COUNTY_TOTAL, ind["owner"])]
        towns = list(town_codes().values())
        return [(c, c) for c in towns] + [(u, u) for u in sorted(measures) if u not in towns and u != COUNTY_TOTAL]
    county_unit = ind["owner"] if ind["owner"] != "town" else ind.get("lead", "poverty_office")
    if ind["level"] == "county":
        return [(COUNTY_TOTAL, county_unit)]
    return [(code, code) for code in town_codes().values()] + [(COUNTY_TOTAL, county_unit)]


def _met(value: float, target: float, compare: str) -> bool:
    return value >= target - 1e-9 if compare == ">=" else value <= target + 1e-9


def score_period(inputs: Inputs, indicators: list[dict]) -> list[Score]:
    out: list[Score] = []
    for ind in indicators:
        if not assessed(ind, inputs.period):
            continue
        measures = FORMULAS[ind["formula"]](inputs)
        for key, unit in _units(ind, measures):
            target = _target(ind, inputs, key)
            if measures is None or target is None:
                out.append(Score(ind["id"], ind["name"], unit, None, None, None, target or 0.0, ind["compare"], ScoreStatus.MISSED, "无数据"))
                continue
            m = measures.get(key)
            if m is None or m.value is None:
                out.append(Score(ind["id"], ind["name"], unit, m.numerator if m else 0, m.denominator if m else 0, None,
                                 target, ind["compare"], ScoreStatus.MET, "无考核对象"))
                continue
            status = ScoreStatus.MET if _met(m.value, target, ind["compare"]) else ScoreStatus.MISSED
            out.append(Score(ind["id"], ind["name"], unit, m.numerator, m.denominator, m.value, target, ind["compare"], status,
                             m.note if status == ScoreStatus.MISSED else ""))
    return out


def decide_actions(period: str, scores: list[Score], previous: list[Score], run_date: dt.date, rectification_days: int) -> list[Action]:
    """通报 for every lagging unit; at year end also 限期整改 (with its due date), and 约谈 for a
    town that missed its exit task or a unit that missed the same indicator at the assessment
    before this one too."""
    missed: dict[str, list[str]] = {}
    for s in scores:
        if s.status == ScoreStatus.MISSED:
            missed.setdefault(s.unit, []).append(s.indicator)
    before = {(s.unit, s.indicator) for s in previous if s.status == ScoreStatus.MISSED}
    towns = set(town_codes().values())
    actions: list[Action] = []

    year_end = current().year_end(period)
    for unit, inds in sorted(missed.items()):
        actions.append(Action(unit, ActionKind.NOTICE, sorted(inds)))
        if not year_end:
            continue
        actions.append(Action(unit, ActionKind.RECTIFY, sorted(inds), run_date + dt.timedelta(days=rectification_days)))
        reasons = []
        if unit in towns and "I01" in inds:
            reasons.append("未完成年度脱贫任务")
        repeated = sorted(i for i in inds if (unit, i) in before)
        if repeated:
            names = {x.indicator: x.name for x in scores}
            reasons.append("连续两次考核未达标：" + "、".join(f"{i} {names.get(i, '')}".strip() for i in repeated))
        if reasons:
            actions.append(Action(unit, ActionKind.INTERVIEW, sorted(set(inds) & ({"I01"} | set(repeated))), reason="；".join(reasons)))
    return actions
