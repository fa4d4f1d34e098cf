"""The province-wide cross-check (R7–R9) on a small province of three counties."""

from __future__ import annotations

import pandas as pd

from fupin.ids import check_digit

NAMES = {"440224": "仁化县", "440229": "翁源县", "440281": "乐昌市"}


def pid(region: str, birth: str, seq: str) -> str:
    body = f"{region}{birth}{seq}"
    return body + check_digit(body)


def registry(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"id_number": i, "name": n, "town": "甲镇", "village": "一村"} for i, n in rows],
                        columns=["id_number", "name", "town", "village"])


def dibao(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"id_number": i, "name": n, "town": "乙镇", "village": "二村", "status": s} for i, n, s in rows],
                        columns=["id_number", "name", "town", "village", "status"])


MOVER = pid("440224", "19600101", "011")  # registered poor in two counties
DOUBLE = pid("440229", "19700202", "022")  # registered in 翁源县, on dibao in 仁化县
TYPO_A = pid("440281", "19800303", "033")  # 乐昌市's registry; 仁化县 has the same person one digit off
TYPO_B = pid("440281", "19800303", "043")
SWAP_B = pid("440281", "19800303", "303")  # a neighbour swap of TYPO_A's sequence (033 → 303)
ALONE = pid("440224", "19900404", "044")
ALONE_TYPO = pid("440224", "19900404", "045")  # on 翁源县's dibao, one digit off


def test_each_cross_county_rule_on_a_small_province():
    from fupin.reconcile.crosscheck import find
    from fupin.reconcile.rules import one_digit_apart

    assert one_digit_apart(TYPO_A, TYPO_B) and one_digit_apart(TYPO_A, SWAP_B)
    registries = {
        "440224": registry((MOVER, "王大"), (ALONE, "赵六"), (TYPO_B, "李明")),
        "440229": registry((MOVER, "王大"), (DOUBLE, "张三")),
        "440281": registry((TYPO_A, "李明"), (pid("440281", "19500505", "055"), "钱七")),
    }
    dibaos = {
        "440224": dibao((DOUBLE, "张三", "在保"), (pid("440224", "19500505", "567"), "钱七", "在保")),
        "440229": dibao((MOVER, "王大", "停保"), (ALONE_TYPO, "赵六", "停保")),  # suspended: no R8, but R9 all the same
        "440281": dibao((SWAP_B, "李明", "在保")),  # the same county as TYPO_A: R5's business, not R9's
    }
    f = find(registries, dibaos, NAMES)
    assert not one_digit_apart(TYPO_B, SWAP_B)
    assert {(r.rule, r.key) for r in f.itertuples()} == {
        ("R7", f"{MOVER}|440224|440229"),
        ("R8", f"{DOUBLE}|440229|440224"),
        ("R9", f"{TYPO_A}|440281|{TYPO_B}|440224"),  # both registered: once, from the smaller ID
        ("R9", f"{ALONE}|440224|{ALONE_TYPO}|440229"),  # a registry and another county's dibao: from the registry side
    }
    r8 = f[f["rule"] == "R8"].iloc[0]
    assert (r8.county, r8.other_county, r8.town, r8.other_town) == ("440229", "440224", "甲镇", "乙镇")
    assert r8.detail == "在翁源县建档立卡，同时在仁化县享受低保（在保）"
    assert not f["person_id"].str.contains("19500505").any()  # same name and birth, IDs three digits apart
    assert f[f["rule"] == "R9"]["detail"].str.contains("姓名、出生日期相同").all()


def test_a_county_without_data_takes_no_part():
    from fupin.reconcile.crosscheck import find

    f = find({"440224": registry((MOVER, "王大")), "440229": None}, {"440224": None, "440229": None}, NAMES)
    assert f.empty and list(f.columns)[:3] == ["rule", "key", "county"]
