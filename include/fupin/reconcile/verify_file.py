"""核查结果 by file: the reconciliation workbook (比对结果_2017-06.xlsx) comes back with its 核查结果
column filled in, dropped into `inbox/verification/`, and is ingested like any other file — the one
reader, archived, a receipt, a marked copy when it is refused.

All or nothing: one row the platform cannot take (an unknown 编号, 属实待整改 without a due date,
不属实 without a reason, a result it does not know) refuses the file, and nothing of it is stored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Connection

from fupin import queries
from fupin.reconcile.verify import Refused, Verification
from fupin.validate.issues import Issue

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


def evaluate(path: Path, name: str, conn: Connection, today: dt.date):  # noqa: ANN201 - (Evaluation, answers)
    """Read the workbook completely, writing nothing: (the pipeline's Evaluation, [(finding, answer)])."""
    from fupin.ingest.pipeline import Evaluation
    from fupin.ingest.reader import FileRejected, read_workbook

    ev = Evaluation()
    try:
        read = read_workbook(path, name)
    except FileRejected as exc:
        ev.issues.append(Issue("error", exc.rule, exc.message, exc.fix))
        return ev, []
    ev.format, ev.sheets = read.format, read.sheets
    answers: list[tuple[dict, Verification]] = []
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
            outcome = _text(cell.get(OUTCOME))
            if not outcome:
                continue  # not checked yet: nothing to say
            where = {"sheet": sheet.name, "row": r}
            finding = queries.finding(conn, _text(cell.get(ID)))
            if finding is None:
                ev.issues.append(Issue("error", "verification_unknown", "编号不是平台发出的比对结果",
                                       "请使用平台发出的比对结果工作簿填写，不要修改“编号”列。", column=ID,
                                       value=_text(cell.get(ID)) or None, **where))
                continue
            try:
                answers.append((finding, Verification.of(outcome, _due(cell.get(DUE)), _text(cell.get(NOTE)) or None, today)))
            except Refused as exc:
                ev.issues.append(Issue("error", "verification_incomplete", "核查结果填写不完整", str(exc), column=OUTCOME,
                                       value=outcome, **where))
    if not found_header:
        ev.issues.append(Issue("error", "verification_headers", "没有找到“编号”和“核查结果”列",
                               "请在平台发出的比对结果工作簿中填写“核查结果”后报送，不要删除表头。"))
    elif not answers and not ev.errors:
        ev.issues.append(Issue("error", "verification_empty", "没有填写任何核查结果",
                               "请在“核查结果”列选择 属实已整改、属实待整改 或 不属实 后重新报送。"))
    months = sorted({f["month"] for f, _ in answers})
    ev.month = months[-1] if months else None
    return ev, answers
