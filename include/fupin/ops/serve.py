"""`make serve` / `fupin serve`: the whole platform on a data engineer's laptop, without Docker.

`airflow standalone` (api-server, scheduler, dag-processor, triggerer; SQLite metadata) with the
DAGs unpaused and the pools loaded, and the mail sink as the SMTP server: every notice lands as
an `.eml` file under `<data root>/mail/`. Files dropped into `<data root>/shares/<unit>/报送/` are
taken within seconds. The officials' pages are at /fupin/. Ctrl-C stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from fupin.config import project_root
from fupin.ops.cluster import airflow_bin, local_airflow_env, pools_file, stop_groups


def serve_environment(data_root: Path, smtp_conn: str, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(project_root() / ".airflow"))
    env.update(local_airflow_env(port))  # the api-server on 127.0.0.1: a laptop, not the network
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", simple_auth_users())
    env.update(
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="10",
        AIRFLOW_CONN_SMTP_DEFAULT=smtp_conn,
        FUPIN_DATA_ROOT=str(data_root),
        # standalone starts its components as `airflow ...` from PATH: the venv's own, through a shim
        # that keeps the scheduler and the triggerer from starting their log servers
        PATH=str(_shim(Path(env["AIRFLOW_HOME"]))) + os.pathsep + str(Path(airflow_bin()).parent) + os.pathsep + env.get("PATH", ""),
    )
    return env


def _shim(home: Path) -> Path:
    """A folder with an `airflow` that runs the venv's, adding `--skip-serve-logs` to the scheduler
    and the triggerer: Airflow 3.3.2 binds their log servers (8793, 8794) to every interface, with
    no setting to change it; on one machine the api-server reads the task logs from the files."""
    folder = home / "fupin-bin"
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "airflow"
    shim.write_text("#!/bin/sh\n# written by `fupin serve`: no log servers listening on every interface\n"
                    f'case "$1" in scheduler|triggerer) exec "{airflow_bin()}" "$@" --skip-serve-logs ;; esac\n'
                    f'exec "{airflow_bin()}" "$@"\n', encoding="utf-8")
    shim.chmod(0o750)
    return folder


def simple_auth_users() -> str:
    """`user:role,...` for Airflow's simple auth manager: admin, and the dashboard's users
    (settings.yaml → dashboard.users) with their Airflow role."""
    from fupin.config import settings

    users = {"admin": "admin"}
    for name, entry in (settings().get("dashboard", {}).get("users") or {}).items():
        users[str(name)] = str((entry or {}).get("airflow_role", "viewer"))
    return ",".join(f"{u}:{r}" for u, r in users.items())


# every DAG of the project, in a county deployment or a province (`bureau_ingest__440224`)
PROJECT_DAGS = r"^(bureau_ingest|registry_reconcile|assessment|submission_reminders)(__\d+)?$"


def unpause_project_dags(airflow: str, env: dict[str, str]) -> None:
    """Parse the DAG files into the metadata DB and unpause the project's DAGs — also those
    that exist already and are paused (`dag.test()` of `make demo` creates them paused, and
    `dags_are_paused_at_creation` only applies to new ones)."""
    subprocess.run([airflow, "dags", "reserialize"], env=env, check=True, capture_output=True)
    subprocess.run([airflow, "dags", "unpause", "--treat-dag-id-as-regex", "-y", PROJECT_DAGS], env=env, check=True,
                   capture_output=True)


def serve(data_root: Path, port: int = 8080, smtp_port: int = 0, say=print) -> int:
    from fupin.ingest.inbox import ensure_folders
    from fupin.ops import mailsink
    from fupin.warehouse import db

    data_root = data_root.resolve()
    os.environ["FUPIN_DATA_ROOT"] = str(data_root)
    ensure_folders()
    db.upgrade()
    controller, smtp_port, conn = mailsink.start(data_root / "mail", smtp_port)
    env = serve_environment(data_root, conn, port)
    airflow = airflow_bin()
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([airflow, "pools", "import", str(pools_file(Path(env["AIRFLOW_HOME"]), env))], env=env, check=True, capture_output=True)
    unpause_project_dags(airflow, env)
    say(f"fupin: drop bureau files into {data_root / 'shares'}/<unit>/报送/")
    say(f"fupin: mail goes to the SMTP sink on 127.0.0.1:{smtp_port}, stored in {data_root / 'mail'}")
    say(f"fupin: Airflow UI on http://localhost:{port}, 扶贫数据 at http://localhost:{port}/fupin/")
    say(f"fupin: users {env['AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS']}; passwords in "
        f"{env['AIRFLOW_HOME']}/simple_auth_manager_passwords.json.generated")
    proc = subprocess.Popen([airflow, "standalone"], env=env, start_new_session=True)

    def _terminate(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_groups([proc.pid], grace=30)  # standalone and every component it started
        proc.wait()
        controller.stop()
        say("fupin: stopped")


if __name__ == "__main__":
    sys.exit(serve(Path(sys.argv[1]) if len(sys.argv) > 1 else project_root() / "data"))
