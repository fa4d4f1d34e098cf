"""Indicators, scores and actions on hand-made data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from fupin.assess import indicators as ind
from fupin.assess.indicators import Inputs, exit_targets
from fupin.assess.score import Score, decide_actions, score_period
from fupin.config import assessment, contracts, geography
from fupin.vocab import COUNTY_TOTAL, ScoreStatus

DANXIA, WENSHAO = "440224001", "440224100"


def person(pid: str, hid: str, town: str = "丹霞街道", village: str = "石门村", **kw) -> dict:
    base = {"id_number": pid, "household_id": hid, "name": "王大", "relation": "户主", "town": town, "village": village,
            "labor_capacity": "有劳动能力", "income_per_capita": 7000.0, "exit_status": "未脱贫", "exit_year": None}
    return {**base, **kw}


def inputs(period: str = "2017Y", **frames) -> Inputs:
    return Inputs(period, {k: pd.DataFrame(v) for k, v in frames.items()}, {k: period for k in frames})


def indicator(id_: str) -> dict:
    return next(i for i in assessment()["indicators"] if i["id"] == id_)


def test_exit_targets_split_by_largest_remainder_and_sum_to_the_county():
    towns = sorted(geography().towns.values())
    first = pd.DataFrame({"town": [name for name, code in geography().towns.items() for _ in range(int(code[-3:]) % 7 + 3)]})
    cumulative = {2016: 2578, 2017: 7264, 2018: 10378}
    for period in ("2016Y", "2017Y", "2018Y"):
        t = exit_targets(cumulative, first, period)
        assert sum(t[c] for c in towns) == t[COUNTY_TOTAL] == cumulative[int(period[:4])]
    # half year: each unit's previous cumulative plus half its increment, rounded down
    h1, prev, end = (exit_targets(cumulative, first, p) for p in ("2017H1", "2016Y", "2017Y"))
    assert all(h1[c] == prev[c] + (end[c] - prev[c]) // 2 for c in towns)
    assert h1[COUNTY_TOTAL] == 2578 + (7264 - 2578) // 2


def test_exit_targets_ties_go_to_the_lower_town_code():
    names = {code: name for name, code in geography().towns.items()}
    first = pd.DataFrame({"town": [names[c] for c in sorted(names)]})  # one person each: all remainders equal
    t = exit_targets({2016: 3, 2017: 3, 2018: 3}, first, "2016Y")
    assert [t[c] for c in sorted(names)][:4] == [1, 1, 1, 0]


def test_i07_counts_households_with_anyone_at_work():
    reg = [person("A1", "H1"), person("A2", "H1", relation="配偶"), person("B1", "H2"),
           person("C1", "H3", labor_capacity="无劳动能力")]
    emp = [{"id_number": "A2", "employment_status": "县外务工"}, {"id_number": "B1", "employment_status": "未就业"}]
    m = ind.employment_cover(inputs(registry=reg, employment=emp))
    assert (m[DANXIA].numerator, m[DANXIA].denominator) == (1, 2)
    assert m[WENSHAO].value is None  # no capable household there: nothing to measure


def test_i09_i11_i14_i15_i17():
    reg = [person("A1", "H1"), person("A2", "H2", town="闻韶镇", village="周屋村")]
    i = inputs(
        registry=reg,
        industry=[{"household_id": "H1"}],
        medical=[{"id_number": "A1", "basic_insurance": True, "critical_insurance": False},
                 {"id_number": "A2", "basic_insurance": False, "critical_insurance": True}],
        student_aid=[{"id_number": "A2", "stage": "初中", "enrollment": "辍学", "aid_amount": 0.0}],
        water_supply=[{"town": "丹霞街道", "village": "石门村", "households_total": 100, "households_tap": 95},
                      {"town": "丹霞街道", "village": "白沙村", "households_total": 100, "households_tap": 85}],
    )
    i.student_aid_period = pd.DataFrame([{"id_number": "A1", "enrollment": "在读", "aid_amount": 0.0, "month": "2017-03"},
                                         {"id_number": "A1", "enrollment": "在读", "aid_amount": 200.0, "month": "2017-04"},
                                         {"id_number": "A2", "enrollment": "在读", "aid_amount": 0.0, "month": "2017-04"}])
    assert ind.industry_cover(i)[COUNTY_TOTAL].value == 0.5
    assert ind.basic_insurance(i)[DANXIA].value == 1.0 and ind.basic_insurance(i)[WENSHAO].value == 0.0
    assert ind.dropouts(i)[WENSHAO].value == 1 and ind.dropouts(i)[DANXIA].value == 0
    aid = ind.student_aid_cover(i)
    assert aid[DANXIA].value == 1.0 and aid[WENSHAO].value == 0.0
    assert ind.tap_water(i)[DANXIA].value == pytest.approx(0.9)


def test_i03_mean_income_of_capable_persons_only():
    reg = [person("A1", "H1", income_per_capita=6000.0), person("A2", "H2", income_per_capita=8000.0),
           person("A3", "H3", income_per_capita=100.0, labor_capacity="无劳动能力")]
    assert ind.capable_income(inputs(registry=reg))[DANXIA].value == 7000.0


def test_i02_exit_quality_counts_r6_uninsured_and_dropouts_by_household():
    reg = [person("A1", "H1", exit_status="已脱贫", exit_year=2017), person("A2", "H1", exit_status="已脱贫", exit_year=2017),
           person("B1", "H2", exit_status="已脱贫", exit_year=2017), person("C1", "H3", exit_status="已脱贫", exit_year=2017),
           person("D1", "H4", exit_status="已脱贫", exit_year=2017)]
    i = inputs(registry=reg, medical=[{"id_number": "B1", "basic_insurance": False}],
               student_aid=[{"id_number": "C1", "stage": "小学", "enrollment": "辍学"}])
    i.r6_households = {"H1"}
    m = ind.exit_quality(i)[DANXIA]
    assert (m.numerator, m.denominator) == (1, 5)


def test_i19_months_whose_file_came_by_the_tenth():
    drops = pd.DataFrame([
        # moments as stored (UTC): 2017-02-10 15:59 UTC is 23:59 in Beijing, on the 10th: on time
        {"source": "water", "month": "2017-01", "dropped_at": "2017-02-10 15:59+00:00", "status": "accepted"},
        {"source": "water", "month": "2017-02", "dropped_at": "2017-03-10 17:00+00:00", "status": "accepted"},  # 01:00 on the 11th
        {"source": "water", "month": "2017-03", "dropped_at": "2017-04-02 01:00+00:00", "status": "rejected"},
        {"source": "water", "month": "2017-03", "dropped_at": "2017-04-05 01:00+00:00", "status": "accepted"},
        {"source": "water", "month": "2017-04", "dropped_at": "2017-05-05 01:00+00:00", "status": "accepted"},
        {"source": "water", "month": "2017-05", "dropped_at": "2017-06-05 01:00+00:00", "status": "accepted"},
    ])
    i = Inputs("2017H1", {}, {}, drops=drops)
    m = ind.timeliness(i)
    assert (m["water"].numerator, m["water"].denominator) == (4, 5)  # February was late; June is not due yet
    assert m["health"].numerator == 0
    # the notice names the late months and when they came
    assert m["water"].note == "逾期：2017年2月（3月11日报送）；期限为次月10日"
    assert m["health"].note.startswith("逾期：2017年1月（未报送）、2017年2月（未报送）")


def test_i19_a_unit_that_sends_two_files_is_on_time_when_both_are():
    """县扶贫办 sends the registry and the project library: a month whose library came late (or not
    at all) is late, and the note names the file."""
    office = "poverty_office"
    titles = list(contracts().sources[office].reports)
    assert len(titles) == 2
    registry, library = titles
    drops = pd.DataFrame([
        {"source": office, "month": "2017-01", "dropped_at": "2017-02-05 01:00+00:00", "status": "accepted", "file": registry},
        {"source": office, "month": "2017-01", "dropped_at": "2017-02-06 01:00+00:00", "status": "accepted", "file": library},
        {"source": office, "month": "2017-02", "dropped_at": "2017-03-05 01:00+00:00", "status": "accepted", "file": registry},
        {"source": office, "month": "2017-02", "dropped_at": "2017-03-14 01:00+00:00", "status": "accepted", "file": library},
        {"source": office, "month": "2017-03", "dropped_at": "2017-04-05 01:00+00:00", "status": "accepted", "file": registry},
    ] + [{"source": office, "month": f"2017-0{m}", "dropped_at": f"2017-0{m + 1}-05 01:00+00:00", "status": "accepted", "file": f}
         for m in (4, 5) for f in titles])
    m = ind.timeliness(Inputs("2017H1", {}, {}, drops=drops))[office]
    assert (m.numerator, m.denominator) == (3, 5)
    assert m.note == f"逾期：2017年2月（“{library}”3月14日报送）、2017年3月（“{library}”未报送）；期限为次月10日"


def test_no_data_is_missed_with_the_reason_and_zero_denominator_is_met():
    i = inputs("2017H1", registry=[person("A1", "H1", labor_capacity="无劳动能力")])
    scores = score_period(i, [indicator("I07"), indicator("I09")])
    assert {s.status for s in scores} == {ScoreStatus.MISSED} and {s.reason for s in scores} == {"无数据"}
    i = inputs("2017H1", registry=[person("A1", "H1", labor_capacity="无劳动能力")], industry=[{"household_id": "X"}])
    scores = score_period(i, [indicator("I09")])
    assert {(s.status, s.reason) for s in scores} == {(ScoreStatus.MET, "无考核对象")}


def test_indicators_without_a_target_in_the_period_are_not_assessed():
    i = inputs("2017H1", registry=[person("A1", "H1")])
    assert score_period(i, [indicator("I03"), indicator("I17")]) == []


def test_county_total_of_a_town_indicator_is_the_owners():
    i = inputs("2017H1", registry=[person("A1", "H1")], medical=[{"id_number": "A1", "basic_insurance": False, "critical_insurance": True}])
    scores = {s.unit: s for s in score_period(i, [indicator("I11")])}
    assert scores["health"].status == ScoreStatus.MISSED and scores[DANXIA].status == ScoreStatus.MISSED and scores[WENSHAO].status == ScoreStatus.MET


def _s(unit: str, ind_: str, status: str = ScoreStatus.MISSED) -> Score:
    return Score(ind_, "", unit, 0, 1, 0, 1, ">=", status)


def test_half_year_actions_are_notices_only():
    acts = decide_actions("2017H1", [_s(DANXIA, "I07"), _s("water", "I19"), _s(WENSHAO, "I07", ScoreStatus.MET)], [], dt.date(2017, 6, 30), 30)
    assert [(a.unit, a.action, a.indicators) for a in acts] == [(DANXIA, "通报", ["I07"]), ("water", "通报", ["I19"])]


def test_year_end_rectification_and_interviews():
    previous = [_s("water", "I19"), _s(WENSHAO, "I07")]
    acts = decide_actions("2017Y", [_s(DANXIA, "I01"), _s("water", "I19"), _s(WENSHAO, "I09")], previous, dt.date(2017, 12, 31), 30)
    got = {(a.unit, a.action): a for a in acts}
    assert got[(DANXIA, "限期整改")].due == dt.date(2018, 1, 30)
    assert got[(DANXIA, "约谈")].reason == "未完成年度脱贫任务"
    assert "I19" in got[("water", "约谈")].reason
    assert (WENSHAO, "约谈") not in got  # a different indicator than last time
    assert {a.action for a in acts if a.unit == WENSHAO} == {"通报", "限期整改"}


def _poor(n: int | None = None) -> list:
    poor = [v for v in geography().villages if v.is_poor]
    return poor if n is None else poor[:n]


def test_i04_a_poor_village_is_out_when_under_two_percent_remain_poor():
    v = _poor(1)[0]
    allowed = int(0.02 * v.population - 1e-9)  # strictly under 2%
    reg = [person(f"P{i}", f"H{i}", town=v.town, village=v.name) for i in range(allowed)]
    m = ind.villages_out(inputs(registry=reg))[COUNTY_TOTAL]
    assert (m.numerator, m.denominator) == (33, 33)
    reg.append(person("PX", "HX", town=v.town, village=v.name))
    reg.append(person("PY", "HY", town=v.town, village=v.name))
    assert ind.villages_out(inputs(registry=reg))[COUNTY_TOTAL].numerator == 32


def test_i05_i06_come_from_the_reconciliation_rates():
    i = inputs(registry=[person("A1", "H1")])
    i.rates = pd.DataFrame([{"town": "丹霞街道", "kind": "应保尽保率", "numerator": 3, "denominator": 4},
                            {"town": "全县", "kind": "应保尽保率", "numerator": 3, "denominator": 4},
                            {"town": "全县", "kind": "应扶尽扶率", "numerator": 0, "denominator": 0}])
    assert ind.rate_cover(i)[DANXIA].value == 0.75 and ind.rate_cover(i)[WENSHAO].value is None
    assert ind.rate_register(i)[COUNTY_TOTAL].value is None  # nobody under the standard: met
    assert ind.rate_cover(inputs(registry=[person("A1", "H1")])) is None  # not reconciled: no data


def test_i08_training_among_the_willing_only():
    emp = [{"id_number": "A", "town": "丹霞街道", "training_willing": True, "trained": True},
           {"id_number": "B", "town": "丹霞街道", "training_willing": True, "trained": False},
           {"id_number": "C", "town": "丹霞街道", "training_willing": False, "trained": False}]
    assert ind.training_cover(inputs(employment=emp))[DANXIA].value == 0.5


def test_i10_i13_i18_share_of_the_33_poor_villages():
    poor = _poor()
    coops = [{"town": v.town, "village": v.name} for v in poor[:20]]
    clinics = [{"town": v.town, "village": v.name, "clinic_standard": i % 2 == 0} for i, v in enumerate(poor)]
    water = [{"town": v.town, "village": v.name, "water_safe": v.name != poor[0].name} for v in poor]
    i = inputs(cooperative=coops, clinic=clinics, water_supply=water)
    assert (ind.coop_villages(i)[COUNTY_TOTAL].numerator, ind.coop_villages(i)[COUNTY_TOTAL].denominator) == (20, 33)
    assert ind.clinic_villages(i)[COUNTY_TOTAL].numerator == 17
    assert ind.safe_water_villages(i)[COUNTY_TOTAL].numerator == 32


def test_i12_critical_insurance():
    reg = [person("A1", "H1"), person("A2", "H2")]
    med = [{"id_number": "A1", "basic_insurance": True, "critical_insurance": True},
           {"id_number": "A2", "basic_insurance": True, "critical_insurance": False}]
    assert ind.critical_insurance(inputs(registry=reg, medical=med))[DANXIA].value == 0.5


def test_i16_teacher_subsidy_against_the_years_amount():
    schools = [{"school": "甲", "town": "丹霞街道", "subsidy_per_teacher": 1000.0},
               {"school": "乙", "town": "丹霞街道", "subsidy_per_teacher": 999.0}]
    i = inputs("2017Y", teacher_subsidy=schools)
    i.thresholds = {"I16": {2017: 1000}}
    assert ind.teacher_subsidy(i)[COUNTY_TOTAL].value == 0.5
    i.thresholds = {"I16": {2017: 900}}
    assert ind.teacher_subsidy(i)[COUNTY_TOTAL].value == 1.0


def test_unit_chart_draws_its_chinese_with_a_cjk_font(tmp_path):
    """The chart mailed to a unit reads in Chinese: every glyph found (matplotlib warns of each
    one missing — as it does with its default font, which the second rendering shows)."""
    import warnings

    import matplotlib

    from fupin.assess.report import cjk_font, unit_chart
    from fupin.assess.run import Assessment
    from fupin.assess.score import Score
    from tests.conftest import skip_or_fail

    font = cjk_font()
    if font is None:
        skip_or_fail(["no CJK font (Debian's fonts-noto-cjk; `make setup` installs it)"], "the chart font test")
    result = Assessment("2017Y", {}, [
        Score("I01", "脱贫人数", "440224102", 521, 550, 521.0, 550.0, ">=", "未达标"),
        Score("I05", "应保尽保率", "440224102", 98, 98, 1.0, 0.98, ">=", "达标")], [])

    def missing_glyphs(**kw) -> list[str]:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            path = unit_chart(result, "440224102", tmp_path / f"{len(kw)}.png", **kw)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return [str(w.message) for w in seen if "missing from" in str(w.message)]

    assert missing_glyphs() == []
    dejavu = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    assert missing_glyphs(font=dejavu)  # the same chart without a CJK font: boxes, and said


def test_officials_read_the_gap_in_the_indicators_unit_and_are_addressed_as_the_county_does():
    from fupin.wording import data_months, gap, you

    assert gap("I01", 521, 550, ">=") == "差 29 人"  # 实际 521 人，目标 550 人
    assert gap("I03", 7000, 7101, ">=") == "差 101 元"
    assert gap("I05", 0.95, 0.98, ">=") == "差 3.0 个百分点"
    assert gap("I01", 560, 550, ">=") == "" and gap("I01", None, 550, ">=") == ""
    assert (you("440224102"), you("440224001"), you("water"), you("poverty_office")) == ("你镇", "你街道", "你局", "你办")
    shown = data_months({"registry": "2017-12", "clinic": None})
    assert shown == "建档立卡贫困人口 2017年12月" and "registry" not in shown


def _project(no: str, town: str, unit: str, planned: float, complete_plan: dt.date, completed_on: dt.date | None = None) -> dict:
    """A project planned to be accepted when it is planned to be completed."""
    return {"project_no": no, "project_name": f"{unit}项目{no}", "town": town, "responsible_unit": unit, "planned_investment": planned,
            "complete_plan": complete_plan, "completed_on": completed_on, "accept_plan": complete_plan}


def test_i20_pays_what_is_due_and_an_overpayment_makes_up_for_nothing():
    # due: planned acceptance plus a month for the last payment, by the period's end
    projects = [_project("P1", "丹霞街道", "县交通局", 10.0, dt.date(2017, 6, 1)),  # 10 万元, paid 12 万: counts 10 万
                _project("P2", "闻韶镇", "县水务局", 10.0, dt.date(2017, 11, 30)),  # paid half
                _project("P3", "闻韶镇", "县水务局", 50.0, dt.date(2017, 12, 1)),  # not due at 2017Y (its month runs into 2018): unpaid, not counted
                _project("P4", "闻韶镇", "某不在名录的单位", 4.0, dt.date(2017, 1, 1))]  # an unknown unit: 县扶贫办 answers
    paid = pd.DataFrame({"project_no": ["P1", "P2", "P4"], "paid": [120_000.0, 50_000.0, 40_000.0]})
    i = inputs("2017Y", projects=projects)
    i.paid, i.thresholds = paid, {"pay_months": 1}
    m = ind.fund_payout(i)
    assert (m[DANXIA].numerator, m[DANXIA].denominator) == (100_000.0, 100_000.0)
    assert (m[WENSHAO].numerator, m[WENSHAO].denominator) == (90_000.0, 140_000.0)
    assert m["transport"].value == 1.0 and m["water"].value == 0.5 and m["poverty_office"].value == 1.0
    assert m[COUNTY_TOTAL].value == 190_000 / 240_000
    # at the half year P2 is not due yet
    h1 = inputs("2017H1", projects=projects)
    h1.paid, h1.thresholds = paid, {"pay_months": 1}
    assert "water" not in ind.fund_payout(h1) and ind.fund_payout(h1)[WENSHAO].value == 1.0
    # no payments loaded at all: no data, not a zero
    assert ind.fund_payout(inputs("2017Y", projects=projects)) is None


def test_i21_counts_projects_due_with_their_grace():
    projects = [_project("P1", "丹霞街道", "县交通局", 1.0, dt.date(2017, 6, 1), dt.date(2017, 6, 30)),  # 29 days late: within the grace
                _project("P2", "丹霞街道", "县交通局", 1.0, dt.date(2017, 5, 1), dt.date(2017, 6, 5)),  # 35 days late
                _project("P3", "闻韶镇", "县水务局", 1.0, dt.date(2017, 11, 15)),  # due 12-15 with the grace: not completed
                _project("P4", "闻韶镇", "县水务局", 1.0, dt.date(2017, 12, 15))]  # due 2018-01-14: not yet
    i = inputs("2017Y", projects=projects)
    i.thresholds = {"complete_days": 30}
    m = ind.on_time_completion(i)
    assert (m["transport"].numerator, m["transport"].denominator) == (1, 2)
    assert (m["water"].numerator, m["water"].denominator) == (0, 1)
    assert (m[COUNTY_TOTAL].numerator, m[COUNTY_TOTAL].denominator) == (1, 3)
    assert m[WENSHAO].value == 0.0 and m["440224101"].value is None  # 扶溪镇 has no project due
    assert m["transport"].note == "未按期完工：P2 县交通局项目P2" and m["water"].note == "未按期完工：P3 县水务局项目P3"  # what to act on


def test_i22_a_fund_finding_is_due_the_month_after_it_was_first_found():
    from fupin.vocab import Outcome

    beijing = dt.timezone(dt.timedelta(hours=8))
    found = pd.DataFrame([
        # gone from the August check: put right by the end of August, its due month
        {"rule": "F6", "key": "a", "finding_id": "a", "town": "丹霞街道", "unit": "transport", "first": "2017-07", "last": "2017-07"},
        # still found in August, gone in September: late
        {"rule": "F6", "key": "b", "finding_id": "b", "town": "丹霞街道", "unit": "transport", "first": "2017-07", "last": "2017-08"},
        # reported put right on 20 August
        {"rule": "F1", "key": "c", "finding_id": "c", "town": "闻韶镇", "unit": "poverty_office", "first": "2017-07", "last": "2017-12"},
        # 属实待整改 by 2017-10-15: due at the end of October, still found
        {"rule": "F2", "key": "d", "finding_id": "d", "town": "闻韶镇", "unit": "finance", "first": "2017-07", "last": "2017-12"},
        # first found in December: due in January, not in 2017Y
        {"rule": "F2", "key": "e", "finding_id": "e", "town": None, "unit": "finance", "first": "2017-12", "last": "2017-12"},
    ])
    checks = {"c": {"outcome": Outcome.RECTIFIED, "due": None, "at": dt.datetime(2017, 8, 20, 10, tzinfo=beijing)},
              "d": {"outcome": Outcome.CONFIRMED, "due": dt.date(2017, 10, 15), "at": dt.datetime(2017, 8, 2, tzinfo=beijing)}}
    f = ind.fund_findings_frame(found, checks, "2017-12", 1)
    assert list(f["due"]) == [dt.date(2017, 8, 31)] * 3 + [dt.date(2017, 10, 31), dt.date(2018, 1, 31)]
    assert list(f["closed"]) == [dt.date(2017, 8, 31), dt.date(2017, 9, 30), dt.date(2017, 8, 20), None, None]
    i = inputs("2017Y")
    i.fund_findings = f
    m = ind.fund_rectification(i)
    assert (m["transport"].numerator, m["transport"].denominator) == (1, 2)
    assert m["poverty_office"].value == 1.0 and m["finance"].value == 0.0
    assert (m[COUNTY_TOTAL].numerator, m[COUNTY_TOTAL].denominator) == (2, 4)
    assert (m[WENSHAO].numerator, m[WENSHAO].denominator) == (1, 2)
    assert m["finance"].note == "未按期整改：F2 疑似重复拨付（d，10月31日到期）" and m["poverty_office"].note == ""
    assert ind.fund_rectification(inputs("2017Y")) is None  # no fund check ever ran: no data


def test_fund_indicators_score_each_town_and_each_responsible_unit():
    projects = [_project("P1", "丹霞街道", "县交通局", 10.0, dt.date(2017, 6, 1)), _project("P2", "闻韶镇", "县水务局", 10.0, dt.date(2017, 6, 1))]
    i = inputs("2017Y", projects=projects)
    i.paid = pd.DataFrame({"project_no": ["P1"], "paid": [100_000.0]})
    scores = score_period(i, [indicator("I20")])
    by_unit = {s.unit: s for s in scores}
    assert set(by_unit) == set(geography().towns.values()) | {"transport", "water"}  # no county row: the units answer for it
    assert by_unit["transport"].status == ScoreStatus.MET and by_unit["water"].status == ScoreStatus.MISSED
    assert by_unit[WENSHAO].status == ScoreStatus.MISSED and by_unit["440224101"].reason == "无考核对象"


def test_a_fund_indicator_without_data_is_missed_by_the_unit_that_owns_the_data():
    scores = score_period(inputs("2017Y"), [indicator("I20"), indicator("I22")])
    assert [(s.indicator, s.unit, s.reason) for s in scores] == [("I20", "finance", "无数据"), ("I22", "finance", "无数据")]
