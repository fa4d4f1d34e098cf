"""The one receipt format (报送回执): structured JSON, a Chinese text, a marked-up workbook.

The JSON is what the warehouse and the archive keep and what `fupin ingest --json` prints;
the text is what a clerk reads; a rejected workbook also gets a copy with every bad cell
filled and commented.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fupin.calendar import month_label
from fupin.config import contracts
from fupin.export import set_cell
from fupin.ingest.reader import RawSheet
from fupin.validate.issues import Issue

STATUS_TEXT = {
    "accepted": "已通过，数据已入库",
    "rejected": "未通过，本文件的数据未入库",
    "duplicate": "与已收到的文件完全相同，未重复入库",
    "superseded": "已通过校验，但同月已有更新的文件，未替换数据",
}
TEXT_LIMIT = 300  # issues listed in the text; all of them stay in the JSON and the workbook


@dataclass
class Receipt:
    file: str
    source: str
    month: str | None
    status: str  # accepted | rejected | duplicate | superseded
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


def render_text(r: Receipt) -> str:
    c = contracts()
    source = c.sources[r.source].label if r.source in c.sources else r.source
    month = month_label(r.month)
    head = [
        f"【报送回执】{source} · {month} · 文件“{r.file}”",
        f"结果：{STATUS_TEXT[r.status]}。",
        f"收到时间：{r.received_at or '—'}　文件编号：{r.drop_id}　指纹：{r.sha256[:12]}",
    ]
    if r.rows:
        counts = "，".join(f"{c.datasets[d].title if d in c.datasets else d} {n} 行" for d, n in r.rows.items())
        head.append(f"各表行数：{counts}。")
    if r.replaced_previous:
        head.append("本文件已替换同月此前报送的数据（原文件仍存档）。")
    if r.duplicate_of:
        head.append(f"该文件与 {r.duplicate_of[:12]} 完全相同。")
    body: list[str] = []
    if r.errors:
        body += ["", f"错误 {len(r.errors)} 处（须修改后重新报送整个文件）："] + _lines(r.errors)
    if r.warnings:
        body += ["", f"提示 {len(r.warnings)} 条（不影响入库，请核对）："] + _lines(r.warnings)
    return "\n".join(head + body) + "\n"


def write_annotated(path: Path, sheets: list[RawSheet], issues: list[Issue], locate: dict[tuple[str, str], int]) -> Path:
    """A copy of the dropped workbook with each bad cell filled red and commented.

    `locate` maps (sheet, header as written) to the column index. Issues without a cell
    (file-level) go to a first sheet, 错误说明, with every issue listed.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    red = PatternFill("solid", fgColor="FFC7CE")
    wb = Workbook()
    summary = wb.active
    summary.title = "错误说明"
    for j, h in enumerate(["工作表", "行号", "列", "问题", "处理办法"], 1):
        set_cell(summary, 1, j, h).font = Font(bold=True)
    for n, i in enumerate(issues, 2):
        for j, v in enumerate([i.sheet or "", i.row or "", i.column or "", i.message, i.fix], 1):
            set_cell(summary, n, j, v)
    for sheet in sheets:
        ws = wb.create_sheet(title=(sheet.name or "Sheet")[:31])
        for r, cells in enumerate(sheet.rows, 1):
            for c, v in enumerate(cells, 1):
                if v is not None and v != "":
                    set_cell(ws, r, c, v)
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
