"""Scorecards officials read: a workbook, a self-contained HTML page, a PNG chart per unit.

No personal data: scores are counts and shares per unit. Every workbook cell goes through
`set_cell`. The HTML draws its charts as inline SVG (the reader's fonts show the Chinese); the
PNG charts are drawn with a CJK font found explicitly (`cjk_font`: Debian's fonts-noto-cjk).
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from pathlib import Path

from fupin.assess.indicators import town_codes
from fupin.assess.run import Assessment
from fupin.assess.score import Score
from fupin.calendar import date_label
from fupin.config import data_root, settings
from fupin.export import finish_sheet, set_cell
from fupin.vocab import ScoreStatus
from fupin.wording import data_months, gap, period_label, shortfall, show, unit_name, unit_of

log = logging.getLogger(__name__)

GREEN, RED, GREY = "C6EFCE", "FFC7CE", "EDEDED"


def _units(result: Assessment) -> list[str]:
    towns = sorted(town_codes().values())
    others = sorted({s.unit for s in result.scores} - set(towns))
    return [u for u in towns if any(s.unit == u for s in result.scores)] + others


def _indicators(result: Assessment) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for s in result.scores:
        seen.setdefault(s.indicator, s.name)
    return sorted(seen.items())


def _cell(result: Assessment, unit: str, indicator: str) -> Score | None:
    return next((s for s in result.scores if s.unit == unit and s.indicator == indicator), None)


def _heading(ws, title: str, months: str, width: int) -> None:
    """The title, and the data months wrapped across the table (not one line wider than the page)."""
    from openpyxl.styles import Alignment, Font

    set_cell(ws, 1, 1, title).font = Font(bold=True, size=14)
    cell = set_cell(ws, 2, 1, months)
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.row_dimensions[2].height = 48


def _number_format(indicator: str) -> str:
    """How Excel shows an indicator's numbers: 95.0% for a share, 1,234 人 / 7,101 元 for counts."""
    unit = unit_of(indicator)
    return f'#,##0" {unit}"' if unit else "0.0%"


def _basis(s: Score) -> str:
    """What a share rests on: 0/2 (the numerator over the denominator)."""
    if s.numerator is None or s.denominator is None or _number_format(s.indicator) != "0.0%":
        return ""
    return f"{s.numerator:,.0f}/{s.denominator:,.0f}"


SCORE_COLUMNS = (("单位", 16), ("指标", 7), ("名称", 30), ("实际", 13), ("目标", 13), ("差距", 13), ("依据", 11), ("结果", 8), ("说明", 22))


def _score_rows(ws, scores: list[Score], top: int, fill: dict) -> None:
    from openpyxl.styles import Font

    for j, (h, _) in enumerate(SCORE_COLUMNS, 1):
        set_cell(ws, top, j, h).font = Font(bold=True)
    for i, s in enumerate(scores, top + 1):
        short = shortfall(s.value, s.target, s.compare)
        values = [unit_name(s.unit), s.indicator, s.name, s.value, s.target, short, _basis(s), s.status, s.reason]
        for j, v in enumerate(values, 1):
            c = set_cell(ws, i, j, v)
            if j in (4, 5, 6) and v is not None:
                c.number_format = _number_format(s.indicator)
        ws.cell(row=i, column=8).fill = fill[GREEN if s.status == ScoreStatus.MET else RED]
    finish_sheet(ws, {j: w for j, (_, w) in enumerate(SCORE_COLUMNS, 1)}, header_row=top)


def write_workbook(result: Assessment, path: Path, own_unit: str | None = None) -> Path:
    """The 考核总表 of a period — 总览 (unit × indicator, coloured), 总表 (every score with value,
    target, gap and basis, as numbers), 未达标明细, 处置 — or, for `own_unit`, that unit's own
    考核表 (its rows only, titled as its own)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    fill = {c: PatternFill("solid", fgColor=c) for c in (GREEN, RED, GREY)}
    bold = Font(bold=True)
    wb = Workbook()
    label = period_label(result.period)
    title = f"{label}扶贫考核：{unit_name(own_unit)}考核表" if own_unit else f"{label}扶贫考核总表"
    months = "数据月份：" + data_months(result.data_months)
    units, inds = _units(result), _indicators(result)
    if own_unit is None:
        ws = wb.active
        ws.title = "总览"
        _heading(ws, title, months, len(inds) + 1)
        set_cell(ws, 4, 1, "单位").font = bold
        for j, (ind, name) in enumerate(inds, 2):
            c = set_cell(ws, 4, j, f"{ind} {name}")
            c.font, c.alignment = bold, Alignment(wrap_text=True, vertical="center")
        for i, unit in enumerate(units, 5):
            set_cell(ws, i, 1, unit_name(unit))
            for j, (ind, _) in enumerate(inds, 2):
                sc = _cell(result, unit, ind)
                c = set_cell(ws, i, j, "—" if sc is None else (sc.value if sc.value is not None else sc.reason or "—"))
                if sc is not None and sc.value is not None:
                    c.number_format = _number_format(ind)
                c.fill = fill[GREY if sc is None else (GREEN if sc.status == ScoreStatus.MET else RED)]
        ws.row_dimensions[4].height = 60
        finish_sheet(ws, {1: 16, **{j: 12 for j in range(2, len(inds) + 2)}}, header_row=4)
        detail = wb.create_sheet("总表")
    else:
        detail = wb.active
        detail.title = "总表"
    _heading(detail, title, months, len(SCORE_COLUMNS))
    _score_rows(detail, result.scores, 4, fill)
    missed = wb.create_sheet("未达标明细")
    set_cell(missed, 1, 1, f"{title}：未达标明细").font = Font(bold=True, size=14)
    _score_rows(missed, [s for s in result.scores if s.status != ScoreStatus.MET], 3, fill)
    actions = wb.create_sheet("处置")
    set_cell(actions, 1, 1, f"{title}：处置").font = Font(bold=True, size=14)
    for j, h in enumerate(["单位", "措施", "指标", "整改期限", "说明"], 1):
        set_cell(actions, 3, j, h).font = bold
    for i, a in enumerate(result.actions, 4):
        names = "、".join(f"{x} {dict(inds).get(x, '')}".strip() for x in a.indicators)
        for j, v in enumerate([unit_name(a.unit), a.action, names, date_label(a.due) if a.due else "", a.reason], 1):
            set_cell(actions, i, j, v)
    if not result.actions:
        set_cell(actions, 4, 1, "本期无处置事项")
    finish_sheet(actions, {1: 16, 2: 10, 3: 40, 4: 12, 5: 40}, header_row=3)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _exit_bars(result: Assessment) -> str:
    """Inline SVG, as wide as the screen: exits against target by town (I01), and the county."""
    towns = set(town_codes().values())
    rows = [s for s in result.scores if s.indicator == "I01" and s.unit in towns]
    if not rows:
        return "<p>本期无脱贫人数数据。</p>"
    county = next((s for s in result.scores if s.indicator == "I01" and s.unit not in towns), None)
    top = max(max(s.value or 0, s.target) for s in rows) or 1
    bar_h, gap_, left, width = 18, 10, 90, 520
    height = len(rows) * (bar_h + gap_) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {left + width + 130} {height}" width="100%" '
             f'style="max-width:{left + width + 130}px" role="img" aria-label="各镇脱贫人数">']
    for i, s in enumerate(rows):
        y = 20 + i * (bar_h + gap_)
        w = (s.value or 0) / top * width
        t = s.target / top * width
        color = "#4caf50" if s.status == ScoreStatus.MET else "#e53935"
        parts.append(f'<text x="0" y="{y + 13}" font-size="13">{html.escape(unit_name(s.unit))}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}"/>')
        parts.append(f'<line x1="{left + t:.1f}" x2="{left + t:.1f}" y1="{y - 3}" y2="{y + bar_h + 3}" stroke="#333" stroke-width="2"/>')
        parts.append(f'<text x="{left + max(w, t) + 6:.1f}" y="{y + 13}" font-size="12">{s.value or 0:,.0f} / {s.target:,.0f} 人</text>')
    parts.append("</svg>")
    total = ""
    if county is not None and county.value is not None:
        total = (f"<p class='total'>全县：实际 {county.value:,.0f} 人，目标 {county.target:,.0f} 人"
                 f"{'，' + html.escape(gap('I01', county.value, county.target, '>=')) if county.status != '达标' else '，已完成'}</p>")
    return "".join(parts) + total


def write_html(result: Assessment, path: Path) -> Path:
    """The 考核总表 as a page that reads on a desk and on a phone: the exits chart with the county
    total, the misses with value, target, gap and basis, the coloured matrix, the actions."""
    units, inds = _units(result), _indicators(result)
    names = dict(inds)
    head = "".join(f"<th title='{html.escape(n)}'>{i}<br><small>{html.escape(n)}</small></th>" for i, n in inds)
    body = []
    for unit in units:
        cells = []
        for ind, _ in inds:
            sc = _cell(result, unit, ind)
            if sc is None:
                cells.append("<td class='na'>—</td>")
                continue
            text = show(ind, sc.value) if sc.value is not None else (sc.reason or "—")
            cls = "ok" if sc.status == ScoreStatus.MET else "bad"
            cells.append(f"<td class='{cls}'>{html.escape(text)}<br><small>目标 {html.escape(show(ind, sc.target))}</small></td>")
        body.append(f"<tr><th class='unit'>{html.escape(unit_name(unit))}</th>{''.join(cells)}</tr>")
    missed = [sc for sc in result.scores if sc.status != ScoreStatus.MET]
    missed_rows = "".join(
        f"<tr><td>{html.escape(unit_name(sc.unit))}</td><td>{sc.indicator} {html.escape(sc.name)}</td>"
        f"<td>{html.escape(show(sc.indicator, sc.value))}</td><td>{html.escape(show(sc.indicator, sc.target))}</td>"
        f"<td>{html.escape(gap(sc.indicator, sc.value, sc.target, sc.compare) or sc.reason or '')}</td>"
        f"<td>{html.escape(_basis(sc))}</td></tr>" for sc in missed)
    missed_html = (f"<div class='scroll'><table><tr><th>单位</th><th>指标</th><th>实际</th><th>目标</th><th>差距</th><th>依据</th></tr>"
                   f"{missed_rows}</table></div>") if missed else "<p>全部单位各项指标均达标。</p>"
    actions = "".join(f"<li>{html.escape(a.action)}：{html.escape(unit_name(a.unit))}（"
                      + "、".join(f"{x} {html.escape(names.get(x, ''))}" for x in a.indicators) + "）"
                      + (f"，整改期限 {date_label(a.due)}" if a.due else "") + (f"，{html.escape(a.reason)}" if a.reason else "") + "</li>"
                      for a in result.actions) or "<li>无</li>"
    label = period_label(result.period)
    page = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{label}扶贫考核</title>
<style>
body{{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:16px auto;max-width:1240px;padding:0 12px;color:#222}}
h1{{font-size:22px}} h2{{font-size:17px;margin-top:28px}} small{{color:#555;font-size:11px}}
.scroll{{overflow-x:auto}} table{{border-collapse:collapse;font-size:13px}}
th,td{{border:1px solid #ccc;padding:4px 6px;text-align:center;white-space:nowrap}} th.unit{{position:sticky;left:0;background:#fafafa}}
td.ok{{background:#c6efce}} td.bad{{background:#ffc7ce;font-weight:bold}} td.na{{background:#ededed;color:#999}}
.total{{font-weight:bold}} .months{{color:#555;font-size:13px}}
</style></head><body>
<h1>{label}扶贫考核总表</h1>
<p class="months">{html.escape(data_months(result.data_months))}（考核所用数据月份）</p>
<p>考核 {len(units)} 个单位、{len(inds)} 项指标：{len({sc.unit for sc in missed})} 个单位共 {len(missed)} 项未达标。</p>
<h2>未达标明细</h2>
{missed_html}
<h2>各镇脱贫人数完成情况（柱：实际；竖线：目标）</h2>
{_exit_bars(result)}
<h2>各单位指标达标情况（绿：达标，红：未达标）</h2>
<div class="scroll"><table><tr><th class="unit">单位</th>{head}</tr>{''.join(body)}</table></div>
<h2>处置</h2><ul>{actions}</ul>
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
    own = (settings().get("reports") or {}).get("cjk_font")
    for path in ((own,) if own else ()) + CJK_FONTS:
        if Path(path).is_file():
            return path
    return None


def unit_chart(result: Assessment, unit: str, path: Path, font: str | None = None) -> Path:
    """PNG bars of each indicator's share of its target for one unit, labelled in Chinese."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    font = font or cjk_font()
    if font is None:
        log.warning("no CJK font (install fonts-noto-cjk): the chart of %s is labelled with indicator ids only", unit)
    props = font_manager.FontProperties(fname=font) if font else None
    scores = [s for s in result.scores if s.unit == unit]
    labels, ratios, colors = [], [], []
    for s in scores:
        labels.append(f"{s.indicator} {s.name}" if props else s.indicator)
        if s.value is None or s.target == 0:
            ratios.append(0.0 if s.status != ScoreStatus.MET else 1.0)
        elif s.compare == "<=":
            ratios.append(1.0 if s.value <= s.target else s.target / max(s.value, 1))
        else:
            ratios.append(min(1.5, s.value / s.target))
        colors.append("#4caf50" if s.status == ScoreStatus.MET else "#e53935")
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
        ax.set_title(f"{period_label(result.period)}考核：{unit_name(unit)}", fontproperties=props)
    else:
        ax.set_xlabel("% of target")
        ax.set_title(f"{result.period}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def lagging_units(result: Assessment) -> list[str]:
    """The units with an action (通报, 约谈...): each gets its own scorecard and chart."""
    return sorted({a.unit for a in result.actions})


def scorecard_folder(period: str) -> Path:
    """Where a period's scorecards are written: the county's reports/assessment/<period>."""
    return data_root() / "reports" / "assessment" / period


def write_summary(result: Assessment, folder: Path | None = None) -> dict:
    """The whole scorecard of a period (xlsx, html)."""
    folder = folder or scorecard_folder(result.period)
    return {
        "workbook": str(write_workbook(result, folder / f"考核总表_{result.period}.xlsx")),
        "html": str(write_html(result, folder / f"考核总表_{result.period}.html")),
    }


def write_unit_report(result: Assessment, unit: str, folder: Path | None = None) -> dict:
    """One lagging unit's own scorecard workbook (its rows only) and chart."""
    folder = folder or scorecard_folder(result.period)
    own = replace(result, scores=[s for s in result.scores if s.unit == unit], actions=[a for a in result.actions if a.unit == unit])
    return {
        "unit": unit,
        # named as the unit receives them: its name, never its code
        "workbook": str(write_workbook(own, folder / f"{period_label(result.period)}考核表_{unit_name(unit)}.xlsx", own_unit=unit)),
        "chart": str(unit_chart(result, unit, folder / f"{period_label(result.period)}考核图_{unit_name(unit)}.png")),
    }


def write_reports(result: Assessment, folder: Path | None = None) -> dict:
    """Everything for one period in one process: the summary, and per lagging unit its own
    scorecard and chart (the DAG maps the per-unit part over workers instead)."""
    out = write_summary(result, folder)
    out["units"] = {u: write_unit_report(result, u, folder) for u in lagging_units(result)}
    return out
