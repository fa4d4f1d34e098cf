"""Every dashboard endpoint's response time, and every page's drawing time in Chromium, on the
demo county and at `--scale 20`.

    .venv/bin/python bench/bench_dashboard.py [--scales 1 20] [--months 6] [--runs 5] [--no-browser]

For each scale: a SQLite warehouse with the demo county's registries of 2017-01..`--months`
(reconciled month by month), every dataset at 2017-06 (assessed as 2017H1) and a year's
submission ledger, built straight from the generator (cached in bench/out/). Then the app
(`fupin.dashboard.app`, the same FastAPI app the plugin mounts) is served by uvicorn in this
process's thread, with a login stub (Airflow's JWT check is a few ms and not what is measured),
and each endpoint is asked `--runs` times over real HTTP after one warm-up: the median and the
maximum are printed. Then headless Chromium (Debian's, through Selenium) opens each page `--runs`
times: from the request to the page's data drawn (`#app` no longer says 正在读取). Targets (#22):
API p50 < 150 ms and each page drawn < 1 s at scale 20, beside the same on the demo county. The
search limit is lifted for the bench's one user (it asks far more than 30 a minute).
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
    from fupin.county import County
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
    with County(warehouse_url=url).active():
        for m in ms:
            reconcile_month(m)
        assess_period("2017H1", month_end("2017-06"))
    done.touch()
    print(f"built scale {scale} in {time.perf_counter() - t:.0f} s", flush=True)
    return url


class _User:
    def __init__(self, name: str, role: str) -> None:
        self.name, self.role = name, role

    def get_name(self) -> str:
        return self.name


def serve(url: str, port: int):  # a uvicorn Server
    import uvicorn

    from fupin.dashboard.app import create_app

    os.environ["FUPIN_WAREHOUSE_URL"] = url

    async def admin(_request):
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


def drawn(base: str, pages: list[str], runs: int) -> dict[str, tuple[float, float]]:
    """Each page's time from the request to its data drawn, in headless Chromium: (median, max)."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    done = "const a = document.getElementById('app'); return !!a && !a.textContent.includes('正在读取');"
    out = {}
    try:
        for page in pages:
            times = []
            for i in range(runs + 1):  # the first is a warm-up (the browser's cache of the script and style)
                t = time.perf_counter()
                d.get(base + page)
                WebDriverWait(d, 60, poll_frequency=0.01).until(lambda drv: drv.execute_script(done))
                if i:
                    times.append(time.perf_counter() - t)
            out[page] = (statistics.median(times), max(times))
    finally:
        d.quit()
    return out


def main() -> int:
    from fupin import queries
    from fupin.config import settings
    from fupin.ops.cluster import free_port
    from fupin.warehouse.db import engine

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 20])
    ap.add_argument("--months", type=int, default=6)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true", help="the API only")
    args = ap.parse_args()
    settings()["dashboard"]["search_limit"] = 10**9
    for scale in args.scales:
        url = build(scale, args.months)
        with engine(url).connect() as conn:
            month = queries.reconciled_months(conn)[-1]
            found = queries.all_findings(conn, month)
            hid = next(f["household_id"] for f in found if f["household_id"])
            persons = queries.snapshot(conn, "registry", month, ["id_number"])
        someone = persons["id_number"].iloc[len(persons) // 2]
        masked = someone[:6] + "*" * 8 + someone[-4:]
        port = free_port()
        server = serve(url, port)
        base = f"http://127.0.0.1:{port}"
        print(f"scale {scale}: {len(persons):,} registry persons in {month}, {len(found)} findings", flush=True)
        for path in ("/api/submissions?year=2017", f"/api/findings?month={month}", "/api/verify", "/api/scorecard?period=2017H1",
                     f"/api/households/{hid}", f"/api/households?q={hid}", f"/api/households?q={masked}"):
            med, mx = timed(base, path, args.runs)
            print(f"  {path:<40} median {med * 1000:7.1f} ms  max {mx * 1000:7.1f} ms", flush=True)
        if not args.no_browser:
            pages = ["/", f"/findings?month={month}", "/scorecard?period=2017H1", "/verify", f"/household?q={hid}"]
            for page, (med, mx) in drawn(base, pages, args.runs).items():
                print(f"  page {page:<35} drawn in median {med * 1000:7.1f} ms  max {mx * 1000:7.1f} ms", flush=True)
        server.should_exit = True
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
