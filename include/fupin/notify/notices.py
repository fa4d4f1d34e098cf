"""The project's notices, queued through the one outbox: what each says and to whom."""

from __future__ import annotations

from sqlalchemy import Connection

from fupin.calendar import date_label, month_label
from fupin.ids import mask
from fupin.notify.outbox import enqueue
from fupin.receipts import STATUS_TEXT, Receipt
from fupin.validate.issues import amount
from fupin.vocab import ActionKind, DropStatus, ScoreStatus, one_line


def receipt_unit(source: str, sender: str | None) -> str:
    """Who a receipt goes to: the reporting unit; for a 核查结果 workbook the unit whose folder it
    came from, or (unknown) the unit that collects the checks."""
    from fupin.config import settings
    from fupin.vocab import VERIFICATION_SOURCE

    if source != VERIFICATION_SOURCE:
        return source
    return sender or settings()["verification"]["receipt_to"]


def queue_receipt(receipt: Receipt, conn: Connection | None = None) -> bool:
    """报送回执 to the unit that sent the file (a rejected one with its marked-up copy); for a
    核查结果 workbook, to the unit whose folder it came from, copying the unit that collects the
    checks (settings.yaml → verification; it alone when the sender is unknown). Given `conn`, in
    the caller's transaction: the drop is recorded with its receipt queued, or neither."""
    from fupin.config import settings
    from fupin.vocab import VERIFICATION_SOURCE

    collector = settings()["verification"]["receipt_to"]
    unit = receipt_unit(receipt.source, receipt.sender)
    cc = (collector,) if receipt.source == VERIFICATION_SOURCE and unit != collector else ()
    attachments = (receipt.annotated_workbook,) if receipt.status == DropStatus.REJECTED and receipt.annotated_workbook else ()
    return enqueue(
        "receipt", receipt.drop_id, unit, "receipt", attachments=attachments, cc_units=cc, conn=conn,
        receipt=receipt, text=receipt.text(), month_label=month_label(receipt.month), status_label=STATUS_TEXT[receipt.status].split("，")[0],
        you=you(unit),
    )


def queue_refused_entries(entries: list[tuple[str, str, str, str]], conn: Connection | None = None) -> bool:
    """One alert to the engineers (unit `ops`) for the inbox entries a claim step would not take
    — (folder, name, why, where it was set aside) each — keyed by what they are, so the same
    entries are told once."""
    import hashlib

    from fupin.ids import mask_ids_in

    shown = [(folder, mask_ids_in(one_line(name)), why, moved) for folder, name, why, moved in entries]
    key = hashlib.sha1("\n".join("|".join(e) for e in sorted(entries)).encode()).hexdigest()[:16]
    return enqueue("alert:inbox_entries", key, "ops", "inbox_refused", conn=conn, entries=shown[:50], more=max(0, len(shown) - 50))


def queue_engineer_alert(what: str, key: str, about: str, error: str, attempts: int, conn: Connection | None = None) -> bool:
    """An alert to the platform's engineers (unit `ops`): something was given up on and needs
    a person. Keyed by (what, key), so one alert per thing, not per retry."""
    return enqueue(f"alert:{what}", key, "ops", "engineer_alert", conn=conn, what=what, about=about, error=error, attempts=attempts)


def queue_reconciliation(summary: dict, workbook: str, escalated_rows: list[dict]) -> int:
    """比对结果 to civil affairs and the poverty office; the escalated ones copy the office's leaders."""
    from fupin import queries
    from fupin.reconcile.report import rate_text
    from fupin.reconcile.rules import RULES
    from fupin.vocab import COUNTY_TOTAL
    from fupin.warehouse.db import engine

    with engine().connect() as conn:
        basis = queries.rate_basis(conn, summary["month"])

    def rate(kind: str) -> str:
        return rate_text(basis.get((kind, COUNTY_TOTAL)))

    shown = [{"rule": r["rule"], "town": r["town"] or "", "months": r["persisted_months"],
              "who": " ".join(x for x in (r.get("household_id") or "", mask(r["person_id"]) if r.get("person_id") else "",
                                           r.get("card_no") or "") if x)} for r in escalated_rows]
    queued = 0
    for unit in ("civil_affairs", "poverty_office"):
        queued += enqueue(
            "reconciliation", summary["month"], unit, "reconciliation", attachments=(workbook,),
            cc_leaders_of=("poverty_office",) if shown else (),
            summary=summary, month_label=month_label(summary["month"]), total=sum(summary["counts"].values()),
            escalated=summary["escalated"], rules=[(r, v[0]) for r, v in RULES.items()],
            rate_cover=rate("应保尽保率"), rate_register=rate("应扶尽扶率"), escalated_rows=shown,
        )
    return queued


def queue_exit_checks(summary: dict, r6_rows: list[dict]) -> int:
    """R6 goes to the poverty office with the month's result, and to each town its own cases
    only (masked IDs, no workbook: a town has no business with other towns' people)."""
    from fupin.config import geography, settings

    codes = geography().towns
    year = int(summary["month"][:4])
    threshold = settings()["reconciliation"]["exit_threshold"].get(year)
    by_town: dict[str, list[dict]] = {}
    for r in r6_rows:
        if r.get("town") in codes:
            by_town.setdefault(codes[r["town"]], []).append(
                {"household_id": r["household_id"], "masked": mask(r["person_id"]), "months": r["persisted_months"]})
    return sum(
        enqueue("exit_check", summary["month"], town, "exit_check", month_label=month_label(summary["month"]), rows=rows,
                year=year, threshold="—" if threshold is None else amount(threshold, "元"), you=you(town))
        for town, rows in sorted(by_town.items())
    )


def period_label(period: str) -> str:
    from fupin.calendar import current

    return current().period_label(period)


def unit_name(unit: str) -> str:
    from fupin.config import units

    directory = units()
    return directory[unit].name if unit in directory else unit


def _indicator(indicator: str) -> dict:
    from fupin.config import assessment

    return next((i for i in assessment()["indicators"] if i["id"] == indicator), {})


def unit_of(indicator: str) -> str | None:
    """The unit an indicator is counted in (人, 元, 个...), None for a share."""
    return "人" if indicator == "I01" else _indicator(indicator).get("unit_label")


def show(indicator: str, value: float | None) -> str:
    """A score as officials read it: a share as a percentage, counts and money as numbers."""
    if value is None:
        return "—"
    unit = unit_of(indicator)
    return f"{value:,.0f} {unit}" if unit else f"{value:.1%}"


def shortfall(value: float | None, target: float | None, compare: str) -> float | None:
    """How much is missing to reach the target (None when there is nothing to compare or none missing)."""
    if value is None or target is None:
        return None
    short = (target - value) if compare.startswith(">") else (value - target)
    return short if short > 0 else None


def gap(indicator: str, value: float | None, target: float | None, compare: str) -> str:
    """How far a unit is from its target, in the indicator's unit: 差 29 人, 差 2.3 个百分点."""
    short = shortfall(value, target, compare)
    if short is None:
        return ""
    unit = unit_of(indicator)
    return f"差 {short:,.0f} {unit}" if unit else f"差 {short * 100:.1f} 个百分点"


def indicator_name(indicator: str) -> str:
    return _indicator(indicator).get("name", indicator)


def you(unit: str) -> str:
    """How the county addresses a unit in a notice: 你镇, 你街道, 你局, 你办 (贵单位 is for outsiders)."""
    name = unit_name(unit)
    for suffix in ("街道", "镇", "局", "办"):
        if name.endswith(suffix):
            return "你" + suffix
    return "你单位"


def data_months(months: dict[str, str | None]) -> str:
    """考核所用数据月份 as officials read them: 建档立卡贫困人口 2017年12月、…"""
    from fupin.config import contracts

    titles = {name: ds.title for name, ds in contracts().datasets.items()} | {"reconciliation": "两项制度比对结果"}
    shown = [f"{titles.get(k, k)} {month_label(v)}" for k, v in sorted(months.items()) if v]
    return "、".join(shown) or "无"


def queue_assessment(result: dict, reports: dict | None = None) -> int:
    """考核通报 (with 限期整改 at year end) to each lagging unit, 约谈 to the leadership copying the
    unit's leaders, and the 考核总表 to the poverty office and the leadership."""
    period = result["period"]
    months = data_months(result["data_months"])
    scores = result["scores"]

    def missed(unit: str) -> list[dict]:
        return [{**s, "shown_value": show(s["indicator"], s["value"]), "shown_target": show(s["indicator"], s["target"]),
                 "gap": gap(s["indicator"], s["value"], s["target"], s.get("compare", ">="))}
                for s in scores if s["unit"] == unit and s["status"] == ScoreStatus.MISSED]

    queued = 0
    actions = result["actions"]
    for a in (a for a in actions if a["action"] == ActionKind.NOTICE):
        due = next((x["due"] for x in actions if x["unit"] == a["unit"] and x["action"] == ActionKind.RECTIFY), None)
        own = (reports or {}).get("units", {}).get(a["unit"], {})
        queued += enqueue("assessment", period, a["unit"], "assessment", period_label=period_label(period),
                          attachments=tuple(own[k] for k in ("chart", "workbook") if k in own),
                          missed=missed(a["unit"]), due=date_label(due) if due else None, months=months, you=you(a["unit"]))
    for a in (a for a in actions if a["action"] == ActionKind.INTERVIEW):
        from fupin.config import units

        queued += enqueue("interview", period, a["unit"], "interview", address="leadership", cc_leaders_of=(a["unit"],),
                          period_label=period_label(period), subject_unit=units()[a["unit"]], reason=a["reason"],
                          missed=[m for m in missed(a["unit"]) if m["indicator"] in a["indicators"]])
    lagging: dict[str, list[str]] = {}
    for s in scores:
        if s["status"] == ScoreStatus.MISSED:
            lagging.setdefault(unit_name(s["unit"]), []).append(f"{s['indicator']} {indicator_name(s['indicator'])}")
    interviews = "、".join(unit_name(a["unit"]) for a in actions if a["action"] == ActionKind.INTERVIEW)
    for unit in ("poverty_office", "leadership"):
        queued += enqueue("scorecard", period, unit, "scorecard", period_label=period_label(period),
                          attachments=tuple((reports or {})[k] for k in ("workbook", "html") if k in (reports or {})),
                          lagging=[(n, "、".join(sorted(i))) for n, i in sorted(lagging.items())], interviews=interviews,
                          units=len({s["unit"] for s in scores}), indicators=len({s["indicator"] for s in scores}), months=months)
    return queued
