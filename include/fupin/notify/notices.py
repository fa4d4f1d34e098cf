"""The project's notices, queued through the one outbox: what each says and to whom."""

from __future__ import annotations

from fupin.ids import mask
from fupin.notify.outbox import enqueue
from fupin.receipts import STATUS_TEXT, Receipt


def month_label(month: str | None) -> str:
    return f"{month[:4]}年{int(month[5:])}月" if month else "月份未知"


def queue_receipt(receipt: Receipt) -> bool:
    """报送回执 to the unit that sent the file (a rejected one with its marked-up copy)."""
    attachments = (receipt.annotated_workbook,) if receipt.status == "rejected" and receipt.annotated_workbook else ()
    return enqueue(
        "receipt", receipt.drop_id, receipt.source, "receipt", attachments=attachments,
        receipt=receipt, text=receipt.text(), month_label=month_label(receipt.month), status_label=STATUS_TEXT[receipt.status].split("，")[0],
    )


def queue_reconciliation(summary: dict, workbook: str, escalated_rows: list[dict]) -> int:
    """比对结果 to civil affairs and the poverty office; the escalated ones copy the office's leaders."""
    from fupin.reconcile.rules import COUNTY, RULES

    def rate(kind: str) -> str:
        value = summary["rates"].get(kind, {}).get(COUNTY)
        return "—（无对象）" if value is None else f"{value:.2%}"

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
