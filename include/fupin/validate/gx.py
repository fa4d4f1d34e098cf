"""Run a dataset's stored suite over its typed frame with Great Expectations 1.x core.

One ephemeral context per process (importing GX costs seconds; building a context is cheap
after that). A failing expectation becomes one issue per failing row; an expectation that
could not be computed is a fault of ours, not of the file, and raises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from fupin import ids
from fupin.config import Column, Dataset, geography
from fupin.validate.issues import Issue, amount, issue
from fupin.validate.suggest import did_you_mean
from fupin.validate.suites import TOWNS, load_suite, pattern_parameter, suite_path


class ValidationFault(RuntimeError):
    """GX could not evaluate an expectation: a bug or an environment problem, retryable."""


@cache
def _context() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins this module's logger at INFO on import (a line per context): let the process decide
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.NOTSET)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


@cache
def _batch_definition(dataset: str) -> Any:
    ctx = _context()
    asset = ctx.data_sources.add_pandas(f"fupin_{dataset}").add_dataframe_asset(dataset)
    return asset.add_batch_definition_whole_dataframe(dataset)


def _suite(dataset: str) -> Any:
    """The suite the active county runs for `dataset` (its own `expectations/`, else the project's)."""
    return _suite_at(suite_path(dataset))


@cache
def _suite_at(path: Path) -> Any:
    import great_expectations as gx

    spec = load_suite(path)
    # one context holds every county's suites: named by file, not by dataset
    spec["name"] = f"{spec['name']}@{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    return _context().suites.add(gx.ExpectationSuite(**spec))


def suite_parameters(ds: Dataset, month_end: dt.date) -> dict[str, Any]:
    """What the stored suites leave to the county and the month: its towns, its patterns (its
    code filled in), the first and last days of the reporting month."""
    return {"month_end": dt.datetime.combine(month_end, dt.time()), "month_start": dt.datetime.combine(month_end.replace(day=1), dt.time()),
            TOWNS: sorted(geography().towns),
            **{pattern_parameter(c.key): c.pattern for c in ds.columns if c.pattern}}


def run_suite(ds: Dataset, frame: pd.DataFrame, month_end: dt.date, headers: dict[tuple[str, str], str]) -> list[Issue]:
    """Issues for every row an expectation of `ds`'s suite rejects.

    `headers` maps (sheet, key) to the header as the clerk wrote it, for the receipt.
    """
    if frame.empty:
        return []
    frame = frame.reset_index(drop=True)
    batch = _batch_definition(ds.name).get_batch(batch_parameters={"dataframe": frame})
    params = suite_parameters(ds, month_end)
    # Most files pass: a yes/no run is twice as fast; only a failing file pays for the row lists.
    result = batch.validate(_suite(ds.name), expectation_parameters=params, result_format={"result_format": "BOOLEAN_ONLY"})
    _raise_on_fault(ds, result)
    if result.success:
        return []
    result = batch.validate(_suite(ds.name), expectation_parameters=params, result_format={"result_format": "COMPLETE"})
    _raise_on_fault(ds, result)
    out: list[Issue] = []
    sheets, rows = frame["sheet"].tolist(), frame["row_no"].tolist()
    for res in result.results:
        if res.success:
            continue
        meta = res.expectation_config.meta
        key = meta["column"]
        col = ds.column(key)
        choices = _choices(meta["rule"], col)
        hints: dict[object, str] = {}
        for pos in res.result.get("unexpected_index_list") or []:
            value = frame.at[pos, key]
            shown = None if _missing(value) else (ids.mask(value) if col.personal else show_value(value, col))
            if choices and value not in hints:
                hints[value] = did_you_mean(value, choices)
            out.append(
                issue(
                    meta["rule"], sheet=sheets[pos], row=rows[pos],
                    column=headers.get((sheets[pos], key), col.header), value=shown, detail=hints.get(value) or None,
                    values=meta.get("values", ""), min=meta.get("min", ""), max=meta.get("max", ""),
                    other=meta.get("other", ""), condition=meta.get("condition", ""), pattern_text=col.pattern_text or "",
                    example=next(iter(geography().towns), ""),
                )
            )
    return out


def _choices(rule: str, col: Column) -> list[str]:
    """The closed set a failing value should have come from, for a did-you-mean."""
    if rule == "town":
        return list(geography().towns)
    if rule == "enum" and col.type == "enum":
        return list(col.values)
    return []


def _raise_on_fault(ds: Dataset, result: Any) -> None:
    for res in result.results:
        info = res.exception_info or {}
        if info.get("raised_exception") or any(isinstance(v, dict) and v.get("raised_exception") for v in info.values()):
            raise ValidationFault(f"expectation {res.expectation_config.type} on {ds.name} could not run")


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def show_value(value: object, col: Column) -> str:
    """A typed value as a clerk writes it: 99,999 元, 2017年6月1日, 是."""
    if isinstance(value, pd.Timestamp | dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float) and col.type in ("money", "int"):
        return amount(value, col.unit)
    return str(value)[:50]

