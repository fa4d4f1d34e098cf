"""Cells as clerks type them → typed values, one parser per contract type.

A cell that is filled but cannot be read as its type becomes null here and is reported with
the rule it broke; emptiness, enumerations, ranges and uniqueness are the expectation suites'
job (fupin.validate), so each is judged in one place only.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from fupin import ids
from fupin.config import Column, fold, geography, id_prefixes
from fupin.ingest.sheets import SheetTable
from fupin.validate.issues import Issue, issue
from fupin.vocab import clean_name

Parsed = tuple[Any, str | None]  # (value, rule broken or None)

_TRUE = {"是", "有", "√", "✓", "Y", "YES", "1", "已参保", "参保", "TRUE", "达标", "已达标", "已标准化"}
_FALSE = {"否", "无", "×", "✗", "N", "NO", "0", "未参保", "FALSE", "不达标", "未达标", "未标准化"}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?$")
_DATE8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# C0/C1 control characters other than tab and line breaks (which are folded as spaces):
# a NUL or an escape in a cell is pasted garbage, and PostgreSQL refuses NUL outright
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def parse_text(cell: object) -> Parsed:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return " ".join(str(cell).replace("\u3000", " ").split()), None


def parse_name(cell: object) -> Parsed:
    return clean_name(cell), None


def parse_money(cell: object) -> Parsed:
    if isinstance(cell, bool):
        return None, "money_format"
    if isinstance(cell, (int, float)):
        value = float(cell)
    else:
        text = fold(str(cell)).replace(",", "").replace("元", "").replace("¥", "").replace("￥", "")
        try:
            value = float(text)
        except ValueError:
            return None, "money_format"
    if not math.isfinite(value):  # "inf", "Infinity", "NaN" parse as floats
        return None, "not_finite"
    return value, None


def parse_int(cell: object) -> Parsed:
    value, rule = parse_money(cell)
    if rule == "not_finite":
        return None, rule
    if rule or value is None or not float(value).is_integer():
        return None, "int_format"
    return int(value), None


def parse_date(cell: object) -> Parsed:
    if isinstance(cell, dt.datetime):
        return cell.date(), None
    if isinstance(cell, dt.date):
        return cell, None
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        if 1 <= cell < 2958466 and float(cell).is_integer():  # an Excel serial day number
            return _EXCEL_EPOCH + dt.timedelta(days=int(cell)), None
        return None, "date_format"
    text = fold(str(cell))
    m = _DATE.match(text) or _DATE8.match(text)
    if not m:
        return None, "date_format"
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3])), None
    except ValueError:
        return None, "date_format"


def parse_bool(cell: object) -> Parsed:
    if isinstance(cell, bool):
        return cell, None
    if isinstance(cell, (int, float)) and cell in (0, 1):
        return bool(cell), None
    text = fold(str(cell)).upper()
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    return None, "bool_format"


def enum_parser(col: Column) -> Callable[[object], Parsed]:
    aliases = {fold(k): v for k, v in col.value_aliases.items()}

    def parse(cell: object) -> Parsed:
        text = fold(str(cell))
        return aliases.get(text, text), None

    return parse


def parse_town(cell: object) -> Parsed:
    text = fold(str(cell))
    towns = geography().towns
    if text in towns:
        return text, None
    for suffix in ("镇", "街道"):
        if text + suffix in towns:
            return text + suffix, None
    return text, None  # unknown: the suite's value set reports it


def parse_village(cell: object) -> Parsed:
    text = fold(str(cell))
    for suffix in ("村民委员会", "村委会", "委员会"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    if not text.endswith("村"):
        text += "村"
    return text, None


def parser_for(col: Column) -> Callable[[object], Parsed]:
    return {
        "str": parse_text,
        "name": parse_name,
        "money": parse_money,
        "int": parse_int,
        "date": parse_date,
        "bool": parse_bool,
        "town": parse_town,
        "village": parse_village,
    }.get(col.type) or enum_parser(col)


def _implausible_text(cell: object, col: Column) -> str | None:
    """`control_char` or `too_long` for a text cell no person typed, else None."""
    if not isinstance(cell, str):
        return None
    if _CONTROL.search(cell):
        return "control_char"
    if col.text_limit and len(cell.strip()) > col.text_limit:
        return "too_long"
    return None


def _shown(cell: object) -> str:
    """A cell as the receipt quotes it: short, and without what cannot be printed."""
    text = _CONTROL.sub("�", str(cell))
    return text if len(text) <= 30 else text[:30] + "…"


# (position in the column, rule, the cell as the issue quotes it, severity, the issue's own params)
Found = tuple[int, str, str, str, dict]


def normalize_table(table: SheetTable) -> tuple[pd.DataFrame, list[Issue]]:
    """Typed columns (one per contract column) plus `sheet` and `row_no` (the Excel row).

    Column by column: each distinct cell of a column is judged once, and its value and issue
    spread to every row that holds it (a county's 200,000-row registry has a few thousand
    distinct villages, incomes and dates); the ID column, whose cells are all distinct, takes
    the plain valid IDs in one vectorised pass and reads the rest one by one."""
    issues: list[Issue] = []
    excel_rows = [r for r, _ in table.rows]
    grid = _grid(table)
    data: dict[str, Any] = {"sheet": [table.sheet] * len(excel_rows), "row_no": excel_rows}
    for col in table.dataset.columns:
        if col.key not in table.columns:
            data[col.key] = [None] * len(excel_rows)
            continue
        j, header = table.columns[col.key]
        values, found = _id_column(grid[:, j]) if col.type == "id" else _value_column(grid[:, j], col)
        data[col.key] = values
        for pos, rule, quoted, severity, params in sorted(found, key=lambda f: f[0]):  # in the sheet's order
            issues.append(issue(rule, severity=severity, row=excel_rows[pos], value=quoted, sheet=table.sheet, column=header, **params))
    return typed(pd.DataFrame(data), table.dataset.columns), issues


def _grid(table: SheetTable) -> np.ndarray:
    """The data cells as a rows × columns array (short rows padded with None)."""
    width = max((j for j, _ in table.columns.values()), default=-1) + 1
    grid = np.full((len(table.rows), width), None, dtype=object)
    if table.rows and all(len(cells) == width for _, cells in table.rows):  # the usual sheet: one copy in C
        grid[:] = [cells for _, cells in table.rows]
        return grid
    for i, (_, cells) in enumerate(table.rows):
        k = min(len(cells), width)
        grid[i, :k] = cells[:k]
    return grid


def _distinct(cells: np.ndarray) -> Iterator[tuple[np.ndarray, list, np.ndarray]]:
    """(positions, distinct cells, each position's index into them) for each type of cell but
    None. By type, because 1, 1.0 and True are equal in Python but not the same cell to a parser."""
    kinds = np.fromiter(map(type, cells), dtype=object, count=len(cells))
    for kind in dict.fromkeys(kinds.tolist()):
        if kind is type(None):
            continue
        at = np.flatnonzero(kinds == kind)
        codes, uniques = pd.factorize(cells[at], use_na_sentinel=False)  # NaN is a cell like any other
        yield at, list(uniques), codes


def _spread(out: np.ndarray, at: np.ndarray, codes: np.ndarray, values: list, judged: list, found: list[Found]) -> None:
    """Every position its distinct cell's value, and each position of a cell judged wrong its issue."""
    table = np.empty(len(values), dtype=object)
    table[:] = values
    out[at] = table[codes]
    wrong = np.array([j is not None for j in judged], dtype=bool)
    if not wrong.any():
        return
    hit = wrong[codes]
    for pos, code in zip(at[hit].tolist(), codes[hit].tolist(), strict=True):
        found.append((pos, *judged[code]))


def _value_column(cells: np.ndarray, col: Column) -> tuple[np.ndarray, list[Found]]:
    """Cells parsed by the column's type, each distinct cell once."""
    parse = parser_for(col)
    out = np.full(len(cells), None, dtype=object)
    found: list[Found] = []
    for at, uniques, codes in _distinct(cells):
        values, judged = [], []
        # text with no control character and nothing too long (most columns): not judged cell by cell
        plain = isinstance(uniques[0], str) and not _CONTROL.search("\t".join(uniques)) \
            and (not col.text_limit or max(map(len, uniques)) <= col.text_limit)
        for cell in uniques:
            if _blank(cell):  # emptiness is the suite's to judge
                values.append(None)
                judged.append(None)
                continue
            bad = None if plain else _implausible_text(cell, col)
            if bad:
                values.append(None)
                judged.append((bad, _shown(cell), "error", {"max": col.text_limit}))
                continue
            value, rule = parse(cell)
            values.append(value)
            judged.append((rule, _shown(cell), "error", {}) if rule else None)
        _spread(out, at, codes, values, judged, found)
    return out, found


def _id_column(cells: np.ndarray) -> tuple[np.ndarray, list[Found]]:
    """ID numbers parsed (15 → 18 digits, checksums); issues quote them masked only."""
    home = id_prefixes()
    out = np.full(len(cells), None, dtype=object)
    found: list[Found] = []
    for at, uniques, codes in _distinct(cells):
        plain = ids.plain_valid(uniques, home).tolist()
        values, judged = [], []
        for cell, fine in zip(uniques, plain, strict=True):
            if fine or _blank(cell):
                values.append(cell if fine else None)
                judged.append(None)
                continue
            res = ids.parse_id(cell, home)
            values.append(res.value)
            if res.rule:
                shown = f"{cell:.0f}" if isinstance(cell, (int, float)) else cell
                judged.append((res.rule, ids.mask(shown), "error", {}))
            else:
                judged.append((res.warning, ids.mask(res.value), "warning", {}) if res.warning else None)
        _spread(out, at, codes, values, judged, found)
    return out, found


def typed(frame: pd.DataFrame, columns: tuple[Column, ...]) -> pd.DataFrame:
    """Give each column its warehouse dtype (nulls as pandas' missing markers)."""
    for col in columns:
        s = frame[col.key]
        if col.type == "money":
            frame[col.key] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif col.type == "int":
            frame[col.key] = pd.array(s.tolist(), dtype="Int64")
        elif col.type == "date":
            frame[col.key] = pd.to_datetime(s, errors="coerce")
        elif col.type == "bool":
            frame[col.key] = pd.array(s.tolist(), dtype="boolean")
        else:
            frame[col.key] = s.astype(object)
    return frame
