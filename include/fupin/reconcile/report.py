"""The monthly reconciliation workbook (比对结果) for civil affairs and the poverty office.

A summary sheet (counts per rule and town; new, persisting and resolved against last month;
the two rates) and one sheet per rule with the rows the units must act on. Every value goes
through `set_cell`, so nothing from a dropped file can become a formula.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import select

from fupin.calendar import month_label
from fupin.export import set_cell
from fupin.reconcile.rules import COUNTY, RULES
from fupin.reconcile.run import Summary
from fupin.warehouse.db import engine
from fupin.warehouse.schema import findings

OWNER_LABEL = {"civil_affairs": "县民政局", "poverty_office": "县扶贫办", "both": "两单位共同核实", "town": "所在镇"}
COLUMNS = [("town", "镇（街）"), ("household_id", "户编号"), ("card_no", "低保证号"), ("person_id", "身份证号"),
           ("other_id", "疑似对应身份证号"), ("detail", "说明"), ("persisted_months", "连续月数"), ("escalated", "已上报领导")]


def month_findings(month: str, url: str | None = None) -> pd.DataFrame:
    with engine(url).connect() as conn:
        return pd.read_sql(select(findings).where(findings.c.month == month).order_by(findings.c.rule, findings.c.town, findings.c.key), conn)


def write_workbook(summary: Summary, path: Path, url: str | None = None) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    f = month_findings(summary.month, url)
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    bold = Font(bold=True)
    set_cell(ws, 1, 1, f"{month_label(summary.month)} 建档立卡与农村低保数据比对结果").font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, f"比对数据：建档立卡 {summary.registry_month}，低保 {summary.dibao_month}。{summary.note}")
    row = 4
    for j, h in enumerate(["规则", "名称", "责任单位", "本月", "新增", "持续", "已整改"], 1):
        set_cell(ws, row, j, h).font = bold
    for rule, (name, owner, _) in RULES.items():
        row += 1
        for j, v in enumerate([rule, name, OWNER_LABEL[owner], summary.counts.get(rule, 0), summary.new.get(rule, 0),
                               summary.persisting.get(rule, 0), summary.resolved.get(rule, 0)], 1):
            set_cell(ws, row, j, v)
    row += 2
    towns = sorted({t for t in f["town"].dropna()})
    set_cell(ws, row, 1, "镇（街）").font = bold
    for j, rule in enumerate(RULES, 2):
        set_cell(ws, row, j, rule).font = bold
    for t in towns:
        row += 1
        set_cell(ws, row, 1, t)
        for j, rule in enumerate(RULES, 2):
            set_cell(ws, row, j, int(((f["town"] == t) & (f["rule"] == rule)).sum()))
    row += 2
    set_cell(ws, row, 1, "覆盖率").font = bold
    for kind, by_town in summary.rates.items():
        row += 1
        value = by_town.get(COUNTY)
        set_cell(ws, row, 1, kind)
        set_cell(ws, row, 2, "—" if value is None else f"{value:.1%}")
    for rule, (name, _owner, _) in RULES.items():
        sheet = wb.create_sheet(f"{rule} {name}")
        rows = f[f["rule"] == rule]
        for j, (_, label) in enumerate(COLUMNS, 1):
            set_cell(sheet, 1, j, label).font = bold
        for i, r in enumerate(rows.itertuples(index=False), 2):
            for j, (key, _) in enumerate(COLUMNS, 1):
                v = getattr(r, key)
                if key == "escalated":
                    v = "是" if v else ""
                set_cell(sheet, i, j, None if pd.isna(v) else v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
