"""What the `bureau_ingest` DAG's tasks do, as plain functions (testable without Airflow)."""

from __future__ import annotations

import logging
from pathlib import Path

from fupin.ingest import inbox

log = logging.getLogger(__name__)


def claim_files() -> list[dict[str, str]]:
    """Claim every stable new drop (and every unfinished claim) for ingest."""
    from fupin.warehouse import db

    db.require_current()
    inbox.ensure_folders()
    claimed = inbox.claim_new()
    log.info("claimed %d file(s) for ingest", len(claimed))
    return [{"source": c.source, "path": str(c.path)} for c in claimed]


def ingest_one(item: dict[str, str]) -> dict | None:
    """Ingest one claimed file and queue its receipt; returns the receipt as a dict, or None
    when another ingester (a CLI run, another worker) owns the claim or its writer is still
    at work (it is taken again by a later run)."""
    from fupin.ingest.pipeline import ingest_guarded
    from fupin.notify.notices import queue_receipt
    from fupin.warehouse import db

    db.require_current()  # before the guard: a schema behind is the deployment's fault, never the file's
    claimed = inbox.Claimed(item["source"], Path(item["path"]))
    receipt = ingest_guarded(claimed)
    if receipt is None:
        log.info("%s is being ingested elsewhere, or still changing; left for later", claimed.drop_id)
        return None
    queue_receipt(receipt)  # keyed by the drop: a retried task queues it once
    return receipt.to_dict()


def ingest_inbox() -> list[dict]:
    """What `bureau_ingest` does, in one process (`fupin inbox`): claim, ingest each, queue
    its receipt. A file that fails is reported and the others go on."""
    out = []
    for item in claim_files():
        try:
            receipt = ingest_one(item)
        except Exception as exc:  # this file's failure is retried next time; the rest go on
            log.error("ingest of %s failed: %s", inbox.Claimed(item["source"], Path(item["path"])).drop_id, type(exc).__name__)
            out.append({"path": item["path"], "source": item["source"], "status": "failed", "error": type(exc).__name__})
            continue
        if receipt is not None:
            out.append(receipt)
    return out
