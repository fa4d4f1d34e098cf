"""The monthly 资金监管 workbooks: the whole month's for 县财政局 and 县扶贫办, each 责任单位's own
(its projects behind schedule), and 县审计局's (the 疑似 cases only, docs/spec/funds.md).

A summary sheet and one sheet per rule, each finding beside what the files say of it: 县财政局's
payment rows, 县扶贫办's project (with what has been paid on it so far) and the registry's
household or labourer — so a clerk can act without opening any of them. The 核查反馈 columns are
the reconciliation workbook's (`reconcile.report.finding_sheet`): a unit fills them in and drops
the workbook into its 核查结果 folder. Every value goes through `set_cell`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fupin import queries
from fupin.calendar import month_label
from fupin.config import data_root
from fupin.export import finish_sheet, set_cell
from fupin.funds.rules import FUND_COLUMNS, FUND_RULES, WAN
from fupin.funds.run import FundSummary, audit_after, goes_to_audit
from fupin.reconcile.catalog import owner_of
from fupin.reconcile.report import finding_sheet, how_to_answer, owner_label, with_checks
from fupin.warehouse.db import engine
from fupin.wording import unit_name

CHECK_COLUMNS = [("finding_id", "编号", 18), ("check_outcome", "核查结果", 12), ("check_due", "整改期限", 12), ("check_note", "核查说明", 30)]
# (key, header, width): the finding, then the three files' own words about it
COLUMNS = [("town", "镇（街）", 10), ("project_no", "项目编号", 20), ("project_name", "项目库·项目名称", 26),
           ("responsible", "项目库·责任单位", 10), ("planned", "项目库·计划投资（元）", 14), ("project_paid", "累计已拨付（元）", 14),
           ("project_dates", "项目库·实际立项/开工/完工/验收", 34),
           ("payment_no", "拨付单号", 18), ("paid_on", "拨付明细·拨付日期", 12), ("fund_type", "拨付明细·资金类型", 14),
           ("payee", "拨付明细·收款人", 20), ("payee_id", "拨付明细·证件号码", 20), ("household_id", "户编号", 18),
           ("worker_id", "受奖劳动力身份证号", 20), ("amount", "拨付明细·金额（元）", 14), ("registry", "建档立卡·记录", 24),
           ("detail", "说明", 44), ("persisted_months", "连续月数", 8), ("escalated", "已上报领导", 9)]
MONEY = ("planned", "project_paid", "amount")
PROJECT_COLUMNS = ["project_no", "project_name", "responsible_unit", "planned_investment", "approved_on", "started_on",
                   "completed_on", "accepted_on"]


def _day(v: object) -> str:
    return "—" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)[:10]


def what_files_say(found: pd.DataFrame, summary: FundSummary) -> pd.DataFrame:
    """Each finding with 县财政局's payment rows, 县扶贫办's project and the registry's record."""
    if found.empty:
        return found.assign(**{k: None for k, _, _ in COLUMNS if k not in found})
    # a finding's payment numbers (F2: a pair, or one number written twice — its rows are all the number's)
    numbers = {n: list(dict.fromkeys(str(v).split("、"))) for n, v in zip(found.index, found["payment_no"], strict=True) if isinstance(v, str)}
    with engine().connect() as conn:
        paid_rows = queries.payments_numbered(conn, summary.month, {x for ns in numbers.values() for x in ns}, FUND_COLUMNS["fund_payments"])
        projects = (queries.snapshot(conn, "projects", summary.projects_month, PROJECT_COLUMNS).set_index("project_no").to_dict("index")
                    if summary.projects_month else {})
        paid = dict(queries.paid_by_project(conn, summary.month).itertuples(index=False))
        reg_month = summary.registry_month or queries.latest_month(conn, "registry", summary.month)
        households = queries.households_in_registry(conn, reg_month, found["household_id"].dropna()) if reg_month else {}
        workers = queries.persons(conn, "registry", reg_month, found["person_id"].dropna(), ["town", "village"]) if reg_month else {}
    out = found.copy()
    cols: dict[str, list] = {k: [] for k in ("project_name", "responsible", "planned", "project_paid", "project_dates", "paid_on", "fund_type",
                                             "payee", "payee_id", "worker_id", "amount", "registry")}
    for i, r in zip(found.index, found.to_dict("records"), strict=True):
        pays = [p for n in numbers.get(i, []) for p in paid_rows.get(n, [])]
        proj = projects.get(r["project_no"]) if isinstance(r["project_no"], str) else None
        cols["project_name"].append(proj["project_name"] if proj else ("项目库中没有该项目" if isinstance(r["project_no"], str) else None))
        cols["responsible"].append(proj["responsible_unit"] if proj else None)
        cols["planned"].append(float(proj["planned_investment"]) * WAN if proj and pd.notna(proj["planned_investment"]) else None)
        cols["project_paid"].append(float(paid[r["project_no"]]) if r["project_no"] in paid else None)
        cols["project_dates"].append(" / ".join(_day(proj[k]) for k in ("approved_on", "started_on", "completed_on", "accepted_on")) if proj else None)
        cols["paid_on"].append("、".join(_day(p["paid_on"]) for p in pays) or None)
        cols["fund_type"].append(pays[0]["fund_type"] if pays else None)
        cols["payee"].append(f"{pays[0]['payee_name']}（{pays[0]['payee_type']}）" if pays else None)
        cols["payee_id"].append(pays[0]["payee_id"] if pays else None)
        cols["worker_id"].append(pays[0]["worker_id"] if pays else None)
        amounts = [float(p["amount"]) for p in pays if p["amount"] is not None]
        cols["amount"].append(amounts[0] if len(amounts) == 1 else "、".join(f"{a:,.2f}" for a in amounts) or None)
        cols["registry"].append(_registry_says(r, households, workers, reg_month))
    for k, v in cols.items():
        out[k] = v
    return out


def _registry_says(r: dict, households: dict, workers: dict, reg_month: str | None) -> str | None:
    """The registry's word on the household paid, or on the labourer rewarded."""
    when = month_label(reg_month) if reg_month else ""
    if isinstance(r.get("household_id"), str):
        h = households.get(r["household_id"])
        return f"{when}在册：{h['town']}{h['village'] or ''}，{h['members']} 人" if h else f"{when}名单中没有该户编号"
    if r["rule"] == "F4" and isinstance(r.get("person_id"), str):
        w = workers.get(r["person_id"])
        return f"{when}在册：{w['town']}{w['village'] or ''}" if w else f"{when}名单中没有该劳动力"
    return None


def write_reports(summaries: list[FundSummary]) -> list[dict]:
    """funds_supervision's task: for each checked month, the whole workbook (县财政局, 县扶贫办),
    each 责任单位's own (its F6 projects) and 县审计局's (the 疑似 cases, when there are any):
    {"all": path, "units": {unit: path}, "audit": path | None}."""
    folder = data_root() / "reports" / "funds"
    out = []
    for s in summaries:
        with engine().connect() as conn:
            found = queries.findings_frame(conn, s.month, FUND_RULES)
            checks = queries.latest_verifications(conn, list(found["finding_id"].dropna())) if len(found) else {}
        f = with_checks(what_files_say(found, s), checks)
        paths = {"all": str(write_workbook(s, f, folder / f"资金监管_{s.month}.xlsx")), "units": {}, "audit": None}
        f6 = f[f["rule"] == "F6"]
        for unit in sorted({owner_of(r) for r in f6.to_dict("records")} - {"finance", "poverty_office"}):
            mine = f6[[owner_of(r) == unit for r in f6.to_dict("records")]]
            paths["units"][unit] = str(write_workbook(s, mine, folder / f"资金监管_{s.month}_{unit_name(unit)}.xlsx", unit=unit))
        suspected = audit_cases(f)
        if len(suspected):
            paths["audit"] = str(write_workbook(s, suspected, folder / f"资金监管_{s.month}_疑似问题线索.xlsx", unit="audit"))
        out.append(paths)
    return out


def audit_cases(f: pd.DataFrame) -> pd.DataFrame:
    """What goes to 县审计局 (`run.goes_to_audit`)."""
    after = audit_after()
    return f[[goes_to_audit(r, n, e, after) for r, n, e in zip(f["rule"], f["persisted_months"], f["escalated"], strict=True)]]


def write_workbook(summary: FundSummary, f: pd.DataFrame, path: Path, unit: str | None = None) -> Path:
    """The whole month's workbook, or a unit's share of it: a 责任单位's projects behind schedule
    (with the 核查反馈 columns), or 县审计局's 疑似 cases (read only: it checks nothing)."""
    from openpyxl import Workbook

    wb = Workbook()
    audit = unit == "audit"
    _summary_sheet(wb.active, summary, f, unit)
    columns = COLUMNS if audit else COLUMNS + CHECK_COLUMNS
    for rule, (name, _owner, _cc) in FUND_RULES.items():
        if unit is None or (f["rule"] == rule).any():
            finding_sheet(wb.create_sheet(f"{rule} {name}"), f[f["rule"] == rule], columns, money=MONEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _summary_sheet(ws, summary: FundSummary, f: pd.DataFrame, unit: str | None) -> None:  # an openpyxl worksheet
    """汇总: what was checked against what, and the counts per rule and town."""
    from openpyxl.styles import Font

    ws.title = "汇总"
    row = _intro(ws, summary, unit) + 2
    heads = ["规则", "名称", "核查单位", "本月", "新增", "持续", "已整改"] if unit is None else ["规则", "名称", "条数"]
    for j, h in enumerate(heads, 1):
        set_cell(ws, row, j, h).font = Font(bold=True)
    for rule, (name, owner, _cc) in FUND_RULES.items():
        n = int((f["rule"] == rule).sum())
        if unit is not None and not n:
            continue
        row += 1
        who = "各项目责任单位" if owner == "responsible" else owner_label(owner)
        values = ([rule, name, who, summary.counts.get(rule, 0), summary.new.get(rule, 0), summary.persisting.get(rule, 0),
                   summary.resolved.get(rule, 0)] if unit is None else [rule, name, n])
        for j, v in enumerate(values, 1):
            set_cell(ws, row, j, v)
    _per_town(ws, f, row + 2)
    finish_sheet(ws, {1: 16, 2: 22, 3: 16, 4: 10, 5: 10, 6: 10, 7: 10})


def _intro(ws, summary: FundSummary, unit: str | None) -> int:  # an openpyxl worksheet
    """The title, the data checked, who this is for and how to answer; the last row written."""
    from openpyxl.styles import Alignment, Font

    label = month_label(summary.month)
    title = {None: f"{label} 扶贫资金项目监管结果", "audit": f"{label} 扶贫资金疑似问题线索（供审计参考）"}.get(unit) or \
        f"{label} 扶贫项目进度滞后：{unit_name(unit)}"
    set_cell(ws, 1, 1, title).font = Font(bold=True, size=14)
    projects = month_label(summary.projects_month) if summary.projects_month else "无"
    registry = month_label(summary.registry_month) if summary.registry_month else "无"
    texts = [f"核查数据：县财政局拨付明细（截至{label}，累计）、县扶贫办扶贫项目库（{projects}）、建档立卡（{registry}）。{summary.note}"]
    if unit == "audit":
        texts.append(f"以下为连续 {audit_after()} 个月以上仍存在、尚未核实整改的问题线索，系报送数据相互比对所见，属“疑似”，"
                     "不代表已认定违规；县财政局、县扶贫办已同时收到并负责核实。各条目的“说明”列写明了依据。")
    elif unit is not None:
        texts.append(f"以下为{unit_name(unit)}负责的扶贫项目中进度滞后的项目，请核实并反馈。")
    for row, text in enumerate(texts, 2):
        set_cell(ws, row, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=7)
        ws.row_dimensions[row].height = 36
    row = 1 + len(texts)
    if unit != "audit":
        row += 1
        how_to_answer(ws, row, 7)
    return row


def _per_town(ws, f: pd.DataFrame, row: int) -> None:  # an openpyxl worksheet
    """Findings per town and rule (the rules found here only)."""
    from openpyxl.styles import Alignment, Font

    towns = sorted(t for t in f["town"].dropna().unique())
    if not towns:
        return
    bold = Font(bold=True)
    set_cell(ws, row, 1, "镇（街）").font = bold
    rules = [r for r in FUND_RULES if (f["rule"] == r).any()]
    for j, rule in enumerate(rules, 2):
        head = set_cell(ws, row, j, f"{rule} {FUND_RULES[rule][0]}")
        head.font, head.alignment = bold, Alignment(wrap_text=True, vertical="center")
    ws.row_dimensions[row].height = 32
    for t in towns:
        row += 1
        set_cell(ws, row, 1, t)
        for j, rule in enumerate(rules, 2):
            set_cell(ws, row, j, int(((f["town"] == t) & (f["rule"] == rule)).sum()))
