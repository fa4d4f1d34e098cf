"""Blank Excel templates, one per source, so clerks get the file right the first time.

The first sheet, 填写说明, says what the file is (a whole month's list, not the month's
changes), when it is due, how to name it and how to fill it. Then each dataset of the source
is a sheet: a notes row (what each column takes), the canonical header row, then rows with
input checks — drop-down lists for every enumeration, yes/no and town column, a village
drop-down that lists the chosen town's villages only, number and date checks — on the first
`ROWS_CHECKED` rows; ID and number-pattern columns are formatted as text so Excel cannot
turn them into numbers. The notes sit above the header, so a filled template reads as data
from row 3 without anyone deleting anything. The lists live on a hidden sheet, 选项; the
reader knows both helper sheets (`TEMPLATE_SHEETS`) and passes over them silently.
"""

from __future__ import annotations

from pathlib import Path

from fupin.config import Column, Dataset, contracts, geography

ROWS_CHECKED = 20000  # the county's registry has 10,378 persons; a province's county twice that
YES_NO = ["是", "否"]
GUIDE_SHEET, LISTS_SHEET = "填写说明", "选项"
TEMPLATE_SHEETS = (GUIDE_SHEET, LISTS_SHEET)
_VILLAGES_OF = "村_"  # prefix of the defined name listing one town's villages


def _note(col: Column, ds: Dataset) -> str:
    need = "必填" if col.required is True else ("选填" if col.required is False else "条件必填")
    unit = col.unit
    hint = {
        "id": "18位身份证号，文本格式",
        "money": f"数字（{unit}）" if unit else "数字",
        "int": "整数",
        "date": "日期，如 2017-06-01",
        "bool": "是/否，下拉选择",
        "enum": "从下拉列表选择",
        "town": "镇（街）全称，下拉选择",
        "village": "先选镇（街），再从下拉列表选村",
    }.get(col.type, "文字")
    if col.min is not None and col.max is not None:
        hint += f"，{col.min:g} 至 {col.max:g}"
    elif col.min is not None:
        hint += f"，不小于 {col.min:g}"
    if col.pattern:
        hint = f"{col.pattern_text}，文本格式"
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


def _scope(ds) -> str:  # ds: config.Dataset
    """What one month's sheet holds, in the clerk's words."""
    if ds.grain == "payment":
        return "每月报送本月发生的全部拨付，每笔一行（以前月份的拨付不要重复报送）"
    return "每月报送全部在册对象的完整名单（不是本月新增或变动的部分）" if ds.snapshot else "每月报送截至月末的完整情况"


def _guide(ws, source: str, title: str, datasets: list) -> None:  # an openpyxl worksheet; datasets: config.Dataset
    from openpyxl.styles import Alignment, Font

    from fupin.calendar import current
    from fupin.export import set_cell

    src = contracts().sources[source]
    named = f"{src.label}{title}" if title != src.label else src.label  # 县扶贫办扶贫项目库: a unit that sends several files
    lines = [
        (f"{named} 月度报送模板 · 填写说明", Font(bold=True, size=14)),
        ("", None),
        ("一、报什么", Font(bold=True)),
        *[(f"· 工作表“{ds.title[:31]}”：{_scope(ds)}"
           + ("；可不报" if ds.optional else "；必报"), None) for ds in datasets],
        ("", None),
        ("二、什么时候报", Font(bold=True)),
        (f"· 每月 {current().report_day} 日前报送上个月的数据；逾期未报的单位会收到催报通知，并计入考核（数据报送及时率）。", None),
        ("", None),
        ("三、文件怎么命名、放在哪里", Font(bold=True)),
        (f"· 文件名写明报送月份，例如“{src.file_label(title)}_2017年6月.xlsx”（也可写 201706、2017-06）。", None),
        ("· 放入本单位的报送文件夹；同一月份再次报送时，新文件会整体替换该月此前的数据。", None),
        ("", None),
        ("四、怎么填", Font(bold=True)),
        ("· 第 1 行是每列的填写要求（灰色小字），第 2 行是表头：两行都不要删除或修改，从第 3 行起逐行填写。", None),
        ("· 有下拉箭头的列请从列表中选择；村名须先选镇（街）再选村。", None),
        ("· 身份证号、户编号已设为文本格式：请直接输入或粘贴为“值”，不要改成数字格式（末几位会丢失）。", None),
        ("· 不要合并单元格，不要在数据中间插入合计行；表格末尾可以写合计、填表人、审核人。", None),
        ("· 报送后会收到报送回执：未通过时，回执附件中标红的单元格就是要改的地方，改好后重新报送整个文件。", None),
    ]
    for r, (text, font) in enumerate(lines, 1):
        cell = set_cell(ws, r, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if font is not None:
            cell.font = font
    ws.column_dimensions["A"].width = 110
    ws.sheet_view.showGridLines = False


def _villages_lists(wb, lists, next_col: int) -> int:
    """One column of the hidden sheet per town, named `村_<town>`, for the dependent drop-down."""
    from openpyxl.utils import get_column_letter
    from openpyxl.workbook.defined_name import DefinedName

    from fupin.export import set_cell

    by_town = geography().villages_by_town
    for town, villages in by_town.items():
        names = sorted(villages)
        if not names:
            continue
        letter = get_column_letter(next_col)
        for i, v in enumerate(names, 1):
            set_cell(lists, i, next_col, v)
        wb.defined_names[f"{_VILLAGES_OF}{town}"] = DefinedName(
            f"{_VILLAGES_OF}{town}", attr_text=f"{LISTS_SHEET}!${letter}$1:${letter}${len(names)}")
        next_col += 1
    return next_col


class _Lists:
    """The hidden 选项 sheet: one column per drop-down list, the village lists added once."""

    def __init__(self, wb) -> None:  # an openpyxl workbook
        self.wb = wb
        self.sheet = wb.create_sheet(LISTS_SHEET)
        self.sheet.sheet_state = "hidden"
        self.next_col = 1
        self.villages = False

    def add(self, options: list[str]) -> str:
        """Write `options` into the next column; the range a list validation refers to."""
        from openpyxl.utils import get_column_letter

        from fupin.export import set_cell

        lc = get_column_letter(self.next_col)
        for i, v in enumerate(options, 1):
            set_cell(self.sheet, i, self.next_col, v)
        self.next_col += 1
        return f"{LISTS_SHEET}!${lc}$1:${lc}${len(options)}"

    def ensure_villages(self) -> None:
        if not self.villages:
            self.next_col = _villages_lists(self.wb, self.sheet, self.next_col)
            self.villages = True


def _validation(col: Column, lists: _Lists, town_letter: str | None):  # an openpyxl DataValidation or None
    """The input check Excel applies to a column's cells (drop-down, range, length), if any."""
    from openpyxl.worksheet.datavalidation import DataValidation

    if col.type in ("enum", "bool", "town"):
        dv = DataValidation(type="list", formula1=lists.add(_options(col)), allow_blank=True)
        dv.error = f"请从下拉列表中选择“{col.header}”"
    elif col.type == "village" and town_letter:
        lists.ensure_villages()
        dv = DataValidation(type="list", formula1=f'INDIRECT("{_VILLAGES_OF}"&${town_letter}3)', allow_blank=True)
        dv.error = "请先选择镇（街），再从下拉列表中选择该镇（街）的村"
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
    else:
        return None
    dv.showErrorMessage = True
    dv.errorTitle = "填写有误"
    return dv


def _header(ws, j: int, col: Column, ds: Dataset) -> None:  # an openpyxl worksheet
    """Row 1: what to write (grey notes, also the header's comment); row 2: the header."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from fupin.export import set_cell

    text = _note(col, ds)
    note = set_cell(ws, 1, j, text)
    note.font = Font(color="595959", size=9)
    note.alignment = Alignment(wrap_text=True, vertical="top")
    head = set_cell(ws, 2, j, col.header)
    head.font = Font(bold=True)
    head.alignment = Alignment(wrap_text=True, vertical="center")
    head.fill = PatternFill("solid", fgColor="FFF2CC" if col.required is True else "F2F2F2")
    head.comment = Comment(text, "扶贫数据平台")
    ws.column_dimensions[get_column_letter(j)].width = max(14, len(col.header) * 2 + 2, min(30, len(text) * 2 // 3 + 2))


def write_template(path: Path, source: str, file: str | None = None) -> Path:
    """The template of one of `source`'s monthly files (`file`: its title; default the first)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    src = contracts().sources[source]
    title = file or next(iter(src.reports))
    datasets = [contracts().datasets[d] for d in src.reports[title]]
    wb = Workbook()
    _guide(wb.active, source, title, datasets)
    wb.active.title = GUIDE_SHEET
    lists = _Lists(wb)
    last = ROWS_CHECKED + 2
    for ds in datasets:
        ws = wb.create_sheet(ds.title[:31])
        town_letter = next((get_column_letter(j) for j, col in enumerate(ds.columns, 1) if col.type == "town"), None)
        for j, col in enumerate(ds.columns, 1):
            letter = get_column_letter(j)
            _header(ws, j, col, ds)
            if col.type == "id" or col.pattern:
                ws.column_dimensions[letter].number_format = "@"  # the whole column: text
            dv = _validation(col, lists, town_letter)
            if dv is not None:
                dv.add(f"{letter}3:{letter}{last}")
                ws.add_data_validation(dv)
        ws.row_dimensions[1].height = 54  # three lines of the notes, clear of the header
        ws.row_dimensions[2].height = 30
        ws.freeze_panes = "A3"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_templates(folder: Path) -> list[Path]:
    c = contracts()
    out = []
    for key, src in c.sources.items():
        for title in src.reports:
            out.append(write_template(folder / f"{src.file_label(title)}_报送模板_YYYY年M月.xlsx", key, title))
    return out
