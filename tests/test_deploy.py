"""The production deployment files: docker-compose.yaml validated by Debian's docker-compose,
the Dockerfile on the official image of the pinned Airflow, and .env.example without secrets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import skip_or_fail

pytestmark = pytest.mark.slow  # each test here starts processes or replays months

ROOT = Path(__file__).resolve().parents[1]
TASK_RUNNERS = ("airflow-worker", "airflow-triggerer")


def _compose(*args: str, env_file: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("docker-compose")
    if exe is None:
        skip_or_fail(["docker-compose not installed (Debian package docker-compose; `make setup` installs it)"],
                     "the compose file's validation")
    env = {k: v for k, v in os.environ.items() if not re.match(r"(POSTGRES|REDIS|AIRFLOW|SMTP|FUPIN)_", k)}
    env["FUPIN_ENV_FILE"] = str(env_file)  # the samba service's passwords: from the same file
    return subprocess.run([exe, "--env-file", str(env_file), "-f", str(ROOT / "docker-compose.yaml"), *args],
                          capture_output=True, text=True, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def config() -> dict:
    done = _compose("config", env_file=ROOT / ".env.example")
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_has_the_airflow_celery_services_mail_samba_and_the_warehouse(config):
    services = config["services"]
    for name in ("postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
                 "airflow-dag-processor", "airflow-worker", "airflow-triggerer", "mail", "samba"):
        assert name in services, name
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:6379" in env["AIRFLOW__CELERY__BROKER_URL"]
    # the warehouse: its own database on the same PostgreSQL as Airflow's metadata
    assert env["AIRFLOW_CONN_FUPIN_WAREHOUSE"].endswith("@postgres:5432/fupin")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres/airflow")
    smtp = env["AIRFLOW_CONN_SMTP_DEFAULT"]
    assert '"host": "mail"' in smtp and '"port": 1025' in smtp
    # the mail sink shows every mail (workbooks with full ID numbers), and SMB serves the units'
    # folders: both on this machine only unless the county sets SMB_BIND to its intranet address
    for service, published in (("mail", "127.0.0.1:8025:8025"), ("samba", "127.0.0.1:445:445")):
        ports = [p if isinstance(p, str) else f"{p.get('host_ip', '')}:{p['published']}:{p['target']}" for p in services[service]["ports"]]
        assert [p.removesuffix("/tcp") for p in ports] == [published], ports
    assert services["airflow-worker"]["build"]["context"] == str(ROOT)


def test_the_shared_folder_is_mounted_wherever_tasks_or_triggers_run(config):
    for name in (*TASK_RUNNERS, "airflow-init"):
        targets = [v["target"] if isinstance(v, dict) else v.split(":")[1] for v in config["services"][name]["volumes"]]
        assert "/data" in targets, name
        assert config["services"][name]["environment"]["FUPIN_DATA_ROOT"] == "/data"


def test_compose_refuses_to_start_without_the_secrets(tmp_path):
    empty = tmp_path / "empty.env"
    empty.write_text("")
    done = _compose("config", env_file=empty)
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr and ".env" in done.stderr


def test_env_example_holds_placeholders_not_secrets():
    values = dict(line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if line and not line.startswith("#"))
    for key in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET"):
        assert values[key].startswith("change-me"), key
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_dockerfile_extends_the_official_image_of_the_pinned_airflow_and_python():
    text = (ROOT / "Dockerfile").read_text()
    pinned = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f"ARG AIRFLOW_IMAGE=apache/airflow:{pinned}-python3.11" in text
    for src in re.findall(r"^COPY --chown=\S+ (.+) /opt/fupin", text, re.M):
        for path in src.split():
            assert (ROOT / path).exists(), path
    # nothing downloaded in the build: every pip install from the wheelhouse, with no index
    installs = re.findall(r"pip install [^\n&]*", text)
    assert installs and all(re.search(r"--no-index --find-links /tmp/(wheelhouse|project) ", i) for i in installs), installs


def test_every_image_is_a_variable_whose_default_is_the_official_one(config):
    text = (ROOT / "docker-compose.yaml").read_text()
    for variable, official in (("POSTGRES_IMAGE", "postgres:16"), ("REDIS_IMAGE", "redis:7.2-bookworm"),
                               ("MAIL_IMAGE", "axllent/mailpit:v1.27"), ("AIRFLOW_BASE_IMAGE", "apache/airflow:3.3.2-python3.11")):
        assert f"${{{variable}:-{official}}}" in text, variable
    services = config["services"]
    assert services["postgres"]["image"] == "postgres:16" and services["mail"]["image"] == "axllent/mailpit:v1.27"
    assert services["airflow-worker"]["build"]["args"]["AIRFLOW_IMAGE"] == "apache/airflow:3.3.2-python3.11"


def test_airflow_init_refuses_the_placeholders_of_env_example(config, tmp_path):
    init = config["services"]["airflow-init"]
    script = " ".join(init["command"])
    assert script.index("refuse-placeholders.sh") < script.index("fupin db upgrade") < len(script)
    mounted = [v["source"] if isinstance(v, dict) else v.split(":")[0] for v in init["volumes"]]
    assert str(ROOT / "deploy" / "refuse-placeholders.sh") in mounted
    check = ROOT / "deploy" / "refuse-placeholders.sh"
    names = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET")
    as_example = subprocess.run(["bash", str(check)], env={k: init["environment"][k] for k in names}, capture_output=True, text=True)
    assert as_example.returncode == 1 and all(n in as_example.stderr for n in names)
    real = subprocess.run(["bash", str(check)], env={n: f"s3cret-{i}" for i, n in enumerate(names)}, capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
