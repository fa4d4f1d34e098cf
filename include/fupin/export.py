"""Writing cells into workbooks and CSV files we hand out: never a formula.

A value that starts with `=`, `+`, `-` or `@` (what a hostile cell in a dropped file may hold)
is written as text, so opening our export can never run it.
"""

from __future__ import annotations

from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL_CHARS = 32767  # Excel's limit for one cell


def set_cell(ws: Any, row: int, column: int, value: object) -> Any:
    """Write `value` into an openpyxl worksheet cell as data: strings stay strings."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        # a hostile cell's control characters cannot be stored in a workbook: shown as �
        cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:CELL_CHARS]
        cell.data_type = "s"  # openpyxl would otherwise take a leading `=` as a formula
    else:
        cell.value = value
    return cell


def csv_text(value: object) -> str:
    """A CSV field that a spreadsheet will show as text, not evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
