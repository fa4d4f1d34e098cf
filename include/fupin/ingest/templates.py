"""Blank Excel templates, one per source, so clerks get the file right the first time.

Each dataset of a source is a sheet: a notes row (what each column takes), the canonical
header row, then empty rows with input checks — drop-down lists for every enumeration and
yes/no column, number and date checks, ID columns formatted as text so Excel cannot turn
them into numbers. The notes sit above the header, so a filled template reads as data from
row 3 without anyone deleting anything.
"""

from __future__ import annotations

from pathlib import Path

from fupin.config import Column, Dataset, contracts, geography
from fupin.export import set_cell

ROWS_CHECKED = 5000
YES_NO = ["是", "否"]


def _note(col: Column, ds: Dataset) -> str:
    need = "必填" if col.required is True else ("选填" if col.required is False else "条件必填")
    hint = {
        "id": "18位身份证号，文本格式",
        "money": "数字（元）",
        "int": "整数",
        "date": "日期，如 2017-06-01",
        "bool": "是/否",
        "enum": "从下拉列表选择",
        "town": "镇（街）全称，下拉选择",
        "village": "村名，须属于所填镇（街）",
    }.get(col.type, "文字")
    if col.min is not None and col.max is not None:
        hint += f"，{col.min:g} 至 {col.max:g}"
    elif col.min is not None:
        hint += f"，不小于 {col.min:g}"
    if col.pattern:
        hint = "440224 开头的 16 位数字，文本格式"
    if col.required not in (True, False):
        cond = col.required
        hint += f"（“{ds.column(cond.column).header}”为{'/'.join('是' if v is True else str(v) for v in cond.values)}时必填）"
    return f"{need}：{hint}"


def _options(col: Column) -> list[str]:
    if col.type == "bool":
        return YES_NO
    if col.type == "town":
        return list(geography().towns)
    return list(col.values)


def write_template(path: Path, source: str) -> Path:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    wb.remove(wb.active)
    lists = wb.create_sheet("选项")
    lists.sheet_state = "hidden"
    next_list_col = 1
    for ds in contracts().of_source(source):
        ws = wb.create_sheet(ds.title[:31])
        for j, col in enumerate(ds.columns, 1):
            letter = get_column_letter(j)
            note = set_cell(ws, 1, j, _note(col, ds))
            note.font = Font(color="808080", size=9)
            note.alignment = Alignment(wrap_text=True, vertical="top")
            head = set_cell(ws, 2, j, col.header)
            head.font = Font(bold=True)
            head.fill = PatternFill("solid", fgColor="FFF2CC" if col.required is True else "F2F2F2")
            head.comment = Comment(_note(col, ds), "扶贫数据平台")
            ws.column_dimensions[letter].width = max(12, len(col.header) * 2 + 2)
            cells = f"{letter}3:{letter}{ROWS_CHECKED + 2}"
            dv = None
            if col.type in ("enum", "bool", "town"):
                options = _options(col)
                lc = get_column_letter(next_list_col)
                for i, v in enumerate(options, 1):
                    set_cell(lists, i, next_list_col, v)
                next_list_col += 1
                dv = DataValidation(type="list", formula1=f"选项!${lc}$1:${lc}${len(options)}", allow_blank=True)
                dv.error = f"请从下拉列表中选择“{col.header}”"
            elif col.type in ("money", "int"):
                dv = DataValidation(
                    type="decimal" if col.type == "money" else "whole", operator="between",
                    formula1=str(col.min if col.min is not None else 0), formula2=str(col.max if col.max is not None else 1e12),
                    allow_blank=True,
                )
                dv.error = f"“{col.header}”须为{'数字' if col.type == 'money' else '整数'}"
            elif col.type == "date":
                dv = DataValidation(type="date", operator="between", formula1="36526", formula2="73051", allow_blank=True)
                dv.error = "请填写日期，如 2017-06-01"
            elif col.type == "id":
                dv = DataValidation(type="textLength", operator="equal", formula1="18", allow_blank=True)
                dv.error = "身份证号须为 18 位"
            if col.type == "id" or col.pattern:
                for r in range(3, ROWS_CHECKED + 3):
                    ws.cell(row=r, column=j).number_format = "@"
            if dv is not None:
                dv.showErrorMessage = True
                dv.errorTitle = "填写有误"
                dv.add(cells)
                ws.add_data_validation(dv)
        ws.freeze_panes = "A3"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_templates(folder: Path) -> list[Path]:
    c = contracts()
    return [write_template(folder / f"{c.sources[s].label}_报送模板_YYYY年M月.xlsx", s) for s in c.sources]
