"""R1–R6 on hand-made snapshots, edge cases included."""

from __future__ import annotations

import pandas as pd
import pytest

from fupin.ids import check_digit
from fupin.reconcile.rules import one_digit_apart, reconcile, sounds_alike_one_apart
from fupin.vocab import COUNTY_TOTAL


def pid(birth: str, seq: str) -> str:
    body = f"440224{birth}{seq}"
    return body + check_digit(body)


A1, A2, A3 = pid("19500101", "011"), pid("19520202", "022"), pid("19800303", "033")
B1, B2 = pid("19450505", "051"), pid("19470707", "072")
C1 = pid("19600606", "061")


def registry(*rows: dict) -> pd.DataFrame:
    base = {"household_id": "4402240000000001", "relation": "户主", "town": "丹霞街道", "village": "石门村",
            "labor_capacity": "无劳动能力", "income_per_capita": 3000.0, "exit_status": "未脱贫", "exit_year": None}
    return pd.DataFrame([{**base, **r} for r in rows])


def dibao(*rows: dict) -> pd.DataFrame:
    base = {"dibao_card_no": "DB1", "relation": "户主", "town": "丹霞街道", "village": "石门村", "category": "低保",
            "monthly_benefit": 200.0, "income_per_capita": 3000.0, "status": "在保"}
    return pd.DataFrame([{**base, **r} for r in rows])


def run(reg: pd.DataFrame, dib: pd.DataFrame, year_threshold: float = 7101):
    return reconcile(reg, dib, poverty_standard=4000, exit_threshold=year_threshold)


def keys(result, rule: str) -> list[str]:
    return sorted(result.findings.loc[result.findings["rule"] == rule, "key"])


def test_clean_snapshots_find_nothing():
    r = run(registry({"id_number": A1, "name": "王大"}), dibao({"id_number": A1, "name": "王大"}))
    assert r.findings.empty
    assert r.counts == {f"R{i}": 0 for i in range(1, 7)}


def test_r1_one_finding_per_household_with_a_member_off_dibao_or_suspended():
    reg = registry({"id_number": A1, "name": "王大"}, {"id_number": A2, "name": "王二", "relation": "配偶"},
                   {"household_id": "4402240000000002", "id_number": B1, "name": "李三"})
    dib = dibao({"id_number": A1, "name": "王大"}, {"id_number": A2, "name": "王二", "status": "停保"},
                {"dibao_card_no": "DB2", "id_number": B1, "name": "李三"})
    r = run(reg, dib)
    assert keys(r, "R1") == ["4402240000000001"]
    rate = r.rates[(r.rates["kind"] == "应保尽保率") & (r.rates["town"] == COUNTY_TOTAL)].iloc[0]
    assert (rate.numerator, rate.denominator) == (1, 2)


def test_r1_not_for_a_household_with_labour_capacity():
    reg = registry({"id_number": A1, "name": "王大", "labor_capacity": "部分丧失劳动能力"}, {"id_number": A2, "name": "王二"})
    assert keys(run(reg, dibao({"id_number": A1, "name": "王大"})), "R1") == []


def test_r2_per_person_in_force_under_the_standard_not_registered():
    dib = dibao({"id_number": B1, "name": "李三"}, {"id_number": B2, "name": "李四", "status": "停保"},
                {"dibao_card_no": "DB9", "id_number": C1, "name": "赵五", "income_per_capita": 4500.0})
    r = run(registry({"id_number": A1, "name": "王大", "labor_capacity": "有劳动能力"}), dib)
    assert keys(r, "R2") == [B1]
    rate = r.rates[(r.rates["kind"] == "应扶尽扶率") & (r.rates["town"] == COUNTY_TOTAL)].iloc[0]
    assert (rate.numerator, rate.denominator) == (0, 1)


def test_r3_name_town_or_village_differs_and_the_middle_dot_is_not_a_difference():
    reg = registry({"id_number": A1, "name": "阿卜杜·热合曼"}, {"id_number": A2, "name": "王二", "relation": "配偶"},
                   {"id_number": A3, "name": "王小", "relation": "之子"})
    dib = dibao({"id_number": A1, "name": "阿卜杜•热合曼"}, {"id_number": A2, "name": "王贰", "relation": "配偶"},
                {"id_number": A3, "name": "王小", "village": "白沙村", "relation": "之子"})
    r = run(reg, dib)
    assert keys(r, "R3") == sorted([A2, A3])
    detail = r.findings.set_index("key").loc[A3, "detail"]
    assert "村" in detail and "姓名" not in detail


def test_r4_a_card_over_two_households_and_a_household_over_two_cards():
    reg = registry({"id_number": A1, "name": "王大"}, {"household_id": "4402240000000002", "id_number": B1, "name": "李三"},
                   {"household_id": "4402240000000003", "id_number": A2, "name": "张一"},
                   {"household_id": "4402240000000003", "id_number": A3, "name": "张二", "relation": "之子"})
    dib = dibao({"id_number": A1, "name": "王大"}, {"id_number": B1, "name": "李三", "relation": "配偶"},
                {"dibao_card_no": "DB3", "id_number": A2, "name": "张一"}, {"dibao_card_no": "DB4", "id_number": A3, "name": "张二"})
    assert keys(run(reg, dib), "R4") == ["card:DB1", "household:4402240000000003"]


def test_r4_a_person_in_two_households_is_caught():
    reg = registry({"id_number": A1, "name": "王大"}, {"household_id": "4402240000000002", "id_number": A1, "name": "王大"})
    dib = dibao({"id_number": A1, "name": "王大"})
    assert keys(run(reg, dib), "R4") == ["card:DB1"]


def test_r5_one_digit_off_same_name_same_village():
    typo = A1[:15] + str((int(A1[15]) + 1) % 10) + A1[16]
    typo += check_digit(typo)
    reg = registry({"id_number": A1, "name": "王大", "labor_capacity": "有劳动能力"})
    dib = dibao({"id_number": typo, "name": "王大", "income_per_capita": 5000.0})
    r = run(reg, dib)
    assert keys(r, "R5") == [f"{A1}|{typo}"]
    assert keys(r, "R3") == [] and keys(r, "R2") == []  # never merged, so no R3


def test_r5_neighbour_swap_and_homophone_with_same_birth_date():
    swapped = pid("19500101", "101")
    original = pid("19500101", "011")
    assert one_digit_apart(original, swapped)
    homophone = pid("19800303", "999")
    reg = registry({"id_number": original, "name": "王大", "labor_capacity": "有劳动能力"},
                   {"id_number": A3, "name": "李明", "relation": "之子", "labor_capacity": "有劳动能力"})
    dib = dibao({"id_number": swapped, "name": "王大", "income_per_capita": 5000.0},
                {"dibao_card_no": "DB2", "id_number": homophone, "name": "李鸣", "income_per_capita": 5000.0})
    assert keys(run(reg, dib), "R5") == sorted([f"{original}|{swapped}", f"{A3}|{homophone}"])


def test_r5_no_pair_across_villages_or_for_different_sounds():
    typo = A1[:16] + ("1" if A1[16] != "1" else "2")
    typo = typo[:17] + check_digit(typo[:17])
    reg = registry({"id_number": A1, "name": "王大", "labor_capacity": "有劳动能力"},
                   {"id_number": A3, "name": "李明", "relation": "之子", "labor_capacity": "有劳动能力"})
    dib = dibao({"id_number": typo, "name": "王大", "village": "白沙村", "income_per_capita": 5000.0},
                {"dibao_card_no": "DB2", "id_number": pid("19800303", "998"), "name": "李强", "income_per_capita": 5000.0})
    assert keys(run(reg, dib), "R5") == []


def test_r6_exited_persons_of_a_household_under_the_threshold_in_either_registry():
    reg = registry({"id_number": A1, "name": "王大", "exit_status": "已脱贫", "exit_year": 2017, "income_per_capita": 7500.0},
                   {"id_number": A2, "name": "王二", "relation": "配偶", "exit_status": "已脱贫", "exit_year": 2017, "income_per_capita": 7500.0},
                   {"household_id": "4402240000000002", "id_number": B1, "name": "李三", "exit_status": "已脱贫", "exit_year": 2017,
                    "income_per_capita": 7000.0})
    dib = dibao({"id_number": A2, "name": "王二", "relation": "配偶", "income_per_capita": 6000.0})
    r = run(reg, dib, year_threshold=7101)
    assert keys(r, "R6") == sorted([A1, A2, B1])
    # what the office reads: the incomes as written, and 无记录 (never nan) for B1, not on dibao
    detail = {f.key: f.detail for f in r.findings.itertuples() if f.rule == "R6"}
    assert detail[B1] == "脱贫标准 7,101 元，建档立卡 7,000 元，低保 无记录"
    assert detail[A2] == "脱贫标准 7,101 元，建档立卡 7,500 元，低保 6,000 元"


def test_fifteen_digit_ids_match_their_eighteen_digit_form():
    legacy = "440224500101011"
    reg = registry({"id_number": legacy, "name": "王大"})
    body = "44022419500101011"
    dib = dibao({"id_number": body + check_digit(body), "name": "王大"})
    assert run(reg, dib).findings.empty


@pytest.mark.parametrize("a,b,expected", [("李明", "李鸣", True), ("李明", "李强", False), ("李明", "张鸣", False), ("李明明", "李明", False)])
def test_sounds_alike(a, b, expected):
    assert sounds_alike_one_apart(a, b) is expected
