"""Checks F1–F6 (资金项目监管) on hand-made payments, projects, registry and employment records:
each rule finds what it must and nothing else, with the standards of settings.yaml."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from fupin.calendar import months
from fupin.config import settings
from fupin.funds.rules import FUND_RULES, Standards, check

D = dt.date
A, B, C, D_ID = "440224198001011234", "440224198202022345", "440224199003033456", "440224194004044567"
Z = "440224199505055678"  # not in the registry
H1, H2, H3 = "4402240000000001", "4402240000000002", "4402240000000003"
E1, E1_CODE = "仁化县某制衣厂", "91440224MA4UXXXX1C"
CONTRACTOR = "91440224MA4UYYYY2D"


def registry() -> pd.DataFrame:
    return pd.DataFrame([
        {"id_number": A, "household_id": H1, "town": "丹霞街道", "labor_capacity": "有劳动能力"},
        {"id_number": B, "household_id": H1, "town": "丹霞街道", "labor_capacity": "部分丧失劳动能力"},
        {"id_number": C, "household_id": H2, "town": "闻韶镇", "labor_capacity": "有劳动能力"},
        {"id_number": D_ID, "household_id": H3, "town": "闻韶镇", "labor_capacity": "无劳动能力"},
    ])


def project(no: str, kind: str, planned: float, approved: dt.date, **dates) -> dict:
    base = {"project_no": no, "project_name": f"{kind}项目{no[-2:]}", "project_type": kind, "town": "丹霞街道", "village": None,
            "responsible_unit": "县交通局", "planned_investment": planned, "length_km": None, "approved_on": approved,
            "start_plan": D(2017, 12, 1), "started_on": None, "complete_plan": D(2018, 6, 1), "completed_on": None,
            "accept_plan": D(2018, 8, 1), "accepted_on": None}
    return {**base, **dates}


P1, P2, P3, P4 = (f"440224XM2017000{i}" for i in range(1, 5))


def projects() -> pd.DataFrame:
    return pd.DataFrame([
        project(P1, "到户帮扶", 500.0, D(2017, 1, 10), start_plan=D(2017, 1, 10), started_on=D(2017, 1, 10)),
        # a 3 km road, 7 万元: not started 30 days after its planned start
        project(P2, "村道建设", 7.0, D(2017, 2, 1), length_km=3.0, start_plan=D(2017, 3, 1)),
        # water, 20 万元: completed, not accepted within 3 months
        project(P3, "饮水安全", 20.0, D(2017, 1, 5), start_plan=D(2017, 2, 1), started_on=D(2017, 2, 1),
                complete_plan=D(2017, 3, 1), completed_on=D(2017, 3, 1), accept_plan=D(2017, 4, 1), responsible_unit="县水务局"),
        project(P4, "就业扶贫", 10.0, D(2017, 1, 1), start_plan=D(2017, 1, 1), started_on=D(2017, 1, 1)),
    ])


def pay(no: str, paid: dt.date, project_no: str, fund: str, payee_type: str, name: str, payee_id: str, amount: float,
        household: str | None = None, worker: str | None = None) -> dict:
    return {"payment_no": no, "paid_on": paid, "project_no": project_no, "fund_type": fund, "payee_type": payee_type,
            "payee_name": name, "payee_id": payee_id, "household_id": household, "worker_id": worker, "amount": amount}


def payments() -> pd.DataFrame:
    hh, rw = "到户扶贫专项资金", "企业吸纳就业奖补"
    return pd.DataFrame([
        pay("CZ01", D(2017, 6, 1), P1, hh, "农户", "甲", A, 5000.0, H1),  # fine
        pay("CZ02", D(2017, 6, 2), P1, hh, "农户", "某", Z, 5000.0, "4402240000000099"),  # F1: no such household
        pay("CZ03", D(2017, 6, 3), P1, hh, "农户", "丙", C, 4000.0, H1),  # F1: not a member of H1
        pay("CZ04", D(2017, 6, 28), P1, hh, "农户", "丙", C, 3000.0, H2),  # F2 with CZ05: same amount, 7 days apart
        pay("CZ05", D(2017, 7, 5), P1, hh, "农户", "丙", C, 3000.0, H2),
        pay("CZ06", D(2017, 5, 1), P1, hh, "农户", "丙", C, 20000.0, H2),  # F3: H2 (1 person) paid 26,000
        pay("CZ07", D(2017, 7, 10), P4, rw, "企业", E1, E1_CODE, 2000.0, worker=A),  # fine: 12 months at E1
        pay("CZ08", D(2017, 7, 11), P4, rw, "企业", E1, E1_CODE, 2000.0, worker=Z),  # F4: not registered
        pay("CZ09", D(2017, 7, 12), P4, rw, "企业", E1, E1_CODE, 2000.0, worker=B),  # F4: 6 months only
        pay("CZ10", D(2017, 1, 20), P2, "村道建设", "施工单位", "某路桥公司", CONTRACTOR, 10000.0),  # F5: before approval
        pay("CZ11", D(2017, 3, 15), P3, "饮水安全", "施工单位", "某水电公司", CONTRACTOR, 250000.0),  # F5: over 20 万
        pay("CZ12", D(2017, 3, 1), P2, "村道建设", "施工单位", "某路桥公司", CONTRACTOR, 55000.0),  # F3: road 65,000 > 3 km × 20,000
        pay("CZ13", D(2017, 2, 10), P1, hh, "农户", "甲", A, 1000.0, H1),  # F2 with the next: one 拨付单号 twice
        pay("CZ13", D(2017, 4, 10), P1, hh, "农户", "甲", A, 1500.0, H1),
        pay("CZ99", D(2017, 8, 3), P1, hh, "农户", "某", Z, 5000.0, "4402240000000099"),  # after the month: not yet known
    ])


def employment() -> pd.DataFrame:
    rows = [{"month": m, "id_number": A, "employer": E1, "employment_status": "县内务工"} for m in months("2016-07", "2017-06")]
    rows += [{"month": m, "id_number": B, "employer": E1, "employment_status": "县内务工"} for m in months("2017-01", "2017-06")]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def found() -> pd.DataFrame:
    return check(payments(), projects(), registry(), employment(), standards=Standards.of(settings()["funds"]),
                 as_of=D(2017, 7, 31)).findings


def of(found: pd.DataFrame, rule: str) -> pd.DataFrame:
    return found[found["rule"] == rule]


def test_f1_a_payment_to_a_household_not_registered_or_to_someone_not_of_it(found):
    f1 = of(found, "F1").set_index("payment_no")
    assert sorted(f1.index) == ["CZ02", "CZ03"]  # CZ99 is paid after the month checked
    assert "户编号不在本月建档立卡名单中" in f1.at["CZ02", "detail"] and "收款人不是该户在册成员" in f1.at["CZ03", "detail"]
    # the town of the household paid, where the registry knows it (its town checks the case)
    assert f1.at["CZ03", "town"] == "丹霞街道" and pd.isna(f1.at["CZ02", "town"])


def test_f2_the_same_payment_twice_by_number_or_by_amount_within_the_window(found):
    f2 = of(found, "F2")
    assert sorted(f2["payment_no"]) == ["CZ04、CZ05", "CZ13、CZ13"]
    assert any("相隔 7 天" in d for d in f2["detail"]) and any("出现两次" in d for d in f2["detail"])
    assert not any(A in d or C in d for d in f2["detail"])  # a household's ID is masked in the words


def test_f2_a_second_equal_payment_outside_the_window_is_an_instalment(found):
    later = payments()
    later.loc[later["payment_no"] == "CZ05", "paid_on"] = D(2017, 7, 29)  # 31 days after CZ04
    again = check(later, projects(), registry(), employment(), standards=Standards.of(settings()["funds"]), as_of=D(2017, 7, 31)).findings
    assert sorted(of(again, "F2")["payment_no"]) == ["CZ13、CZ13"]


def test_f3_above_the_standard_per_person_and_per_kilometre(found):
    f3 = of(found, "F3").set_index("key")
    assert sorted(f3.index) == [f"household:{H2}", f"road:{P2}"]
    assert "26,000 元" in f3.at[f"household:{H2}", "detail"] and "1 人 × 20,000 元" in f3.at[f"household:{H2}", "detail"]
    assert "3 公里" in f3.at[f"road:{P2}", "detail"]


def test_f3_an_enterprise_rewarded_twice_for_one_labourer(found):
    twice = pd.concat([payments(), pd.DataFrame([pay("CZ20", D(2017, 5, 1), P4, "企业吸纳就业奖补", "企业", E1, E1_CODE, 2000.0, worker=A)])],
                      ignore_index=True)
    again = check(twice, projects(), registry(), employment(), standards=Standards.of(settings()["funds"]), as_of=D(2017, 7, 31)).findings
    assert f"enterprise:{E1_CODE}" in set(of(again, "F3")["key"])  # 8,000 for 3 distinct labourers


def test_f4_a_reward_for_someone_not_registered_or_not_employed_a_year(found):
    f4 = of(found, "F4").set_index("payment_no")
    assert sorted(f4.index) == ["CZ08", "CZ09"]
    assert "不在建档立卡名单中" in f4.at["CZ08", "detail"] and "只有 6 个月" in f4.at["CZ09", "detail"]


def test_f5_paid_before_approval_or_above_the_budget(found):
    f5 = of(found, "F5").set_index("key")
    assert sorted(f5.index) == ["payment:CZ10", f"project:{P3}"]
    assert "早于项目立项日期 2017年2月1日" in f5.at["payment:CZ10", "detail"]
    assert "250,000 元" in f5.at[f"project:{P3}", "detail"] and "200,000 元" in f5.at[f"project:{P3}", "detail"]


def test_f6_behind_its_plan_beyond_the_grace_owned_by_the_responsible_unit(found):
    f6 = of(found, "F6").set_index("key")
    assert sorted(f6.index) == [f"{P2}:start", f"{P3}:accept"]
    assert f6.at[f"{P3}:accept", "unit"] == "县水务局" and f6.at[f"{P2}:start", "unit"] == "县交通局"
    # within the grace on an earlier day: nothing yet
    early = check(payments(), projects(), registry(), employment(), standards=Standards.of(settings()["funds"]), as_of=D(2017, 3, 31)).findings
    assert of(early, "F6").empty


def test_every_rule_is_named_and_counted():
    result = check(payments(), projects(), registry(), employment(), standards=Standards.of(settings()["funds"]), as_of=D(2017, 7, 31))
    assert result.counts == {"F1": 2, "F2": 2, "F3": 2, "F4": 2, "F5": 2, "F6": 2}
    assert set(FUND_RULES) == set(result.counts)
