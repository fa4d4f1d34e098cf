"""Great Expectations suites: built from the contracts, stored as JSON in `expectations/`.

The JSON files are what runs (`load_suite`); `build_suite` is how they are (re)written
(`fupin expectations build`), and a test keeps the two in step with `config/contracts.yaml`.
Each expectation's `meta` names the contract rule and column it carries, so a failure becomes
an issue a clerk can read.

A suite holds nothing of one county: the towns and the county's patterns (its code in the
household number) are suite parameters (`$PARAMETER`) filled at validation time from the active
county's geography and contracts, so every county with the project's contracts runs the
project's suites. A county with contracts of its own keeps its suites in its config dir's
`expectations/` (`fupin --county CODE expectations build` writes them there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fupin.config import Column, Dataset, config_dir, contracts, county_file, project_root
from fupin.validate.issues import amount

ID_PATTERN = r"^\d{17}[\dX]$"
TOWNS = "towns"  # the suite parameter holding the county's towns


def pattern_parameter(key: str) -> str:
    """The suite parameter holding a column's pattern, the county's values filled in."""
    return f"pattern_{key}"


def suite_path(dataset: str) -> Path:
    """The active county's suite for `dataset`: its own config dir's, else the project's."""
    return county_file("expectations", f"{dataset}.json")


def own_suite_path(dataset: str) -> Path:
    """Where `fupin expectations build` writes: the county's config dir if it has one."""
    own = config_dir()
    return (own if own else project_root()) / "expectations" / f"{dataset}.json"


def _exp(type_: str, rule: str, key: str, **kwargs: Any) -> dict[str, Any]:
    meta = {"rule": rule, "column": key}
    for k in ("values", "min", "max", "other", "condition"):
        if k in kwargs:
            meta[k] = kwargs.pop(k)
    return {"type": type_, "kwargs": kwargs, "meta": meta}


def build_suite(ds: Dataset) -> dict[str, Any]:
    """The suite of one dataset, as the JSON dict GX reads back with `ExpectationSuite(**d)`."""
    exps = [e for col in ds.columns for part in (_presence, _allowed, _bounds) for e in part(ds, col)]
    return {"name": ds.name, "expectations": exps, "meta": {"source": ds.source, "title": ds.title}}


def _presence(ds: Dataset, col: Column) -> list[dict[str, Any]]:
    """Required, or required when another column of the row holds given values."""
    key = col.key
    if col.required is True:
        return [_exp("expect_column_values_to_not_be_null", "required", key, column=key)]
    if col.required:
        cond = col.required
        return [_exp("expect_column_values_to_not_be_null", "required_if", key, column=key,
                     condition=f"“{ds.column(cond.column).header}”为{'/'.join(_show(v) for v in cond.values)}",
                     row_condition=_condition(cond.column, cond.values))]
    return []


def _allowed(_ds: Dataset, col: Column) -> list[dict[str, Any]]:
    """The values a column may hold: its list, the county's towns, booleans, the ID and other patterns, uniqueness."""
    key = col.key
    out = []
    if col.type == "enum":
        out.append(_exp("expect_column_values_to_be_in_set", "enum", key, column=key, value_set=list(col.values), values="、".join(col.values)))
    elif col.type == "town":
        out.append(_exp("expect_column_values_to_be_in_set", "town", key, column=key, value_set={"$PARAMETER": TOWNS}))
    elif col.type == "bool":
        out.append(_exp("expect_column_values_to_be_in_set", "enum", key, column=key, value_set=[True, False], values="是、否"))
    elif col.type == "id":
        out.append(_exp("expect_column_values_to_match_regex", "id_format", key, column=key, regex=ID_PATTERN))
    if col.pattern:
        out.append(_exp("expect_column_values_to_match_regex", "pattern", key, column=key, regex={"$PARAMETER": pattern_parameter(key)}))
    if col.unique:
        out.append(_exp("expect_column_values_to_be_unique", "unique", key, column=key))
    return out


def _bounds(ds: Dataset, col: Column) -> list[dict[str, Any]]:
    """Numeric ranges, text lengths, dates not after the month, a value not above another column's."""
    key = col.key
    out = []
    if col.min is not None or col.max is not None:
        bounds = {k: v for k, v in (("min_value", col.min), ("max_value", col.max)) if v is not None}
        out.append(_exp("expect_column_values_to_be_between", "range", key, column=key, min=_num(col.min), max=_num(col.max), **bounds))
    if col.min_length is not None or col.max_length is not None:
        out.append(_exp("expect_column_value_lengths_to_be_between", "length", key, column=key,
                        min_value=col.min_length, max_value=col.max_length, min=col.min_length, max=col.max_length))
    if col.not_after_month:
        out.append(_exp("expect_column_values_to_be_between", "after_month", key, column=key, max_value={"$PARAMETER": "month_end"}))
    if col.not_before_month:
        out.append(_exp("expect_column_values_to_be_between", "before_month", key, column=key, min_value={"$PARAMETER": "month_start"}))
    if col.not_above:
        other = ds.column(col.not_above)
        out.append(_exp("expect_column_pair_values_a_to_be_greater_than_b", "not_above", key,
                        column_A=other.key, column_B=key, or_equal=True, ignore_row_if="either_value_is_missing", other=other.header))
    return out


def _condition(column: str, values: tuple) -> dict[str, Any]:
    """A GX row condition: `column == v` for one value (GX's IN takes no booleans), else IN."""
    if len(values) == 1:
        return {"type": "comparison", "column": {"name": column}, "operator": "==", "parameter": values[0]}
    return {"type": "comparison", "column": {"name": column}, "operator": "IN", "parameter": list(values)}


def _show(v: object) -> str:
    return {True: "是", False: "否"}.get(v, str(v)) if isinstance(v, bool) else str(v)


def _num(v: float | None) -> str:
    if v is None:
        return "不限"
    return amount(v)  # 2,000,000 as people write it


def write_suites() -> list[Path]:
    paths = []
    for ds in contracts().datasets.values():
        path = own_suite_path(ds.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(build_suite(ds), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def load_suite(path: Path | str) -> dict[str, Any]:
    """A stored suite: by path, or by dataset name (the active county's)."""
    path = Path(path) if isinstance(path, Path) or "/" in str(path) else suite_path(str(path))
    return json.loads(path.read_text(encoding="utf-8"))
