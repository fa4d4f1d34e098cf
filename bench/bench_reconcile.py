"""Reconciliation at province scale against a bare outer merge, in the same run.

    .venv/bin/python bench/bench_reconcile.py [--scale 200] [--runs 3] [--month 2018-06] [--no-db]

Step 1 (cached in bench/out/): generate the county at `--scale` (200 ≈ 2.07 M registry persons,
1.49 M dibao persons) and pickle the month's two snapshots as frames.
Step 2 (a fresh process, so its peak RSS is the reconciliation's own): load the frames, then
time, interleaved: `pandas.merge(how="outer")` on the ID (the baseline), the full
reconciliation (R1–R6 and the rates), and a DuckDB full outer join of the same frames (the
practical floor). Step 3 (another fresh process): the reconciliation alone, for its own peak memory (the
baselines above build wide frames of their own). Step 4: the time to load the snapshots from
SQLite and from PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def frames_path(scale: int, month: str) -> Path:
    return OUT / f"snapshots_s{scale}_{month}.pkl"


def make_frames(scale: int, month: str) -> Path:
    import pandas as pd

    from fupin.config import contracts
    from fupin.demo import render
    from fupin.demo.population import build_population

    path = frames_path(scale, month)
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    t = time.perf_counter()
    population = build_population(2016, scale)
    out = {}
    for dataset in ("registry", "dibao"):
        keys = [c.key for c in contracts().datasets[dataset].columns]
        cols: dict[str, list] = {k: [] for k in keys}
        for row in render.iter_rows(population, dataset, month):
            for k in keys:
                cols[k].append(row.get(k))
        out[dataset] = pd.DataFrame(cols)
    with open(path, "wb") as fh:
        pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"generated scale {scale}: registry {len(out['registry']):,} rows, dibao {len(out['dibao']):,} rows in {time.perf_counter() - t:.0f}s")
    return path


def measure_alone(path: Path, month: str) -> None:
    """The reconciliation by itself in a fresh process: its own peak RSS over the loaded frames."""
    from fupin.config import settings
    from fupin.reconcile.rules import reconcile

    with open(path, "rb") as fh:
        frames = pickle.load(fh)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cfg = settings()["reconciliation"]
    t = time.perf_counter()
    reconcile(frames["registry"], frames["dibao"], poverty_standard=cfg["poverty_standard"],
              exit_threshold=cfg["exit_threshold"][int(month[:4])])
    elapsed = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"reconciliation alone: {elapsed:.2f}s, peak RSS {peak:.0f} MB (frames loaded: {loaded:.0f} MB; "
          f"the reconciliation added {peak - loaded:.0f} MB; target < 6144 MB)")


def measure(path: Path, month: str, runs: int) -> None:
    import duckdb
    import pandas as pd

    from fupin.config import settings
    from fupin.reconcile.rules import reconcile

    with open(path, "rb") as fh:
        frames = pickle.load(fh)
    reg, dib = frames["registry"], frames["dibao"]
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cfg = settings()["reconciliation"]
    merge_t, rec_t, duck_t = [], [], []
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        pd.merge(reg, dib, on="id_number", how="outer")
        merge_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = reconcile(reg, dib, poverty_standard=cfg["poverty_standard"], exit_threshold=cfg["exit_threshold"][int(month[:4])])
        rec_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        con = duckdb.connect()
        con.register("reg", reg)
        con.register("dib", dib)
        con.sql("select * from reg full outer join dib using (id_number)").df()
        con.close()
        duck_t.append(time.perf_counter() - t)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m, r, d = (statistics.median(x) for x in (merge_t, rec_t, duck_t))
    print(f"registry {len(reg):,} persons, dibao {len(dib):,} persons, month {month}, runs {runs}")
    print(f"baseline pandas.merge(how='outer') on id_number: median {m:.2f}s {[round(x, 2) for x in merge_t]}")
    print(f"full reconciliation R1-R6 + rates:             median {r:.2f}s {[round(x, 2) for x in rec_t]}")
    print(f"DuckDB full outer join (.df()):                 median {d:.2f}s {[round(x, 2) for x in duck_t]}")
    print(f"ratio reconciliation / pandas merge: {r / m:.2f}x (target <= 5x); / DuckDB join: {r / d:.2f}x")
    print(f"peak RSS {peak:.0f} MB (after loading the frames: {base_rss:.0f} MB; target < 6144 MB)")
    print(f"findings: {result.counts}")


def db_load_times(path: Path, month: str) -> None:
    """Time `load_snapshot` for both registries from SQLite and from PostgreSQL."""
    import datetime as dt
    import tempfile

    from fupin.reconcile.run import load_snapshot
    from fupin.warehouse import db, load

    with open(path, "rb") as fh:
        frames = pickle.load(fh)
    urls = {"sqlite": None, "postgresql": os.environ.get("FUPIN_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/fupin_bench")}
    with tempfile.TemporaryDirectory() as tmp:
        urls["sqlite"] = f"sqlite:///{tmp}/bench.sqlite"
        for name, url in urls.items():
            try:
                if name == "postgresql":
                    _fresh_pg(url)
                db.upgrade(url)
            except Exception as exc:  # noqa: BLE001
                print(f"{name}: skipped ({type(exc).__name__}: {exc})")
                continue
            rec = load.FileRecord("0" * 64, "bench", "x", "bench", month, "csv", 0, "-", dt.datetime.now())
            t = time.perf_counter()
            with db.engine(url).begin() as conn:
                for dataset in ("registry", "dibao"):
                    f = frames[dataset].assign(sheet="bench", row_no=range(len(frames[dataset])))
                    load.replace_month(conn, dataset, "bench", month, f, rec)
            write = time.perf_counter() - t
            times = []
            for _ in range(3):
                t = time.perf_counter()
                with db.engine(url).connect() as conn:
                    load_snapshot(conn, "registry", month)
                    load_snapshot(conn, "dibao", month)
                times.append(time.perf_counter() - t)
            print(f"{name}: load both snapshots median {statistics.median(times):.2f}s {[round(x, 2) for x in times]} (writing them took {write:.0f}s)")


def _fresh_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}"'))
        conn.execute(text(f'create database "{name}"'))
    admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--month", default="2018-06")
    ap.add_argument("--no-db", action="store_true")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--alone", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(Path(args.measure), args.month, args.runs)
        return
    if args.alone:
        measure_alone(Path(args.alone), args.month)
        return
    path = make_frames(args.scale, args.month)
    subprocess.run([sys.executable, __file__, "--measure", str(path), "--month", args.month, "--runs", str(args.runs)], check=True)
    subprocess.run([sys.executable, __file__, "--alone", str(path), "--month", args.month], check=True)
    if not args.no_db:
        db_load_times(path, args.month)


if __name__ == "__main__":
    main()
