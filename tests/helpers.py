"""Build real bureau files for tests with the project's own writers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from fupin.config import contracts
from fupin.demo import samples, writers
from fupin.ingest.pipeline import ingest_files
from fupin.receipts import Receipt
from fupin.warehouse.db import engine
from fupin.warehouse.schema import dataset_tables


def sheet(dataset: str, rows: list[dict], **kw) -> writers.SheetSpec:
    return writers.dataset_sheet(contracts().datasets[dataset], rows, **kw)


def rows(dataset: str, people, month: str = "2017-06") -> list[dict]:
    return samples.sample_rows(dataset, people, month)


def write(path: Path, *sheets: writers.SheetSpec, encoding: str = "utf-8") -> Path:
    return writers.write(path, list(sheets), encoding=encoding)


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
