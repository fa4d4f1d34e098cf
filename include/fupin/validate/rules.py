"""Cross-row rules that expectation suites cannot state, as pure functions over a typed frame.

Each returns issues in the same shape as the suites' failures, so the receipt does not care
which of the two found a problem.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from fupin.config import Dataset, geography
from fupin.validate.issues import Issue, issue

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
    mask = [(t, v) in bad for t, v in zip(frame["town"], frame["village"], strict=True)]
    return [
        issue("village", sheet=r.sheet, row=r.row_no, column=_header(headers, ds, r.sheet, "village"),
              value=f"{r.town} {r.village}")
        for r in frame[mask].itertuples()
    ]


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


RULES: dict[str, Callable[[Dataset, pd.DataFrame, Headers], list[Issue]]] = {
    "one_head_per_household": one_head_per_household,
    "same_income_per_household": same_income_per_household,
    "village_in_town": village_in_town,
    "every_village_once": every_village_once,
}


def run_rules(ds: Dataset, frame: pd.DataFrame, headers: Headers) -> list[Issue]:
    out: list[Issue] = []
    for name in ds.rules:
        out += RULES[name](ds, frame, headers)
    return out
