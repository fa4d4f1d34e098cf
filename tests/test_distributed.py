"""The production engine, for real: scheduler, dag-processor, triggerer, api-server and a Celery
worker started from the venv against PostgreSQL (Airflow metadata, warehouse) and Redis (broker),
with a real SMTP server as the mail host. Bureau files dropped into the inbox are loaded by the
Celery worker, the two registries trigger the reconciliation through their Assets, and the receipts
and the reconciliation mail arrive."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import PG_ADMIN_DSN, _pg_available, skip_or_fail
from tests.helpers import count, rows, sheet, write

pytestmark = [pytest.mark.distributed, pytest.mark.postgres, pytest.mark.slow]

REDIS_URL = os.environ.get("FUPIN_TEST_REDIS", "redis://127.0.0.1:6379/11")


def _services_or_skip() -> None:
    import redis

    reasons = [r for r in [_pg_available()] if r]
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except Exception as exc:
        reasons.append(f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}); start it as in the README")
    skip_or_fail(reasons, "the distributed test")


def _wait(what: str, predicate, timeout: float, cluster) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cluster.check_alive()
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; logs in {cluster.home / 'component-logs'}")


def test_files_dropped_on_a_celery_deployment_are_loaded_reconciled_and_receipted(tmp_path, data_root, people, mailbox, monkeypatch):
    _services_or_skip()
    import redis
    from sqlalchemy import select

    from fupin.ops.cluster import LocalCluster, recreate_database
    from fupin.warehouse import db
    from fupin.warehouse.schema import findings, reconciliation_runs

    metadata = recreate_database(PG_ADMIN_DSN, "fupin_ci_airflow")
    warehouse = recreate_database(PG_ADMIN_DSN, "fupin_ci_warehouse")
    redis.Redis.from_url(REDIS_URL).flushdb()
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse)
    monkeypatch.setenv("FUPIN_STABLE_SECONDS", "2")
    db.upgrade(warehouse)  # deploy's step (airflow-init): the tasks only check the revision

    staging = tmp_path / "staging"
    registry = write(staging / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
    from fupin.demo.samples import make_population

    dib = rows("dibao", people)
    outsider = make_population(1, seed=123)[0]  # on dibao, not in the poverty registry: an R1 finding
    dib.append({**dib[0], "dibao_card_no": "DBX", "id_number": outsider.id_number, "name": outsider.name, "income_per_capita": 3100.0})
    dibao = write(staging / "民政局_2017年6月.xls", sheet("dibao", dib))

    cluster = LocalCluster(home=tmp_path / "airflow", metadata_url=metadata, broker_url=REDIS_URL,
                           workers=1, worker_concurrency=2)
    with cluster:
        dropped: dict[str, float] = {}
        for path, source in ((registry, "poverty_office"), (dibao, "civil_affairs")):
            path.rename(data_root / "shares" / source / "报送" / path.name)  # a rename: the file appears whole
            dropped[source] = time.time()
        arrived: dict[str, float] = {}

        def receipts_in() -> bool:
            for key in mailbox.keys():
                kind, _, source = key.split("/")
                if kind == "receipt":
                    arrived.setdefault(source, time.time())
            return set(arrived) == set(dropped)

        _wait("both receipts", receipts_in, 300, cluster)
        bad = [m["Subject"] for m in mailbox.messages if "未通过" in m["Subject"]]
        assert not bad, bad
        _wait("the reconciliation mail", lambda: any(k.startswith("reconciliation/2017-06/") for k in mailbox.keys()), 240, cluster)
        # the officials' pages are mounted on this api-server too, behind its login (a route not
        # mounted would answer 404)
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{cluster.api_port}/fupin/api/findings?month=2017-06", timeout=30)
            raise AssertionError("the dashboard answered without a login")
        except urllib.error.HTTPError as exc:
            assert exc.code == 401, exc.code
        worker_log = cluster.log_text("worker-0")
        task_logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in (cluster.home / "logs").rglob("*.log"))
        claimed_at = {s: _claim_time(metadata, name) for s, name in (("poverty_office", registry.name), ("civil_affairs", dibao.name))}

    assert count("registry", "2017-06", warehouse) == len(rows("registry", people))
    assert count("dibao", "2017-06", warehouse) == len(dib)
    with db.engine(warehouse).connect() as conn:
        assert conn.execute(select(reconciliation_runs.c.month)).scalars().all() == ["2017-06"]
        assert "R2" in conn.execute(select(findings.c.rule).where(findings.c.month == "2017-06")).scalars().all()
    receipts = [m for m in mailbox.messages if m["X-Fupin-Key"].startswith("receipt/")]
    assert len(receipts) == 2 and all("已通过" in m["Subject"] for m in receipts), [m["Subject"] for m in receipts]
    # the work ran on the Celery worker, and nothing it or the tasks logged carries a full ID number
    assert "ingest_files" in worker_log and "ingest_files" in task_logs
    for log_text in (worker_log, task_logs):
        assert outsider.id_number not in log_text and not any(p.id_number in log_text for p in people)
    latency = {s: round(arrived[s] - dropped[s], 1) for s in dropped}
    # of which: waiting for the next minute's run and for the file to settle, then the run's own work
    processing = {s: round(arrived[s] - claimed_at[s], 1) for s in dropped}
    (tmp_path / "latency.json").write_text(json.dumps({"drop_to_receipt": latency, "claim_to_receipt": processing}))
    print(f"\ndrop -> receipt email (s): {latency}; claim_files start -> receipt email (s): {processing}")
    assert all(v < 300 for v in latency.values())


def _claim_time(metadata_url: str, file_name: str) -> float:
    """When the claim_files task of the bureau_ingest run that ingested `file_name` started."""
    from sqlalchemy import create_engine, text

    eng = create_engine(metadata_url)
    with eng.connect() as conn:
        start = conn.execute(text(
            "select c.start_date from task_instance i join task_instance c on c.dag_id = i.dag_id and c.run_id = i.run_id "
            "where i.dag_id = 'bureau_ingest' and i.task_id = 'ingest_files' and i.rendered_map_index like :name "
            "and c.task_id = 'claim_files'"), {"name": f"%{file_name}%"}).scalar_one()
    eng.dispose()
    return start.timestamp()
