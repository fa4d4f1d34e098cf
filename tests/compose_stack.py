"""The production stack in docker-compose, for tests/test_compose.py and bench/bench_compose.py:
a container engine (started here when none runs), a generated .env, the stack up and down."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("postgres", "redis", "mail", "samba", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-worker", "airflow-triggerer")
HOW = ("install Debian's docker.io, docker-compose, mmdebstrap and smbclient (`make setup` does) and run the suite as "
       "root, so that the test can start dockerd")


def engine() -> None:
    """A Docker engine that answers, started here (as root) when none runs."""
    for tool in ("docker", "docker-compose", "smbclient", "mmdebstrap"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} not found: {HOW}")
    if subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None or os.geteuid() != 0:
        pytest.fail(f"no Docker engine answers and none can be started here: {HOW}")
    log = open("/tmp/fupin-dockerd.log", "ab")
    subprocess.Popen([dockerd], stdout=log, stderr=log, start_new_session=True)
    for _ in range(60):
        if subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
            return
        time.sleep(1)
    pytest.fail("dockerd did not answer within 60 s: see /tmp/fupin-dockerd.log")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, folder: Path):
        from fupin import shares
        from fupin.ingest.inbox import share_units

        self.folder = folder
        self.name = f"fupine2e{secrets.token_hex(3)}"
        self.ports = {"api": free_port(), "mail": free_port(), "smb": free_port()}
        listed = [line.split() for line in shares.accounts(share_units()).splitlines()]  # (account, unit)
        self.passwords = {login: secrets.token_urlsafe(12) for login, _ in listed}
        self.accounts = {unit: login for login, unit in listed}
        self.data = folder / "data"
        self.data.mkdir()
        offline = dict(line.split("=", 1) for line in (ROOT / "build" / "offline.env").read_text().splitlines()
                       if "=" in line and not line.startswith("#"))
        env = {
            **offline,
            "COMPOSE_PROJECT_NAME": self.name,
            "POSTGRES_PASSWORD": secrets.token_hex(12), "REDIS_PASSWORD": secrets.token_hex(12),
            "AIRFLOW_FERNET_KEY": _fernet(), "AIRFLOW_JWT_SECRET": secrets.token_hex(24),
            "AIRFLOW_USERS": "admin:admin", "FUPIN_SHARE": str(self.data), "FUPIN_CONFIG_DIR": str(ROOT / "config"),
            "AIRFLOW_UI_PORT": f"127.0.0.1:{self.ports['api']}", "MAIL_UI_PORT": str(self.ports["mail"]),
            "SMB_BIND": "127.0.0.1", "SMB_PORT": str(self.ports["smb"]), "FUPIN_WORKER_CONCURRENCY": "2",
            "FUPIN_WORKER_STOP_GRACE": "60s",
            **{shares.password_variable(a): p for a, p in self.passwords.items()},
        }
        self.env_file = folder / ".env"
        env["FUPIN_ENV_FILE"] = str(self.env_file)  # the samba service's env_file: this one, not the checkout's
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        self.env_file.chmod(0o600)
        self.environ = {**os.environ, "COMPOSE_PROJECT_NAME": self.name}

    def compose(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        done = subprocess.run(["docker-compose", "--env-file", str(self.env_file), "-f", str(ROOT / "docker-compose.yaml"),
                               "-p", self.name, *args], env=self.environ, capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"docker-compose {' '.join(args)}: {done.stderr[-3000:]}")
        return done

    def start(self) -> None:
        """Create the stack, fence its network, then start it: a container that opens a connection
        to any address but its own network's (the internet, this host, another compose) is
        refused and counted (`leaks`), from its first packet on."""
        # the network first (as compose would name and label it, so that compose takes it as its
        # own and `down` removes it), fenced before any container is on it
        network = f"{self.name}_default"
        version = subprocess.run(["docker-compose", "version", "--short"], capture_output=True, text=True).stdout.strip()
        subprocess.run(["docker", "network", "create", "--label", "com.docker.compose.network=default",
                        "--label", f"com.docker.compose.project={self.name}", "--label", f"com.docker.compose.version={version}",
                        network], check=True, capture_output=True)
        subnet = subprocess.run(["docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", network],
                                capture_output=True, text=True, check=True).stdout.strip()
        self.fence = [["DOCKER-USER", "-s", subnet, "!", "-d", subnet], ["INPUT", "-s", subnet]]
        for chain, *match in self.fence:
            subprocess.run(["iptables", "-I", chain, *match, "-m", "conntrack", "--ctstate", "NEW", "-m", "comment",
                            "--comment", self.name, "-j", "DROP"], check=True)
        self.compose("up", "-d", timeout=900)

    def leaks(self) -> int:
        """New connections the stack's containers tried to open outside their network."""
        total = getattr(self, "leaked", 0)
        for chain, *_ in self.fence:
            listing = subprocess.run(["iptables", "-L", chain, "-n", "-v", "-x"], capture_output=True, text=True).stdout
            total += sum(int(line.split()[0]) for line in listing.splitlines() if f"/* {self.name} */" in line)
        return total

    def unfence(self) -> None:
        self.leaked = self.leaks()
        for chain, *match in getattr(self, "fence", []):
            subprocess.run(["iptables", "-D", chain, *match, "-m", "conntrack", "--ctstate", "NEW", "-m", "comment",
                            "--comment", self.name, "-j", "DROP"], check=False)
        self.fence = []

    def healthy(self, timeout: float = 420) -> float:
        """Seconds until every service is healthy (airflow-init having finished)."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            states = {}
            for service in SERVICES:
                cid = self.compose("ps", "-q", service, check=False).stdout.strip()
                if not cid:
                    states[service] = "absent"
                    continue
                out = subprocess.run(["docker", "inspect", "-f", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}",
                                      cid], capture_output=True, text=True).stdout.split()
                states[service] = out[-1] if out else "absent"
            # every service healthy (Mailpit's image, where used, may have no health check: running)
            if all(s == "healthy" or (svc == "mail" and s == "running") for svc, s in states.items()):
                return time.monotonic() - start
            time.sleep(3)
        logs = self.compose("logs", "--tail", "40", check=False).stdout[-6000:]
        raise AssertionError(f"not healthy after {timeout} s: {states}\n{logs}")

    def mails(self) -> list[dict]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['mail']}/api/v1/messages", timeout=10) as r:
            return json.load(r)["messages"]

    def smb(self, unit: str | None, share: str, command: str, account: str | None = None) -> subprocess.CompletedProcess:
        """smbclient as a unit's clerk (unit None: anonymous), on the share named `share`."""
        args = ["smbclient", f"//127.0.0.1/{share}", "-p", str(self.ports["smb"]), "-m", "SMB3", "-c", command]
        if unit is None and account is None:
            args += ["-N"]
        else:
            login = account or self.accounts[unit]
            args += ["-U", f"{login}%{self.passwords[login]}"]
        return subprocess.run(args, capture_output=True, text=True, timeout=60)

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "30", check=False, timeout=300)
        self.unfence()
        # files the containers wrote as their users (50000:0) in the bind-mounted data root
        subprocess.run(["rm", "-rf", str(self.data)], check=False)


def _fernet() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def wait(what: str, check, timeout: float, every: float = 2.0):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s")


def demo_files(folder: Path, months: str) -> dict[str, list[Path]]:
    env = {**os.environ, "FUPIN_DATA_ROOT": str(folder)}
    subprocess.run([str(ROOT / ".venv" / "bin" / "fupin"), "demo", "generate", "--months", months], env=env, check=True,
                   capture_output=True)
    out: dict[str, list[Path]] = {}
    for path in sorted((folder / "drops").glob("*/*/*")):
        out.setdefault(path.parent.name, []).append(path)
    return out


