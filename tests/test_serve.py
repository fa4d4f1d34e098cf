"""`make serve`: airflow standalone on SQLite plus the SMTP sink, from the venv, no Docker.
A file dropped into its inbox comes back as a receipt `.eml`; stopping it stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import rows, sheet, write

pytestmark = [pytest.mark.slow]


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=3) as r:
            health = json.load(r)
    except OSError:
        return False
    return all(health.get(c, {}).get("status") == "healthy" for c in ("scheduler", "dag_processor", "triggerer"))


def _until(what: str, predicate, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"fupin serve exited ({proc.returncode}): {log.read_text()[-3000:]}"
        if predicate():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}: {log.read_text()[-3000:]}")


def test_serve_runs_the_platform_locally_and_stops_cleanly(tmp_path, people):
    from fupin.ops.cluster import free_port

    root, port, smtp = tmp_path / "data", free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "FUPIN_WAREHOUSE"))}
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), FUPIN_STABLE_SECONDS="0")
    log = tmp_path / "serve.log"
    fupin = str(Path(sys.executable).with_name("fupin"))
    # the DAGs exist already, paused (as `make demo`'s dag.test() leaves them): serve unpauses them
    from fupin.ops.cluster import local_airflow_env

    airflow = str(Path(sys.executable).with_name("airflow"))
    before = {**env, **local_airflow_env(port)}
    for cmd in (["db", "migrate"], ["dags", "reserialize"], ["dags", "pause", "bureau_ingest", "-y"]):
        subprocess.run([airflow, *cmd], env=before, check=True, capture_output=True)
    listed = subprocess.run([airflow, "dags", "list", "-o", "json"], env=before, check=True, capture_output=True, text=True).stdout
    assert {d["dag_id"]: d["is_paused"] for d in json.loads(listed[listed.index("[{"):].splitlines()[0])}["bureau_ingest"] in (True, "True")
    with open(log, "wb") as out:
        proc = subprocess.Popen([fupin, "serve", "--data-root", str(root), "--port", str(port), "--smtp-port", str(smtp)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _until("the Airflow components", lambda: _healthy(port), 180, proc, log)
        staged = write(tmp_path / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
        staged.rename(root / "shares" / "poverty_office" / "报送" / staged.name)
        _until("the receipt", lambda: any((root / "mail").glob("*_receipt_*poverty_office.eml")), 150, proc, log)
        # nothing of it listens beyond this machine: no log server on every interface
        import psutil

        ours = set(_processes_with_home(tmp_path / "airflow"))
        wide = [(c.laddr.ip, c.laddr.port) for c in psutil.net_connections("tcp")
                if c.status == psutil.CONN_LISTEN and c.pid in ours and c.laddr.ip not in ("127.0.0.1", "::1")]
        assert wide == [], wide
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        proc.wait(60)
    mail = next((root / "mail").glob("*_receipt_*poverty_office.eml")).read_bytes()
    assert b"X-Fupin-Key: receipt/" in mail
    assert "fupin: stopped" in log.read_text()
    assert not _processes_with_home(tmp_path / "airflow"), "a component outlived `fupin serve`"
    assert not _healthy(port)


def _processes_with_home(home: Path) -> list[int]:
    import psutil

    found = []
    for p in psutil.process_iter():
        try:
            if p.environ().get("AIRFLOW_HOME") == str(home):
                found.append(p.pid)
        except (psutil.Error, OSError):
            pass
    return found
