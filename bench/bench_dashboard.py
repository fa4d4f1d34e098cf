"""Every dashboard endpoint's response time, on the demo county and at `--scale 20`.

    .venv/bin/python bench/bench_dashboard.py [--scales 1 20] [--months 6] [--runs 5]

For each scale: a SQLite warehouse with the demo county's registries of 2017-01..`--months`
(reconciled month by month), every dataset at 2017-06 (assessed as 2017H1) and a year's
submission ledger, built straight from the generator (cached in bench/out/). Then the app
(`fupin.dashboard.app`, the same FastAPI app the plugin mounts) is served by uvicorn in this
process's thread, with a login stub (Airflow's JWT check is a few ms and not what is measured),
and each endpoint is asked `--runs` times over real HTTP after one warm-up: the median and the
maximum are printed. Targets: < 300 ms on the demo county, < 2 s at scale 20.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE.parent))


def build(scale: int, n_months: int) -> str:
    """The warehouse file for `scale` (built once, then reused)."""
    from fupin.assess.run import assess_period
    from fupin.calendar import month_end, months
    from fupin.config import contracts
    from fupin.demo.population import build_population
    from fupin.reconcile.run import reconcile_month
    from fupin.warehouse import db
    from tests.helpers import fill_demo_warehouse

    path = OUT / f"dashboard_x{scale}_{n_months}m.sqlite"
    url = f"sqlite:///{path}"
    done = path.with_suffix(".built")  # the file is complete (a WAL database cannot be renamed into place)
    if done.exists():
        return url
    OUT.mkdir(exist_ok=True)
    for leftover in OUT.glob(path.name + "*"):
        leftover.unlink()
    db.upgrade(url)
    ms = months("2017-01", f"2017-{n_months:02d}")
    wanted = {(d, "2017-06") for d in contracts().datasets} | {(d, m) for m in ms for d in ("registry", "dibao")}
    t = time.perf_counter()
    fill_demo_warehouse(url, build_population(2016, scale=scale), wanted, months("2017-01", "2017-12"))
    for m in ms:
        reconcile_month(m, url=url)
    assess_period("2017H1", month_end("2017-06"), url=url)
    done.touch()
    print(f"built scale {scale} in {time.perf_counter() - t:.0f} s", flush=True)
    return url


class _User:
    def __init__(self, name: str, role: str) -> None:
        self.name, self.role = name, role

    def get_name(self) -> str:
        return self.name


def serve(url: str, port: int):  # noqa: ANN201 - a uvicorn Server
    import uvicorn

    from fupin.dashboard.app import create_app

    os.environ["FUPIN_WAREHOUSE_URL"] = url

    async def admin(_request):  # noqa: ANN001, ANN202
        return _User("admin", "admin")

    server = uvicorn.Server(uvicorn.Config(create_app(admin, lambda n: n), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server


def timed(base: str, path: str, runs: int) -> tuple[float, float]:
    with urllib.request.urlopen(base + path, timeout=60) as r:  # warm-up
        r.read()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=60) as r:
            r.read()
        times.append(time.perf_counter() - t)
    return statistics.median(times), max(times)


def main() -> int:
    from fupin import queries
    from fupin.ops.cluster import free_port
    from fupin.warehouse.db import engine

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 20])
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    for scale in args.scales:
        url = build(scale, args.months)
        with engine(url).connect() as conn:
            month = queries.reconciled_months(conn)[-1]
            found = queries.all_findings(conn, month)
            hid = next(f["household_id"] for f in found if f["household_id"])
            persons = queries.snapshot(conn, "registry", month, ["id_number"])
        port = free_port()
        server = serve(url, port)
        base = f"http://127.0.0.1:{port}"
        print(f"scale {scale}: {len(persons):,} registry persons in {month}, {len(found)} findings", flush=True)
        for path in ("/api/submissions?year=2017", f"/api/findings?month={month}", "/api/verify", "/api/scorecard?period=2017H1",
                     f"/api/households/{hid}", f"/api/households?q={hid}", "/api/households?q=440224*0000",
                     "/", "/findings"):
            med, mx = timed(base, path, args.runs)
            print(f"  {path:<40} median {med * 1000:7.1f} ms  max {mx * 1000:7.1f} ms", flush=True)
        server.should_exit = True
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
