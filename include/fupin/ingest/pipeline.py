"""Ingest one claimed file: archive, read, normalise, validate, load — or reject with a receipt.

The order is what makes it safe: the bytes are archived before anything reads them; nothing
is written to the warehouse until every check has passed; the load and the ledger entry are
one transaction; the claimed file leaves the work area only once that transaction committed.
A crash anywhere leaves the file claimed, and the next run ingests it exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from fupin import queries, shares
from fupin.calendar import current, month_end, month_label, time_label
from fupin.config import Dataset, contracts, data_root, settings, units
from fupin.faults import describe
from fupin.ingest import inbox, verification
from fupin.ingest.evaluation import Evaluation
from fupin.ingest.inbox import Claimed
from fupin.ingest.normalize import normalize_table
from fupin.ingest.notices import queue_engineer_alert, queue_receipt
from fupin.ingest.reader import FileRejected, RawSheet, read_workbook
from fupin.ingest.sheets import SheetTable, build_table, match_sheet
from fupin.ingest.templates import TEMPLATE_SHEETS
from fupin.receipts import Receipt, marked_copy_name, write_annotated
from fupin.reconcile import verify
from fupin.validate.gx import ValidationFault, run_suite
from fupin.validate.issues import Issue, issue
from fupin.validate.rules import run_rules
from fupin.vocab import SHARE_RECEIPTS, SHARE_RETURNED, VERIFICATION_SOURCE, DropStatus, one_line
from fupin.warehouse import load
from fupin.warehouse.db import engine

log = logging.getLogger(__name__)


def _month(name: str) -> tuple[str | None, list[Issue]]:
    months = inbox.months_in_name(name)
    if not months:
        return None, [issue("month_missing", detail=one_line(name))]
    if len(months) > 1:
        return None, [issue("month_ambiguous", detail="、".join(sorted(months)))]
    month = months.pop()
    first, latest = campaign_months()
    if not first <= month <= latest:
        return None, [issue("month_out_of_range", detail=f"{month_label(month)}（可报送 {month_label(first)} 至 {month_label(latest)}）")]
    return month, []


def campaign_months(now: dt.datetime | None = None) -> tuple[str, str]:
    """The months a file may report: from the campaign's first January to this month (the
    campaign's time zone); a name saying 2099年12月 or 2009年1月 is a typing slip."""
    cal = current()
    today = cal.local(now or dt.datetime.now(dt.UTC))
    return f"{cal.first_year}-01", f"{today.year}-{today.month:02d}"


def _tables(source: str, sheets: list[RawSheet]) -> tuple[list[SheetTable], list[Issue]]:
    c = contracts()
    tables: list[SheetTable] = []
    issues: list[Issue] = []
    for sheet in sheets:
        match = match_sheet(sheet)
        if match.dataset is None:
            if any(any(v not in (None, "") for v in row) for row in sheet.rows):
                issues.append(issue("unmatched_sheet", severity="warning", sheet=sheet.name))
            continue
        owner = c.datasets[match.dataset].source
        if owner != source:
            issues.append(
                issue("wrong_folder", sheet=sheet.name,
                      detail=f"该表是{c.sources[owner].label}的“{c.datasets[match.dataset].title}”，不应放在{c.sources[source].label}的文件夹")
            )
            continue
        tables.append(build_table(sheet, match))
    if not tables and not any(i.rule == "wrong_folder" for i in issues):
        issues.append(issue("no_dataset"))
    found = {t.dataset.name for t in tables}
    src = c.sources[source]
    kinds = {src.file_of(name) for name in found}  # which of the unit's files this is (县扶贫办 sends two)
    for ds in c.of_source(source):
        if tables and not ds.optional and ds.name not in found and src.file_of(ds.name) in kinds:
            issues.append(issue("missing_dataset", detail=ds.title))
    for t in tables:
        issues += [issue("missing_column", sheet=t.sheet, row=t.header_row, column=h) for h in t.missing]
        issues += [issue("extra_column", severity="warning", sheet=t.sheet, row=t.header_row, column=h) for h in t.extra_headers]
    return tables, issues


def _dedupe(issues: list[Issue]) -> list[Issue]:
    """One issue per cell: the first (most specific) wins; file-level issues all stay."""
    seen: set[tuple] = set()
    out = []
    for i in issues:
        key = (i.severity, i.sheet, i.row, i.column)
        if i.row is not None and key in seen:
            continue
        seen.add(key)
        out.append(i)
    return out


def evaluate(path: Path, source: str, original_name: str, conn: Connection | None = None) -> Evaluation:
    """Read and check a file completely, without writing anything."""
    ev = Evaluation()
    ev.month, month_issues = _month(original_name)
    ev.issues += month_issues
    try:
        read = read_workbook(path, original_name)
    except FileRejected as exc:
        ev.issues.append(Issue("error", exc.rule, exc.message, exc.fix))
        return ev
    ev.format = read.format
    ev.sheets = [s for s in read.sheets if s.name not in TEMPLATE_SHEETS]
    ev.issues += [issue(rule, severity="warning", detail=detail) for rule, detail in read.notes]
    try:
        _check_tables(ev, source, conn)
    except (OSError, SQLAlchemyError, ValidationFault):
        raise  # not the file's fault: retried
    except Exception:  # a check that broke on this file's content: it is rejected, never stuck
        log.exception("a check failed on %s; the file is rejected", source)
        ev.issues.append(issue("unreadable_content"))
    ev.issues = _dedupe(ev.issues)
    return ev


def _check_tables(ev: Evaluation, source: str, conn: Connection | None) -> None:
    tables, table_issues = _tables(source, ev.sheets)
    ev.issues += table_issues
    if any(i.rule == "missing_column" for i in ev.issues) or not tables:
        return
    by_dataset: dict[str, list[SheetTable]] = {}
    for t in tables:
        by_dataset.setdefault(t.dataset.name, []).append(t)
        for _key, (j, header) in t.columns.items():
            ev.locate[(t.sheet, header)] = j
    for name, group in by_dataset.items():
        ds = contracts().datasets[name]
        headers = {(t.sheet, k): h for t in group for k, (_, h) in t.columns.items()}
        frames, found = [], []
        for t in group:
            frame, issues = normalize_table(t)
            frames.append(frame)
            found += issues
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        if ev.month:
            found += run_suite(ds, frame, month_end(ev.month), headers)
        found += run_rules(ds, frame, headers)
        if conn is not None and ev.month:
            found += cross_source_warnings(conn, ds, frame, ev.month, headers)
        ev.frames[name] = frame
        ev.issues += found


def cross_source_warnings(conn: Connection, ds: Dataset, frame: pd.DataFrame, month: str, headers: dict) -> list[Issue]:
    """Persons (or households) absent from the latest registry, or placed elsewhere in it."""
    if ds.name in ("registry", "dibao") or frame.empty:
        return []
    person_key = "id_number" if "id_number" in ds.keys else None
    if person_key is None and "household_id" not in ds.keys:
        return []
    latest = queries.latest_month(conn, "registry", month)
    if latest is None:
        return []
    out: list[Issue] = []
    if person_key:
        placed = "town" in ds.keys and "village" in ds.keys  # a dataset that says where the person lives (项目受益户 does not)
        # column-wise (half the time of a frame through SQLAlchemy's rows): every file of a month reads it
        reg = queries.snapshot_arrow(conn, "registry", latest, ["id_number", "town", "village"])
        known = dict(zip(reg.column("id_number").to_pylist(), zip(reg.column("town").to_pylist(), reg.column("village").to_pylist(),
                                                                   strict=True), strict=True))
        for r in frame.reindex(columns=["sheet", "row_no", "id_number", "town", "village"]).itertuples(index=False):
            if not isinstance(r.id_number, str):
                continue
            place = known.get(r.id_number)
            col = headers.get((r.sheet, "id_number"), "身份证号")
            if place is None:
                out.append(issue("not_in_registry", severity="warning", sheet=r.sheet, row=r.row_no, column=col, detail=f"{latest} 名单"))
            elif placed and place != (r.town, r.village):
                out.append(issue("location_differs", severity="warning", sheet=r.sheet, row=r.row_no, column=headers.get((r.sheet, "village"), "村"),
                                 detail=f"名单中为{place[0]}{place[1]}"))
    else:
        households = set(queries.snapshot_arrow(conn, "registry", latest, ["household_id"]).column("household_id").to_pylist())
        for r in frame[["sheet", "row_no", "household_id"]].itertuples(index=False):
            if isinstance(r.household_id, str) and r.household_id not in households:
                out.append(issue("household_not_in_registry", severity="warning", sheet=r.sheet, row=r.row_no,
                                 column=headers.get((r.sheet, "household_id"), "户编号"), value=r.household_id))
    return out


@dataclass
class Decision:
    """accepted (with the rows to load) or rejected, and the counts the receipt states."""

    status: str
    clean: dict[str, pd.DataFrame]
    total_rows: int = 0
    error_rows: int = 0
    threshold: float = 0.0


def _decide(ev: Evaluation, source: str) -> Decision:
    """accepted or rejected, by the source's error threshold (the share of rows in error)."""
    total = sum(len(f) for f in ev.frames.values())
    bad = {(i.sheet, i.row) for i in ev.errors if i.row is not None}
    threshold = contracts().sources[source].error_threshold
    counts = dict(total_rows=total, error_rows=len(bad), threshold=threshold)
    if not ev.month or not ev.frames or any(i.row is None or i.rule == "missing_column" for i in ev.errors):
        return Decision(DropStatus.REJECTED, {}, **counts)
    if total == 0 and not all(contracts().datasets[name].may_be_empty for name in ev.frames):
        ev.issues.append(issue("no_rows"))  # said, never a refusal without a reason
        return Decision(DropStatus.REJECTED, {}, **counts)
    if bad and len(bad) / total > threshold:
        return Decision(DropStatus.REJECTED, {}, **counts)
    clean = {}
    for name, frame in ev.frames.items():
        keep = [(s, r) not in bad for s, r in zip(frame["sheet"], frame["row_no"], strict=True)] if bad else None
        clean[name] = frame[keep] if keep is not None else frame
    return Decision(DropStatus.ACCEPTED, clean, **counts)


def _finish(claimed: Claimed, receipt: Receipt, root: Path, seen: os.stat_result | None) -> None:
    """Keep the receipt, give the clerk theirs, set the claimed file aside (watched for a writer
    that went on), let go."""
    folder = inbox.folder("archive", "receipts")
    text = receipt.text()
    (folder / f"{receipt.drop_id}.json").write_text(receipt.to_json(), encoding="utf-8")
    (folder / f"{receipt.drop_id}.txt").write_text(text, encoding="utf-8")
    _deliver(claimed, receipt, text, root)
    if seen is not None and claimed.path.exists():
        inbox.set_aside(claimed, seen)
    else:
        claimed.path.unlink(missing_ok=True)
    inbox.release(claimed)


def _deliver(claimed: Claimed, receipt: Receipt, text: str, root: Path) -> None:
    """The clerk's copies in the unit's shared folder: the receipt in 回执; a refused file in 退回
    with its receipt and marked copy. Named by the drop (received time, file, receipt number),
    so a drop finished again after a crash replaces its own copies."""
    unit = receipt.sender if claimed.source == VERIFICATION_SOURCE else claimed.source
    if unit is None:
        return
    received = current().local(dt.datetime.fromisoformat(receipt.received_at)) if receipt.received_at else None
    stem = f"{received:%Y%m%d-%H%M%S}_" if received else ""
    stem += f"{inbox.safe_name(receipt.file)}_{receipt.drop_id.rsplit('-', 1)[-1]}"
    text = shares.as_windows_text(text)
    shares.deliver(unit, SHARE_RECEIPTS, f"{stem}_回执.txt", text, root)
    if receipt.status != DropStatus.REJECTED:
        return
    shares.deliver(unit, SHARE_RETURNED, f"{stem}_回执.txt", text, root)
    kept = inbox.folder("quarantine", claimed.source) / claimed.path.name
    try:
        shares.deliver(unit, SHARE_RETURNED, f"{stem}_原文件{Path(receipt.file).suffix[:8]}", kept, root)
    except OSError:  # a file that could not be read stays with the engineers (quarantine)
        log.warning("%s/%s: the refused file could not be copied to the unit's 退回", claimed.source, claimed.drop_id)
    if receipt.annotated_workbook and Path(receipt.annotated_workbook).exists():
        shares.deliver(unit, SHARE_RETURNED, f"{stem}_标注.xlsx", Path(receipt.annotated_workbook), root)


def _quarantine(claimed: Claimed, ev: Evaluation, receipt: Receipt, root: Path, move: bool = False) -> Path:
    """The rejected file beside its receipt (and marked copy) in `quarantine/<source>/`: copied, or
    moved as it is when it cannot be read any more (`move`); where it now is."""
    q = inbox.folder("quarantine", claimed.source)
    base = q / claimed.path.name
    if move:
        os.rename(claimed.path, base)
    else:
        shutil.copyfile(claimed.path, base)
    if ev.sheets:
        # in a folder of its own, so that the clerk receives it under a short, plain name
        marked = q / claimed.drop_id / marked_copy_name(receipt)
        receipt.annotated_workbook = str(write_annotated(marked, ev.sheets, ev.issues, ev.locate))
    base.with_name(base.name + ".回执.txt").write_text(receipt.text(), encoding="utf-8")
    base.with_name(base.name + ".回执.json").write_text(receipt.to_json(), encoding="utf-8")
    return base


class StillChanging(Exception):
    """The claimed file changed while it was archived: its writer is still at work."""


def _archive_settled(claimed: Claimed, root: Path) -> tuple[str, Path, os.stat_result]:
    """Hash and archive the claimed file, and check it did not change meanwhile."""
    before = claimed.path.stat()
    sha = inbox.sha256_of(claimed.path)
    archived = inbox.archive(claimed.path, sha)
    after = claimed.path.stat()
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or inbox.sha256_of(archived) != sha:
        raise StillChanging(claimed.drop_id)
    return sha, archived, after


def _judge_again(ev: Evaluation, earlier: list[load.EarlierDrop], month: str | None) -> None:
    """What the receipt says of earlier drops of the same bytes that are not the month's data."""
    for e in earlier:
        said = f"与 {time_label(e.dropped_at)} 报送的“{e.original_name}”"
        if e.status == DropStatus.REJECTED:
            ev.issues.append(issue("same_as_rejected", severity="warning", detail=said + "内容相同，上次未通过，本次已重新校验"))
            return
        if e.month != month:
            ev.issues.append(issue("same_as_other_month", severity="warning", detail=f"{said}（{month_label(e.month)}）相同"))
            return


def ingest_claimed(claimed: Claimed) -> Receipt | None:
    """Ingest one claimed file exactly once; safe to call again after any crash, and from any
    number of processes at once. None when another live process owns the claim, or the file
    is still being written (it is taken again later)."""
    root = data_root()
    with inbox.owned(claimed) as mine:
        if not mine:
            return None
        try:
            # pandas 3 keeps its str columns in Arrow when pyarrow is installed (the reconciliation
            # engine needs it): for a file's cell-by-cell normalising and GX that took 40% more
            # memory (1.30 vs 0.93 GB peak on bench_ingest's 200,000 rows) and was no faster. The forked
            # reader child inherits the setting.
            with pd.option_context("mode.string_storage", "python"):
                return _ingest_owned(claimed, root)
        except StillChanging:
            log.warning("%s/%s changed while it was archived; taken again once it settles", claimed.source, claimed.drop_id)
            return None


def _ingest_owned(claimed: Claimed, root: Path) -> Receipt:
    eng = engine()
    with eng.connect() as conn:
        stored = load.drop_receipt(conn, claimed.drop_id)
    if stored is not None:  # finished before a crash: only the clean-up was left
        receipt = Receipt.from_json(stored)
        with eng.begin() as conn:  # queued with the record already: a no-op, unless recorded by an older version
            queue_receipt(receipt, conn)
        _finish(claimed, receipt, root, claimed.path.stat() if claimed.path.exists() else None)
        return receipt
    sha, archived, seen = _archive_settled(claimed, root)
    name = claimed.original_name
    rec = load.FileRecord(
        sha256=sha, drop_id=claimed.drop_id, source=claimed.source, original_name=name,
        month=None, format=None, size=seen.st_size, archive_path=str(archived.relative_to(root)),
        dropped_at=dt.datetime.fromtimestamp(seen.st_mtime, dt.UTC),
    )
    receipt = Receipt(file=name, source=claimed.source, month=None, status=DropStatus.REJECTED, sha256=sha,
                      drop_id=claimed.drop_id, received_at=rec.dropped_at.isoformat(timespec="seconds"), sender=claimed.sender)
    if claimed.source == VERIFICATION_SOURCE:
        return _ingest_verification(claimed, eng, root, rec, receipt, seen)
    month, _ = _month(name)
    with eng.connect() as conn:
        earlier = load.earlier_drops(conn, sha, claimed.source)
        loaded = next((e for e in earlier if e.current and e.month == month), None)
        ev = Evaluation() if loaded else evaluate(claimed.path, claimed.source, name, conn)
    if loaded:
        receipt.status, receipt.duplicate_of, receipt.month = DropStatus.DUPLICATE, sha, month
        receipt.same_as = {"file": loaded.original_name, "received_at": loaded.dropped_at.isoformat(timespec="seconds")}
    else:
        _judge_again(ev, earlier, ev.month)
        decision = _decide(ev, claimed.source)
        receipt.month, receipt.format, receipt.status = ev.month, ev.format, decision.status
        receipt.rows = {name: len(f) for name, f in decision.clean.items()}
        receipt.total_rows, receipt.error_rows, receipt.error_threshold = decision.total_rows, decision.error_rows, decision.threshold
        receipt.read_rows = {name: len(f) for name, f in ev.frames.items()}
        receipt.errors = [i.to_dict() for i in ev.errors]
        receipt.warnings = [i.to_dict() for i in ev.warnings]

    def load_rows(conn: Connection) -> None:
        outcomes = [load.replace_month(conn, name, claimed.source, receipt.month, f, rec) for name, f in decision.clean.items()]
        if DropStatus.SUPERSEDED in outcomes:
            receipt.status = DropStatus.SUPERSEDED
            receipt.warnings.append(issue("superseded", severity="warning").to_dict())
        receipt.replaced_previous = "replaced" in outcomes

    _conclude(claimed, ev, rec, receipt, eng, root, seen, load_rows)
    log.info("ingested %s/%s month=%s status=%s rows=%s errors=%d warnings=%d",
             claimed.source, claimed.drop_id, receipt.month, receipt.status, receipt.rows, len(receipt.errors), len(receipt.warnings))
    return receipt


def _conclude(claimed: Claimed, ev: Evaluation, rec: load.FileRecord, receipt: Receipt, eng, root: Path,
              seen: os.stat_result, store: Callable[[Connection], None]) -> None:
    """The decided drop: a rejected one quarantined; in one transaction an accepted one's `store`
    and the drop's record with its receipt; then the claim let go."""
    rec.month, rec.format = receipt.month, receipt.format
    receipt.processed_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if receipt.status == DropStatus.REJECTED:
        _quarantine(claimed, ev, receipt, root)
    with eng.begin() as conn:  # the data, the drop's record and its receipt's notice: all, or none
        if receipt.status == DropStatus.ACCEPTED:
            store(conn)
        load.record_file(conn, rec, receipt.status, receipt.to_json())
        queue_receipt(receipt, conn)
    _finish(claimed, receipt, root, seen)


def _ingest_verification(claimed: Claimed, eng, root: Path, rec: load.FileRecord, receipt: Receipt,
                         seen: os.stat_result) -> Receipt:
    """A filled-in 核查结果 workbook: every answer stored, or (one bad row) none, with a receipt."""
    today = current().local(dt.datetime.now(dt.UTC)).date()
    sender = claimed.sender
    with eng.connect() as conn:
        ev, answers = verification.evaluate(claimed.path, claimed.original_name, conn, today, sender,
                                           {k: u.name for k, u in units().items()})
    receipt.month, receipt.format = ev.month, ev.format
    receipt.status = DropStatus.REJECTED if ev.errors else DropStatus.ACCEPTED
    receipt.errors, receipt.warnings = [i.to_dict() for i in ev.errors], [i.to_dict() for i in ev.warnings]
    bad = {(i.sheet, i.row) for i in ev.errors if i.row is not None}
    receipt.total_rows, receipt.error_rows = len(answers) + len(bad), len(bad)
    receipt.read_rows = {verification.OUTCOME: receipt.total_rows}
    if receipt.status == DropStatus.ACCEPTED:
        receipt.rows = {verification.OUTCOME: len(answers)}

    def store_answers(conn: Connection) -> None:
        for finding, answer in answers:
            verify.record(conn, finding, answer, user=f"报表：{one_line(claimed.original_name)}"[:200], unit=sender,
                          via=f"file:{claimed.drop_id}")

    _conclude(claimed, ev, rec, receipt, eng, root, seen, store_answers)
    log.info("ingested verification file %s: status=%s answers=%d errors=%d", claimed.drop_id, receipt.status, len(answers),
             len(receipt.errors))
    return receipt


# --- failures that are not the file's ----------------------------------------------------------


def _attempts_file(claimed: Claimed) -> Path:
    return claimed.path.with_name(f"{claimed.drop_id}.attempts")


def _infrastructure_down() -> bool:
    """Whether the warehouse or the data root is out of reach: then a failure says nothing of
    the file, and is not counted against it."""
    from sqlalchemy import text

    probe = inbox.folder("work") / f".probe-{os.getpid()}"
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.write_bytes(b"ok" * 2048)  # a few blocks: a disk with no room left fails here
    except Exception:  # any failure to reach them is what we are asking about
        return True
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
    return False


def ingest_guarded(claimed: Claimed) -> Receipt | None:
    """`ingest_claimed`, counting the failures that are not the file's content: the error is
    raised (the task is retried) until the same error has been seen `claims.max_attempts`
    times while the warehouse and the data root were reachable; then the file is quarantined
    with a receipt that says so, and the engineers are told. Nothing is left in `work/`."""
    try:
        return ingest_claimed(claimed)
    except Exception as exc:
        if _infrastructure_down() or not claimed.path.exists():
            raise
        signature = describe(exc)
        path = _attempts_file(claimed)
        try:
            seen = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            seen = {"count": 0, "error": signature}
        seen = {"count": seen["count"] + 1 if seen["error"] == signature else 1, "error": signature}
        path.write_text(json.dumps(seen), encoding="utf-8")
        if seen["count"] < int(settings()["ingest"]["claims"]["max_attempts"]):
            raise
        log.error("%s/%s failed %d times the same way (%s); quarantined for an engineer",
                  claimed.source, claimed.drop_id, seen["count"], signature)
        return _give_up(claimed, seen)


def _give_up(claimed: Claimed, seen: dict) -> Receipt | None:
    """Quarantine a file that failed `max_attempts` times for reasons not its content: with its
    receipt queued and the engineers alerted in the drop's transaction. A file that cannot even be
    read is moved into quarantine as it is (nothing of it archived)."""
    root = data_root()
    with inbox.owned(claimed) as mine:
        if not mine:
            return None
        size, dropped_at = os.lstat(claimed.path).st_size, claimed.dropped_at
        try:
            sha = inbox.sha256_of(claimed.path)
        except (OSError, inbox.NotTaken):  # unreadable now: the ledger says so, the file is kept as it is
            sha = ""
        receipt = Receipt(file=claimed.original_name, source=claimed.source, month=None, status=DropStatus.REJECTED, sha256=sha,
                          drop_id=claimed.drop_id, received_at=dropped_at.isoformat(timespec="seconds"),
                          processed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), sender=claimed.sender)
        receipt.month, _ = _month(claimed.original_name)
        receipt.errors = [issue("system_failure").to_dict()]
        kept = _quarantine(claimed, Evaluation(), receipt, root, move=not sha)
        archived = str((inbox.archive(claimed.path, sha) if sha else kept).relative_to(root))
        try:
            with engine().begin() as conn:
                rec = load.FileRecord(sha, claimed.drop_id, claimed.source, claimed.original_name, receipt.month, None,
                                      size, archived, dropped_at)
                load.record_file(conn, rec, receipt.status, receipt.to_json())
                queue_receipt(receipt, conn)
                queue_engineer_alert("ingest_gave_up", claimed.drop_id, f"{claimed.source} 报送文件 {claimed.drop_id}", seen["error"],
                                     seen["count"], conn=conn)
        except Exception:  # the quarantined copy and its receipt are on disk either way
            log.exception("could not record the quarantined drop %s", claimed.drop_id)
        _finish(claimed, receipt, root, None)
    return receipt


def claim_copy(source: str, path: Path, sender: str | None = None) -> Claimed:
    """A file given by hand (the CLI), copied in as a new drop of `source` (for 核查结果, from `sender`)."""
    if source not in inbox.sources():
        raise ValueError(f"unknown source {source!r}; one of: {', '.join(inbox.sources())}")
    work = inbox.folder("work", source) / f".{inbox.new_drop_id()}.copy"
    shutil.copyfile(path, work)  # a hidden name: no scanner takes it before it is whole
    return inbox.claim(source, work, name=path.name, sender=sender)


def ingest_files(source: str, paths: list[Path], sender: str | None = None) -> list[Receipt]:
    """Ingest files given by hand: each is copied in as a new drop of `source` (a 核查结果
    workbook as sent by `sender`, the unit whose checks it holds)."""
    receipts = []
    for path in paths:
        receipt = ingest_guarded(claim_copy(source, path, sender))
        if receipt is not None:
            receipts.append(receipt)
    return receipts
