"""The monthly reconciliation workbook (比对结果) for civil affairs and the poverty office.

A summary sheet (counts per rule and town; new, persisting and resolved against last month;
the two rates with their basis) and one sheet per rule with the rows the units must act on,
each with what both registries say of its person (names, villages, incomes, status). Every value goes
through `set_cell`, so nothing from a dropped file can become a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fupin import queries
from fupin.calendar import month_label
from fupin.config import data_root
from fupin.export import finish_sheet, set_cell
from fupin.reconcile.rules import RULES
from fupin.reconcile.run import Summary
from fupin.shares import unc
from fupin.vocab import COUNTY_TOTAL, OUTCOME_LABELS, SHARE_VERIFY, Outcome
from fupin.warehouse.db import engine
from fupin.wording import unit_name

# (key, header, width): the finding, then both registries' own words about the person, so a case
# worker can act without opening either registry
COLUMNS = [("town", "镇（街）", 10), ("household_id", "户编号", 18), ("card_no", "低保证号", 14), ("person_id", "身份证号", 20),
           ("reg_name", "建档立卡·姓名", 10), ("reg_village", "建档立卡·村", 10), ("reg_income", "建档立卡·家庭年人均收入", 14),
           ("reg_exit", "建档立卡·脱贫状态", 10),
           ("other_id", "疑似对应身份证号", 20), ("dib_name", "低保·姓名", 10), ("dib_village", "低保·村", 10),
           ("dib_income", "低保·家庭年人均收入", 14), ("dib_status", "低保·状态", 8),
           ("detail", "说明", 40), ("persisted_months", "连续月数", 8), ("escalated", "已上报领导", 9),
           # 核查反馈: the unit fills these in and drops the workbook into its own share's 核查结果 (fupin.ingest.verification)
           ("finding_id", "编号", 18), ("check_outcome", "核查结果", 12), ("check_due", "整改期限", 12), ("check_note", "核查说明", 30)]
OUTCOME_CHOICES = "属实已整改,属实待整改,不属实"
YUAN = '#,##0" 元"'


def owner_label(owner: str) -> str:
    """Who acts on a rule's findings, by name (units.yaml), or the two units together, or the town."""
    return {"both": "两单位共同核实", "town": "所在镇（街）"}.get(owner) or unit_name(owner)


def rate_text(basis: tuple[int, int] | None) -> str:
    """应扶尽扶率 as the office reads it: 0.0%（0/2 户）, or 无对象."""
    if not basis or not basis[1]:
        return "—（无对象）"
    num, den = basis
    return f"{num / den:.1%}（{num:,}/{den:,} 户）"


def both_sides(f: pd.DataFrame, summary: Summary) -> pd.DataFrame:
    """Each finding with the registry's and the dibao register's own record of its person
    (by the finding's ID; the suspected other ID for the dibao side of an R5 pair)."""
    if f.empty:
        return f.assign(**{k: None for k, _, _ in COLUMNS if k not in f})
    ids = set(f["person_id"].dropna()) | set(f["other_id"].dropna())
    with engine().connect() as conn:
        reg = queries.persons(conn, "registry", summary.registry_month, ids, ["name", "village", "income_per_capita", "exit_status"])
        dib = queries.persons(conn, "dibao", summary.dibao_month, ids, ["name", "village", "income_per_capita", "status"])
    out = f.copy()
    out["reg_name"] = [reg.get(p, {}).get("name") for p in f["person_id"]]
    out["reg_village"] = [reg.get(p, {}).get("village") for p in f["person_id"]]
    out["reg_income"] = [reg.get(p, {}).get("income_per_capita") for p in f["person_id"]]
    out["reg_exit"] = [reg.get(p, {}).get("exit_status") for p in f["person_id"]]
    side = [o if isinstance(o, str) and o in dib else p for p, o in zip(f["person_id"], f["other_id"], strict=True)]
    out["dib_name"] = [dib.get(p, {}).get("name") for p in side]
    out["dib_village"] = [dib.get(p, {}).get("village") for p in side]
    out["dib_income"] = [dib.get(p, {}).get("income_per_capita") for p in side]
    out["dib_status"] = [dib.get(p, {}).get("status") for p in side]
    return out


def with_checks(f: pd.DataFrame, checks: dict[str, dict]) -> pd.DataFrame:
    """Each finding with its latest check as the workbook shows it (to be confirmed or changed)."""
    got = [checks.get(i) if isinstance(i, str) else None for i in f["finding_id"]]
    return f.assign(check_outcome=[OUTCOME_LABELS[Outcome(c["outcome"])] if c else None for c in got],
                    check_due=[c["due"] if c and c["due"] else None for c in got],
                    check_note=[c["reason"] if c else None for c in got])


def write_reports(summaries: list[Summary]) -> list[str]:
    """registry_reconcile's task: each reconciled month's workbook, in the county's reports."""
    folder = data_root() / "reports" / "reconciliation"
    return [str(write_workbook(s, folder / f"比对结果_{s.month}.xlsx")) for s in summaries]


def write_workbook(summary: Summary, path: Path) -> Path:
    from openpyxl import Workbook

    with engine().connect() as conn:
        found, basis = queries.findings_frame(conn, summary.month, RULES), queries.rate_basis(conn, summary.month)
        checks = queries.latest_verifications(conn, list(found["finding_id"].dropna())) if len(found) else {}
    f = with_checks(both_sides(found, summary), checks)
    wb = Workbook()
    _summary_sheet(wb.active, summary, f, basis)
    for rule, (name, _owner, _) in RULES.items():
        _rule_sheet(wb.create_sheet(f"{rule} {name}"), f[f["rule"] == rule])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _summary_sheet(ws, summary: Summary, f: pd.DataFrame, basis: dict) -> None:  # an openpyxl worksheet
    """汇总: counts per rule (new, persisting, resolved), per town, and the two rates with their basis."""
    from openpyxl.styles import Alignment, Font

    ws.title = "汇总"
    bold = Font(bold=True)
    set_cell(ws, 1, 1, f"{month_label(summary.month)} 建档立卡与农村低保数据比对结果").font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, f"比对数据：建档立卡 {month_label(summary.registry_month)}，低保 {month_label(summary.dibao_month)}。{summary.note}")
    how_to_answer(ws, 3, 7)
    row = 4
    for j, h in enumerate(["规则", "名称", "责任单位", "本月", "新增", "持续", "已整改"], 1):
        set_cell(ws, row, j, h).font = bold
    for rule, (name, owner, _) in RULES.items():
        row += 1
        for j, v in enumerate([rule, name, owner_label(owner), summary.counts.get(rule, 0), summary.new.get(rule, 0),
                               summary.persisting.get(rule, 0), summary.resolved.get(rule, 0)], 1):
            set_cell(ws, row, j, v)
    row += 2
    set_cell(ws, row, 1, "镇（街）").font = bold
    for j, rule in enumerate(RULES, 2):
        head = set_cell(ws, row, j, f"{rule} {RULES[rule][0]}")
        head.font, head.alignment = bold, Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[row].height = 32
    for t in sorted({t for t in f["town"].dropna()}):
        row += 1
        set_cell(ws, row, 1, t)
        for j, rule in enumerate(RULES, 2):
            set_cell(ws, row, j, int(((f["town"] == t) & (f["rule"] == rule)).sum()))
    row += 2
    for j, h in enumerate(["覆盖率", "全县", "依据"], 1):
        set_cell(ws, row, j, h).font = bold
    for kind, by_town in summary.rates.items():
        row += 1
        value = by_town.get(COUNTY_TOTAL)
        set_cell(ws, row, 1, kind)
        cell = set_cell(ws, row, 2, "无对象" if value is None else value)
        cell.number_format = "0.0%"
        num_den = basis.get((kind, COUNTY_TOTAL))
        set_cell(ws, row, 3, f"{num_den[0]:,}/{num_den[1]:,} 户" if num_den and num_den[1] else "无对象")
    finish_sheet(ws, {1: 16, 2: 18, 3: 16, 4: 12, 5: 10, 6: 10, 7: 10})


def how_to_answer(ws, row: int, width: int) -> None:  # an openpyxl worksheet
    """The 核查反馈 instructions, across the summary sheet's first `width` columns."""
    from openpyxl.styles import Alignment

    set_cell(ws, row, 1, "核查反馈：在各规则工作表黄色的“核查结果”列选择 属实已整改、属实待整改（填写整改期限）或 不属实（在“核查说明”写明理由），"
                         f"保存后将本工作簿放入本单位共享文件夹中的“核查结果”文件夹（{unc(None, SHARE_VERIFY)}），"
                         "平台只接收本单位负责核查的条目，回执告知结果；也可在“扶贫数据”网页的“核查”中填写。"
                         "请勿修改“编号”列。").alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.row_dimensions[row].height = 48


def _rule_sheet(sheet, rows: pd.DataFrame) -> None:  # an openpyxl worksheet
    """One rule's findings, each with both registries' record of its person."""
    finding_sheet(sheet, rows, COLUMNS, money=("reg_income", "dib_income"))


def finding_sheet(sheet, rows: pd.DataFrame, columns: list[tuple[str, str, int]], money: tuple[str, ...] = ()) -> None:  # an openpyxl worksheet
    """One rule's findings under `columns` (key, header, width), ending with the 核查反馈 columns
    (编号, 核查结果, 整改期限, 核查说明) the unit fills in: the sheet the returned workbook is read from."""
    from openpyxl.styles import Alignment, Font

    for j, (_, label, _w) in enumerate(columns, 1):
        head = set_cell(sheet, 1, j, label)
        head.font, head.alignment = Font(bold=True), Alignment(wrap_text=True, vertical="center")
    sheet.row_dimensions[1].height = 32
    for i, r in enumerate(rows.itertuples(index=False), 2):
        for j, (key, _, _w) in enumerate(columns, 1):
            v = getattr(r, key)
            if key == "escalated":
                v = "是（持续 3 个月以上）" if v else ""
            cell = set_cell(sheet, i, j, None if v is None or (not isinstance(v, str) and pd.isna(v)) else v)
            if key in money and isinstance(v, int | float):
                cell.number_format = YUAN
    keys = [k for k, _, _ in columns]
    if rows.empty:
        set_cell(sheet, 2, 1, "本月无此类问题")
    elif "check_outcome" in keys:  # a sheet to answer on (not 县审计局's: it checks nothing)
        _check_inputs(sheet, len(rows), keys)
    finish_sheet(sheet, {j: w for j, (_, _, w) in enumerate(columns, 1)}, header_row=1)


def _check_inputs(sheet, n: int, keys: list[str]) -> None:  # an openpyxl worksheet
    """核查结果 as a drop-down, 整改期限 as a date, on the rows of findings."""
    from openpyxl.styles import PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    outcome, due = get_column_letter(keys.index("check_outcome") + 1), get_column_letter(keys.index("check_due") + 1)
    pick = DataValidation(type="list", formula1=f'"{OUTCOME_CHOICES}"', allow_blank=True, showErrorMessage=True,
                          errorTitle="核查结果", error="请选择：属实已整改、属实待整改 或 不属实")
    date = DataValidation(type="date", operator="greaterThan", formula1="DATE(2016,1,1)", allow_blank=True, showErrorMessage=True,
                          errorTitle="整改期限", error="请填写日期，如 2018-03-31")
    for dv, col in ((pick, outcome), (date, due)):
        dv.add(f"{col}2:{col}{n + 1}")
        sheet.add_data_validation(dv)
    fill = PatternFill("solid", fgColor="FFF9DB")  # the cells the unit fills in
    for j in range(keys.index("check_outcome") + 1, len(keys) + 1):
        for i in range(2, n + 2):
            sheet.cell(i, j).fill = fill
        sheet.cell(1, j).fill = PatternFill("solid", fgColor="FFE066")
    for i in range(2, n + 2):
        sheet.cell(i, keys.index("check_due") + 1).number_format = "yyyy-mm-dd"
