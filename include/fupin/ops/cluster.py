"""A real distributed Airflow on one machine, from the venv: api-server, scheduler,
dag-processor, triggerer and Celery worker(s), against PostgreSQL (metadata, Celery results)
and Redis (broker).

The CI test of the deployment, the scaling benchmark and anyone reproducing a production
problem without Docker use this; production runs the same components from
`docker-compose.yaml`. Every process is started in its own session and stopped (TERM, then KILL)
on exit, so nothing outlives the `with` block.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from fupin.config import project_root

log = logging.getLogger(__name__)

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def _die_with_parent() -> None:
    """In the child before exec: a TERM when the process that started it dies, however it dies
    (a killed test run must not leave a scheduler or a worker consuming the broker)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def pools_file(folder: Path, env: dict[str, str] | None = None) -> Path:
    """Every county's pool (`fupin pools`), written under `folder` for `airflow pools import`;
    `env` is the deployment's (its FUPIN_COUNTIES)."""
    path = folder / "pools.json"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(Path(sys.executable).with_name("fupin")), "pools", str(path)], env=env, check=True, capture_output=True)
    return path


def local_airflow_env(api_port: int) -> dict[str, str]:
    """What every Airflow run from this venv needs (LocalCluster, `fupin serve`): this project's
    DAGs and plugins, no examples, DAGs unpaused, the api-server on this machine only."""
    root = project_root()
    return dict(
        AIRFLOW__CORE__DAGS_FOLDER=str(root / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(root / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__API__PORT=str(api_port),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{api_port}/execution/",
        GX_ANALYTICS_ENABLED="False",
    )


@dataclass
class LocalCluster:
    """`home` holds AIRFLOW_HOME and the components' logs; `metadata_url` must be an empty or
    Airflow-migrated PostgreSQL database; `env` is added to every component (data root,
    warehouse URL, the SMTP connection...)."""

    home: Path
    metadata_url: str
    broker_url: str
    env: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    worker_concurrency: int = 1
    api_port: int = 0
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = Path(self.home)
        self.api_port = self.api_port or free_port()
        self._secret = secrets.token_urlsafe(32)

    # --- configuration -----------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        result_backend = "db+" + self.metadata_url.replace("postgresql+psycopg2://", "postgresql://")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        env.update(local_airflow_env(self.api_port))
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=self.metadata_url,
            AIRFLOW__CELERY__BROKER_URL=self.broker_url,
            AIRFLOW__CELERY__RESULT_BACKEND=result_backend,
            AIRFLOW__CELERY__WORKER_CONCURRENCY=str(self.worker_concurrency),
            AIRFLOW__API_AUTH__JWT_SECRET=self._secret,
            AIRFLOW__API__SECRET_KEY=self._secret,
            # new DAG files are found within seconds, not the production default of minutes
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
            AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(self.home / "logs"),
        )
        env.update(self.env)
        return env

    def airflow(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        done = subprocess.run([airflow_bin(), *args], env=self.environment(), capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"`airflow {' '.join(args)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, ready_timeout: float = 180) -> LocalCluster:
        self.home.mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate")
        self.airflow("pools", "import", str(pools_file(self.home, self.environment())))
        for name in COMPONENTS:
            self._spawn(name, [name])
        for i in range(self.workers):
            self._spawn(f"worker-{i}", ["celery", "worker", "--concurrency", str(self.worker_concurrency),
                                        "--celery-hostname", f"fupin-worker-{i}@%h", "--skip-serve-logs"])
        self.wait_ready(ready_timeout)
        return self

    def _spawn(self, name: str, args: list[str]) -> None:
        logs = self.home / "component-logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = open(logs / f"{name}.log", "ab")  # kept open for the process's life
        self.procs[name] = subprocess.Popen([airflow_bin(), *args], env=self.environment(), stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)

    def wait_ready(self, timeout: float) -> None:
        """Until the api-server answers and reports a healthy scheduler, triggerer and dag-processor."""
        import json

        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health", timeout=5) as r:
                    health = json.load(r)
                last = json.dumps(health)
                if all(health.get(c, {}).get("status") == "healthy" for c in ("metadatabase", "scheduler", "triggerer", "dag_processor")):
                    return
            except OSError as exc:
                last = str(exc)
            time.sleep(2)
        raise TimeoutError(f"Airflow components not healthy after {timeout:.0f} s: {last}; logs in {self.home / 'component-logs'}")

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"Airflow component(s) exited: {dead}; logs in {self.home / 'component-logs'}")

    def stop(self, grace: float = 20) -> None:
        stop_groups([p.pid for p in self.procs.values()], grace)  # each group: a component and its task processes
        for proc in self.procs.values():
            proc.wait()
        self.procs.clear()

    def __enter__(self) -> LocalCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_text(self, name: str) -> str:
        path = self.home / "component-logs" / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # zombies still count for killpg(0): only a group with a live member matters
    import psutil

    return any(p.status() != psutil.STATUS_ZOMBIE for p in psutil.process_iter() if _pgid(p) == pgid)


def _pgid(p) -> int | None:
    try:
        return os.getpgid(p.pid)
    except OSError:
        return None


def stop_groups(pgids: list[int], grace: float = 20) -> None:
    """TERM every process group (a component and what it forked), wait up to `grace` seconds
    for all of them to be gone, then KILL what is left."""
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_group_alive(g) for g in pgids):
        time.sleep(0.3)
    for pgid in pgids:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def recreate_database(admin_url: str, name: str) -> str:
    """Drop and create the PostgreSQL database `name`; returns its URL."""
    from sqlalchemy import create_engine, text

    eng = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'drop database if exists "{name}" with (force)'))
        conn.execute(text(f'create database "{name}"'))
    eng.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name
