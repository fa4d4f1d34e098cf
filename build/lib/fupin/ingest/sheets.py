"""Find the header row of each sheet and match the sheet to a dataset of the contracts.

Real sheets carry title rows, a unit line, one or two header rows (merged cells), a row of
column numbers, totals and sign-off footers. Only the rows between are data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from fupin.config import Dataset, contracts, fold, settings
from fupin.ingest.reader import RawSheet

_PAREN = re.compile(r"\([^)]*\)$")
_FOOTER = re.compile(r"^(合计|总计|小计|共计|填表人|填报人|制表人|制表|审核人|审核|负责人|单位负责人|填报日期|填表日期|注[:：]|备注|说明)")
_FOOTER_FIRST = set("合总小共填制审负单注备说")
_COLUMN_NUMBER = re.compile(r"^\(?\d{1,2}\)?$")


def header_key(cell: object) -> str:
    """A header as written → the form it is compared in (width, spaces, `*` folded away)."""
    return fold(str(cell)).replace("*", "") if cell is not None else ""


@cache
def _header_index() -> dict[str, list[tuple[str, str]]]:
    """Folded header (and its form without a trailing unit) → [(dataset, key)]."""
    index: dict[str, list[tuple[str, str]]] = {}
    for ds in contracts().datasets.values():
        for col in ds.columns:
            for h in col.headers:
                for form in {header_key(h), _PAREN.sub("", header_key(h))}:
                    index.setdefault(form, []).append((ds.name, col.key))
    return index


def lookup(cell: object) -> list[tuple[str, str]]:
    key = header_key(cell)
    if not key:
        return []
    index = _header_index()
    return index.get(key) or index.get(_PAREN.sub("", key), [])


@dataclass
class SheetTable:
    """One sheet recognised as a dataset: where its header is and which cells are data."""

    sheet: str
    dataset: Dataset
    header_row: int  # Excel row number of the (lower) header row
    columns: dict[str, tuple[int, str]]  # key -> (column index, header as written)
    extra_headers: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # required headers not found
    rows: list[tuple[int, list[object]]] = field(default_factory=list)  # (Excel row, cells)


@dataclass
class SheetMatch:
    dataset: str | None
    score: float
    header_row: int
    cells: list[object]


def _candidate_rows(rows: list[list[object]], limit: int):
    """Each header candidate: a single row, and a row merged with the one below it."""
    for i in range(min(limit, len(rows))):
        yield i, rows[i]
        if i + 1 < len(rows):
            upper, lower = rows[i], rows[i + 1]
            width = max(len(upper), len(lower))
            merged = [
                (lower[j] if j < len(lower) and _filled(lower[j]) else (upper[j] if j < len(upper) else None))
                for j in range(width)
            ]
            yield i + 1, merged


def _filled(cell: object) -> bool:
    return cell is not None and str(cell).strip() != ""


def match_sheet(sheet: RawSheet) -> SheetMatch:
    """The dataset whose headers this sheet carries best, anywhere in the contracts."""
    best = SheetMatch(None, 0.0, -1, [])
    limit = settings()["ingest"]["header_search_rows"]
    all_datasets = contracts().datasets
    for row_idx, cells in _candidate_rows(sheet.rows, limit):
        found: dict[str, set[str]] = {}
        for cell in cells:
            for ds, key in lookup(cell):
                found.setdefault(ds, set()).add(key)
        for ds, keys in found.items():
            dataset = all_datasets[ds]
            required = [c.key for c in dataset.columns if c.always_required]
            hit_required = sum(1 for k in required if k in keys)
            if hit_required < max(2, (len(required) + 1) // 2):
                continue
            score = len(keys) / len(dataset.columns) + len(keys) / 100
            if score > best.score:
                best = SheetMatch(ds, score, row_idx, cells)
    return best


def _is_data(cells: list[object]) -> bool:
    """Not blank, and none of the first three filled cells opens a total or a sign-off."""
    seen = 0
    for c in cells:
        if c is None or c == "":
            continue
        if isinstance(c, str):
            text = c.strip()
            if not text:
                continue
            if text[0] in _FOOTER_FIRST and _FOOTER.match(fold(text)):
                return False
        seen += 1
        if seen == 3:
            break
    return seen > 0


def _is_column_numbers(cells: list[object]) -> bool:
    filled = [fold(str(c)) for c in cells if _filled(c)]
    if len(filled) < 3:
        return False
    if not all(_COLUMN_NUMBER.match(c.replace(".0", "")) for c in filled):
        return False
    numbers = [int(re.sub(r"\D", "", c.replace(".0", ""))) for c in filled]
    return numbers == sorted(numbers) and numbers[0] <= 1


def build_table(sheet: RawSheet, match: SheetMatch) -> SheetTable:
    dataset = contracts().datasets[match.dataset]  # type: ignore[index]
    columns: dict[str, tuple[int, str]] = {}
    extra: list[str] = []
    for j, cell in enumerate(match.cells):
        if not _filled(cell):
            continue
        keys = [k for ds, k in lookup(cell) if ds == dataset.name]
        if keys and keys[0] not in columns:
            columns[keys[0]] = (j, str(cell).strip())
        else:
            extra.append(str(cell).strip())
    missing = [c.header for c in dataset.columns if c.required is not False and c.key not in columns]
    rows: list[tuple[int, list[object]]] = []
    body = sheet.rows[match.header_row + 1 :]
    for offset, cells in enumerate(body):
        excel_row = match.header_row + 2 + offset
        if offset == 0 and _is_column_numbers(cells):
            continue
        if _is_data(cells):
            rows.append((excel_row, cells))
    return SheetTable(sheet.name, dataset, match.header_row + 1, columns, extra, missing, rows)
