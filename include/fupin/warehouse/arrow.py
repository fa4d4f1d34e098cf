"""Reading the warehouse column-wise, as Arrow (列式读取): what the reconciliation engine reads.

`read_many(requests)` fetches rows of warehouse tables — of one warehouse or of a province's
many — as Arrow tables, without a Python object per value:
- PostgreSQL: ADBC's libpq driver (`COPY … TO STDOUT` in binary, straight into Arrow buffers),
  on connections of its own, a few at a time (the reads wait on the server);
- SQLite files: ADBC's SQLite driver, in a child process (`python -m fupin.warehouse.arrow_reader`)
  that reads every requested file and hands the tables back as Arrow IPC. Never in this
  process: the driver carries its own copy of the SQLite library, and two copies in one process
  on one file release each other's POSIX locks when either closes it (sqlite.org/howtocorrupt.html
  §2.2.1) — SQLAlchemy's pooled connections would lose their locks on the warehouse. In a
  process of its own the driver takes part in the locking like any other reader. It reads each
  result in one batch: it types a column on its first batch and fails on a later value of
  another type (a column empty in its first thousand rows). Small reads (`IN_PROCESS_ROWS`, by
  the row counts the request carries) of the caller's own warehouse go through its connection.
- anything else (an in-memory SQLite): through the caller's connection, row by row.
The filter is always `column = value` pairs, bound as parameters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, Table
from sqlalchemy.engine import URL

_PG_READERS = 4
# Below this many rows a SQLite read goes through the caller's own connection (Python's sqlite3:
# ~6.5 µs a row) rather than start the reader process (~0.35 s): a county's monthly snapshot.
IN_PROCESS_ROWS = 50_000


@dataclass(frozen=True)
class Request:
    url: URL  # the warehouse
    table: Table
    columns: tuple[str, ...]
    where: tuple[tuple[str, object], ...]  # column = value
    rows: int | None = None  # how many rows it will bring, when known


def request(url: URL, table: Table, columns: Sequence[str], where: Mapping[str, object], rows: int | None = None) -> Request:
    for c in [*columns, *where]:
        table.c[c]  # KeyError for a column the table does not have: nothing unchecked reaches the SQL
    return Request(url, table, tuple(columns), tuple(where.items()), rows)


def read_many(requests: Sequence[Request], conn: Connection | None = None) -> list[pa.Table]:
    """The tables of `requests`, in their order. `conn`, a connection to the requests' warehouse,
    serves its own small SQLite reads and what no other reader can (an in-memory SQLite)."""
    out: list[pa.Table | None] = [None] * len(requests)
    pg = [i for i, r in enumerate(requests) if r.url.get_backend_name() == "postgresql"]
    files = [i for i, r in enumerate(requests) if _sqlite_file(r.url) is not None]
    if conn is not None and _small_and_own(conn, [requests[i] for i in files]):
        files = []
    taken = set(pg) | set(files)
    rest = [i for i in range(len(requests)) if i not in taken]
    if pg:
        with ThreadPoolExecutor(min(_PG_READERS, len(pg))) as pool:
            for i, table in zip(pg, pool.map(_adbc_postgresql, [requests[i] for i in pg]), strict=True):
                out[i] = table
    if files:
        for i, table in zip(files, _sqlite_in_child([requests[i] for i in files]), strict=True):
            out[i] = table
    for i in rest:
        if conn is None:
            raise ValueError(f"no column-wise reader for {requests[i].url.get_backend_name()}: pass the connection")
        out[i] = _rows(conn, requests[i])
    return out  # type: ignore[return-value]


def _small_and_own(conn: Connection, requests: Sequence[Request]) -> bool:
    """Whether these SQLite reads are all of `conn`'s own file and small enough for its cursor."""
    own = _sqlite_file(conn.engine.url)
    return all(_sqlite_file(r.url) == own and r.rows is not None for r in requests) and sum(r.rows or 0 for r in requests) < IN_PROCESS_ROWS


def _sql(r: Request, placeholder: str) -> tuple[str, list]:
    cols = ", ".join(f'"{c}"' for c in r.columns)
    cond = " and ".join(f'"{c}" = {placeholder.format(i + 1)}' for i, (c, _) in enumerate(r.where))
    return f'select {cols} from "{r.table.name}"' + (f" where {cond}" if cond else ""), [v for _, v in r.where]


def _sqlite_file(url: URL) -> str | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or url.database.startswith("file:"):
        return None
    return str(Path(url.database).resolve())


def _adbc_postgresql(r: Request) -> pa.Table:
    import adbc_driver_postgresql.dbapi as pg

    uri = r.url.set(drivername="postgresql").render_as_string(hide_password=False)  # libpq's own URI
    sql, params = _sql(r, "${}")
    with pg.connect(uri) as aconn, aconn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetch_arrow_table()


def _rows(conn: Connection, r: Request) -> pa.Table:
    """Through the caller's DB-API cursor (plain tuples, not SQLAlchemy rows), a column at a time."""
    sql, params = _sql(r, "?" if conn.dialect.paramstyle == "qmark" else "%s")
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    values = list(zip(*rows, strict=True)) if rows else [()] * len(r.columns)
    return pa.table([pa.array(v) for v in values], names=list(r.columns))


# --- the SQLite reader's child process --------------------------------------------------------------

def _sqlite_in_child(requests: Sequence[Request]) -> list[pa.Table]:
    jobs = [[_sqlite_file(r.url), *_sql(r, "?")] for r in requests]
    proc = subprocess.Popen([sys.executable, "-m", "fupin.warehouse.arrow_reader"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    tables = []
    try:
        proc.stdin.write(json.dumps(jobs).encode())
        proc.stdin.close()
        for _ in jobs:  # one Arrow IPC stream after the other, each read to its end-of-stream marker
            tables.append(pa.ipc.open_stream(proc.stdout).read_all())
    except (pa.ArrowInvalid, OSError):
        pass  # the child failed: said below with its error
    finally:
        err = proc.stderr.read().decode(errors="replace")
        proc.wait()
    if proc.returncode != 0 or len(tables) != len(jobs):
        raise RuntimeError(f"reading {len(jobs)} table(s) of SQLite warehouses failed (reader exit {proc.returncode}): {err.strip()[-2000:]}")
    return tables
