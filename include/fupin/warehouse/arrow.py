"""Reading the warehouse column-wise, as Arrow (列式读取): what the reconciliation engine reads.

`read(conn, table, columns, where)` fetches one table's rows as an Arrow table:
- PostgreSQL: ADBC's libpq driver (`COPY … TO STDOUT` in binary, straight into Arrow buffers,
  no Python object per value), on a connection of its own to the same database;
- SQLite (and anything else): the caller's own connection, its rows turned into Arrow columns.
  Not ADBC's SQLite driver: it carries a second copy of the SQLite library, and two copies in
  one process on one database file release each other's POSIX locks when either closes the
  file (sqlite.org/howtocorrupt.html §2.2.1) — under WAL, with SQLAlchemy's pooled connections
  open, that is a corrupted warehouse or a crash. A SQLite warehouse is a small county's.
The filter is always `column = value` pairs, bound as parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa
from sqlalchemy import Connection, Table


def read(conn: Connection, table: Table, columns: Sequence[str], where: Mapping[str, object]) -> pa.Table:
    if conn.engine.url.get_backend_name() == "postgresql":
        return _adbc_postgresql(conn, table, columns, where)
    return _rows(conn, table, columns, where)


def _query(table: Table, columns: Sequence[str], where: Mapping[str, object], placeholder: str) -> tuple[str, list]:
    for c in [*columns, *where]:
        table.c[c]  # noqa: B018 -- KeyError for a column the table does not have: nothing unchecked reaches the SQL
    cols = ", ".join(f'"{c}"' for c in columns)
    cond = " and ".join(f'"{c}" = {placeholder.format(i + 1)}' for i, c in enumerate(where))
    return f'select {cols} from "{table.name}"' + (f" where {cond}" if cond else ""), list(where.values())


def _adbc_postgresql(conn: Connection, table: Table, columns: Sequence[str], where: Mapping[str, object]) -> pa.Table:
    import adbc_driver_postgresql.dbapi as pg

    uri = conn.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)  # libpq's own URI
    sql, params = _query(table, columns, where, "${}")
    with pg.connect(uri) as aconn, aconn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetch_arrow_table()


def _rows(conn: Connection, table: Table, columns: Sequence[str], where: Mapping[str, object]) -> pa.Table:
    """Through the caller's DB-API cursor (plain tuples, not SQLAlchemy rows), a column at a time."""
    sql, params = _query(table, columns, where, "?" if conn.dialect.paramstyle == "qmark" else "%s")
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pa.table([pa.array(v) for v in values], names=list(columns))
