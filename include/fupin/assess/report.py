"""Scorecards officials read: a workbook, a self-contained HTML page, a PNG chart per unit.

No personal data: scores are counts and shares per unit. Every workbook cell goes through
`set_cell`. The HTML draws its charts as inline SVG (the reader's fonts show the Chinese); the
PNG charts are drawn with a CJK font found explicitly (`cjk_font`: Debian's fonts-noto-cjk).
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

from fupin.assess.indicators import town_codes
from fupin.export import set_cell
from fupin.notify.notices import period_label, show, unit_name

log = logging.getLogger(__name__)

GREEN, RED, GREY = "C6EFCE", "FFC7CE", "EDEDED"


def _units(result: dict) -> list[str]:
    towns = sorted(town_codes().values())
    others = sorted({s["unit"] for s in result["scores"]} - set(towns))
    return [u for u in towns if any(s["unit"] == u for s in result["scores"])] + others


def _indicators(result: dict) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for s in result["scores"]:
        seen.setdefault(s["indicator"], s["name"])
    return sorted(seen.items())


def _cell(result: dict, unit: str, indicator: str) -> dict | None:
    return next((s for s in result["scores"] if s["unit"] == unit and s["indicator"] == indicator), None)


def write_workbook(result: dict, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    fill = {c: PatternFill("solid", fgColor=c) for c in (GREEN, RED, GREY)}
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "总表"
    units, inds = _units(result), _indicators(result)
    set_cell(ws, 1, 1, f"{period_label(result['period'])}扶贫考核总表").font = Font(bold=True, size=14)
    set_cell(ws, 2, 1, "数据月份：" + "、".join(f"{k} {v or '无数据'}" for k, v in result["data_months"].items()))
    set_cell(ws, 4, 1, "单位").font = bold
    for j, (ind, name) in enumerate(inds, 2):
        set_cell(ws, 4, j, f"{ind} {name}").font = bold
    for i, unit in enumerate(units, 5):
        set_cell(ws, i, 1, unit_name(unit))
        for j, (ind, _) in enumerate(inds, 2):
            s = _cell(result, unit, ind)
            c = set_cell(ws, i, j, "—" if s is None else (show(ind, s["value"]) if s["value"] is not None else s["reason"] or "—"))
            c.fill = fill[GREY if s is None else (GREEN if s["status"] == "达标" else RED)]
    for unit in units:
        sheet = wb.create_sheet(unit_name(unit)[:31])
        for j, h in enumerate(["指标", "名称", "实际", "目标", "结果", "说明"], 1):
            set_cell(sheet, 1, j, h).font = bold
        for i, s in enumerate((s for s in result["scores"] if s["unit"] == unit), 2):
            for j, v in enumerate([s["indicator"], s["name"], show(s["indicator"], s["value"]), f"{s['compare']} {show(s['indicator'], s['target'])}",
                                   s["status"], s["reason"]], 1):
                set_cell(sheet, i, j, v)
            sheet.cell(row=i, column=5).fill = fill[GREEN if s["status"] == "达标" else RED]
    for ind, name in inds:
        sheet = wb.create_sheet(f"{ind}")
        set_cell(sheet, 1, 1, f"{ind} {name}").font = bold
        for j, h in enumerate(["单位", "实际", "目标", "结果", "说明"], 1):
            set_cell(sheet, 2, j, h).font = bold
        for i, s in enumerate((s for s in result["scores"] if s["indicator"] == ind), 3):
            for j, v in enumerate([unit_name(s["unit"]), show(ind, s["value"]), show(ind, s["target"]), s["status"], s["reason"]], 1):
                set_cell(sheet, i, j, v)
    actions = wb.create_sheet("处理措施")
    for j, h in enumerate(["单位", "措施", "指标", "整改期限", "说明"], 1):
        set_cell(actions, 1, j, h).font = bold
    for i, a in enumerate(result["actions"], 2):
        for j, v in enumerate([unit_name(a["unit"]), a["action"], "、".join(a["indicators"]), a["due"] or "", a["reason"]], 1):
            set_cell(actions, i, j, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _exit_bars(result: dict) -> str:
    """Inline SVG: exits against target by town (I01)."""
    rows = [s for s in result["scores"] if s["indicator"] == "I01" and s["unit"] in set(town_codes().values())]
    if not rows:
        return "<p>本期无脱贫人数数据。</p>"
    top = max(max(s["value"] or 0, s["target"]) for s in rows) or 1
    bar_h, gap, left, width = 18, 10, 90, 520
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" height="{len(rows) * (bar_h + gap) + 30}" role="img">']
    for i, s in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        w = (s["value"] or 0) / top * width
        t = s["target"] / top * width
        color = "#4caf50" if s["status"] == "达标" else "#e53935"
        parts.append(f'<text x="0" y="{y + 13}" font-size="13">{html.escape(unit_name(s["unit"]))}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
        parts.append(f'<line x1="{left + t:.1f}" x2="{left + t:.1f}" y1="{y - 3}" y2="{y + bar_h + 3}" stroke="#333" stroke-width="2"/>')
        parts.append(f'<text x="{left + max(w, t) + 6:.1f}" y="{y + 13}" font-size="12">{s["value"] or 0:,.0f} / {s["target"]:,.0f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def write_html(result: dict, path: Path) -> Path:
    units, inds = _units(result), _indicators(result)
    head = "".join(f"<th title='{html.escape(n)}'>{i}</th>" for i, n in inds)
    body = []
    for unit in units:
        cells = []
        for ind, _ in inds:
            s = _cell(result, unit, ind)
            if s is None:
                cells.append("<td class='na'>—</td>")
                continue
            text = show(ind, s["value"]) if s["value"] is not None else (s["reason"] or "—")
            cls = "ok" if s["status"] == "达标" else "bad"
            cells.append(f"<td class='{cls}' title='目标 {html.escape(s['compare'])} {html.escape(show(ind, s['target']))}'>{html.escape(text)}</td>")
        body.append(f"<tr><th>{html.escape(unit_name(unit))}</th>{''.join(cells)}</tr>")
    legend = "".join(f"<li>{i} {html.escape(n)}</li>" for i, n in inds)
    actions = "".join(f"<li>{html.escape(a['action'])}：{html.escape(unit_name(a['unit']))}（{'、'.join(a['indicators'])}）"
                      f"{'，整改期限 ' + a['due'] if a['due'] else ''}{'，' + html.escape(a['reason']) if a['reason'] else ''}</li>"
                      for a in result["actions"]) or "<li>无</li>"
    months = "、".join(f"{k} {v or '无数据'}" for k, v in result["data_months"].items())
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{period_label(result['period'])}扶贫考核</title>
<style>
body{{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:24px;color:#222}}
table{{border-collapse:collapse;font-size:13px}} th,td{{border:1px solid #ccc;padding:4px 6px;text-align:center}}
td.ok{{background:#c6efce}} td.bad{{background:#ffc7ce;font-weight:bold}} td.na{{background:#ededed;color:#999}}
</style></head><body>
<h1>{period_label(result['period'])}扶贫考核</h1>
<p>数据月份：{html.escape(months)}</p>
<h2>各镇脱贫人数完成情况（柱：实际；竖线：目标）</h2>
{_exit_bars(result)}
<h2>指标达标情况（绿：达标，红：未达标）</h2>
<table><tr><th>单位</th>{head}</tr>{''.join(body)}</table>
<ul>{legend}</ul>
<h2>处理措施</h2><ul>{actions}</ul>
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


# Debian's fonts-noto-cjk (installed by `make setup` and the Dockerfile); a county may name
# another in settings.yaml (reports.cjk_font)
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf")


def cjk_font() -> str | None:
    """The font file the charts draw Chinese with, found explicitly (matplotlib's default
    DejaVu has no CJK glyph and would draw boxes); None when the machine has none."""
    from fupin.config import settings

    own = (settings().get("reports") or {}).get("cjk_font")
    for path in ((own,) if own else ()) + CJK_FONTS:
        if Path(path).is_file():
            return path
    return None


def unit_chart(result: dict, unit: str, path: Path, font: str | None = None) -> Path:
    """PNG bars of each indicator's share of its target for one unit, labelled in Chinese."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    font = font or cjk_font()
    if font is None:
        log.warning("no CJK font (install fonts-noto-cjk): the chart of %s is labelled with indicator ids only", unit)
    props = font_manager.FontProperties(fname=font) if font else None
    scores = [s for s in result["scores"] if s["unit"] == unit]
    labels, ratios, colors = [], [], []
    for s in scores:
        labels.append(f"{s['indicator']} {s['name']}" if props else s["indicator"])
        if s["value"] is None or s["target"] == 0:
            ratios.append(0.0 if s["status"] != "达标" else 1.0)
        elif s["compare"] == "<=":
            ratios.append(1.0 if s["value"] <= s["target"] else s["target"] / max(s["value"], 1))
        else:
            ratios.append(min(1.5, s["value"] / s["target"]))
        colors.append("#4caf50" if s["status"] == "达标" else "#e53935")
    fig, ax = plt.subplots(figsize=(7, max(2.2, 0.45 * len(labels) + 1.2)), dpi=110)
    y = list(range(len(labels)))[::-1]
    ax.barh(y, [r * 100 for r in ratios], color=colors)
    ax.axvline(100, color="#333", linewidth=1)
    ax.set_yticks(y, labels, fontproperties=props)
    ax.set_xlim(0, 155)
    for yy, r in zip(y, ratios, strict=True):
        ax.text(min(r * 100, 150) + 1, yy, f"{r:.0%}", va="center", fontsize=8)
    if props:
        ax.set_xlabel("完成目标的百分比（竖线为目标 100%；红色为未达标）", fontproperties=props)
        ax.set_title(f"{period_label(result['period'])}考核：{unit_name(unit)}", fontproperties=props)
    else:
        ax.set_xlabel("% of target")
        ax.set_title(f"{result['period']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def lagging_units(result: dict) -> list[str]:
    """The units with an action (通报, 约谈...): each gets its own scorecard and chart."""
    return sorted({a["unit"] for a in result["actions"]})


def write_summary(result: dict, folder: Path) -> dict:
    """The whole scorecard of a period (xlsx, html)."""
    return {
        "workbook": str(write_workbook(result, folder / f"考核总表_{result['period']}.xlsx")),
        "html": str(write_html(result, folder / f"考核总表_{result['period']}.html")),
    }


def write_unit_report(result: dict, unit: str, folder: Path) -> dict:
    """One lagging unit's own scorecard workbook (its rows only) and chart."""
    own = {**result, "scores": [s for s in result["scores"] if s["unit"] == unit],
           "actions": [a for a in result["actions"] if a["unit"] == unit]}
    return {
        "unit": unit,
        "workbook": str(write_workbook(own, folder / f"考核表_{result['period']}_{unit}.xlsx")),
        "chart": str(unit_chart(result, unit, folder / f"chart_{result['period']}_{unit}.png")),
    }


def write_reports(result: dict, folder: Path) -> dict:
    """Everything for one period in one process: the summary, and per lagging unit its own
    scorecard and chart (the DAG maps the per-unit part over workers instead)."""
    out = write_summary(result, folder)
    out["units"] = {u: write_unit_report(result, u, folder) for u in lagging_units(result)}
    return out
