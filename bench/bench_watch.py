"""Event-driven ingest vs the per-minute poll: idle cost per county count, and drop→receipt latency.

    .venv/bin/python bench/bench_watch.py [--counties 1 8 16] [--idle-minutes 3] [--drops 10] [--runs 1]

Needs this machine's PostgreSQL and Redis. For each mode (`event`: the triggerer's InboxTrigger;
`poll`: bureau_ingest every minute) and each K, on a fresh LocalCluster (PostgreSQL metadata,
Redis, 1 Celery worker, default settings but the mode):

- idle: once the DAGs are parsed and their first runs are over, no drops for `--idle-minutes`:
  CPU seconds of every component process (and its children) per minute, DAG runs created per
  hour, metadata rows added (dag_run + task_instance);
- latency (K=1 only): `--drops` files spread over a minute, each *written* into the inbox at its
  moment (its mtime is the drop time: the stability wait is paid), timed to its receipt `.eml`.

Modes alternate per K (and per run) so drift on a shared machine hits both alike. Prints each
cluster's line, then with `--runs N` the medians over the runs.
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
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/13"


def _cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            procs = [p, *p.children(recursive=True)]
        except psutil.Error:
            continue
        for q in procs:
            try:
                t = q.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    return total


def _counts(eng) -> tuple[int, int]:
    from sqlalchemy import text

    with eng.connect() as conn:
        return (conn.execute(text("select count(*) from dag_run")).scalar_one(),
                conn.execute(text("select count(*) from task_instance")).scalar_one())


def _settle(eng, counties: int, patience: float = 180, timeout: float = 900) -> bool:
    """Until every county's DAGs are parsed and no run is queued or running — or, parsed, for
    `patience` seconds (a per-minute schedule at many counties never gets there); whether it settled."""
    from sqlalchemy import text

    start = time.monotonic()
    parsed_at = None
    while time.monotonic() - start < timeout:
        with eng.connect() as conn:
            n = conn.execute(text("select count(*) from dag where dag_id like 'bureau_ingest%'")).scalar_one()
            busy = conn.execute(text("select count(*) from dag_run where state in ('queued', 'running')")).scalar_one()
        if n >= counties:
            parsed_at = parsed_at or time.monotonic()
            if busy == 0:
                return True
            if time.monotonic() - parsed_at > patience:
                return False
        time.sleep(2)
    raise TimeoutError(f"the DAGs of {counties} counties were not parsed in {timeout:.0f} s")


def one_cluster(mode: str, counties: int, idle_minutes: float, drops: int, work: Path) -> dict:
    import redis
    from sqlalchemy import create_engine

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
        root.mkdir(parents=True)
        with County(data_root=str(root)).active():
            ensure_folders()
        url = recreate_database(PG_ADMIN, f"fupin_watch_{code}")
        db.upgrade(url)
        listed.append({"code": code, "name": code, "data_root": str(root), "warehouse_url": url})
    (work / "counties.yaml").write_text(yaml.safe_dump({"counties": listed}))
    config = work / "config"
    (config / "config").mkdir(parents=True)
    settings = yaml.safe_load((HERE.parent / "config" / "settings.yaml").read_text(encoding="utf-8"))
    settings["ingest"]["watch"]["mode"] = mode
    (config / "config" / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    redis.Redis.from_url(REDIS).flushdb()
    controller, _, smtp = mailsink.start(work / "mail")
    metadata = recreate_database(PG_ADMIN, "fupin_watch_airflow")
    cluster = LocalCluster(home=work / "airflow", metadata_url=metadata, broker_url=REDIS, workers=1, worker_concurrency=2,
                           env={"FUPIN_COUNTIES": str(work / "counties.yaml"), "FUPIN_CONFIG_DIR": str(config),
                                "AIRFLOW_CONN_SMTP_DEFAULT": smtp})
    eng = create_engine(metadata)
    out: dict = {"mode": mode, "counties": counties}
    try:
        with cluster:
            out["settled"] = _settle(eng, counties)
            pids = [p.pid for p in cluster.procs.values()]
            runs0, tis0 = _counts(eng)
            cpu0, t0 = _cpu_seconds(pids), time.monotonic()
            time.sleep(idle_minutes * 60)
            cpu1, t1 = _cpu_seconds(pids), time.monotonic()
            runs1, tis1 = _counts(eng)
            minutes = (t1 - t0) / 60
            out.update(cpu_per_min=(cpu1 - cpu0) / minutes, runs_per_hour=(runs1 - runs0) * 60 / minutes,
                       rows_per_hour=(runs1 - runs0 + tis1 - tis0) * 60 / minutes)
            if drops:
                out["latency"] = _latencies(Path(listed[0]["data_root"]), work / "mail", drops, cluster)
    finally:
        controller.stop()
        eng.dispose()
    return out


def _latencies(root: Path, mail: Path, drops: int, cluster) -> list[float]:
    """Write `drops` small files into the inbox spread over a minute; seconds to each receipt."""
    from fupin.config import contracts
    from fupin.demo.samples import make_population, sample_rows
    from fupin.demo.writers import dataset_sheet, write

    people = make_population(20, seed=11)
    registry = contracts().datasets["registry"]
    written: dict[str, float] = {}
    start = time.time()
    for i in range(drops):
        at = start + i * 60 / drops
        time.sleep(max(0.0, at - time.time()))
        month = f"2017-{i % 12 + 1:02d}" if i < 12 else f"2018-{i % 12 + 1:02d}"
        name = f"扶贫办_{month[:4]}年{int(month[5:])}月.xlsx"
        write(root / "shares" / "poverty_office" / "报送" / name, [dataset_sheet(registry, sample_rows("registry", people, month))])  # written now
        written[month] = time.time()
    got: dict[str, float] = {}
    deadline = time.time() + 600
    while len(got) < drops and time.time() < deadline:
        cluster.check_alive()
        for p in mail.glob("*_receipt_*poverty_office.eml"):
            text = p.read_bytes()
            for month in written:
                if month not in got and f"{month[:4]}年{int(month[5:])}月".encode() in _subject(text):
                    got[month] = p.stat().st_mtime
        time.sleep(0.2)
    return sorted(got[m] - written[m] for m in got)


def _subject(raw: bytes) -> bytes:
    import email
    from email import policy

    return str(email.message_from_bytes(raw, policy=policy.default)["Subject"]).encode()


def _line(k: int, mode: str, rs: list[dict]) -> str:
    med = {m: statistics.median(r[m] for r in rs) for m in ("cpu_per_min", "runs_per_hour", "rows_per_hour")}
    lats = [r["latency"] for r in rs if r.get("latency")]
    shown = ""
    if lats:
        p50 = statistics.median(statistics.median(lat) for lat in lats)
        mx = statistics.median(max(lat) for lat in lats)
        shown = f", latency p50 {p50:.1f} s max {mx:.1f} s ({min(len(lat) for lat in lats)}+ receipts)"
    unsettled = sum(not r["settled"] for r in rs)
    return (f"K={k:<3} {mode:<6} idle CPU {med['cpu_per_min']:6.1f} s/min, {med['runs_per_hour']:6.0f} DAG runs/h, "
            f"{med['rows_per_hour']:7.0f} metadata rows/h{shown}"
            + (f" (never settled in {unsettled} of {len(rs)}: runs still queued)" if unsettled else ""))


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counties", type=int, nargs="+", default=[1, 8, 16])
    ap.add_argument("--idle-minutes", type=float, default=3)
    ap.add_argument("--drops", type=int, default=10)
    ap.add_argument("--runs", type=int, default=1, help="repeat every cluster; medians at the end")
    ap.add_argument("--modes", nargs="+", choices=["poll", "event"], default=["poll", "event"])
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fupin-bench-watch-"))
    rows: dict[tuple[int, str], list[dict]] = {}
    for run in range(args.runs):
        for i, k in enumerate(args.counties):
            for mode in [m for m in (("poll", "event") if (i + run) % 2 == 0 else ("event", "poll")) if m in args.modes]:
                r = one_cluster(mode, k, args.idle_minutes, args.drops if k == 1 else 0, work / f"{mode}{k}")
                rows.setdefault((k, mode), []).append(r)
                print(f"run {run + 1} " + _line(k, mode, [r]), flush=True)
    if args.runs > 1:
        print(f"medians of {args.runs} runs:")
        for (k, mode), rs in sorted(rows.items()):
            print(_line(k, mode, rs), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
