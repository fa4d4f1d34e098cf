"""The shared wording of every notice, report and page: units, indicators, scores, gaps, periods
and data months as the county's officials write them (你镇, 差 2.3 个百分点, 2017年上半年)."""

from __future__ import annotations

from fupin.calendar import current, month_label
from fupin.config import assessment, contracts, units


def period_label(period: str) -> str:
    return current().period_label(period)


def unit_name(unit: str) -> str:
    directory = units()
    return directory[unit].name if unit in directory else unit


def _indicator(indicator: str) -> dict:
    return next((i for i in assessment()["indicators"] if i["id"] == indicator), {})


def unit_of(indicator: str) -> str | None:
    """The unit an indicator is counted in (人, 元, 个...), None for a share."""
    return "人" if indicator == "I01" else _indicator(indicator).get("unit_label")


def show(indicator: str, value: float | None) -> str:
    """A score as officials read it: a share as a percentage, counts and money as numbers."""
    if value is None:
        return "—"
    unit = unit_of(indicator)
    return f"{value:,.0f} {unit}" if unit else f"{value:.1%}"


def shortfall(value: float | None, target: float | None, compare: str) -> float | None:
    """How much is missing to reach the target (None when there is nothing to compare or none missing)."""
    if value is None or target is None:
        return None
    short = (target - value) if compare.startswith(">") else (value - target)
    return short if short > 0 else None


def gap(indicator: str, value: float | None, target: float | None, compare: str) -> str:
    """How far a unit is from its target, in the indicator's unit: 差 29 人, 差 2.3 个百分点."""
    short = shortfall(value, target, compare)
    if short is None:
        return ""
    unit = unit_of(indicator)
    return f"差 {short:,.0f} {unit}" if unit else f"差 {short * 100:.1f} 个百分点"


def indicator_name(indicator: str) -> str:
    return _indicator(indicator).get("name", indicator)


def you(unit: str) -> str:
    """How the county addresses a unit in a notice: 你镇, 你街道, 你局, 你办 (贵单位 is for outsiders)."""
    name = unit_name(unit)
    for suffix in ("街道", "镇", "局", "办"):
        if name.endswith(suffix):
            return "你" + suffix
    return "你单位"


def data_months(months: dict[str, str | None]) -> str:
    """考核所用数据月份 as officials read them: 建档立卡贫困人口 2017年12月、…"""
    titles = {name: ds.title for name, ds in contracts().datasets.items()} | {"reconciliation": "两项制度比对结果"}
    shown = [f"{titles.get(k, k)} {month_label(v)}" for k, v in sorted(months.items()) if v]
    return "、".join(shown) or "无"
