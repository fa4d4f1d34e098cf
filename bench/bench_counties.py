"""Scaling out: the same month for K counties on the distributed engine, with 1 and with 2
Celery worker processes, in the same run.

    .venv/bin/python bench/bench_counties.py [--counties 4] [--month 2017-06] [--rounds 3]

Needs this machine's PostgreSQL (Airflow metadata; one warehouse database per county) and Redis
(broker). The month's files of the demo county are generated once (bench/out/), then each
round, for each worker count (alternating, so drift on a shared machine hits both alike):
a fresh metadata database, K fresh county warehouses and inboxes, a LocalCluster with that many
worker processes (concurrency 1 each); every county's files are dropped at once, and the clock
runs until the SMTP sink holds every receipt and every county's reconciliation mail. Start-up
is not timed. Prints the medians and the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/12"


def month_files(month: str) -> Path:
    """The demo county's files of `month` as the bureaus send them (generated once)."""
    from fupin.demo.generate import generate

    root = OUT / f"county_{month}"
    folder = root / "drops" / month
    if not folder.exists():
        generate(root, seed=2016, scale=1, months=[month], workers=1)
    return folder


def one_run(files: Path, counties: int, workers: int, work: Path) -> float:
    import redis

    from fupin.county import County
    from fupin.ingest.inbox import ensure_folders
    from fupin.ops import mailsink
    from fupin.ops.cluster import LocalCluster, recreate_database
    from fupin.warehouse import db

    shutil.rmtree(work, ignore_errors=True)
    listed = []
    for i in range(counties):
        code = f"44{i + 1:04d}"
        root = work / code
        with County(data_root=str(root)).active():
            ensure_folders()
        url = recreate_database(PG_ADMIN, f"fupin_bench_{code}")
        db.upgrade(url)
        listed.append({"code": code, "name": code, "data_root": str(root), "warehouse_url": url})
    (work / "counties.yaml").write_text(yaml.safe_dump({"counties": listed}))
    redis.Redis.from_url(REDIS).flushdb()
    controller, _, smtp = mailsink.start(work / "mail")
    dropped = sorted(p for p in files.glob("*/*") if p.is_file())
    cluster = LocalCluster(home=work / "airflow", metadata_url=recreate_database(PG_ADMIN, "fupin_bench_airflow"),
                           broker_url=REDIS, workers=workers, worker_concurrency=1,
                           env={"FUPIN_COUNTIES": str(work / "counties.yaml"), "FUPIN_STABLE_SECONDS": "0",
                                "AIRFLOW_CONN_SMTP_DEFAULT": smtp})
    try:
        with cluster:
            _wait_for_dags(cluster, counties)
            staging = work / "staging"
            for county in listed:
                for src in dropped:
                    (staging / county["code"] / src.parent.name).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, staging / county["code"] / src.parent.name / src.name)
            # drop late in a minute and time from the next tick: bureau_ingest runs on the minute,
            # and the wait for it is the schedule's, not the workers'
            while not 45 <= time.time() % 60 < 55:
                time.sleep(0.5)
            for county in listed:
                for src in dropped:
                    (staging / county["code"] / src.parent.name / src.name).rename(Path(county["data_root"]) / "shares" / src.parent.name / "报送" / src.name)
            tick = time.time() + (60 - time.time() % 60)
            start = time.monotonic() + (tick - time.time())
            want_receipts, want_recon = counties * len(dropped), counties * 2
            while True:
                cluster.check_alive()
                mail = [p.name for p in (work / "mail").glob("*.eml")]
                if sum("_receipt_" in m for m in mail) >= want_receipts and sum("_reconciliation_" in m for m in mail) >= want_recon:
                    return time.monotonic() - start
                if time.monotonic() - start > 1800:
                    raise TimeoutError(f"not done after 30 min; logs in {cluster.home / 'component-logs'}")
                time.sleep(0.5)
    finally:
        controller.stop()


def _wait_for_dags(cluster, counties: int) -> None:
    """Until the dag-processor has parsed every county's DAGs (they are unpaused at creation) and
    the runs a first start makes (each DAG's latest scheduled run) are over: not timed."""
    from sqlalchemy import create_engine, text

    eng = create_engine(cluster.metadata_url)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        with eng.connect() as conn:
            n = conn.execute(text("select count(*) from dag where dag_id like 'bureau_ingest__%' or dag_id like 'registry_reconcile__%'")).scalar_one()
            busy = conn.execute(text("select count(*) from dag_run where state in ('queued', 'running') and dag_id not like 'bureau_ingest__%'")).scalar_one()
            started = conn.execute(text("select count(*) from dag_run where dag_id like 'registry_reconcile__%'")).scalar_one()
        if n >= 2 * counties and started >= counties and busy == 0:
            eng.dispose()
            return
        time.sleep(1)
    raise TimeoutError("the county DAGs were not parsed and settled in 600 s")


def main() -> int:
    # a TERM (a killed benchmark) unwinds through the `with cluster` blocks, which stop every component
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counties", type=int, default=4)
    ap.add_argument("--month", default="2017-06")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    files = month_files(args.month)
    n = len([p for p in files.glob("*/*") if p.is_file()])
    print(f"{args.counties} counties x {n} files of {args.month}; worker processes 1 vs 2 (concurrency 1 each)", flush=True)
    times: dict[int, list[float]] = {1: [], 2: []}
    work = Path(tempfile.mkdtemp(prefix="fupin-bench-counties-"))
    for r in range(args.rounds):
        for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
            t = one_run(files, args.counties, workers, work / f"w{workers}")
            times[workers].append(t)
            print(f"  round {r + 1}: {workers} worker(s) {t:7.1f} s", flush=True)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"median: 1 worker {one:.1f} s, 2 workers {two:.1f} s -> {one / two:.2f}x faster with 2")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
