"""Ingest one claimed file: archive, read, normalise, validate, load — or reject with a receipt.

The order is what makes it safe: the bytes are archived before anything reads them; nothing
is written to the warehouse until every check has passed; the load and the ledger entry are
one transaction; the claimed file leaves the work area only once that transaction committed.
A crash anywhere leaves the file claimed, and the next run ingests it exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, func, select

from fupin.calendar import month_end
from fupin.config import Dataset, contracts, data_root
from fupin.ingest import inbox
from fupin.ingest.inbox import Claimed
from fupin.ingest.normalize import normalize_table
from fupin.ingest.reader import FileRejected, RawSheet, read_workbook
from fupin.ingest.sheets import SheetTable, build_table, match_sheet
from fupin.receipts import Receipt, write_annotated
from fupin.validate.gx import run_suite
from fupin.validate.issues import Issue, issue
from fupin.validate.rules import run_rules
from fupin.warehouse import load
from fupin.warehouse.db import engine
from fupin.warehouse.schema import dataset_tables, dataset_versions

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """Everything learnt about a file before anything is written."""

    month: str | None = None
    format: str | None = None
    sheets: list[RawSheet] = field(default_factory=list)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    locate: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]


def _month(name: str) -> tuple[str | None, list[Issue]]:
    months = inbox.months_in_name(name)
    if not months:
        return None, [issue("month_missing", detail=name)]
    if len(months) > 1:
        return None, [issue("month_ambiguous", detail="、".join(sorted(months)))]
    return months.pop(), []


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
    for ds in c.of_source(source):
        if tables and not ds.optional and ds.name not in found:
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
        ev.format, ev.sheets = read_workbook(path)
    except FileRejected as exc:
        ev.issues.append(issue(exc.rule, detail=exc.message))
        return ev
    tables, table_issues = _tables(source, ev.sheets)
    ev.issues += table_issues
    if any(i.rule == "missing_column" for i in ev.issues) or not tables:
        return ev
    by_dataset: dict[str, list[SheetTable]] = {}
    for t in tables:
        by_dataset.setdefault(t.dataset.name, []).append(t)
        for key, (j, header) in t.columns.items():
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
    ev.issues = _dedupe(ev.issues)
    return ev


def cross_source_warnings(conn: Connection, ds: Dataset, frame: pd.DataFrame, month: str, headers: dict) -> list[Issue]:
    """Persons (or households) absent from the latest registry, or placed elsewhere in it."""
    if ds.name in ("registry", "dibao") or frame.empty:
        return []
    person_key = "id_number" if "id_number" in ds.keys else None
    if person_key is None and "household_id" not in ds.keys:
        return []
    latest = conn.execute(
        select(func.max(dataset_versions.c.month)).where(dataset_versions.c.dataset == "registry", dataset_versions.c.month <= month)
    ).scalar()
    if latest is None:
        return []
    reg = dataset_tables["registry"]
    out: list[Issue] = []
    if person_key:
        known = {r.id_number: (r.town, r.village) for r in conn.execute(select(reg.c.id_number, reg.c.town, reg.c.village).where(reg.c.month == latest))}
        for r in frame[["sheet", "row_no", "id_number", "town", "village"]].itertuples(index=False):
            if not isinstance(r.id_number, str):
                continue
            place = known.get(r.id_number)
            col = headers.get((r.sheet, "id_number"), "身份证号")
            if place is None:
                out.append(issue("not_in_registry", severity="warning", sheet=r.sheet, row=r.row_no, column=col, detail=f"{latest} 名单"))
            elif place != (r.town, r.village):
                out.append(issue("location_differs", severity="warning", sheet=r.sheet, row=r.row_no, column=headers.get((r.sheet, "village"), "村"),
                                 detail=f"名单中为{place[0]}{place[1]}"))
    else:
        households = set(conn.execute(select(reg.c.household_id).where(reg.c.month == latest).distinct()).scalars())
        for r in frame[["sheet", "row_no", "household_id"]].itertuples(index=False):
            if isinstance(r.household_id, str) and r.household_id not in households:
                out.append(issue("household_not_in_registry", severity="warning", sheet=r.sheet, row=r.row_no,
                                 column=headers.get((r.sheet, "household_id"), "户编号"), value=r.household_id))
    return out


def _decide(ev: Evaluation, source: str) -> tuple[str, dict[str, pd.DataFrame]]:
    """accepted (with the rows to load) or rejected, by the source's error threshold."""
    if not ev.month or not ev.frames or any(i.row is None or i.rule == "missing_column" for i in ev.errors):
        return "rejected", {}
    total = sum(len(f) for f in ev.frames.values())
    bad = {(i.sheet, i.row) for i in ev.errors}
    threshold = contracts().sources[source].error_threshold
    if total == 0 or (bad and len(bad) / total > threshold):
        if bad:
            ev.issues.insert(0, issue("too_many_errors", detail=f"{len(bad)} 行有错，共 {total} 行"))
        return "rejected", {}
    clean = {}
    for name, frame in ev.frames.items():
        keep = [(s, r) not in bad for s, r in zip(frame["sheet"], frame["row_no"], strict=True)] if bad else None
        clean[name] = frame[keep] if keep is not None else frame
    return "accepted", clean


def _finish(claimed: Claimed, receipt: Receipt, root: Path) -> None:
    folder = inbox.folder("archive", "receipts", root=root)
    (folder / f"{receipt.drop_id}.json").write_text(receipt.to_json(), encoding="utf-8")
    (folder / f"{receipt.drop_id}.txt").write_text(receipt.text(), encoding="utf-8")
    try:
        os.unlink(claimed.path)
    except FileNotFoundError:
        pass


def _quarantine(claimed: Claimed, ev: Evaluation, receipt: Receipt, root: Path) -> None:
    q = inbox.folder("quarantine", claimed.source, root=root)
    base = q / claimed.path.name
    shutil.copyfile(claimed.path, base)
    if ev.sheets:
        receipt.annotated_workbook = str(write_annotated(base.with_name(base.name + ".标注.xlsx"), ev.sheets, ev.issues, ev.locate))
    base.with_name(base.name + ".回执.txt").write_text(receipt.text(), encoding="utf-8")
    base.with_name(base.name + ".回执.json").write_text(receipt.to_json(), encoding="utf-8")


def ingest_claimed(claimed: Claimed, url: str | None = None, root: Path | None = None) -> Receipt:
    """Ingest one claimed file exactly once; safe to call again after any crash."""
    root = root or data_root()
    eng = engine(url)
    with eng.connect() as conn:
        stored = load.drop_receipt(conn, claimed.drop_id)
    if stored is not None:  # finished before a crash: only the clean-up was left
        receipt = Receipt.from_json(stored)
        _finish(claimed, receipt, root)
        return receipt
    sha = inbox.sha256_of(claimed.path)
    archived = inbox.archive(claimed.path, sha, root=root)
    rec = load.FileRecord(
        sha256=sha, drop_id=claimed.drop_id, source=claimed.source, original_name=claimed.original_name,
        month=None, format=None, size=claimed.path.stat().st_size, archive_path=str(archived.relative_to(root)),
        dropped_at=claimed.dropped_at,
    )
    receipt = Receipt(file=claimed.original_name, source=claimed.source, month=None, status="rejected", sha256=sha,
                      drop_id=claimed.drop_id, received_at=rec.dropped_at.isoformat(timespec="seconds"))
    named = inbox.months_in_name(claimed.original_name)
    month = next(iter(named)) if len(named) == 1 else None
    with eng.connect() as conn:
        previous = load.previous_drop(conn, sha, claimed.source, month)
        ev = Evaluation() if previous else evaluate(claimed.path, claimed.source, claimed.original_name, conn)
        same_bytes = None if previous else load.previous_drop(conn, sha, claimed.source, None, any_month=True)
    if previous:
        receipt.status, receipt.duplicate_of, receipt.month = "duplicate", sha, month
    else:
        if same_bytes:  # the same bytes named for another month: loaded for this one, but said
            ev.issues.append(issue("same_as_other_month", severity="warning", detail=same_bytes))
        status, clean = _decide(ev, claimed.source)
        receipt.month, receipt.format, receipt.status = ev.month, ev.format, status
        receipt.rows = {name: len(f) for name, f in clean.items()}
        receipt.errors = [i.to_dict() for i in ev.errors]
        receipt.warnings = [i.to_dict() for i in ev.warnings]
    rec.month, rec.format = receipt.month, receipt.format
    receipt.processed_at = dt.datetime.now().isoformat(timespec="seconds")
    if receipt.status == "rejected":
        _quarantine(claimed, ev, receipt, root)
    with eng.begin() as conn:
        if receipt.status == "accepted":
            outcomes = [load.replace_month(conn, name, claimed.source, receipt.month, f, rec) for name, f in clean.items()]
            if "superseded" in outcomes:
                receipt.status = "superseded"
                receipt.warnings.append(issue("superseded", severity="warning").to_dict())
            receipt.replaced_previous = "replaced" in outcomes
        load.record_file(conn, rec, receipt.status, receipt.to_json())
    log.info("ingested %s/%s month=%s status=%s rows=%s errors=%d warnings=%d",
             claimed.source, claimed.drop_id, receipt.month, receipt.status, receipt.rows, len(receipt.errors), len(receipt.warnings))
    _finish(claimed, receipt, root)
    return receipt


def ingest_files(source: str, paths: list[Path], url: str | None = None, root: Path | None = None) -> list[Receipt]:
    """Ingest files given by hand (the CLI): each is copied in as a new drop of `source`."""
    root = root or data_root()
    if source not in contracts().sources:
        raise ValueError(f"unknown source {source!r}; one of: {', '.join(contracts().sources)}")
    receipts = []
    for path in paths:
        target = inbox.folder("work", source, root=root) / f"{inbox.new_drop_id()}__{inbox.safe_name(path.name)}"
        shutil.copyfile(path, target)
        receipts.append(ingest_claimed(Claimed(source, target), url=url, root=root))
    return receipts
