"""Cross-row rules that expectation suites cannot state, as pure functions over a typed frame.

Each returns issues in the same shape as the suites' failures, so the receipt does not care
which of the two found a problem.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from fupin.config import Dataset, geography
from fupin.ids import mask, parse_id, uscc_valid
from fupin.validate.issues import Issue, issue
from fupin.validate.suggest import did_you_mean

Headers = dict[tuple[str, str], str]


def _header(headers: Headers, ds: Dataset, sheet: str, key: str) -> str:
    return headers.get((sheet, key), ds.column(key).header)


def one_head_per_household(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    """建档立卡: every household has exactly one 户主."""
    known = frame[frame["household_id"].notna()]
    heads = known["relation"].eq("户主").groupby(known["household_id"]).sum()
    bad = heads[heads != 1]
    if bad.empty:
        return []
    first = known.drop_duplicates("household_id").set_index("household_id").loc[bad.index]
    return [
        issue("one_head", sheet=r.sheet, row=r.row_no, column=_header(headers, ds, r.sheet, "relation"),
              value=str(hid), detail=f"户编号 {hid} 有 {int(bad[hid])} 名户主")
        for hid, r in zip(first.index, first.itertuples(), strict=True)
    ]


def same_income_per_household(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    """All members of a household report the same income per capita."""
    known = frame[frame["household_id"].notna() & frame["income_per_capita"].notna()]
    spread = known.groupby("household_id")["income_per_capita"].nunique()
    bad = spread[spread > 1].index
    if bad.empty:
        return []
    rows = known[known["household_id"].isin(bad)].drop_duplicates("household_id")
    return [
        issue("same_income", sheet=r.sheet, row=r.row_no, column=_header(headers, ds, r.sheet, "income_per_capita"),
              value=str(r.household_id), detail=f"户编号 {r.household_id}")
        for r in rows.itertuples()
    ]


def village_in_town(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    """The village must be one of the reference villages of the row's town."""
    if "village" not in frame:
        return []
    by_town = geography().villages_by_town
    pairs = frame[["town", "village"]].drop_duplicates().dropna()
    bad = {(t, v) for t, v in pairs.itertuples(index=False) if t in by_town and v not in by_town[t]}
    if not bad:
        return []
    where = {v.name: v.town for v in geography().villages}
    hints = {(t, v): _village_hint(t, v, by_town[t], where) for t, v in bad}
    rows = [(t, v) in bad for t, v in zip(frame["town"], frame["village"], strict=True)]
    return [
        issue("village", sheet=r.sheet, row=r.row_no, column=_header(headers, ds, r.sheet, "village"),
              value=f"{r.town} {r.village}", detail=hints[(r.town, r.village)] or None)
        for r in frame[rows].itertuples()
    ]


def _village_hint(town: str, village: str, own: set[str], where: dict[str, str]) -> str:
    """是否为 a village of the row's town; or where the reference list puts the village."""
    hint = did_you_mean(village, sorted(own))
    if hint:
        return hint
    if village in where:
        return f"参考名录中{village}属于{where[village]}，请核对所填的镇（街）"
    return ""


def every_village_once(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    """饮水: one row for every village of the county, no more, no fewer."""
    out: list[Issue] = []
    dup = frame[frame.duplicated(["town", "village"], keep="first") & frame["village"].notna()]
    out += [
        issue("unique", sheet=r.sheet, row=r.row_no, column=_header(headers, ds, r.sheet, "village"), value=f"{r.town} {r.village}")
        for r in dup.itertuples()
    ]
    present = set(zip(frame["town"], frame["village"], strict=True))
    missing = [f"{v.town}{v.name}" for v in geography().villages if (v.town, v.name) not in present]
    if missing:
        shown = "、".join(missing[:10]) + (f" 等 {len(missing)} 个村" if len(missing) > 10 else "")
        out.append(issue("missing_villages", detail=shown))
    return out


def natural_key(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    """Each row of a file stands for one thing (its dataset's `key`): rows sharing a key are
    all reported, each naming the other rows."""
    keys = [k for k in ds.key if k in frame]
    if not keys or frame.empty:
        return []
    known = frame.dropna(subset=keys)
    dup = known[known.duplicated(keys, keep=False)]
    if dup.empty:
        return []
    what = {"id_number": "人", "household_id": "户"}.get(keys[0], "记录")
    personal = ds.column(keys[0]).personal
    out: list[Issue] = []
    for _, group in dup.groupby(keys, sort=False):
        places = list(zip(group["sheet"], group["row_no"], strict=True))
        for sheet, row in places:
            others = [f"第 {r} 行" if s == sheet else f"工作表“{s}”第 {r} 行" for s, r in places if (s, r) != (sheet, row)]
            value = group[keys[0]].iloc[0]
            out.append(issue("duplicate_row", sheet=sheet, row=row, column=_header(headers, ds, sheet, keys[0]),
                             value=mask(value) if personal else str(value), detail="与" + "、".join(others[:3]) + ("等" if len(others) > 3 else "") + "相同",
                             what=what))
    return out


HOUSEHOLD_PAYEE = "农户"


def payee_id_valid(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    """拨付明细: a household is paid under its 身份证号 (a valid one, check digit included), any
    other payee under its 统一社会信用代码 (GB 32100, check character included)."""
    out = []
    for r in frame[frame["payee_id"].notna()].itertuples():
        code = str(r.payee_id).strip().upper()
        ok = parse_id(code).rule is None if r.payee_type == HOUSEHOLD_PAYEE else uscc_valid(code)
        if not ok:
            kind = "身份证号" if r.payee_type == HOUSEHOLD_PAYEE else "统一社会信用代码"
            out.append(issue("payee_id", sheet=r.sheet, row=r.row_no, column=_header(headers, ds, r.sheet, "payee_id"),
                             value=mask(code), detail=f"收款对象为{r.payee_type or '（未填）'}，应为有效的{kind}"))
    return out


# a project's actual dates, each not before the one it follows
DATE_ORDER = (("started_on", "approved_on"), ("completed_on", "started_on"), ("accepted_on", "completed_on"))


def project_dates_in_order(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    """扶贫项目库: 开工 not before 立项, 完工 not before 开工, 验收 not before 完工 (actual dates)."""
    out = []
    for later, earlier in DATE_ORDER:
        both = frame[frame[later].notna() & frame[earlier].notna()]
        bad = both[[a < b for a, b in zip(both[later], both[earlier], strict=True)]]
        out += [issue("date_order", sheet=r.sheet, row=r.row_no, column=_header(headers, ds, r.sheet, later),
                      value=str(getattr(r, later)), other=_header(headers, ds, r.sheet, earlier),
                      detail=f"{_header(headers, ds, r.sheet, earlier)}为 {getattr(r, earlier)}")
                for r in bad.itertuples()]
    return out


RULES: dict[str, Callable[[Dataset, pd.DataFrame, Headers], list[Issue]]] = {
    "payee_id_valid": payee_id_valid,
    "project_dates_in_order": project_dates_in_order,
    "one_head_per_household": one_head_per_household,
    "same_income_per_household": same_income_per_household,
    "village_in_town": village_in_town,
    "every_village_once": every_village_once,
}


def run_rules(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    out: list[Issue] = natural_key(ds, frame, headers)
    for name in ds.rules:
        out += RULES[name](ds, frame, headers)
    return out
