"""Reading the warehouse column-wise, as Arrow (列式读取): what the reconciliation engine reads.

`read(conn, table, columns, where)` fetches one table's rows as an Arrow table without making a
Python object per value:
- PostgreSQL: ADBC's libpq driver (`COPY … TO STDOUT` in binary, straight into Arrow buffers),
  on a connection of its own to the same database (read-only, READ COMMITTED like the caller's);
- a SQLite file: ADBC's SQLite driver, in one batch so that a column's type is judged on all
  its rows (the driver guesses it from the first batch and fails on a later value of another
  type — a column empty in its first thousand rows, say);
- anything else (an in-memory SQLite, another dialect): through the caller's connection, row
  by row.
The filter is always `column = value` pairs, bound as parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
from sqlalchemy import Connection, Table, select

_ONE_BATCH = str(2**30)  # rows: more than any snapshot, so the SQLite driver types each column on all of it


def read(conn: Connection, table: Table, columns: Sequence[str], where: Mapping[str, object]) -> pa.Table:
    url = conn.engine.url
    backend = url.get_backend_name()
    if backend == "postgresql":
        return _adbc_postgresql(conn, table, columns, where)
    if backend == "sqlite" and url.database not in (None, "", ":memory:") and not url.database.startswith("file:"):
        return _adbc_sqlite(Path(url.database), table, columns, where)
    return _rows(conn, table, columns, where)


def _query(table: Table, columns: Sequence[str], where: Mapping[str, object], placeholder: str) -> tuple[str, list]:
    for c in [*columns, *where]:
        table.c[c]  # noqa: B018 -- KeyError for a column the table does not have: nothing unchecked reaches the SQL
    cols = ", ".join(f'"{c}"' for c in columns)
    cond = " and ".join(f'"{c}" = {placeholder.format(i + 1)}' for i, c in enumerate(where))
    return f'select {cols} from "{table.name}"' + (f" where {cond}" if cond else ""), list(where.values())


def _adbc_postgresql(conn: Connection, table: Table, columns: Sequence[str], where: Mapping[str, object]) -> pa.Table:
    import adbc_driver_postgresql.dbapi as pg

    uri = conn.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    sql, params = _query(table, columns, where, "${}")
    with pg.connect(uri) as aconn, aconn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetch_arrow_table()


def _adbc_sqlite(path: Path, table: Table, columns: Sequence[str], where: Mapping[str, object]) -> pa.Table:
    import adbc_driver_sqlite.dbapi as sqlite

    sql, params = _query(table, columns, where, "?")
    with sqlite.connect(f"file:{path}?mode=ro", autocommit=True) as aconn, aconn.cursor() as cur:
        cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": _ONE_BATCH})
        cur.execute(sql, params)
        return cur.fetch_arrow_table()


def _rows(conn: Connection, table: Table, columns: Sequence[str], where: Mapping[str, object]) -> pa.Table:
    q = select(*[table.c[c] for c in columns]).where(*[table.c[c] == v for c, v in where.items()])
    rows = conn.execute(q).fetchall()
    return pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)})
