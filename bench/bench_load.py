"""Writing a month's registry into PostgreSQL: COPY (what `replace_month` does there) against
batched INSERTs (SQLAlchemy executemany, what it did before and still does on SQLite), in the
same run.

    .venv/bin/python bench/bench_load.py [--scale 20] [--runs 3]

The demo county at `--scale` (20 ≈ 207,560 registry rows) is cached in bench/out/ as in
bench_reconcile.py. Each run writes the month into an emptied table inside one transaction,
the two methods interleaved; prints the medians and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pickle
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_reconcile import _fresh_pg, make_frames


def main() -> int:
    from sqlalchemy import delete

    from fupin.warehouse import db, load
    from fupin.warehouse.schema import dataset_tables

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--month", default="2018-06")
    args = ap.parse_args()
    with open(make_frames(args.scale, args.month), "rb") as fh:
        frame = pickle.load(fh)["registry"]
    frame = frame.assign(sheet="bench", row_no=range(len(frame)))
    url = os.environ.get("FUPIN_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/fupin_bench")
    _fresh_pg(url)
    db.upgrade(url)
    table = dataset_tables["registry"]
    keys = [c.name for c in table.columns if c.name not in ("month", "sha256", "sheet", "row_no")]
    rec = load.FileRecord("0" * 64, "bench", "x", "bench", args.month, "csv", 0, "-", dt.datetime.now())

    def copy() -> None:
        with db.engine(url).begin() as conn:
            load.replace_month(conn, "registry", "bench", args.month, frame, rec)

    def inserts() -> None:
        with db.engine(url).begin() as conn:
            conn.execute(delete(table).where(table.c.month == args.month))
            load._insert_batches(conn, table, *load._rows(frame, args.month, rec.sha256, keys))

    times: dict[str, list[float]] = {"copy": [], "inserts": []}
    for r in range(args.runs):
        for name, fn in (("inserts", inserts), ("copy", copy)) if r % 2 == 0 else (("copy", copy), ("inserts", inserts)):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
            print(f"  run {r + 1}: {name:8s} {times[name][-1]:7.2f} s", flush=True)
    c, i = statistics.median(times["copy"]), statistics.median(times["inserts"])
    print(f"{len(frame):,} registry rows into PostgreSQL: INSERTs {i:.2f} s, COPY {c:.2f} s -> COPY {i / c:.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
