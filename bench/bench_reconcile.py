"""Reconciliation at province scale, end to end from the warehouse, against its floor in the same run.

    .venv/bin/python bench/bench_reconcile.py [--scale 200] [--runs 3] [--month 2018-06] [--no-sqlite]

Step 1 (cached in bench/out/): generate the county at `--scale` (200 ≈ 2.07 M registry persons,
1.49 M dibao persons) and pickle the month's two snapshots as frames.
Step 2 (cached: a PostgreSQL database `fupin_bench_s<scale>` and `bench/out/warehouse_s<scale>.sqlite`):
load the two snapshots into a fresh, migrated warehouse.
Step 3, interleaved, each measurement in a fresh process (its peak RSS read from its own VmHWM):
- floor: the bare Arrow read of the columns the rules use (`queries.snapshots_arrow`, ADBC) plus a
  DuckDB full outer join of the two on the ID, materialised;
- end to end: `reconcile_month` — choose the snapshots, read them, R1–R6 and the rates, the
  verification states, store the findings, rates and run;
- the rules alone on the frames in memory (pandas frames → Arrow → DuckDB), for comparison with
  the pandas rules' 21.95 s measured before the engine (issue 15).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG = os.environ.get("FUPIN_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")


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


def warehouses(scale: int, month: str, path: Path, sqlite: bool) -> dict[str, str]:
    """The warehouses holding the month's two snapshots, loaded once and kept."""
    urls = {"postgresql": f"{PG}/fupin_bench_s{scale}"}
    if sqlite:
        urls["sqlite"] = f"sqlite:///{OUT / f'warehouse_s{scale}.sqlite'}"
    return loaded_once(urls, lambda name: OUT / f"loaded_{name}_s{scale}_{month}",
                       lambda name, url: _load(url, month, path, fresh_pg=name == "postgresql"))


def loaded_once(urls: dict[str, str], marker: Callable[[str], Path], load: Callable[[str, str], None]) -> dict[str, str]:
    """Of `urls` (name → warehouse), those loaded — now by `load(name, url)`, or by an earlier run
    (its `marker(name)` file). A bench without PostgreSQL still reports SQLite."""
    ready = {}
    for name, url in urls.items():
        if not marker(name).exists():
            try:
                load(name, url)
            except Exception as exc:
                print(f"{name}: skipped ({type(exc).__name__}: {exc})")
                continue
            marker(name).touch()
        ready[name] = url
    return ready


def _load(url: str, month: str, path: Path, fresh_pg: bool) -> None:
    import datetime as dt

    from fupin.warehouse import db, load

    if fresh_pg:
        _fresh_pg(url)
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    db.upgrade(url)
    with open(path, "rb") as fh:
        frames = pickle.load(fh)
    rec = load.FileRecord("0" * 64, "bench", "x", "bench", month, "csv", 0, "-", dt.datetime.now())
    t = time.perf_counter()
    with db.engine(url).begin() as conn:
        for dataset in ("registry", "dibao"):
            f = frames[dataset].assign(sheet="bench", row_no=range(len(frames[dataset])))
            load.replace_month(conn, dataset, "bench", month, f, rec)
    print(f"loaded both snapshots into {url.split('://')[0]} in {time.perf_counter() - t:.0f}s")


def _fresh_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}"'))
        conn.execute(text(f'create database "{name}"'))
    admin.dispose()


# --- the measurements, each run in a fresh process ------------------------------------------------

def floor(url: str, month: str) -> dict:
    import adbc_driver_postgresql.dbapi  # noqa: F401
    import duckdb

    from fupin import queries
    from fupin.reconcile.rules import RULE_COLUMNS
    from fupin.warehouse import db

    t = time.perf_counter()
    eng = db.engine(url)
    with eng.connect() as conn:  # the same read as reconcile_month's: both snapshots in one call
        reg, dib = queries.snapshots_arrow([(eng.url, "registry", month, RULE_COLUMNS["registry"]),
                                            (eng.url, "dibao", month, RULE_COLUMNS["dibao"])], conn)
    read = time.perf_counter() - t
    con = duckdb.connect()
    con.register("reg", reg)
    con.register("dib", dib)
    con.execute("create table j as select * from reg full outer join dib using (id_number)")
    rows = con.execute("select count(*) from j").fetchone()[0]
    return {"seconds": time.perf_counter() - t, "read": read, "rows": rows}


def end_to_end(url: str, month: str) -> dict:
    from pypinyin import lazy_pinyin

    from fupin.county import County
    from fupin.reconcile.run import reconcile_month

    lazy_pinyin("李")  # imports (duckdb, pyarrow, ADBC, pypinyin's tables) are a worker's, once: not timed, as in floor()
    import adbc_driver_postgresql.dbapi  # noqa: F401

    t = time.perf_counter()
    with County(warehouse_url=url).active():
        summary = reconcile_month(month, at_deadline=True)
    return {"seconds": time.perf_counter() - t, "counts": summary.counts}


def in_memory(path: str, month: str) -> dict:
    from fupin.config import settings
    from fupin.reconcile.rules import reconcile

    with open(path, "rb") as fh:
        frames = pickle.load(fh)
    cfg = settings()["reconciliation"]
    t = time.perf_counter()
    result = reconcile(frames["registry"], frames["dibao"], poverty_standard=cfg["poverty_standard"],
                       exit_threshold=cfg["exit_threshold"][int(month[:4])])
    return {"seconds": time.perf_counter() - t, "counts": result.counts}


MEASURES = {"floor": floor, "end_to_end": end_to_end, "in_memory": in_memory}


def own_peak_mb() -> float:
    """This process's own peak resident size (VmHWM: its memory map's, new at exec). Not
    getrusage's ru_maxrss: Linux carries that over from the parent across fork and exec, so every
    measuring child reported at least the bench parent's peak."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_fresh(kind: str, target: str, month: str, script: str = __file__) -> dict:
    """`script --one kind target --month month` in a fresh interpreter: its JSON line."""
    out = subprocess.run([sys.executable, script, "--one", kind, target, "--month", month], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def interleaved(runs: int, urls: dict[str, str], kinds: tuple[str, ...], month: str, script: str = __file__) -> dict[str, list[dict]]:
    """Each of `kinds` on each warehouse, `runs` times over, interleaved: '<warehouse> <kind>' → runs."""
    results: dict[str, list[dict]] = {}
    for _ in range(runs):
        for name, url in urls.items():
            for kind in kinds:
                results.setdefault(f"{name} {kind}", []).append(run_fresh(kind, url, month, script))
    return results


def arguments() -> argparse.Namespace:
    """The province-scale benches' command line (`--one KIND TARGET`: one measurement, in this process)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--month", default="2018-06")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    return ap.parse_args()


def measure_one(args: argparse.Namespace, measures: dict[str, Callable[[str, str], dict]]) -> None:
    """`--one KIND TARGET`: the measurement and this process's own peak RSS, as one JSON line."""
    kind, target = args.one
    got = measures[kind](target, args.month)
    got["peak_rss_mb"] = own_peak_mb()
    got["children_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the SQLite reader process
    print(json.dumps(got, ensure_ascii=False))


def report(args: argparse.Namespace, results: dict[str, list[dict]], urls: dict[str, str], target: str = "target <= 1.5x") -> None:
    """Each measurement's median, runs and peak RSS, and each warehouse's end to end / floor."""
    print(f"scale {args.scale}, month {args.month}, {args.runs} interleaved runs, each in a fresh process")
    medians = {}
    for label, runs in results.items():
        secs = [r["seconds"] for r in runs]
        medians[label] = statistics.median(secs)
        extra = (f" (read {statistics.median(r['read'] for r in runs):.2f}s, "
                 + "".join(f"{runs[0][k]:,} {k}, " for k in ("payments", "employment") if k in runs[0])
                 + f"{runs[0]['rows']:,} joined rows)") if "read" in runs[0] else ""
        peak = statistics.median(r["peak_rss_mb"] for r in runs)
        child = max(r.get("children_peak_mb", 0) for r in runs)
        reader = f" (+ reader process {child:,.0f} MB)" if child > 50 else ""
        print(f"{label:28s} median {medians[label]:6.2f}s {[round(s, 2) for s in secs]} peak RSS {peak:,.0f} MB{reader}{extra}")
    for name in urls:
        e2e, fl = medians[f"{name} end_to_end"], medians[f"{name} floor"]
        print(f"{name}: end to end / floor = {e2e / fl:.2f}x ({target})")
    first = f"{next(iter(urls))} end_to_end" if urls else next(iter(results))
    print("findings:", results[first][0]["counts"])


def main() -> None:
    args = arguments()
    if args.one:
        measure_one(args, MEASURES)
        return
    path = make_frames(args.scale, args.month)
    urls = warehouses(args.scale, args.month, path, not args.no_sqlite)
    results = interleaved(args.runs, urls, ("floor", "end_to_end"), args.month)
    results["rules in memory"] = [run_fresh("in_memory", str(path), args.month) for _ in range(args.runs)]
    report(args, results, urls, "target <= 1.5x; end to end target <= 12 s")


if __name__ == "__main__":
    main()
