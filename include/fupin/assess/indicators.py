"""Indicators I01–I22 (docs/spec/assessment.md, funds.md) as pure functions of the period's data.

Every formula takes the `Inputs` of a period and returns one `Measure` per town code and one
for the county (`COUNTY_TOTAL`), or one per source for I19; the fund indicators I20–I22 also one
per responsible unit (by its key in units.yaml). A formula whose data is missing returns
nothing: the scorer then marks its units 未达标 with the reason 无数据.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from fupin.assess.targets import h1_target, largest_remainder
from fupin.calendar import add_months, month_end, month_label, months_later, pd_moment
from fupin.calendar import current as calendar
from fupin.config import contracts, geography, responsible_unit
from fupin.funds.rules import FUND_RULES, WAN
from fupin.vocab import COUNTY_TOTAL, LABOR_CAPABLE, SUBMITTED, Outcome

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
    paid: pd.DataFrame | None = None  # project_no, paid (元): every payment up to the period's last month (I20)
    fund_findings: pd.DataFrame | None = None  # F1–F6 findings up to then, with their latest check (I22; `fund_findings_frame`)

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
    for source, src in contracts().sources.items():
        mine = accepted[accepted["source"] == source]
        on_time = 0
        late = []
        for month in assessed:
            now = mine[mine["month"] == month]
            # a unit that sends several files is on time when each of them is
            kinds = list(now["file"]) if "file" in now else [None] * len(now)
            files = {t: pd.to_datetime(pd.Series(a, dtype=object)) for t, a in src.arrivals(kinds, list(now["dropped_at"])).items()}
            if all(cal.on_time(month, arrived) for arrived in files.values()):
                on_time += 1
                continue
            what = []
            for title, arrived in files.items():
                if cal.on_time(month, arrived):
                    continue
                first = cal.local(pd_moment(arrived.min())) if len(arrived) else None  # the day on the campaign's clock
                named = f"“{title}”" if len(files) > 1 else ""
                what.append(f"{named}{f'{first.month}月{first.day}日报送' if first is not None else '未报送'}")
            late.append(f"{month_label(month)}（{'，'.join(what)}）")
        m = _ratio(on_time, len(assessed))
        out[source] = Measure(m.numerator, m.denominator, m.value, f"逾期：{'、'.join(late)}；期限为{cal.report_due_label()}" if late else "")
    return out


def _by_town_and_unit(frame: pd.DataFrame, num: pd.Series, den: pd.Series) -> dict[str, Measure]:
    """Σ num ÷ Σ den per town code, per unit (`frame.unit`, a units.yaml key) and for the county.
    A row whose town is no town of the county counts for its unit and the county only."""
    f = _with_codes(frame).assign(_num=num.to_numpy(dtype=float), _den=den.to_numpy(dtype=float))
    out = {}
    for code in town_codes().values():
        part = f[f["town_code"] == code]
        out[code] = _ratio(float(part["_num"].sum()), float(part["_den"].sum()))
    for unit, part in f.groupby("unit", sort=True):
        out[str(unit)] = _ratio(float(part["_num"].sum()), float(part["_den"].sum()))
    out[COUNTY_TOTAL] = _ratio(float(f["_num"].sum()), float(f["_den"].sum()))
    return out


def _projects(inputs: Inputs) -> pd.DataFrame:
    """The project library with each project's 责任单位 as its unit key (`config.responsible_unit`)."""
    proj = inputs.frames["projects"]
    return proj.assign(unit=[responsible_unit(u) for u in proj["responsible_unit"]],
                       complete_plan=pd.to_datetime(proj["complete_plan"]), completed_on=pd.to_datetime(proj["completed_on"]))


def fund_payout(inputs: Inputs) -> dict[str, Measure] | None:
    """I20 资金拨付率: paid ÷ planned investment over the projects due to be paid in full by the
    period's last day: planned acceptance (计划验收) plus F6's grace for the last payment
    (settings.yaml → funds.grace.pay_months). A project counts what was paid on it up to its plan:
    paying one project too much (F5) does not make up for another left unpaid."""
    if not _need(inputs, "projects") or inputs.paid is None:
        return None
    proj = _projects(inputs)
    grace = int(inputs.thresholds.get("pay_months", 0))
    end = month_end(inputs.last_month)
    due = proj[pd.Series([pd.notna(d) and months_later(pd.Timestamp(d).date(), grace) <= end for d in proj["accept_plan"]],
                         index=proj.index, dtype=bool)]
    planned = due["planned_investment"].astype(float) * WAN
    paid = due["project_no"].map(dict(zip(inputs.paid["project_no"], inputs.paid["paid"], strict=True))).fillna(0.0).astype(float)
    return _by_town_and_unit(due, paid.clip(upper=planned), planned)


def on_time_completion(inputs: Inputs) -> dict[str, Measure] | None:
    """I21 项目按期完工率: projects completed by 计划完工 + the grace (settings.yaml → funds.grace.
    complete_days, F6's) ÷ the projects whose 计划完工 + grace is on or before the period's last day."""
    if not _need(inputs, "projects"):
        return None
    proj = _projects(inputs)
    grace = pd.Timedelta(days=int(inputs.thresholds.get("complete_days", 0)))
    due = proj[proj["complete_plan"] + grace <= pd.Timestamp(month_end(inputs.last_month))]
    ok = due["completed_on"].notna() & (due["completed_on"] <= due["complete_plan"] + grace)
    late = [f"{no} {name}" for no, name in zip(due["project_no"], due["project_name"], strict=True)]
    return _noted(_by_town_and_unit(due, ok.astype(float), pd.Series(1.0, index=due.index)), due, ~ok, late, "未按期完工")


def fund_findings_frame(found: pd.DataFrame, checks: dict[str, dict], last_checked: str | None, rectify_months: int) -> pd.DataFrame:
    """Each fund finding (`queries.fund_findings_upto`, with its checking unit in `unit`) with when
    it was due and when it was closed (None: still open).

    The data are monthly, so both are month ends. Due: the end of the month of the 整改期限 its
    unit gave with 属实待整改, else of the `rectify_months`-th month after the one it was first
    found in (settings.yaml → funds.rectify_months). Closed: the day its unit reported it 属实已整改
    or 不属实, else the end of the month after the last one it was found in, when a later check no
    longer found it."""
    due, closed = [], []
    for fid, first, last in zip(found["finding_id"], found["first"], found["last"], strict=True):
        check = checks.get(fid)
        given = check["due"] if check and check["outcome"] == Outcome.CONFIRMED and check["due"] else None
        due.append(month_end(f"{given:%Y-%m}") if given else month_end(add_months(first, rectify_months)))
        if check and check["outcome"] in (Outcome.RECTIFIED, Outcome.DISMISSED):
            closed.append(calendar().local(check["at"]).date())
        elif last_checked is not None and last < last_checked:
            closed.append(month_end(add_months(last, 1)))
        else:
            closed.append(None)
    return found.assign(due=due, closed=closed)


def fund_rectification(inputs: Inputs) -> dict[str, Measure] | None:
    """I22 资金问题整改率: F-findings closed by their due date ÷ F-findings due in the period
    (`fund_findings_frame`), per town, per checking unit and for the county."""
    f = inputs.fund_findings
    if f is None:
        return None
    start, end = dt.date.fromisoformat(inputs.period_months[0] + "-01"), month_end(inputs.last_month)
    due = f[pd.Series([start <= d <= end for d in f["due"]], index=f.index, dtype=bool)]
    ok = pd.Series([c is not None and c <= d for c, d in zip(due["closed"], due["due"], strict=True)], index=due.index, dtype=float)
    none = [None] * len(due)
    what = [f"{r} {FUND_RULES[r][0]}（{_what(p, n, k)}，{d.month}月{d.day}日到期）"
            for r, p, n, k, d in zip(due["rule"], due.get("project_no", none), due.get("payment_no", none), due["key"], due["due"], strict=True)]
    return _noted(_by_town_and_unit(due, ok, pd.Series(1.0, index=due.index)), due, ok == 0, what, "未按期整改")


def _what(project_no: object, payment_no: object, key: str) -> str:
    """A finding named without personal data: its payment, its project, or what its key names
    (a household by its number, an enterprise by its name)."""
    if isinstance(payment_no, str):
        return f"拨付单号 {payment_no}"
    if isinstance(project_no, str):
        return f"项目 {project_no}"
    kind, _, what = str(key).partition(":")
    return {"household": f"户 {what}", "enterprise": f"企业 {what}"}.get(kind, str(key))


NOTED = 5  # a score's note names this many cases, then counts the rest


def _noted(measures: dict[str, Measure], frame: pd.DataFrame, bad: pd.Series, what: list[str], label: str) -> dict[str, Measure]:
    """Each measure with the cases that fall short written in its note (what the unit must act on)."""
    f = _with_codes(frame).assign(_bad=bad.to_numpy(dtype=bool), _what=what)
    for key, m in measures.items():
        rows = f if key == COUNTY_TOTAL else f[(f["town_code"] == key) | (f["unit"] == key)]
        cases = list(rows.loc[rows["_bad"], "_what"])
        if cases:
            m.note = f"{label}：{'、'.join(cases[:NOTED])}" + (f" 等 {len(cases)} 项" if len(cases) > NOTED else "")
    return measures


FORMULAS: dict[str, Callable[[Inputs], dict[str, Measure] | None]] = {
    f.__name__: f for f in (
        exits, exit_quality, capable_income, villages_out, rate_cover, rate_register, employment_cover, training_cover,
        industry_cover, coop_villages, basic_insurance, critical_insurance, clinic_villages, dropouts, student_aid_cover,
        teacher_subsidy, tap_water, safe_water_villages, timeliness, fund_payout, on_time_completion, fund_rectification,
    )
}
