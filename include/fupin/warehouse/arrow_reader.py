"""The SQLite reader process of `fupin.warehouse.arrow` (`python -m fupin.warehouse.arrow_reader`).

Reads a JSON list of jobs (path, sql, params) from stdin and writes each result to stdout as an
Arrow IPC stream, in order, with ADBC's SQLite driver — in a process of its own, because the
driver carries its own copy of SQLite (see `fupin.warehouse.arrow`). Imports only what it uses:
it starts for every large read.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

ONE_BATCH = str(2**30)  # rows: more than any snapshot, so the driver types each column on all of it


def serve() -> None:
    """The child: read every job (path, sql, params) from stdin, write each table as an IPC stream."""
    from urllib.parse import quote

    import adbc_driver_sqlite.dbapi as sqlite

    def fetch(job: list) -> pa.Table:
        path, sql, params = job
        with sqlite.connect(f"file:{quote(path)}?mode=ro", autocommit=True) as aconn, aconn.cursor() as cur:
            cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": ONE_BATCH})
            cur.execute(sql, params)
            return cur.fetch_arrow_table()

    out = sys.stdout.buffer
    with ThreadPoolExecutor(2) as pool:  # the next table is read while this one is written
        for table in pool.map(fetch, json.loads(sys.stdin.buffer.read())):
            with pa.ipc.new_stream(out, table.schema) as writer:  # straight into the pipe, no copy
                writer.write_table(table)
    out.flush()


if __name__ == "__main__":
    try:
        serve()
    except Exception as exc:  # one line for the parent's error, not a traceback
        sys.stderr.write(f"{type(exc).__name__}: {exc}".replace("\n", " "))
        sys.exit(1)
