"""A batch of drops (一批报送文件): claim what waits in the inbox, ingest each, send its receipt —
what `bureau_ingest`'s tasks run and what `fupin inbox` runs in one process.

The run's claims are ingested a few files to a mapped task (`ingest.claims.files_per_task`), not
one file to a task: a month's files arrive together, and each mapped task costs Airflow's own
work (~0.1 s in process under `dag.test()`, a process start on a Celery worker) beside a county
file's ~0.45 s. A file that fails for a reason not its own does not stop the others of its task."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fupin import queries
from fupin.assets import announce_loaded
from fupin.config import data_root, settings
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


def claim_files() -> list[dict]:
    """Claim every stable new drop (and every unfinished claim), at most `ingest.claims.max_per_run`
    (the rest waits for the next run, which the inbox watcher starts); entries the platform will
    not take are set aside and told to the engineers once; a recorded drop whose receipt was
    never queued gets it now. Returns the claims in batches, a mapped task's each (`batches`)."""
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
    return batches([{"source": c.source, "path": str(c.path)} for c in batch.claimed], files_per_task())


def files_per_task() -> int:
    """Claimed files one mapped ingest task takes in turn (`ingest.claims.files_per_task`)."""
    n = int(settings()["ingest"]["claims"]["files_per_task"])
    if n < 1:
        raise ValueError(f"ingest.claims.files_per_task is {n}: it must be at least 1")
    return n


def batches(items: list[dict[str, str]], size: int) -> list[dict]:
    """`items` in consecutive batches of at most `size`: {"label", "files"}; the label (the files'
    names, as many as fit, and how many there are) names the mapped task in Airflow's grid, within
    its 250 characters."""
    out = []
    for i in range(0, len(items), size):
        files = items[i:i + size]
        names = "、".join(Path(f["path"]).name for f in files)
        out.append({"label": names if len(names) <= 240 else f"{names[:200]}… 共{len(files)}个文件", "files": files})
    return out


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


def _each(items: list[dict[str, str]], ingest: Callable[[dict[str, str]], Receipt | None]) -> list[Receipt | Failed | None]:
    """`ingest` each claimed file in turn; a file that fails is reported (`Failed`), and the others go on."""
    out: list[Receipt | Failed | None] = []
    for item in items:
        try:
            out.append(ingest(item))
        except Exception as exc:  # this file's failure is retried; the rest go on
            log.error("ingest of %s failed: %s", inbox.Claimed(item["source"], Path(item["path"])).drop_id, describe(exc))
            out.append(Failed(item["source"], item["path"], describe(exc)))
    return out


def ingest_inbox() -> list[Receipt | Failed]:
    """What `bureau_ingest` does, in one process (`fupin inbox`): claim, ingest each, queue
    its receipt. A file that fails is reported and the others go on."""
    claimed = [item for batch in claim_files() for item in batch["files"]]
    return [r for r in _each(claimed, ingest_one) if r is not None]


class FilesFailed(RuntimeError):
    """Files of a batch whose ingest failed for a reason not their own: the task fails, to be retried."""


def ingest_files(batch: dict, *, outlet_events=None) -> list[dict]:
    """bureau_ingest's mapped task: `ingest_and_send` each claimed file of the batch in turn, and
    announce each dataset an accepted one loaded on that dataset's Asset (through the county's
    ingest alias), so the reconciliation runs on data.

    A file that fails for a reason not its own leaves the others going on; the task then fails,
    and its retry takes only what is still claimed (a finished file's claim is gone). Airflow
    records a task's asset events only when it succeeds, so a retry announces again the files an
    earlier try loaded (found in the ledger by their drop)."""
    out = []
    for item, got in zip(batch["files"], _each(batch["files"], ingest_and_send), strict=True):
        if isinstance(got, Failed):
            out.append({"path": item["path"], "status": got.status, "error": got.error})
            continue
        receipt = got or _recorded(item)
        if receipt is None:  # owned by another ingester, or still being written
            out.append({"path": item["path"], "status": "left_for_later"})
            continue
        if receipt.status == DropStatus.ACCEPTED and outlet_events is not None:
            announce_loaded(outlet_events, current().code, receipt.rows,
                            {"month": receipt.month, "source": receipt.source, "drop_id": receipt.drop_id})
        out.append({"file": receipt.file, "source": receipt.source, "month": receipt.month, "status": receipt.status,
                    "rows": receipt.rows, "drop_id": receipt.drop_id})
    failed = [r for r in out if r["status"] == "failed"]
    if failed:
        raise FilesFailed(f"本批 {len(out)} 个文件中 {len(failed)} 个入库失败（仍保持认领，重试时再处理）：{failed[0]['error']}")
    return out


def _recorded(item: dict[str, str]) -> Receipt | None:
    """The receipt of a claimed file already recorded in the ledger (by an earlier try of this task,
    or another ingester), else None."""
    with engine().connect() as conn:
        stored = queries.receipt_of(conn, inbox.Claimed(item["source"], Path(item["path"])).drop_id)
    return Receipt.from_json(stored) if stored else None
