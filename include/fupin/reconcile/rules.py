"""Rules R1–R6 (两项制度衔接, docs/spec/reconciliation.md) as pure functions of two snapshots.

`reconcile(registry, dibao, ...)` takes the month's poverty registry and dibao registry as
frames (warehouse columns), applies each rule's function (`RULE_CHECKS`) and returns the
findings and the two rates. No I/O: the callers
load and store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd

from fupin.ids import upgrade15
from fupin.vocab import COUNTY_TOTAL, LABOR_CAPABLE, NAME_UNCLEAN, clean_name

# rule -> (Chinese name, owner, cc)
RULES = {
    "R1": ("兜底未纳入低保", "civil_affairs", "poverty_office"),
    "R2": ("低保未建档", "poverty_office", "civil_affairs"),
    "R3": ("身份信息不一致", "both", ""),
    "R4": ("户籍构成不一致", "both", ""),
    "R5": ("疑似同一人", "both", ""),
    "R6": ("已脱贫仍低于标准", "poverty_office", "town"),
}
FINDING_COLUMNS = ["rule", "key", "town", "household_id", "card_no", "person_id", "other_id", "detail"]


@dataclass
class Result:
    findings: pd.DataFrame  # FINDING_COLUMNS
    rates: pd.DataFrame  # town, kind, numerator, denominator
    counts: dict[str, int] = field(default_factory=dict)


def normalise_id(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    return upgrade15(text) if len(text) == 15 and text.isdigit() else text


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=FINDING_COLUMNS) if rows else pd.DataFrame(columns=FINDING_COLUMNS)


def one_digit_apart(a: str, b: str) -> bool:
    """Two valid IDs whose first 17 digits differ in one place, or by one neighbour swap."""
    if len(a) != 18 or len(b) != 18 or a == b:
        return False
    diff = [i for i in range(17) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


@cache
def _pinyin(char: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(char)[0]


def sounds_alike_one_apart(a: str, b: str) -> bool:
    """Names of equal length differing in exactly one character, the two sounding the same."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 1 and _pinyin(a[diff[0]]) == _pinyin(b[diff[0]])


def _pinyin_key(name: str) -> str:
    return " ".join(_pinyin(c) for c in name)


def suspected_pairs(reg: pd.DataFrame, dib: pd.DataFrame) -> pd.DataFrame:
    """疑似同一人 among persons unmatched on both sides (never merged, only listed)."""
    cols = ["person_id", "name", "town", "village"]
    r = reg[cols].rename(columns={"person_id": "rid"})
    d = dib[cols].rename(columns={"person_id": "did"})
    same_name = r.merge(d, on=["town", "village", "name"])
    same_name = same_name.loc[np.array([one_digit_apart(a, b) for a, b in zip(same_name["rid"], same_name["did"], strict=True)], dtype=bool)]
    # same birth date, names one same-sounding character apart
    sounds = {n: _pinyin_key(n) for n in pd.concat([r["name"], d["name"]]).unique()}
    r2 = r.assign(birth=r["rid"].str.slice(6, 14), sound=r["name"].map(sounds))
    d2 = d.assign(birth=d["did"].str.slice(6, 14), sound=d["name"].map(sounds))
    alike = r2.merge(d2, on=["town", "village", "birth", "sound"], suffixes=("", "_d"))
    alike = alike.loc[np.array([sounds_alike_one_apart(a, b) for a, b in zip(alike["name"], alike["name_d"], strict=True)], dtype=bool)]
    pairs = pd.concat([same_name[["rid", "did", "town", "village", "name"]], alike[["rid", "did", "town", "village", "name"]]])
    return pairs.drop_duplicates(["rid", "did"])


REGISTRY_COLUMNS = ["household_id", "name", "town", "village", "labor_capacity", "income_per_capita", "exit_status"]
DIBAO_COLUMNS = ["dibao_card_no", "name", "town", "village", "income_per_capita", "status"]


def _prepare(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Only the columns the rules read, IDs and names normalised (IDs already are after ingest:
    the 15→18 step only touches what arrives some other way)."""
    ids = frame["id_number"]
    legacy = ids.str.len() == 15
    if legacy.any():
        ids = ids.where(~legacy, ids[legacy].map(normalise_id))
    names = frame["name"]
    odd = names.str.contains(NAME_UNCLEAN, regex=True, na=False)
    if odd.any():
        names = names.where(~odd, names[odd].map(clean_name))
    out = frame[columns].assign(person_id=ids.str.upper(), name=names)
    return out[out["person_id"].notna()]


def _yuan(value: float | None) -> str:
    """An income as the office reads it: 6,530 元; 无记录 where a registry has none (never nan)."""
    if value is None or pd.isna(value):
        return "无记录"
    return f"{value:,.0f} 元"


@dataclass(frozen=True)
class Pair:
    """The two registries of a month, prepared once for all six rules."""

    reg: pd.DataFrame  # the poverty registry, one row per person
    dib: pd.DataFrame  # the dibao registry, one row per person
    in_force: pd.DataFrame  # dibao persons 在保
    matched: pd.DataFrame  # persons in both (same ID), suffixes _r / _d
    poverty_standard: float
    exit_threshold: float

    @classmethod
    def of(cls, registry: pd.DataFrame, dibao: pd.DataFrame, poverty_standard: float, exit_threshold: float) -> Pair:
        reg = _prepare(registry, REGISTRY_COLUMNS)
        dib = _prepare(dibao, DIBAO_COLUMNS)
        matched = reg.merge(dib, on="person_id", suffixes=("_r", "_d"))
        return cls(reg, dib, dib[dib["status"] == "在保"], matched, poverty_standard, exit_threshold)

    @property
    def unable_households(self) -> pd.Index:
        """Households with no member able to work: R1's population and 应保尽保率's."""
        capable = self.reg["labor_capacity"].isin(LABOR_CAPABLE).groupby(self.reg["household_id"]).any()
        return capable[~capable].index


def r1_uncovered(p: Pair) -> pd.DataFrame:
    """R1: households with no labour capacity, a member not on dibao in force (one per household)."""
    members = p.reg[p.reg["household_id"].isin(p.unable_households)]
    uncovered = members[~members["person_id"].isin(set(p.in_force["person_id"]))]
    r1 = uncovered.groupby("household_id").agg(town=("town", "first"), n=("person_id", "size")).reset_index()
    return _frame([{"rule": "R1", "key": hid, "town": t, "household_id": hid, "detail": f"{n} 名成员未纳入低保（在保）"}
                   for hid, t, n in r1.itertuples(index=False)])


def r2_unregistered(p: Pair) -> pd.DataFrame:
    """R2: dibao persons in force, income under the standard, not in the registry (one per person)."""
    f = p.in_force
    r2 = f[(f["income_per_capita"] < p.poverty_standard) & ~f["person_id"].isin(set(p.reg["person_id"]))]
    return _frame([{"rule": "R2", "key": pid, "town": t, "card_no": card, "person_id": pid, "detail": f"家庭年人均收入 {inc:g} 元"}
                   for pid, t, card, inc in r2[["person_id", "town", "dibao_card_no", "income_per_capita"]].itertuples(index=False)])


def r3_identity(p: Pair) -> pd.DataFrame:
    """R3: matched persons whose name, town or village differ (one per person)."""
    m = p.matched
    differs = {label: m[f"{col}_r"] != m[f"{col}_d"] for label, col in (("姓名", "name"), ("镇", "town"), ("村", "village"))}
    r3 = m[differs["姓名"] | differs["镇"] | differs["村"]]
    return _frame([
        {"rule": "R3", "key": pid, "town": t, "household_id": hid, "card_no": card, "person_id": pid,
         "detail": "、".join(label for label, mask in differs.items() if mask[i]) + "不一致"}
        for i, pid, t, hid, card in zip(r3.index, r3["person_id"], r3["town_r"], r3["household_id"], r3["dibao_card_no"], strict=True)])


def r4_composition(p: Pair) -> pd.DataFrame:
    """R4: households and cards linked through matched persons, one-to-many either way."""
    links = p.matched[["household_id", "dibao_card_no", "town_r"]].drop_duplicates(["household_id", "dibao_card_no"])
    per_card = links.groupby("dibao_card_no")["household_id"].nunique()
    per_household = links.groupby("household_id")["dibao_card_no"].nunique()
    town_of_card = links.drop_duplicates("dibao_card_no").set_index("dibao_card_no")["town_r"]
    town_of_household = links.drop_duplicates("household_id").set_index("household_id")["town_r"]
    return _frame(
        [{"rule": "R4", "key": f"card:{c}", "town": town_of_card[c], "card_no": c, "detail": f"低保证成员分属 {n} 个建档立卡户"}
         for c, n in per_card[per_card > 1].items()]
        + [{"rule": "R4", "key": f"household:{h}", "town": town_of_household[h], "household_id": h, "detail": f"户内成员持有 {n} 个低保证"}
           for h, n in per_household[per_household > 1].items()])


def r5_same_person(p: Pair) -> pd.DataFrame:
    """R5: suspected same person among the unmatched on both sides (one per pair)."""
    both = set(p.matched["person_id"])
    pairs = suspected_pairs(p.reg[~p.reg["person_id"].isin(both)], p.dib[~p.dib["person_id"].isin(both)])
    return _frame([{"rule": "R5", "key": f"{rid}|{did}", "town": t, "person_id": rid, "other_id": did, "detail": f"{v} 同名或同音、身份证号相近"}
                   for rid, did, t, v, _ in pairs.itertuples(index=False)])


def r6_exited_below(p: Pair) -> pd.DataFrame:
    """R6: exited persons whose household income (either registry) is under the year's threshold."""
    dib_income = p.matched.groupby("household_id")["income_per_capita_d"].min()
    reg_income = p.reg.groupby("household_id")["income_per_capita"].min()
    low = set(reg_income[reg_income < p.exit_threshold].index) | set(dib_income[dib_income < p.exit_threshold].index)
    r6 = p.reg[(p.reg["exit_status"] == "已脱贫") & p.reg["household_id"].isin(low)]
    return _frame([
        {"rule": "R6", "key": pid, "town": t, "household_id": hid, "person_id": pid,
         "detail": f"脱贫标准 {_yuan(p.exit_threshold)}，建档立卡 {_yuan(reg_income.get(hid))}，低保 {_yuan(dib_income.get(hid))}"}
        for pid, t, hid in r6[["person_id", "town", "household_id"]].itertuples(index=False)])


RULE_CHECKS = {"R1": r1_uncovered, "R2": r2_unregistered, "R3": r3_identity, "R4": r4_composition, "R5": r5_same_person,
               "R6": r6_exited_below}


def reconcile(registry: pd.DataFrame, dibao: pd.DataFrame, *, poverty_standard: float, exit_threshold: float) -> Result:
    """Every rule on the month's two registries, and the two rates."""
    pair = Pair.of(registry, dibao, poverty_standard, exit_threshold)
    found = {rule: check(pair) for rule, check in RULE_CHECKS.items()}
    all_findings = pd.concat([f for f in found.values() if not f.empty] or [_frame([])], ignore_index=True)
    counts = all_findings["rule"].value_counts().to_dict()
    return Result(all_findings, _rates(pair, set(found["R1"]["household_id"])), {r: int(counts.get(r, 0)) for r in RULES})


def _rates(p: Pair, uncovered: set) -> pd.DataFrame:
    """应保尽保率 and 应扶尽扶率 per town and for the county (numerator, denominator)."""
    town_of = p.reg.drop_duplicates("household_id").set_index("household_id")["town"]
    target = pd.DataFrame({"household_id": list(p.unable_households)})
    target["town"] = target["household_id"].map(town_of)
    target["ok"] = ~target["household_id"].isin(uncovered)
    cards = p.in_force[p.in_force["income_per_capita"] < p.poverty_standard].drop_duplicates("dibao_card_no")[["dibao_card_no", "town"]].copy()
    cards["ok"] = cards["dibao_card_no"].isin(set(p.matched["dibao_card_no"]))
    out = []
    for kind, frame in (("应保尽保率", target), ("应扶尽扶率", cards)):
        by_town = frame.groupby("town")["ok"].agg(["sum", "size"])
        out += [{"town": t, "kind": kind, "numerator": int(s), "denominator": int(n)} for t, (s, n) in by_town.iterrows()]
        out.append({"town": COUNTY_TOTAL, "kind": kind, "numerator": int(frame["ok"].sum()), "denominator": int(len(frame))})
    return pd.DataFrame(out, columns=["town", "kind", "numerator", "denominator"])

