"""核查结果 by file: the reconciliation workbook (比对结果_2017-06.xlsx) or a 资金监管 one comes back with its 核查结果
column filled in, dropped into the unit's own `inbox/verification/<unit>/`, and is ingested like any other file — the one
reader, archived, a receipt, a marked copy when it is refused.

All or nothing: one row the platform cannot take (an unknown 编号, another unit's finding, 属实待整改
without a due date or with one too far off, 不属实 without a reason, a result it does not know, two
different answers to one 编号, a formula with no value) refuses the file, and nothing of it is stored.
The sender is the unit whose folder (`inbox/verification/<unit>/`) it was dropped in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Connection

from fupin import queries
from fupin.config import settings
from fupin.ingest.evaluation import Evaluation
from fupin.ingest.reader import FileRejected, read_workbook
from fupin.reconcile.catalog import owner_of, rule_name
from fupin.reconcile.verify import Refused, Verification, may_check
from fupin.shares import unc
from fupin.validate.issues import Issue
from fupin.vocab import SHARE_VERIFY

# the workbook's columns this reads (report.COLUMNS writes them)
ID, OUTCOME, DUE, NOTE = "编号", "核查结果", "整改期限", "核查说明"
HEADER_ROWS = 10


def _text(v: object) -> str:
    return "" if v is None else str(v).strip()


def _due(v: object) -> dt.date | str | None:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return _text(v) or None


ISSUES_LISTED = 200  # a receipt lists this many problems at most, then counts the rest


def _formula_issues(read) -> list[Issue]:  # the reader's WorkbookRead
    """Formula cells the workbook holds no value for (saved by a program that does not compute):
    they read as empty, so an answer typed as a formula would silently vanish."""
    return [Issue("error", "verification_formula", "单元格是公式，但文件中没有保存计算结果",
                  "请在 Excel 或 WPS 中打开该文件并保存（让公式算出结果），或把公式改为直接填写的文字后重新报送。",
                  sheet=sheet, row=row, column=cell)
            for sheet, row, cell in read.uncomputed]


def evaluate(path: Path, name: str, conn: Connection, today: dt.date, sender: str | None = None,  # noqa: C901 - one pass over the rows
             unit_names: dict[str, str] | None = None):  # (Evaluation, answers)
    """Read the workbook completely, writing nothing: (the pipeline's Evaluation, [(finding, answer)]).

    Every answer must be the sender's to give (`verify.may_check`, as on the dashboard): a
    workbook touching another unit's findings is refused whole, saying which. A 编号 answered
    twice differently, an unknown 编号, an answer that is a formula with no value, more than
    `verification.max_rows` answers: refused, with at most ISSUES_LISTED problems listed."""
    ev = Evaluation()
    if sender is None:
        ev.issues.append(Issue("error", "verification_no_sender", "核查结果放在了总文件夹，无法确认是哪个单位报送的",
                               f"请把工作簿放入本单位共享文件夹中的“核查结果”文件夹（{unc(None, SHARE_VERIFY)}）后重新报送。"))
        return ev, []
    try:
        read = read_workbook(path, name, formulas=True)
    except FileRejected as exc:
        ev.issues.append(Issue("error", exc.rule, exc.message, exc.fix))
        return ev, []
    ev.format, ev.sheets = read.format, read.sheets
    ev.issues += _formula_issues(read)
    cap = int(settings()["verification"]["max_rows"])
    rows: list[tuple[dict, dict]] = []  # (where, cells)
    found_header = False
    for sheet in read.sheets:
        head = next((i for i, row in enumerate(sheet.rows[:HEADER_ROWS]) if ID in map(_text, row) and OUTCOME in map(_text, row)), None)
        if head is None:
            continue
        found_header = True
        cols = {_text(h): j for j, h in enumerate(sheet.rows[head])}
        for h in (ID, OUTCOME, DUE, NOTE):
            if h in cols:
                ev.locate[(sheet.name, h)] = cols[h]
        for r, row in enumerate(sheet.rows[head + 1:], head + 2):
            cell = {h: row[j] if j < len(row) else None for h, j in cols.items()}
            if _text(cell.get(OUTCOME)):  # not checked yet: nothing to say
                rows.append(({"sheet": sheet.name, "row": r}, cell))
    if len(rows) > cap:
        ev.issues.append(Issue("error", "verification_too_many", f"填写了 {len(rows):,} 条核查结果，超过一个文件 {cap:,} 条的上限",
                               "请只在平台发出的比对结果或资金监管工作簿中填写，不要复制行；结果很多时请分为几个文件报送。"))
        return ev, []
    known = queries.findings_by_id(conn, {_text(c.get(ID)) for _, c in rows})
    names = unit_names or {}
    given: dict[str, tuple[Verification, dict]] = {}  # 编号 → its answer, and where it was first given
    for where, cell in rows:
        fid, outcome = _text(cell.get(ID)), _text(cell.get(OUTCOME))
        finding = known.get(fid)
        if finding is None:
            ev.issues.append(Issue("error", "verification_unknown", "编号不是平台发出的待核查问题",
                                   "请使用平台发出的比对结果或资金监管工作簿填写，不要修改“编号”列。", column=ID, value=fid or None, **where))
            continue
        if not may_check(sender, finding, owner_of(finding), names):
            ev.issues.append(Issue("error", "verification_not_yours",
                                   f"这条问题（{finding['rule']} {rule_name(finding['rule'])}，{finding.get('town') or '—'}）不归本单位核查",
                                   "只填写本单位负责核查的问题；其他镇或单位的由其自行核查。请删除这一行的核查结果后重新报送。",
                                   column=ID, value=fid, **where))
            continue
        try:
            answer = Verification.of(outcome, _due(cell.get(DUE)), _text(cell.get(NOTE)) or None, today)
        except Refused as exc:
            ev.issues.append(Issue("error", "verification_incomplete", "核查结果填写不完整", str(exc), column=OUTCOME, value=outcome, **where))
            continue
        if fid in given:
            first, first_where = given[fid]
            if first != answer:
                ev.issues.append(Issue("error", "verification_conflict",
                                       f"同一编号填写了两个不同的核查结果（另见第 {first_where['row']} 行）",
                                       "每条问题只填写一次核查结果，删除多余的一行后重新报送。", column=ID, value=fid, **where))
            continue  # the same answer again: taken once
        given[fid] = (answer, where)
    answers = [(known[fid], answer) for fid, (answer, _) in given.items()]
    if not found_header:
        ev.issues.append(Issue("error", "verification_headers", "没有找到“编号”和“核查结果”列",
                               "请在平台发出的比对结果或资金监管工作簿中填写“核查结果”后报送，不要删除表头。"))
    elif not answers and not ev.errors:
        ev.issues.append(Issue("error", "verification_empty", "没有填写任何核查结果",
                               "请在“核查结果”列选择 属实已整改、属实待整改 或 不属实 后重新报送。"))
    if len(ev.issues) > ISSUES_LISTED:
        more = len(ev.issues) - ISSUES_LISTED
        ev.issues = ev.issues[:ISSUES_LISTED] + [Issue("error", "verification_more", f"另有 {more:,} 处问题未逐条列出",
                                                       "请先改正以上问题；其余多为同样的原因。")]
    months = sorted({f["month"] for f, _ in answers})
    ev.month = months[-1] if months else None
    return ev, answers
