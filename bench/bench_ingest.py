"""Ingest speed against a bare calamine read, on a generated 200,000-row registry workbook.

    make bench            # or: .venv/bin/python bench/bench_ingest.py [--rows N] [--runs K]

Measures, in one process and interleaved so machine noise hits both alike:
- baseline: `pandas.read_excel(path, engine="calamine")`
- ingest:   the whole pipeline (read, normalise, validate with GX, load into a fresh SQLite)
and reports medians and their ratio, the process's peak RSS, the time of each phase of one
ingest, and how long the DAG files take to parse.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def make_workbook(rows: int) -> Path:
    from fupin.config import contracts
    from fupin.demo import samples, writers

    path = OUT / f"扶贫办_registry_{rows}_2017年6月.xlsx"
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    people = samples.make_population(households=rows // 3 + 1, seed=1)[:rows]
    data = samples.sample_rows("registry", people)
    # the last household may be cut: keep its head so the file stays valid
    spec = writers.dataset_sheet(contracts().datasets["registry"], data, title="仁化县建档立卡贫困人口", unit_line="填报单位：县扶贫办", footer=True)
    t = time.perf_counter()
    writers.write_xlsx(path, [spec])
    print(f"generated {path.name}: {len(data)} rows, {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f}s")
    return path


def time_baseline(path: Path) -> float:
    import pandas as pd

    t = time.perf_counter()
    pd.read_excel(path, engine="calamine")
    return time.perf_counter() - t


def time_ingest(path: Path) -> tuple[float, dict[str, float]]:
    from fupin.ingest.pipeline import ingest_files
    from fupin.warehouse import db

    with tempfile.TemporaryDirectory() as root:
        os.environ["FUPIN_DATA_ROOT"] = root
        url = f"sqlite:///{root}/warehouse.sqlite"
        os.environ["FUPIN_WAREHOUSE_URL"] = url
        db.upgrade(url)
        t = time.perf_counter()
        (r,) = ingest_files("poverty_office", [path])  # the environment names the data root and warehouse
        elapsed = time.perf_counter() - t
    assert r.status == "accepted", r.text()[:2000]
    return elapsed, {}


def phases(path: Path) -> dict[str, float]:
    """One ingest, split by phase, to see where the time goes."""
    import datetime as dt

    from fupin.config import contracts
    from fupin.ingest.normalize import normalize_table
    from fupin.ingest.reader import _read, read_workbook
    from fupin.ingest.sheets import build_table, match_sheet
    from fupin.validate.gx import run_suite
    from fupin.validate.rules import run_rules

    out: dict[str, float] = {}
    t = time.perf_counter()
    _read(path, "xlsx")
    out["read in this process (calamine, all rows)"] = time.perf_counter() - t
    t = time.perf_counter()
    sheets = read_workbook(path).sheets
    out["read in the bounded child (what ingest does)"] = time.perf_counter() - t
    t = time.perf_counter()
    table = build_table(sheets[0], match_sheet(sheets[0]))
    out["find header, cut rows"] = time.perf_counter() - t
    t = time.perf_counter()
    frame, _ = normalize_table(table)
    out["normalise"] = time.perf_counter() - t
    ds = contracts().datasets["registry"]
    t = time.perf_counter()
    run_suite(ds, frame, dt.date(2017, 6, 30), {})
    out["GX suite"] = time.perf_counter() - t
    t = time.perf_counter()
    run_rules(ds, frame, {})
    out["cross-row rules"] = time.perf_counter() - t
    return out


def dag_parse_seconds() -> float:
    """Parse the dags folder in a fresh interpreter; DagBag's own per-file timings, summed."""
    code = (
        "from airflow.dag_processing.dagbag import DagBag;"
        f"b=DagBag(dag_folder={str(HERE.parent / 'dags')!r});"
        "assert not b.import_errors, b.import_errors;"
        "print(sum(s.duration.total_seconds() if hasattr(s.duration,'total_seconds') else s.duration for s in b.dagbag_stats))"
    )
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    path = make_workbook(args.rows)
    time_ingest(path)  # warm-up: imports (GX ~5 s), GX context, suites
    base, full = [], []
    for _ in range(args.runs):
        base.append(time_baseline(path))
        full.append(time_ingest(path)[0])
    b, f = statistics.median(base), statistics.median(full)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"rows: {args.rows}, runs: {args.runs}")
    print(f"baseline pandas.read_excel(engine='calamine'): median {b:.2f}s  {[round(x, 2) for x in base]}")
    print(f"full ingest (read, normalise, GX, SQLite load): median {f:.2f}s  {[round(x, 2) for x in full]}")
    print(f"ratio ingest / baseline: {f / b:.2f}x (target <= 2x)")
    print(f"peak RSS of this process: {peak:.0f} MB (target < 1536 MB)")
    for name, secs in phases(path).items():
        print(f"  phase {name}: {secs:.2f}s")
    parses = [dag_parse_seconds() for _ in range(3)]
    print(f"DAG files parse time (DagBag, all files): median {statistics.median(parses) * 1000:.0f} ms {[round(p * 1000) for p in parses]}")


if __name__ == "__main__":
    main()
