"""The SQLite reader process of `fupin.warehouse.arrow` (`python -m fupin.warehouse.arrow_reader`).

Reads a JSON list of jobs (path, sql, params) from stdin and writes each result to stdout as an
Arrow IPC stream, in order, with ADBC's SQLite driver — in a process of its own, because the
driver carries its own copy of SQLite (see `fupin.warehouse.arrow`). Imports only what it uses:
it starts for every large read. So it speaks to the driver through ADBC's own statement API, not
its DB-API module: that one imports `pyarrow.dataset` and with it pandas, 1.3 s of the child's
1.7 s start (0.3 s without).
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

ONE_BATCH = str(2**30)  # rows: more than any snapshot, so the driver types each column on all of it
BUSY_MS = 30_000


def serve() -> None:
    """The child: read every job (path, sql, params) from stdin, write each table as an IPC stream."""
    from urllib.parse import quote

    import adbc_driver_manager as adbc
    import adbc_driver_sqlite

    def fetch(job: list) -> pa.Table:
        path, sql, params = job
        with adbc_driver_sqlite.connect(f"file:{quote(path)}?mode=ro") as db, adbc.AdbcConnection(db) as conn, \
                adbc.AdbcStatement(conn) as stmt:  # a new connection is in autocommit: no transaction is held
            # the first reader of a WAL file nobody has open rebuilds its index under a lock: the other
            # thread's reader waits for it, as SQLAlchemy's connections do, instead of failing at once
            stmt.set_sql_query(f"pragma busy_timeout = {BUSY_MS}")
            stmt.execute_update()
            stmt.set_options(**{"adbc.sqlite.query.batch_rows": ONE_BATCH})
            stmt.set_sql_query(sql)
            if params:  # one row of parameters, positional
                stmt.bind(pa.RecordBatch.from_arrays([_one(v) for v in params], names=[str(i) for i in range(len(params))]))
            handle, _ = stmt.execute_query()
            return pa.RecordBatchReader._import_from_c(handle.address).read_all()

    out = sys.stdout.buffer
    with ThreadPoolExecutor(2) as pool:  # the next table is read while this one is written
        for table in pool.map(fetch, json.loads(sys.stdin.buffer.read())):
            with pa.ipc.new_stream(out, table.schema) as writer:  # straight into the pipe, no copy
                writer.write_table(table)
    out.flush()


def _one(value: object) -> pa.Array:
    """A one-value Arrow array of a parameter, built from its buffers: pyarrow's conversion of
    Python values imports pandas (0.4 s, a third of the child's start) to ask whether it is one."""
    import struct

    if isinstance(value, str):
        data = value.encode()
        return pa.StringArray.from_buffers(1, pa.py_buffer(struct.pack("<ii", 0, len(data))), pa.py_buffer(data))
    if isinstance(value, int) and not isinstance(value, bool):
        return pa.Array.from_buffers(pa.int64(), 1, [None, pa.py_buffer(struct.pack("<q", value))])
    raise TypeError(f"a filter value must be text or a whole number, not {type(value).__name__}")


if __name__ == "__main__":
    try:
        serve()
    except Exception as exc:  # one line for the parent's error, not a traceback
        sys.stderr.write(f"{type(exc).__name__}: {exc}".replace("\n", " "))
        sys.exit(1)
