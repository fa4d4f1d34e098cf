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


def finish_sheet(ws: Any, widths: dict[int, float], header_row: int | None = None, last_col: int | None = None) -> None:
    """A sheet that works in Excel and on paper: column widths, the header frozen and filtered,
    A4 landscape fitted to the page width, the header repeated on every page, page numbers."""
    from openpyxl.utils import get_column_letter

    for c, w in widths.items():
        ws.column_dimensions[get_column_letter(c)].width = w
    if header_row is not None:
        ws.freeze_panes = f"A{header_row + 1}"
        last = get_column_letter(last_col or max(widths or {1: 0}))
        ws.auto_filter.ref = f"A{header_row}:{last}{max(header_row, ws.max_row)}"
        ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
