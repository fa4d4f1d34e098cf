"""Rules R1–R6 (两项制度衔接, docs/spec/reconciliation.md) on an embedded columnar engine.

`reconcile(registry, dibao, ...)` takes the month's poverty registry and dibao registry — Arrow
tables as the read layer hands them (`queries.snapshot_arrow`), or pandas frames — and returns
the findings and the two rates. The joins and aggregations run as SQL in an in-memory DuckDB
(`engine.Session`): chosen over pandas and polars by measurement (bench/README.md: at a
province's scale the pandas rules took 22 s, polars 6.9 s, DuckDB 4 s on the same frames, and
DuckDB reads the warehouse's Arrow without a copy). Python keeps what is tiny or needs Python
(the 15→18 upgrade and name cleaning of the few odd values, the pinyin of names, the detail
text of each finding). No I/O: the callers load and store.

Rows keep the order they came in (`_row`), so where a rule takes "the first" (a household's
town, a card's town) it takes what the pandas rules took, and findings come out in the same
order: by key for R1 and R4, as the registries list them for the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import pandas as pd

from fupin.ids import upgrade15
from fupin.reconcile.engine import Session
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

# What the rules read of each registry: the read layer fetches only these.
RULE_COLUMNS = {
    "registry": ["id_number", "household_id", "name", "town", "village", "labor_capacity", "income_per_capita", "exit_status"],
    "dibao": ["id_number", "dibao_card_no", "name", "town", "village", "income_per_capita", "status"],
}
IN_FORCE = "在保"
EXITED = "已脱贫"


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
    """Two valid IDs whose first 17 digits differ in one place, or by one neighbour swap
    (the same test as the SQL macro `one_digit_apart` of `engine`)."""
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


def _yuan(value: float | None) -> str:
    """An income as the office reads it: 6,530 元; 无记录 where a registry has none (never nan)."""
    if value is None or pd.isna(value):
        return "无记录"
    return f"{value:,.0f} 元"


# --- preparing the two registries ---------------------------------------------------------------

def prepare(s: Session, name: str, source: object, columns: list[str]) -> None:
    """Table `name`: `source`'s rows with a non-empty ID, `person_id` normalised (upper-case,
    15→18 digits) and names cleaned (spaces, one kind of middle dot), in their order (`_row`).
    Only the odd values go through Python: the IDs of 15 characters and the names holding a
    character that is not a Han one."""
    s.register(f"{name}_in", source, columns)
    odd_ids = {v: normalise_id(v) for v in s.values(f"select distinct id_number from {name}_in where length(id_number) = 15")}
    odd_names = s.values(rf"select distinct name from {name}_in where regexp_matches(name, '[^\p{{Han}}]')")
    cleaned = {v: clean_name(v) for v in odd_names if re.search(NAME_UNCLEAN, v)}
    person_id, full_name, joins = "t.id_number", "t.name", []
    if odd_ids:  # a join only where there is something to map: most months have nothing odd
        s.mapping(f"{name}_ids", odd_ids)
        person_id = "case when length(t.id_number) = 15 then i.v else t.id_number end"
        joins.append(f"left join {name}_ids i on i.k = t.id_number")
    if cleaned:
        s.mapping(f"{name}_names", cleaned)
        full_name = "coalesce(n.v, t.name)"
        joins.append(f"left join {name}_names n on n.k = t.name")
    cols = ", ".join(f"t.{c}" for c in columns if c not in ("id_number", "name"))
    s.sql(f"""create or replace temp table {name} as
        select * from (
          select t._row, upper({person_id}) as person_id, {full_name} as name, {cols}
          from {name}_in t {" ".join(joins)})
        where person_id is not null""")


def _pair(s: Session, poverty_standard: float) -> None:
    """What every rule shares: dibao in force, the matched persons, each registry household (able
    to work, lowest income, town) and those with no member able to work (R1's population and
    应保尽保率's)."""
    s.sql(f"create or replace temp view in_force as select * from dib where status = '{IN_FORCE}'")
    s.sql("""create or replace temp table matched as
        select r.person_id, r.household_id, r._row as r_row, d._row as d_row, d.dibao_card_no,
               r.name as name_r, d.name as name_d, r.town as town_r, d.town as town_d,
               r.village as village_r, d.village as village_d, d.income_per_capita as income_d
        from reg r join dib d using (person_id)""")
    capable = ", ".join(f"'{v}'" for v in LABOR_CAPABLE)
    s.sql(f"""create or replace temp table households as
        select household_id, coalesce(bool_or(coalesce(labor_capacity in ({capable}), false)), false) as capable,
               min(income_per_capita) as income, first(town order by _row) as town
        from reg where household_id is not null group by household_id""")
    s.sql("create or replace temp view unable as select household_id, town from households where not capable")
    s.sql("""create or replace temp table r1_households as
        select household_id, count(*) as n,
               first(town order by _row) filter (where town is not null) as town
        from reg
        where household_id in (select household_id from unable)
          and person_id not in (select person_id from in_force)
        group by household_id""")
    s.sql(f"""create or replace temp table poor_cards as
        select dibao_card_no, first(town order by _row) as town,
               dibao_card_no in (select dibao_card_no from matched) as ok
        from in_force where income_per_capita < {float(poverty_standard)!r}
        group by dibao_card_no""")


# --- the rules ---------------------------------------------------------------------------------

def r1_uncovered(s: Session, p: Params) -> pd.DataFrame:
    """R1: households with no labour capacity, a member not on dibao in force (one per household)."""
    rows = s.rows("select household_id, town, n from r1_households order by household_id")
    return _frame([{"rule": "R1", "key": hid, "town": t, "household_id": hid, "detail": f"{n} 名成员未纳入低保（在保）"}
                   for hid, t, n in rows])


def r2_unregistered(s: Session, p: Params) -> pd.DataFrame:
    """R2: dibao persons in force, income under the standard, not in the registry (one per person)."""
    rows = s.rows(f"""select person_id, town, dibao_card_no, income_per_capita from in_force
        where income_per_capita < {p.poverty_standard!r} and person_id not in (select person_id from reg)
        order by _row""")
    return _frame([{"rule": "R2", "key": pid, "town": t, "card_no": card, "person_id": pid, "detail": f"家庭年人均收入 {inc:g} 元"}
                   for pid, t, card, inc in rows])


def r3_identity(s: Session, p: Params) -> pd.DataFrame:
    """R3: matched persons whose name, town or village differ (one per person)."""
    rows = s.rows("""select person_id, town_r, household_id, dibao_card_no, name_r is distinct from name_d,
               town_r is distinct from town_d, village_r is distinct from village_d
        from matched
        where name_r is distinct from name_d or town_r is distinct from town_d or village_r is distinct from village_d
        order by r_row, d_row""")
    labels = ("姓名", "镇", "村")
    return _frame([
        {"rule": "R3", "key": pid, "town": t, "household_id": hid, "card_no": card, "person_id": pid,
         "detail": "、".join(label for label, differs in zip(labels, flags, strict=True) if differs) + "不一致"}
        for pid, t, hid, card, *flags in rows])


def r4_composition(s: Session, p: Params) -> pd.DataFrame:
    """R4: households and cards linked through matched persons, one-to-many either way."""
    s.sql("""create or replace temp view links as
        select household_id, dibao_card_no, first(town_r order by r_row, d_row) as town, min(r_row) as r_row, min(d_row) as d_row
        from matched group by household_id, dibao_card_no""")
    cards = s.rows("""select dibao_card_no, first(town order by r_row, d_row), count(distinct household_id) as n
        from links where dibao_card_no is not null group by dibao_card_no having n > 1 order by dibao_card_no""")
    households = s.rows("""select household_id, first(town order by r_row, d_row), count(distinct dibao_card_no) as n
        from links where household_id is not null group by household_id having n > 1 order by household_id""")
    return _frame(
        [{"rule": "R4", "key": f"card:{c}", "town": t, "card_no": c, "detail": f"低保证成员分属 {n} 个建档立卡户"} for c, t, n in cards]
        + [{"rule": "R4", "key": f"household:{h}", "town": t, "household_id": h, "detail": f"户内成员持有 {n} 个低保证"}
           for h, t, n in households])


def r5_same_person(s: Session, p: Params) -> pd.DataFrame:
    """R5: suspected same person among the unmatched on both sides (one per pair): the same
    village and name with IDs one digit or one swap apart, or the same village and birth date
    with names one same-sounding character apart. Never merged, only listed."""
    for side, table in (("reg_u", "reg"), ("dib_u", "dib")):
        s.sql(f"""create or replace temp table {side} as
            select _row, person_id, name, town, village, substr(person_id, 7, 8) as birth from {table}
            where person_id not in (select person_id from matched)""")
    same_name = s.rows("""select r.person_id, d.person_id, r.town, r.village from reg_u r
        join dib_u d on r.town = d.town and r.village = d.village and r.name = d.name
        where one_digit_apart(r.person_id, d.person_id) order by r._row, d._row""")
    # same village and birth date, names of one length one character apart: the few such pairs
    # are judged by ear in Python (pinyin of the one differing character)
    alike = s.rows("""select r.person_id, d.person_id, r.town, r.village, r.name, d.name from reg_u r
        join dib_u d on r.town = d.town and r.village = d.village and r.birth = d.birth
        where length(r.name) = length(d.name) and r.name <> d.name
        order by r._row, d._row""")
    # (registry ID, dibao ID) -> (town, village); the first seen wins, the same-name pairs first.
    # The detail names the village, not the person: the finding already carries two ID numbers.
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for rid, did, t, v in same_name:
        pairs.setdefault((rid, did), (t, v))
    for rid, did, t, v, name_r, name_d in alike:
        if sounds_alike_one_apart(name_r, name_d):
            pairs.setdefault((rid, did), (t, v))
    return _frame([{"rule": "R5", "key": f"{rid}|{did}", "town": t, "person_id": rid, "other_id": did,
                    "detail": f"{v} 同名或同音、身份证号相近"} for (rid, did), (t, v) in pairs.items()])


def r6_exited_below(s: Session, p: Params) -> pd.DataFrame:
    """R6: exited persons whose household income (either registry) is under the year's threshold."""
    rows = s.rows(f"""with dib_income as (select household_id, min(income_d) as v from matched group by household_id)
        select r.person_id, r.town, r.household_id, ri.income, di.v from reg r
        left join households ri using (household_id)
        left join dib_income di using (household_id)
        where r.exit_status = '{EXITED}' and (ri.income < {p.exit_threshold!r} or di.v < {p.exit_threshold!r})
        order by r._row""")
    return _frame([
        {"rule": "R6", "key": pid, "town": t, "household_id": hid, "person_id": pid,
         "detail": f"脱贫标准 {_yuan(p.exit_threshold)}，建档立卡 {_yuan(reg_v)}，低保 {_yuan(dib_v)}"}
        for pid, t, hid, reg_v, dib_v in rows])


@dataclass(frozen=True)
class Params:
    poverty_standard: float
    exit_threshold: float


RULE_CHECKS = {"R1": r1_uncovered, "R2": r2_unregistered, "R3": r3_identity, "R4": r4_composition, "R5": r5_same_person,
               "R6": r6_exited_below}


def reconcile(registry: object, dibao: object, *, poverty_standard: float, exit_threshold: float) -> Result:
    """Every rule on the month's two registries (Arrow tables or pandas frames), and the two rates."""
    params = Params(float(poverty_standard), float(exit_threshold))
    with Session() as s:
        prepare(s, "reg", registry, RULE_COLUMNS["registry"])
        prepare(s, "dib", dibao, RULE_COLUMNS["dibao"])
        _pair(s, params.poverty_standard)
        found = {rule: check(s, params) for rule, check in RULE_CHECKS.items()}
        rates = _rates(s)
    all_findings = pd.concat([f for f in found.values() if not f.empty] or [_frame([])], ignore_index=True)
    counts = all_findings["rule"].value_counts().to_dict()
    return Result(all_findings, rates, {r: int(counts.get(r, 0)) for r in RULES})


def _rates(s: Session) -> pd.DataFrame:
    """应保尽保率 and 应扶尽扶率 per town and for the county (numerator, denominator): the
    households of R1's kind not in R1, and the cards in force under the standard with a member
    in the registry."""
    s.sql("""create or replace temp table unable_ok as
        select household_id, town, household_id not in (select household_id from r1_households) as ok from unable""")
    out = []
    for kind, table in (("应保尽保率", "unable_ok"), ("应扶尽扶率", "poor_cards")):
        by_town = s.rows(f"select town, count(*) filter (where ok), count(*) from {table} where town is not null group by town order by town")
        out += [{"town": t, "kind": kind, "numerator": int(num), "denominator": int(den)} for t, num, den in by_town]
        num, den = s.rows(f"select count(*) filter (where ok), count(*) from {table}")[0]
        out.append({"town": COUNTY_TOTAL, "kind": kind, "numerator": int(num), "denominator": int(den)})
    return pd.DataFrame(out, columns=["town", "kind", "numerator", "denominator"])
