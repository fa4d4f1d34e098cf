"""The notices the ingest queues: each drop's 报送回执, and the engineers' alerts — of inbox
entries it would not take, and of a file it gave up on."""

from __future__ import annotations

from sqlalchemy import Connection

from fupin.calendar import month_label
from fupin.config import settings
from fupin.ids import mask_ids_in
from fupin.notify.outbox import enqueue
from fupin.receipts import STATUS_TEXT, Receipt
from fupin.vocab import VERIFICATION_SOURCE, DropStatus, one_line
from fupin.wording import you


def receipt_unit(source: str, sender: str | None) -> str:
    """Who a receipt goes to: the reporting unit; for a 核查结果 workbook the unit whose folder it
    came from, or (unknown) the unit that collects the checks."""
    if source != VERIFICATION_SOURCE:
        return source
    return sender or settings()["verification"]["receipt_to"]


def queue_receipt(receipt: Receipt, conn: Connection | None = None) -> bool:
    """报送回执 to the unit that sent the file (a rejected one with its marked-up copy); for a
    核查结果 workbook, to the unit whose folder it came from, copying the unit that collects the
    checks (settings.yaml → verification; it alone when the sender is unknown). Given `conn`, in
    the caller's transaction: the drop is recorded with its receipt queued, or neither."""
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

    shown = [(folder, mask_ids_in(one_line(name)), why, moved) for folder, name, why, moved in entries]
    key = hashlib.sha1("\n".join("|".join(e) for e in sorted(entries)).encode()).hexdigest()[:16]
    return enqueue("alert:inbox_entries", key, "ops", "inbox_refused", conn=conn, entries=shown[:50], more=max(0, len(shown) - 50))


def queue_engineer_alert(what: str, key: str, about: str, error: str, attempts: int, conn: Connection | None = None) -> bool:
    """An alert to the platform's engineers (unit `ops`): something was given up on and needs
    a person. Keyed by (what, key), so one alert per thing, not per retry."""
    return enqueue(f"alert:{what}", key, "ops", "engineer_alert", conn=conn, what=what, about=about, error=error, attempts=attempts)
