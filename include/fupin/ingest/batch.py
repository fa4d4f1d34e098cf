"""A batch of drops (一批报送文件): claim what waits in the inbox, ingest each, send its receipt —
what `bureau_ingest`'s tasks run and what `fupin inbox` runs in one process."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from fupin import queries
from fupin.assets import announce_loaded
from fupin.config import data_root
from fupin.county import current
from fupin.faults import describe
from fupin.ingest import inbox
from fupin.ingest.notices import queue_receipt, queue_refused_entries, receipt_unit
from fupin.ingest.pipeline import ingest_guarded
from fupin.notify.outbox import send_pending
from fupin.receipts import Receipt
from fupin.vocab import DropStatus
from fupin.warehouse import db
from fupin.warehouse.db import engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failed:
    """A claimed file whose ingest failed for a reason not its own (a full disk, the database
    gone): it stays claimed, and the next run takes it again."""

    source: str
    path: str
    error: str  # the fault, named in one line (fupin.faults)
    status: str = "failed"


def claim_files() -> list[dict[str, str]]:
    """Claim every stable new drop (and every unfinished claim), at most `ingest.claims.max_per_run`
    (the rest waits for the next run, which the inbox watcher starts); entries the platform will
    not take are set aside and told to the engineers once; a recorded drop whose receipt was
    never queued gets it now."""
    db.require_current()
    inbox.ensure_folders()
    requeue_receipts()
    batch = inbox.claim_batch()
    if batch.refused:
        root = data_root()
        shown = [(_where(e.path if e.is_folder else e.path.parent, root), e.path.name, e.why or "",
                  _where(e.moved_to, root) if e.moved_to else "") for e in batch.refused]
        queue_refused_entries(shown)
        log.warning("set aside %d inbox entr(y/ies) the platform does not take; the engineers are told", len(batch.refused))
    if batch.more:
        log.info("more files are waiting than one run takes (%d); the next run takes the rest", inbox.max_per_run())
    log.info("claimed %d file(s) for ingest", len(batch.claimed))
    return [{"source": c.source, "path": str(c.path)} for c in batch.claimed]


def _where(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def requeue_receipts() -> int:
    """Queue the receipt of every recorded drop that has none in the outbox (a drop recorded by an
    older version, whose process died before it queued the receipt): each drop gets one."""
    n = 0
    with engine().begin() as conn:
        for stored in queries.drops_without_receipt(conn):
            n += queue_receipt(Receipt.from_json(stored), conn)
    if n:
        log.warning("queued %d receipt(s) that had not been queued", n)
    return n


def ingest_one(item: dict[str, str]) -> Receipt | None:
    """Ingest one claimed file; returns its receipt, or None when another ingester (a
    CLI run, another worker) owns the claim or its writer is still at work (it is taken again by
    a later run)."""
    db.require_current()  # before the guard: a schema behind is the deployment's fault, never the file's
    claimed = inbox.Claimed(item["source"], Path(item["path"]))
    receipt = ingest_guarded(claimed)  # its receipt is queued with the drop's record, in one transaction
    if receipt is None:
        log.info("%s is being ingested elsewhere, or still changing; left for later", claimed.drop_id)
        return None
    return receipt


def ingest_and_send(item: dict[str, str]) -> Receipt | None:
    """bureau_ingest's task: `ingest_one`, then its receipt at once, from the task that made it —
    the clerk waits seconds, not for the run's last task. The outbox sends a notice at most once
    whoever sends it; should the mail server not answer now, the run's send_notices (and every
    later run) tries again. (The CLI only queues: it sends with `fupin outbox --send`.)"""
    receipt = ingest_one(item)
    if receipt is not None:
        try:
            send_pending(only=("receipt", receipt.drop_id, receipt_unit(receipt.source, receipt.sender)))
        except Exception as exc:  # never the ingest's failure: the receipt is queued, and stays so
            log.warning("receipt %s left for send_notices: %s", receipt.drop_id, type(exc).__name__)
    return receipt


def ingest_inbox() -> list[Receipt | Failed]:
    """What `bureau_ingest` does, in one process (`fupin inbox`): claim, ingest each, queue
    its receipt. A file that fails is reported and the others go on."""
    out = []
    for item in claim_files():
        try:
            receipt = ingest_one(item)
        except Exception as exc:  # this file's failure is retried next time; the rest go on
            log.error("ingest of %s failed: %s", inbox.Claimed(item["source"], Path(item["path"])).drop_id, describe(exc))
            out.append(Failed(item["source"], item["path"], describe(exc)))
            continue
        if receipt is not None:
            out.append(receipt)
    return out


def ingest_file(item: dict[str, str], *, outlet_events=None) -> dict:
    """bureau_ingest's mapped task: `ingest_and_send` one claimed file, and announce each dataset
    it loaded on that dataset's Asset (through the county's ingest alias), so the reconciliation
    runs on data."""
    receipt = ingest_and_send(item)
    if receipt is None:  # owned by another ingester, or still being written
        return {"path": item["path"], "status": "left_for_later"}
    if receipt.status == DropStatus.ACCEPTED and outlet_events is not None:
        announce_loaded(outlet_events, current().code, receipt.rows,
                        {"month": receipt.month, "source": receipt.source, "drop_id": receipt.drop_id})
    return {"file": receipt.file, "source": receipt.source, "month": receipt.month, "status": receipt.status, "rows": receipt.rows,
            "drop_id": receipt.drop_id}
