"""Load a file's datasets and record it in the ledger: all of it in one transaction, or nothing.

A newer file for the same dataset and month replaces the month's rows; an older one that
arrives late (by drop time) is recorded but does not overwrite the newer data.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Integer, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fupin.calendar import as_utc
from fupin.vocab import DropStatus
from fupin.warehouse.schema import dataset_tables, dataset_versions, drops, files

BATCH = 20_000


@dataclass
class FileRecord:
    sha256: str
    drop_id: str
    source: str
    original_name: str
    month: str | None
    format: str | None
    size: int
    archive_path: str
    dropped_at: dt.datetime


def _rows(frame: pd.DataFrame, month: str, sha: str, keys: list[str]) -> tuple[list[str], Iterator[tuple]]:
    """The table's columns, and the rows as tuples of plain Python values (None for missing)."""
    n = len(frame)
    columns = {"month": [month] * n, "sha256": [sha] * n, "sheet": frame["sheet"].tolist(), "row_no": frame["row_no"].tolist()}
    for k in keys:
        s = frame[k]
        if pd.api.types.is_datetime64_any_dtype(s):
            s = s.dt.date
        columns[k] = s.astype(object).where(s.notna(), None).tolist()  # column by column: no per-cell pandas access
    return list(columns), zip(*columns.values(), strict=True)


def _batches(rows: Iterator[tuple]) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _pg_text(value: object) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_rows(conn: Connection, table, cols: list[str], rows: Iterator[tuple]) -> None:
    """COPY … FROM STDIN on the connection's own psycopg2 connection: the same transaction."""
    raw = conn.connection.driver_connection
    columns = ", ".join(f'"{c}"' for c in cols)
    # a whole number that pandas holds as a float (a column with gaps) must reach an
    # integer column as "3", not "3.0": INSERT casts it, COPY refuses it
    ints = [isinstance(table.c[c].type, Integer) for c in cols]

    def line(row: tuple) -> str:
        return "\t".join(_pg_text(int(v) if i and isinstance(v, float) else v) for v, i in zip(row, ints, strict=True)) + "\n"

    with raw.cursor() as cur:
        for batch in _batches(rows):
            cur.copy_expert(f'COPY "{table.name}" ({columns}) FROM STDIN', io.StringIO("".join(map(line, batch))))


def _insert_batches(conn: Connection, table, cols: list[str], rows: Iterator[tuple]) -> None:
    """Batched INSERTs (executemany). On SQLite straight through the driver's executemany, each
    value converted by its column type's own bind processor — what SQLAlchemy does row by row,
    without its per-row parameter building (a third of a demo month's load)."""
    if conn.dialect.name != "sqlite":
        for batch in _batches(rows):
            conn.execute(insert(table), [dict(zip(cols, row, strict=True)) for row in batch])
        return
    quote = conn.dialect.identifier_preparer.quote
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, cols))}) VALUES ({', '.join('?' * len(cols))})"
    convert = [(i, f) for i, f in enumerate(table.c[c].type.bind_processor(conn.dialect) for c in cols) if f is not None]

    def bound(row: tuple) -> tuple:
        if not convert:
            return row
        out = list(row)
        for i, f in convert:  # the few columns whose type converts (a Float's), not every value of the row
            out[i] = f(out[i])
        return tuple(out)

    for batch in _batches(rows):
        conn.exec_driver_sql(sql, [bound(row) for row in batch])


def _insert_rows(conn: Connection, table, cols: list[str], rows: Iterator[tuple]) -> None:
    """Into `table`, inside the caller's transaction: COPY on PostgreSQL (psycopg2; 5.4x faster
    than executemany for 207k registry rows, bench/bench_load.py), batched INSERTs elsewhere."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2":
        _copy_rows(conn, table, cols, rows)
    else:
        _insert_batches(conn, table, cols, rows)


def replace_month(conn: Connection, dataset: str, source: str, month: str, frame: pd.DataFrame, rec: FileRecord) -> str:
    """Replace `dataset`'s rows for `month` with `frame`.

    Returns `loaded` (first data for the month), `replaced`, or `superseded` when a file
    dropped later already holds the month (then nothing changes).
    """
    if conn.dialect.name == "postgresql":
        # FOR UPDATE locks nothing while the month has no row yet: two first loads of one month
        # (a clerk re-dropping a corrected file at once) take turns on this lock instead of
        # both inserting. SQLite serialises writers by itself.
        conn.execute(text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"fupin:{dataset}:{month}"})
    current = conn.execute(
        select(dataset_versions.c.dropped_at)
        .where(dataset_versions.c.dataset == dataset, dataset_versions.c.month == month)
        .with_for_update()
    ).first()
    if current is not None and as_utc(current.dropped_at) > as_utc(rec.dropped_at):
        return DropStatus.SUPERSEDED
    table = dataset_tables[dataset]
    conn.execute(delete(table).where(table.c.month == month))
    keys = [c.name for c in table.columns if c.name not in ("month", "sha256", "sheet", "row_no")]
    cols, rows = _rows(frame, month, rec.sha256, keys)
    _insert_rows(conn, table, cols, rows)
    values = dict(source=source, sha256=rec.sha256, dropped_at=rec.dropped_at, rows=len(frame), loaded_at=dt.datetime.now(dt.UTC))
    if current is None:
        conn.execute(insert(dataset_versions).values(dataset=dataset, month=month, **values))
    else:
        conn.execute(update(dataset_versions).where(dataset_versions.c.dataset == dataset, dataset_versions.c.month == month).values(**values))
    return "loaded" if current is None else "replaced"


def record_file(conn: Connection, rec: FileRecord, status: str, receipt_json: str) -> None:
    """Ledger rows for a processed drop: the file (first time its bytes are seen) and the drop."""
    now = dt.datetime.now(dt.UTC)
    # the same bytes may be dropped twice at once (two months sent as one file, two ingesters):
    # whoever records them first wins, the other's insert is a no-op instead of a failed ingest
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    if rec.sha256:  # empty: a file the platform could not read (quarantined as it was, no bytes known)
        conn.execute(
            dialect_insert(files).values(
                sha256=rec.sha256, source=rec.source, original_name=rec.original_name, month=rec.month,
                format=rec.format, size=rec.size, status=status, archive_path=rec.archive_path,
                processed_at=now,
            ).on_conflict_do_nothing(index_elements=["sha256"])
        )
    conn.execute(
        insert(drops).values(
            drop_id=rec.drop_id, sha256=rec.sha256, source=rec.source, original_name=rec.original_name,
            month=rec.month, dropped_at=rec.dropped_at, status=status, receipt=receipt_json, recorded_at=now,
        )
    )


def drop_receipt(conn: Connection, drop_id: str) -> str | None:
    """The stored receipt of a drop already recorded (a re-run after a crash), else None."""
    return conn.execute(select(drops.c.receipt).where(drops.c.drop_id == drop_id)).scalar()


@dataclass(frozen=True)
class EarlierDrop:
    """An earlier drop of the same bytes by the same source, as a clerk would name it."""

    drop_id: str
    original_name: str
    month: str | None
    dropped_at: dt.datetime
    status: str
    current: bool  # its rows are the month's data now (so the bytes are "already loaded")


def earlier_drops(conn: Connection, sha: str, source: str) -> list[EarlierDrop]:
    """Every earlier, finished drop of these bytes by `source`, newest first.

    Identical bytes are a duplicate only while they are what the warehouse holds for the month
    (`current`); bytes that were rejected, or were since replaced, are judged again.
    """
    q = (select(drops.c.drop_id, drops.c.original_name, drops.c.month, drops.c.dropped_at, drops.c.status)
         .where(drops.c.sha256 == sha, drops.c.source == source, drops.c.status != DropStatus.DUPLICATE)
         .order_by(drops.c.dropped_at.desc()))
    found = conn.execute(q).all()
    if not found:
        return []
    loaded = {(v.month) for v in conn.execute(
        select(dataset_versions.c.month).where(dataset_versions.c.sha256 == sha, dataset_versions.c.source == source))}
    return [EarlierDrop(r.drop_id, r.original_name, r.month, r.dropped_at, r.status, r.status == DropStatus.ACCEPTED and r.month in loaded)
            for r in found]
