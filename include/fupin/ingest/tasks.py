"""What the `bureau_ingest` DAG's tasks do, as plain functions (testable without Airflow)."""

from __future__ import annotations

import logging
from pathlib import Path

from fupin.ingest import inbox

log = logging.getLogger(__name__)


def claim_files() -> list[dict[str, str]]:
    """Claim every stable new drop (and every unfinished claim) for ingest."""
    from fupin.warehouse import db

    db.upgrade()
    inbox.ensure_folders()
    claimed = inbox.claim_new()
    log.info("claimed %d file(s) for ingest", len(claimed))
    return [{"source": c.source, "path": str(c.path)} for c in claimed]


def ingest_one(item: dict[str, str]) -> dict:
    """Ingest one claimed file and queue its receipt; returns the receipt as a dict."""
    from fupin.ingest.pipeline import ingest_claimed
    from fupin.notify.notices import queue_receipt

    receipt = ingest_claimed(inbox.Claimed(item["source"], Path(item["path"])))
    queue_receipt(receipt)  # keyed by the drop: a retried task queues it once
    return receipt.to_dict()
