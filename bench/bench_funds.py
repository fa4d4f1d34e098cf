"""The fund checks (F1–F6) at province scale, end to end from the warehouse, against their floor in the same run.

    .venv/bin/python bench/bench_funds.py [--scale 200] [--runs 3] [--month 2018-06] [--no-sqlite]

Step 1 (cached in bench/out/): generate the county at `--scale` (200: 2.07 M registry persons, a
到户 payment to every labour-capable household each year) and pickle, as frames, 县财政局's
payments of every month up to `--month`, 县扶贫办's project library and the registry of the month,
and 县人社局's records of the rewarded labourers (F4 reads no one else's: the read layer semi-joins
them; the others' rows would cost the index lookup, not the check).
Step 2 (cached: a PostgreSQL database `fupin_bench_funds_s<scale>` and
`bench/out/funds_s<scale>.sqlite`): load them into a fresh, migrated warehouse.
Step 3, interleaved, each measurement in a fresh process (its own peak RSS, VmHWM):
- floor: the bare Arrow read of every column the checks use — the payments, the registry, the
  project library and the rewarded labourers' employment (`queries.snapshots_arrow`) — plus a
  DuckDB left join of the payments to the registry on the household, materialised;
- end to end: `check_month` — choose the data, read them, F1–F6, the verification states,
  persistence, store the findings and the run.
"""

from __future__ import annotations

import copy
import os
import pickle
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG = os.environ.get("FUPIN_BENCH_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432")
DATASETS = ("fund_payments", "projects", "project_households", "registry", "employment")


def frames_path(scale: int, month: str) -> Path:
    return OUT / f"funds_s{scale}_{month}.pkl"


def make_frames(scale: int, month: str) -> Path:
    """{(dataset, month): frame} for every month the check reads."""
    import pandas as pd

    from fupin.calendar import months
    from fupin.config import contracts
    from fupin.demo import render
    from fupin.demo.population import build_population
    from fupin.ingest.normalize import parser_for, typed

    path = frames_path(scale, month)
    if path.exists():
        return path
    OUT.mkdir(exist_ok=True)
    t = time.perf_counter()
    population = build_population(2016, scale)
    money = render.funds_of(population)
    print(f"scale {scale}: {len(money.payments):,} payments, {len(money.projects)} projects in {time.perf_counter() - t:.0f}s")

    def frame(dataset: str, rows) -> pd.DataFrame:
        """The rows typed as ingest types them (是/否 as booleans, dates as dates)."""
        columns = contracts().datasets[dataset].columns
        parse = {c.key: parser_for(c) for c in columns}
        seen: dict[str, dict] = {c.key: {} for c in columns}  # each distinct value parsed once, as ingest does
        cols: dict[str, list] = {c.key: [] for c in columns}
        for row in rows:
            for k, f in parse.items():
                v = row.get(k)
                if v is None:
                    cols[k].append(None)
                    continue
                memo = seen[k]
                if v not in memo:
                    memo[v] = f(v)[0]
                cols[k].append(memo[v])
        return typed(pd.DataFrame(cols), columns)

    out = {("fund_payments", m): frame("fund_payments", render.rows(population, "fund_payments", m)) for m in months("2016-01", month)}
    for dataset in ("projects", "project_households", "registry"):
        out[(dataset, month)] = frame(dataset, render.iter_rows(population, dataset, month))
    rewarded = {p.worker_id for p in money.payments if p.worker_id}
    few = copy.copy(population)  # the rewarded labourers' households: a household's month renders from itself alone
    few.households = [h for h in population.households if any(m.id_number in rewarded for m in h.members)]
    for m in months("2016-01", month):
        out[("employment", m)] = frame("employment", (r for r in render.iter_rows(few, "employment", m) if r["id_number"] in rewarded))
    with open(path, "wb") as fh:
        pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"generated in {time.perf_counter() - t:.0f}s: " + ", ".join(
        f"{d} {sum(len(f) for (x, _), f in out.items() if x == d):,}" for d in DATASETS))
    return path


def warehouses(scale: int, month: str, path: Path, sqlite: bool) -> dict[str, str]:
    """The warehouses holding the frames, loaded once and kept."""
    from bench_reconcile import loaded_once

    urls = {"postgresql": f"{PG}/fupin_bench_funds_s{scale}"}
    if sqlite:
        urls["sqlite"] = f"sqlite:///{OUT / f'funds_s{scale}.sqlite'}"
    return loaded_once(urls, lambda name: OUT / f"loaded_funds_{name}_s{scale}_{month}",
                       lambda name, url: _load(url, path, fresh_pg=name == "postgresql"))


def _load(url: str, path: Path, fresh_pg: bool) -> None:
    import datetime as dt

    from fupin.warehouse import db, load

    if fresh_pg:
        from bench_reconcile import _fresh_pg

        _fresh_pg(url)
    else:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    db.upgrade(url)
    with open(path, "rb") as fh:
        frames = pickle.load(fh)
    t = time.perf_counter()
    with db.engine(url).begin() as conn:
        for (dataset, month), f in sorted(frames.items()):
            rec = load.FileRecord(f"{dataset}{month}".ljust(64, "0")[:64], "bench", "x", "bench", month, "csv", 0, "-", dt.datetime.now())
            load.replace_month(conn, dataset, "bench", month, f.assign(sheet="bench", row_no=range(len(f))), rec)
    print(f"loaded {len(frames)} snapshots into {url.split('://')[0]} in {time.perf_counter() - t:.0f}s")


# --- the measurements, each run in a fresh process ------------------------------------------------

def floor(url: str, month: str) -> dict:
    import adbc_driver_postgresql.dbapi  # noqa: F401
    import duckdb

    from fupin import queries
    from fupin.funds.rules import FUND_COLUMNS
    from fupin.warehouse import db

    t = time.perf_counter()
    eng = db.engine(url)
    with eng.connect() as conn:
        loaded = queries.loaded_times(conn, ["fund_payments", "employment"])
        paid = [(eng.url, "fund_payments", m, FUND_COLUMNS["fund_payments"]) for m in sorted(loaded) if m <= month and "fund_payments" in loaded[m]]
        worked = [(eng.url, "employment", m, FUND_COLUMNS["employment"]) for m in sorted(loaded) if m <= month and "employment" in loaded[m]]
        tables = queries.snapshots_arrow([*paid, *worked, (eng.url, "registry", month, FUND_COLUMNS["registry"]),
                                          (eng.url, "projects", month, FUND_COLUMNS["projects"])], conn)
    pay = queries.stack(tables[:len(paid)], FUND_COLUMNS["fund_payments"])  # as check_month stacks the months
    emp = queries.stack(tables[len(paid):len(paid) + len(worked)], FUND_COLUMNS["employment"])
    reg = tables[-2]
    read = time.perf_counter() - t
    con = duckdb.connect()
    con.register("pay", pay)
    con.register("reg", reg)
    con.execute("create table j as select * from pay left join reg using (household_id)")
    rows = con.execute("select count(*) from j").fetchone()[0]
    return {"seconds": time.perf_counter() - t, "read": read, "rows": rows, "payments": pay.num_rows, "employment": emp.num_rows}


def end_to_end(url: str, month: str) -> dict:
    import adbc_driver_postgresql.dbapi  # noqa: F401 - imports are a worker's, once: not timed, as in floor()
    import duckdb  # noqa: F401

    from fupin.county import County
    from fupin.funds.run import check_month

    t = time.perf_counter()
    with County(warehouse_url=url).active():
        summary = check_month(month, at_deadline=True)
    return {"seconds": time.perf_counter() - t, "counts": summary.counts}


MEASURES = {"floor": floor, "end_to_end": end_to_end}


def main() -> None:
    from bench_reconcile import arguments, interleaved, measure_one, report

    args = arguments()
    if args.one:
        measure_one(args, MEASURES)
        return
    path = make_frames(args.scale, args.month)
    urls = warehouses(args.scale, args.month, path, not args.no_sqlite)
    report(args, interleaved(args.runs, urls, ("floor", "end_to_end"), args.month, __file__), urls)


if __name__ == "__main__":
    main()
