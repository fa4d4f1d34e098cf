"""Build real bureau files for tests with the project's own writers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from fupin.config import contracts
from fupin.demo import samples, writers
from fupin.ingest.pipeline import ingest_files
from fupin.receipts import Receipt
from fupin.vocab import SHARE_DROP, SHARES
from fupin.warehouse.db import engine
from fupin.warehouse.schema import dataset_tables


def on_warehouse(url: str):  # a context manager
    """Run the code inside against the warehouse `url` (a county of its own: the environment's
    data root and config, that warehouse), as a task runs inside its county."""
    from fupin.county import County

    return County(warehouse_url=url).active()


def sheet(dataset: str, rows: list[dict], **kw) -> writers.SheetSpec:
    return writers.dataset_sheet(contracts().datasets[dataset], rows, **kw)


def rows(dataset: str, people, month: str = "2017-06") -> list[dict]:
    return samples.sample_rows(dataset, people, month)


def write(path: Path, *sheets: writers.SheetSpec, encoding: str = "utf-8") -> Path:
    return writers.write(path, list(sheets), encoding=encoding)


def drops(root: Path, unit: str) -> Path:
    """Where `unit` drops its monthly files: its shared folder's 报送 (written to by hand here,
    as the file share would)."""
    return root / SHARES / unit / SHARE_DROP


def ingest(source: str, path: Path) -> Receipt:
    return ingest_files(source, [path])[0]


def count(dataset: str, month: str | None = None, url: str | None = None) -> int:
    t = dataset_tables[dataset]
    q = select(func.count()).select_from(t)
    if month:
        q = q.where(t.c.month == month)
    with engine(url).connect() as conn:
        return conn.execute(q).scalar_one()


def column(dataset: str, key: str, month: str = "2017-06") -> list:
    t = dataset_tables[dataset]
    with engine().connect() as conn:
        return list(conn.execute(select(t.c[key]).where(t.c.month == month).order_by(t.c.sheet, t.c.row_no)).scalars())


def rules(receipt: Receipt, severity: str = "errors") -> set[str]:
    return {i["rule"] for i in getattr(receipt, severity)}


def mail_problems(raw: bytes) -> list[str]:
    """What a strict parser (Python's `email.policy.default`) finds wrong with a message: header
    defects, a From that is not an address with a domain, missing Date / Message-ID, a body
    that is not text/plain + text/html alternatives, images not inline in multipart/related,
    attachments not typed or not named."""
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.default)
    found = [f"{name}: {type(d).__name__}" for name in msg.keys() for d in getattr(msg[name], "defects", ())]
    found += [f"message: {type(d).__name__}" for d in msg.defects]
    frm = msg["From"]
    if frm is None or len(frm.addresses) != 1 or not frm.addresses[0].domain or not frm.addresses[0].display_name:
        found.append(f"From is not a named address: {frm!r}")
    found += [f"no {h}" for h in ("Date", "Message-ID", "To", "Subject") if msg[h] is None]
    alt = next((p for p in msg.walk() if p.get_content_type() == "multipart/alternative"), None)
    if alt is None or [p.get_content_type() for p in alt.iter_parts()][0] != "text/plain" or msg.get_body(("html",)) is None:
        found.append("not text/plain + text/html alternatives")
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "image/png" and (part["Content-ID"] is None or "multipart/related" not in
                                     [p.get_content_type() for p in msg.walk() if part in list(p.iter_parts())]):
            found.append("an image that is not inline in multipart/related")
        if part.get_content_disposition() == "attachment":
            if ctype == "application/octet-stream":
                found.append(f"untyped attachment {part.get_filename()}")
            if not part.get_filename():
                found.append("an attachment without a name")
    return found


def internal_words(text: str) -> list[str]:
    """What an official should never read: source and dataset keys (a folder path such as
    inbox/water/ aside), bare town codes, indicator codes without their name, nan/None."""
    import re

    from fupin.config import contracts

    keys = "|".join(sorted({*contracts().sources, *contracts().datasets, "reconciliation"}, key=len, reverse=True))
    patterns = (rf"(?<![\w/])({keys})(?![\w/])", r"(?<!\d)440224\d{3}(?!\d)", r"\bI\d\d\b(?! [\u4e00-\u9fff])", r"\b(nan|None|NaN)\b")
    return [m.group(0) for p in patterns for m in re.finditer(p, text)]


def demo_frame(population, dataset: str, month: str):  # a Population; a DataFrame
    """The demo generator's rows of `dataset` for `month`, typed by the ingest's own normaliser
    (column by column, as a file's sheet is)."""
    from fupin.demo import render
    from fupin.ingest.normalize import normalize_table
    from fupin.ingest.sheets import SheetTable

    ds = contracts().datasets[dataset]
    got = render.rows(population, dataset, month)
    table = SheetTable(sheet="demo", dataset=ds, header_row=1, columns={c.key: (j, c.key) for j, c in enumerate(ds.columns)},
                       rows=[(i, [r.get(c.key) for c in ds.columns]) for i, r in enumerate(got, start=2)])
    frame, _ = normalize_table(table)
    return frame


def _snapshot_record(dataset: str, month: str):  # a load.FileRecord
    """The file record a snapshot loaded straight into the warehouse is filed under."""
    import datetime as dt

    from fupin.warehouse import load

    return load.FileRecord(f"{dataset}{month}".ljust(64, "0"), f"{dataset}{month}", contracts().datasets[dataset].source, "x", month,
                           "xlsx", 0, "-", dt.datetime.fromisoformat(month + "-01"))


def store_snapshot(url: str, dataset: str, month: str, frame) -> None:  # a pandas frame
    """`frame` as `dataset`'s snapshot of `month`, loaded straight into the warehouse (no file, no checks)."""
    from fupin.warehouse import load

    with engine(url).begin() as conn:
        load.replace_month(conn, dataset, contracts().datasets[dataset].source, month,
                           frame.assign(sheet="s", row_no=range(len(frame))), _snapshot_record(dataset, month))


def fill_demo_warehouse(url: str, population, snapshots: set[tuple[str, str]], ledger_months: list[str]) -> None:
    """Load the demo county's rows of these (dataset, month) snapshots straight into the warehouse,
    and a submission ledger of `ledger_months` with the generator's drop times (late and resent
    files included), each drop with a receipt."""
    import datetime as dt

    from sqlalchemy import insert

    from fupin.calendar import month_end
    from fupin.demo.generate import LATE, RESENT
    from fupin.warehouse import load
    from fupin.warehouse.schema import drops

    with engine(url).begin() as conn:
        for dataset, month in sorted(snapshots):
            load.replace_month(conn, dataset, contracts().datasets[dataset].source, month, demo_frame(population, dataset, month),
                               _snapshot_record(dataset, month))
        ledger = []
        for month in ledger_months:
            for source, src in contracts().sources.items():
                at = dt.datetime.combine(month_end(month) + dt.timedelta(days=LATE.get((source, month), 6)), dt.time(10))
                # one drop per monthly file, its receipt naming the datasets it loaded (县扶贫办 sends two)
                for i, held in enumerate(reversed(list(src.reports.values()))):
                    drop_id = f"{source}{month}" + (f"_{i}" if i else "")
                    receipt = Receipt(file=f"{source}_{month}.xlsx", source=source, month=month, status="accepted", sha256="0",
                                      drop_id=drop_id, received_at=at.isoformat(), total_rows=1, rows=dict.fromkeys(held, 1))
                    ledger.append({"drop_id": drop_id, "sha256": "0", "source": source, "original_name": receipt.file,
                                   "month": month, "dropped_at": at, "status": "accepted", "receipt": receipt.to_json(),
                                   "recorded_at": dt.datetime.now()})
                if (source, month) == RESENT:
                    first = Receipt(file=f"{source}_{month}.xlsx", source=source, month=month, status="rejected", sha256="1",
                                    drop_id="first", received_at=(at - dt.timedelta(days=2)).isoformat(),
                                    errors=[{"rule": "id_checksum", "message": "身份证号校验位错误", "sheet": "Sheet1", "row": 5,
                                             "column": "身份证号", "value": "440224199001011234"}])
                    ledger.append({**ledger[-1], "drop_id": "first", "status": "rejected", "dropped_at": at - dt.timedelta(days=2),
                                   "receipt": first.to_json()})
        if ledger:
            conn.execute(insert(drops), ledger)
