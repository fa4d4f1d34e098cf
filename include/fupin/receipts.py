"""The one receipt format (报送回执): structured JSON, a Chinese text, a marked-up workbook.

The JSON is what the warehouse and the archive keep and what `fupin ingest --json` prints;
the text is what a clerk reads; a rejected workbook also gets a copy with every bad cell
filled and commented.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fupin.calendar import month_label, time_label
from fupin.config import contracts
from fupin.export import finish_sheet, set_cell
from fupin.ingest.reader import RawSheet
from fupin.validate.issues import Issue, amount
from fupin.vocab import DropStatus, one_line

STATUS_TEXT = {
    DropStatus.ACCEPTED: "已通过，数据已入库",
    DropStatus.REJECTED: "未通过，本文件的数据未入库",
    DropStatus.DUPLICATE: "与已收到的文件完全相同，未重复入库",
    DropStatus.SUPERSEDED: "已通过校验，但同月已有更新的文件，未替换数据",
}
TEXT_LIMIT = 300  # issues listed in the text; all of them stay in the JSON and the workbook


@dataclass
class Receipt:
    file: str
    source: str
    month: str | None
    status: str  # a DropStatus
    sha256: str
    drop_id: str
    format: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    replaced_previous: bool = False
    duplicate_of: str | None = None
    annotated_workbook: str | None = None
    received_at: str | None = None
    processed_at: str | None = None
    same_as: dict | None = None  # the earlier drop a duplicate repeats: file, received_at
    total_rows: int = 0  # data rows read
    read_rows: dict[str, int] = field(default_factory=dict)  # of which per dataset
    error_rows: int = 0  # of which rows with an error
    error_threshold: float = 0.0  # the share of rows in error the unit may send
    sender: str | None = None  # the unit whose folder it came from (a 核查结果 workbook's checking unit)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Receipt:
        return cls(**json.loads(text))

    def text(self) -> str:
        return render_text(self)


def _where(i: dict) -> str:
    parts = []
    if i.get("sheet"):
        parts.append(f"工作表“{i['sheet']}”")
    if i.get("row"):
        parts.append(f"第 {i['row']} 行")
    if i.get("column"):
        parts.append(f"“{i['column']}”列")
    return " ".join(parts) or "整个文件"


def _lines(issues: list[dict]) -> list[str]:
    out = []
    for n, i in enumerate(issues[:TEXT_LIMIT], 1):
        value = f"（填写的值：{i['value']}）" if i.get("value") else ""
        out.append(f"{n}. {_where(i)}：{i['message']}{value}")
        out.append(f"   处理办法：{i['fix']}")
    if len(issues) > TEXT_LIMIT:
        out.append(f"……其余 {len(issues) - TEXT_LIMIT} 条见回执附件（标注版工作簿）。")
    return out


def _order(i: dict) -> tuple:
    """File-level problems first, then by sheet and Excel row, as the clerk reads the file."""
    return (i.get("row") is not None, i.get("sheet") or "", i.get("row") or 0)


def error_summary(r: Receipt) -> str:
    """`3 处错误，涉及 2 行（共 10,411 行数据）` — the true counts a clerk can check."""
    rows = len({(e.get("sheet"), e["row"]) for e in r.errors if e.get("row")})
    whole = sum(1 for e in r.errors if not e.get("row"))
    text = f"{len(r.errors)} 处错误"
    if rows:
        c = contracts()
        per = "、".join(f"{c.datasets[d].title if d in c.datasets else d} {amount(n)} 行" for d, n in r.read_rows.items())
        text += f"，涉及 {rows} 行" + (f"（文件中{per}）" if len(r.read_rows) > 1 else
                                      f"（文件共 {amount(r.total_rows)} 行数据）" if r.total_rows else "")
    if whole:
        text += f"，其中 {whole} 处涉及整个文件" if rows else "，涉及整个文件"
    return text


def _threshold_line(r: Receipt) -> str | None:
    if r.status != DropStatus.REJECTED or not r.error_rows:
        return None
    if r.error_threshold <= 0:
        return "本单位的报表不允许有错误行，须全部改正后重新报送整个文件。"
    share = r.error_rows / max(1, r.total_rows)
    return (f"本单位允许的错误行比例为 {r.error_threshold:.1%}，本文件为 {share:.1%}，超过了上限：请改正后重新报送整个文件。"
            if share > r.error_threshold else None)  # under it: the good rows were loaded


def source_label(source: str) -> str:
    """The sender as a clerk names it: the reporting unit, or 核查反馈 for a filled-in workbook."""
    from fupin.vocab import VERIFICATION_LABEL, VERIFICATION_SOURCE

    c = contracts()
    return c.sources[source].label if source in c.sources else VERIFICATION_LABEL if source == VERIFICATION_SOURCE else source


def render_text(r: Receipt) -> str:
    c = contracts()
    source = source_label(r.source)
    head = [
        f"【报送回执】{source} · {month_label(r.month)} · 文件“{one_line(r.file)}”",
        f"结果：{STATUS_TEXT[r.status]}。",
        f"收到时间：{time_label(r.received_at)}　处理时间：{time_label(r.processed_at)}　回执编号：{r.drop_id}",
    ]
    if r.rows:
        counts = "，".join(f"{c.datasets[d].title if d in c.datasets else d} {amount(n)} 行" for d, n in r.rows.items())
        head.append(f"入库行数：{counts}。")
    if r.replaced_previous:
        head.append("本文件已替换同月此前报送的数据（原文件仍存档）。")
    if r.same_as:
        head.append(f"该文件与 {time_label(r.same_as['received_at'])} 报送的“{r.same_as['file']}”完全相同，数据已在库中，无需重新报送。")
    body: list[str] = []
    if r.errors:
        body += ["", f"{error_summary(r)}。{_threshold_line(r) or '请修改后重新报送整个文件。'}", "明细："]
        body += _lines(sorted(r.errors, key=_order))
    if r.warnings:
        body += ["", f"提示 {len(r.warnings)} 条（不影响入库，请核对）："] + _lines(sorted(r.warnings, key=_order))
    return "\n".join(head + body) + "\n"


def marked_copy_name(r: Receipt) -> str:
    """The marked-up workbook's name as the clerk receives it: 县卫计局_2017年5月_标注.xlsx."""
    return f"{source_label(r.source)}_{month_label(r.month) if r.month else '报送文件'}_标注.xlsx"


EXPLAIN_COLUMNS = (("工作表", 16), ("行号", 7), ("列", 22), ("填写的值", 22), ("问题", 44), ("处理办法", 52))


def _lines_needed(text: str, width: float) -> int:
    """Lines a wrapped cell needs: a CJK character takes two width units, others one."""
    units = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return max(1, -(-units // max(1, int(width) - 1)))


def _explain(ws, issues: list[Issue]) -> None:  # an openpyxl worksheet
    """The 错误说明 sheet: one row an issue, readable on screen and printable on A4."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    for j, (header, width) in enumerate(EXPLAIN_COLUMNS, 1):
        cell = set_cell(ws, 1, j, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FCE4D6")
        cell.border, cell.alignment = border, Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = width
    ordered = sorted(issues, key=lambda i: (i.severity != "error", i.row is not None, i.sheet or "", i.row or 0))
    for n, i in enumerate(ordered, 2):
        where = i.sheet or ("整个文件" if i.row is None else "")
        values = [where, i.row or "", i.column or "", i.value or "", i.message if i.severity == "error" else f"（提示）{i.message}", i.fix]
        for j, v in enumerate(values, 1):
            cell = set_cell(ws, n, j, v)
            cell.alignment, cell.border = wrap, border
            if i.severity == "warning" and j == 5:
                cell.font = Font(color="7F6000")
        # openpyxl writes no row heights and spreadsheet programs do not grow them on open
        ws.row_dimensions[n].height = 15 * max(_lines_needed(str(v), w) for v, (_, w) in zip(values, EXPLAIN_COLUMNS, strict=True))
    finish_sheet(ws, {j: w for j, (_, w) in enumerate(EXPLAIN_COLUMNS, 1)}, header_row=1)


def write_annotated(path: Path, sheets: list[RawSheet], issues: list[Issue], locate: dict[tuple[str, str], int]) -> Path:
    """A copy of the dropped workbook with each bad cell filled red and commented.

    `locate` maps (sheet, header as written) to the column index. Issues without a cell
    (file-level) go to a first sheet, 错误说明, with every issue listed.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    red = PatternFill("solid", fgColor="FFC7CE")
    wb = Workbook()
    summary = wb.active
    summary.title = "错误说明"
    _explain(summary, issues)
    for sheet in sheets:
        ws = wb.create_sheet(title=(sheet.name or "Sheet")[:31])
        widths: dict[int, int] = {}
        for r, cells in enumerate(sheet.rows, 1):
            for c, v in enumerate(cells, 1):
                if v is not None and v != "":
                    set_cell(ws, r, c, v)
                    if r <= 300:  # wide enough for what the clerk typed (a title row spans)
                        widths[c] = max(widths.get(c, 8), min(30, len(str(v).encode("gbk", "replace")) + 2))  # GBK bytes: display width
        finish_sheet(ws, widths)
    by_sheet = {s.name[:31]: s.name for s in sheets}
    for i in issues:
        if i.sheet is None or i.row is None:
            continue
        title = (i.sheet or "Sheet")[:31]
        if title not in wb.sheetnames:
            continue
        col = locate.get((by_sheet.get(title, i.sheet), i.column or ""))
        if col is None:
            continue
        cell = wb[title].cell(row=i.row, column=col + 1)
        cell.fill = red
        note = f"{i.message}\n{i.fix}"
        cell.comment = Comment(note if cell.comment is None else cell.comment.text + "\n" + note, "扶贫数据平台")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
