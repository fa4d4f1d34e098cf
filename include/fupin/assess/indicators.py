"""Indicators I01–I19 (docs/spec/assessment.md) as pure functions of the period's data.

Every formula takes the `Inputs` of a period and returns one `Measure` per town code and one
for the county (`COUNTY_TOTAL`), or one per source for I19. A formula whose data is missing returns
nothing: the scorer then marks its units 未达标 with the reason 无数据.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from fupin.assess.targets import h1_target, largest_remainder
from fupin.calendar import current as calendar
from fupin.calendar import month_label, pd_moment
from fupin.config import contracts, geography
from fupin.vocab import COUNTY_TOTAL, LABOR_CAPABLE, SUBMITTED

COMPULSORY = ("小学", "初中")


@dataclass
class Measure:
    numerator: float
    denominator: float
    value: float | None  # None: nothing to measure (a zero denominator)
    note: str = ""  # what a miss consists of, for the notice (I19: the late months and when they came)


@dataclass
class Inputs:
    period: str  # 2017H1, 2017Y
    frames: dict[str, pd.DataFrame]  # dataset -> latest accepted snapshot up to the period's last month
    months_used: dict[str, str]  # dataset -> the month that snapshot is of
    student_aid_period: pd.DataFrame | None = None  # every month of the period, for I15
    rates: pd.DataFrame | None = None  # reconciliation rates of the registry's month
    r6_households: set[str] | None = None
    first_registry: pd.DataFrame | None = None  # the first registry snapshot (I01's split)
    drops: pd.DataFrame | None = None  # the submission ledger: source, month, dropped_at, status
    thresholds: dict = field(default_factory=dict)

    @property
    def year(self) -> int:
        return int(self.period[:4])

    @property
    def half(self) -> bool:
        return not calendar().year_end(self.period)

    @property
    def last_month(self) -> str:
        return calendar().period_last_month(self.period)

    @property
    def period_months(self) -> list[str]:
        return calendar().period_months(self.period)


def town_codes() -> dict[str, str]:
    return dict(geography().towns)


def _with_codes(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(town_code=frame["town"].map(town_codes()))


def shares(frame: pd.DataFrame, ok: pd.Series) -> dict[str, Measure]:
    """Share of rows that are ok, per town code and for the county."""
    f = _with_codes(frame).assign(ok=ok.astype(bool).to_numpy())
    out = {}
    for code in town_codes().values():
        part = f[f["town_code"] == code]
        out[code] = _ratio(int(part["ok"].sum()), len(part))
    out[COUNTY_TOTAL] = _ratio(int(f["ok"].sum()), len(f))
    return out


def counts(frame: pd.DataFrame) -> dict[str, Measure]:
    """How many rows, per town code and for the county (a count indicator's value)."""
    per_town = _with_codes(frame)["town_code"].value_counts().to_dict()
    out = {code: Measure(per_town.get(code, 0), 1, float(per_town.get(code, 0))) for code in town_codes().values()}
    out[COUNTY_TOTAL] = Measure(len(frame), 1, float(len(frame)))
    return out


def _ratio(num: float, den: float) -> Measure:
    return Measure(num, den, None if den == 0 else num / den)


def _need(inputs: Inputs, *datasets: str) -> bool:
    return all(inputs.frames.get(d) is not None for d in datasets)


def _capable_households(reg: pd.DataFrame) -> pd.DataFrame:
    """Registry households with a labour-capable member: household_id, town."""
    capable = reg["labor_capacity"].isin(LABOR_CAPABLE).groupby(reg["household_id"]).any()
    heads = reg.drop_duplicates("household_id").set_index("household_id")
    return heads.loc[capable[capable].index, ["town"]].reset_index()


def exits(inputs: Inputs) -> dict[str, Measure] | None:
    """I01: registry persons 已脱贫 with 脱贫年度 ≤ the year (the target is the town's split)."""
    if not _need(inputs, "registry"):
        return None
    reg = inputs.frames["registry"]
    return counts(reg[(reg["exit_status"] == "已脱贫") & (reg["exit_year"].fillna(9999) <= inputs.year)])


def exit_targets(cumulative: dict[int, int], first_registry: pd.DataFrame, period: str) -> dict[str, float]:
    """I01 targets per town code and county: year-end cumulative split by largest remainder over
    each town's persons in the first registry (ties: lower code first); H1: previous cumulative
    plus half of the year's increment, rounded down."""
    persons = _with_codes(first_registry)["town_code"].value_counts().to_dict()
    weights = {code: int(persons.get(code, 0)) for code in sorted(town_codes().values())}
    year = int(period[:4])

    end = largest_remainder(cumulative[year], weights)
    prev = largest_remainder(cumulative[year - 1], weights) if year - 1 in cumulative else {k: 0 for k in weights}
    half = not calendar().year_end(period)
    town = {k: h1_target(prev[k], end[k]) for k in weights} if half else end
    county = h1_target(cumulative.get(year - 1, 0), cumulative[year]) if half else cumulative[year]
    return {**town, COUNTY_TOTAL: county}


def exit_quality(inputs: Inputs) -> dict[str, Measure] | None:
    """I02: share of exited persons whose household has no R6 finding, no member without basic
    medical insurance and no member at 小学/初中 who dropped out."""
    if not _need(inputs, "registry", "medical", "student_aid") or inputs.r6_households is None:
        return None
    reg = inputs.frames["registry"]
    med, aid = inputs.frames["medical"], inputs.frames["student_aid"]
    uninsured = set(med.loc[med["basic_insurance"] == False, "id_number"])  # noqa: E712 - a nullable boolean column
    dropped = set(aid.loc[aid["stage"].isin(COMPULSORY) & (aid["enrollment"] == "辍学"), "id_number"])
    bad_persons = reg["id_number"].isin(uninsured | dropped)
    bad_households = set(reg.loc[bad_persons, "household_id"]) | inputs.r6_households
    exited = reg[reg["exit_status"] == "已脱贫"]
    return shares(exited, ~exited["household_id"].isin(bad_households))


def capable_income(inputs: Inputs) -> dict[str, Measure] | None:
    """I03: mean 家庭年人均可支配收入 over labour-capable registry persons."""
    if not _need(inputs, "registry"):
        return None
    reg = _with_codes(inputs.frames["registry"])
    cap = reg[reg["labor_capacity"].isin(LABOR_CAPABLE)]
    out = {}
    for code in town_codes().values():
        part = cap.loc[cap["town_code"] == code, "income_per_capita"]
        out[code] = Measure(float(part.sum()), len(part), None if part.empty else float(part.mean()))
    out[COUNTY_TOTAL] = Measure(float(cap["income_per_capita"].sum()), len(cap), None if cap.empty else float(cap["income_per_capita"].mean()))
    return out


def villages_out(inputs: Inputs) -> dict[str, Measure] | None:
    """I04: poor villages whose registry persons still 未脱贫/返贫 are under 2% of the village's population."""
    if not _need(inputs, "registry"):
        return None
    reg = inputs.frames["registry"]
    left = reg[reg["exit_status"].isin(["未脱贫", "返贫"])].groupby(["town", "village"]).size().to_dict()
    poor = [v for v in geography().villages if v.is_poor]
    frame = pd.DataFrame({"town": [v.town for v in poor]})
    ok = pd.Series([left.get((v.town, v.name), 0) < 0.02 * v.population for v in poor])
    return shares(frame, ok)


def _rate(inputs: Inputs, kind: str) -> dict[str, Measure] | None:
    if inputs.rates is None or inputs.rates.empty:
        return None
    codes = town_codes()
    out = {code: Measure(0, 0, None) for code in codes.values()}
    for r in inputs.rates[inputs.rates["kind"] == kind].itertuples(index=False):
        key = COUNTY_TOTAL if r.town == COUNTY_TOTAL else codes.get(r.town)
        if key:
            out[key] = _ratio(r.numerator, r.denominator)
    return out


def rate_cover(inputs: Inputs) -> dict[str, Measure] | None:
    """I05: 应保尽保率 of the reconciliation."""
    return _rate(inputs, "应保尽保率")


def rate_register(inputs: Inputs) -> dict[str, Measure] | None:
    """I06: 应扶尽扶率 of the reconciliation."""
    return _rate(inputs, "应扶尽扶率")


def employment_cover(inputs: Inputs) -> dict[str, Measure] | None:
    """I07: labour-capable households with at least one member at work (就业状态 ≠ 未就业)."""
    if not _need(inputs, "registry", "employment"):
        return None
    reg, emp = inputs.frames["registry"], inputs.frames["employment"]
    households = _capable_households(reg)
    working_ids = set(emp.loc[emp["employment_status"] != "未就业", "id_number"])
    working = set(reg.loc[reg["id_number"].isin(working_ids), "household_id"])
    return shares(households, households["household_id"].isin(working))


def training_cover(inputs: Inputs) -> dict[str, Measure] | None:
    """I08: 已参加技能培训 among those with 有培训意愿."""
    if not _need(inputs, "employment"):
        return None
    emp = inputs.frames["employment"]
    willing = emp[emp["training_willing"] == True]  # noqa: E712
    return shares(willing, willing["trained"] == True)  # noqa: E712


def industry_cover(inputs: Inputs) -> dict[str, Measure] | None:
    """I09: labour-capable households with an `industry` row that month."""
    if not _need(inputs, "registry", "industry"):
        return None
    households = _capable_households(inputs.frames["registry"])
    return shares(households, households["household_id"].isin(set(inputs.frames["industry"]["household_id"])))


def _poor_village_share(inputs: Inputs, dataset: str, ok_rows: Callable[[pd.DataFrame], pd.Series]) -> dict[str, Measure] | None:
    if not _need(inputs, dataset):
        return None
    frame = inputs.frames[dataset]
    good = set(map(tuple, frame.loc[ok_rows(frame), ["town", "village"]].to_numpy()))
    poor = [v for v in geography().villages if v.is_poor]
    return shares(pd.DataFrame({"town": [v.town for v in poor]}), pd.Series([(v.town, v.name) in good for v in poor]))


def coop_villages(inputs: Inputs) -> dict[str, Measure] | None:
    """I10: poor villages with at least one cooperative."""
    return _poor_village_share(inputs, "cooperative", lambda f: pd.Series(True, index=f.index))


def clinic_villages(inputs: Inputs) -> dict[str, Measure] | None:
    """I13: poor villages whose clinic is standardised."""
    return _poor_village_share(inputs, "clinic", lambda f: f["clinic_standard"] == True)  # noqa: E712


def safe_water_villages(inputs: Inputs) -> dict[str, Measure] | None:
    """I18: poor villages with safe drinking water."""
    return _poor_village_share(inputs, "water_supply", lambda f: f["water_safe"] == True)  # noqa: E712


def _insured(inputs: Inputs, column: str) -> dict[str, Measure] | None:
    if not _need(inputs, "registry", "medical"):
        return None
    reg, med = inputs.frames["registry"], inputs.frames["medical"]
    insured = set(med.loc[med[column] == True, "id_number"])  # noqa: E712
    return shares(reg, reg["id_number"].isin(insured))


def basic_insurance(inputs: Inputs) -> dict[str, Measure] | None:
    """I11: registry persons with 基本医疗保险."""
    return _insured(inputs, "basic_insurance")


def critical_insurance(inputs: Inputs) -> dict[str, Measure] | None:
    """I12: registry persons with 大病保险."""
    return _insured(inputs, "critical_insurance")


def dropouts(inputs: Inputs) -> dict[str, Measure] | None:
    """I14: registry persons at 小学/初中 who dropped out (a count; the target is 0)."""
    if not _need(inputs, "registry", "student_aid"):
        return None
    reg, aid = inputs.frames["registry"], inputs.frames["student_aid"]
    out_ids = set(aid.loc[aid["stage"].isin(COMPULSORY) & (aid["enrollment"] == "辍学"), "id_number"])
    return counts(reg[reg["id_number"].isin(out_ids)])


def student_aid_cover(inputs: Inputs) -> dict[str, Measure] | None:
    """I15: registry persons 在读 who received aid (> 0) in some month of the period."""
    aid = inputs.student_aid_period
    if aid is None or aid.empty or not _need(inputs, "registry"):
        return None
    reg = inputs.frames["registry"]
    studying = aid[aid["enrollment"] == "在读"]
    helped = set(studying.loc[studying["aid_amount"] > 0, "id_number"])
    persons = reg[reg["id_number"].isin(set(studying["id_number"]))]  # placed where the registry has them
    return shares(persons, persons["id_number"].isin(helped))


def teacher_subsidy(inputs: Inputs) -> dict[str, Measure] | None:
    """I16: schools whose 人均生活补助 reaches the year's amount."""
    if not _need(inputs, "teacher_subsidy"):
        return None
    f = inputs.frames["teacher_subsidy"]
    need = inputs.thresholds.get("I16", {}).get(inputs.year, 0)
    return shares(f, f["subsidy_per_teacher"] >= need)


def tap_water(inputs: Inputs) -> dict[str, Measure] | None:
    """I17: Σ 通自来水户数 ÷ Σ 总户数."""
    if not _need(inputs, "water_supply"):
        return None
    f = _with_codes(inputs.frames["water_supply"])
    out = {}
    for code in town_codes().values():
        part = f[f["town_code"] == code]
        out[code] = _ratio(float(part["households_tap"].sum()), float(part["households_total"].sum()))
    out[COUNTY_TOTAL] = _ratio(float(f["households_tap"].sum()), float(f["households_total"].sum()))
    return out


def timeliness(inputs: Inputs) -> dict[str, Measure] | None:
    """I19, per source: months of the period whose accepted file arrived by the 10th of the next
    month. The period's last month is left out: its deadline falls after the assessment date."""
    if inputs.drops is None:
        return None
    cal = calendar()
    assessed = inputs.period_months[:-1]
    accepted = inputs.drops[inputs.drops["status"].isin(SUBMITTED)]
    out = {}
    for source in contracts().sources:
        mine = accepted[accepted["source"] == source]
        on_time = 0
        late = []
        for month in assessed:
            arrived = pd.to_datetime(mine.loc[mine["month"] == month, "dropped_at"])
            if cal.on_time(month, arrived):
                on_time += 1
            else:
                first = cal.local(pd_moment(arrived.min())) if len(arrived) else None  # the day on the campaign's clock
                late.append(f"{month_label(month)}（{f'{first.month}月{first.day}日报送' if first is not None else '未报送'}）")
        m = _ratio(on_time, len(assessed))
        out[source] = Measure(m.numerator, m.denominator, m.value, f"逾期：{'、'.join(late)}；期限为{cal.report_due_label()}" if late else "")
    return out


FORMULAS: dict[str, Callable[[Inputs], dict[str, Measure] | None]] = {
    f.__name__: f for f in (
        exits, exit_quality, capable_income, villages_out, rate_cover, rate_register, employment_cover, training_cover,
        industry_cover, coop_villages, basic_insurance, critical_insurance, clinic_villages, dropouts, student_aid_cover,
        teacher_subsidy, tap_water, safe_water_villages, timeliness,
    )
}
