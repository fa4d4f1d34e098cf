"""Shared fixtures: one Airflow home per session, a fresh data root per test, and the
warehouse on SQLite and (where the server runs) PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_DSN = os.environ.get("FUPIN_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
# one database per pytest-xdist worker (`make test-fast` runs two): tests that empty it never meet
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
PG_TEST_DB = f"fupin_test{'_' + WORKER if WORKER else ''}"
FAST_LIMIT = 2.0  # seconds: a test that takes longer, or starts a process, server or browser, is marked slow

_home = tempfile.mkdtemp(prefix="fupin-airflow-")
os.environ.update(
    AIRFLOW_HOME=_home,
    AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__UNIT_TEST_MODE="False",
    FUPIN_STABLE_SECONDS="0",
    GX_ANALYTICS_ENABLED="False",
)
os.environ.pop("FUPIN_WAREHOUSE_URL", None)


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "data"
    monkeypatch.setenv("FUPIN_DATA_ROOT", str(root))
    from fupin.ingest.inbox import ensure_folders

    ensure_folders()
    return root


def _pg_available() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        eng = create_engine(PG_ADMIN_DSN, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            if not conn.execute(text("select 1 from pg_database where datname = :d"), {"d": PG_TEST_DB}).first():
                conn.execute(text(f'create database "{PG_TEST_DB}"'))
        eng.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at 127.0.0.1:5432 ({type(exc).__name__}); start it as in the README"


def skip_or_fail(reasons: list[str], what: str) -> None:
    """A service the test needs is missing: skip with the reason, but fail under CI=true."""
    if reasons:
        if os.environ.get("CI"):
            pytest.fail("; ".join(reasons) + f" — CI must run {what}")
        pytest.skip("; ".join(reasons))


def empty_pg_warehouse() -> str:
    """The PostgreSQL test database with an empty public schema (skips or fails without the server)."""
    from sqlalchemy import text

    from fupin.warehouse import db

    skip_or_fail([r for r in [_pg_available()] if r], "the PostgreSQL tests")
    url = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + PG_TEST_DB
    with db.engine(url).begin() as conn:
        conn.execute(text("drop schema public cascade"))
        conn.execute(text("create schema public"))
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request: pytest.FixtureRequest, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse URL, migrated to head and empty."""
    from fupin.warehouse import db

    url = f"sqlite:///{data_root / 'warehouse.sqlite'}" if request.param == "sqlite" else empty_pg_warehouse()
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    db.upgrade(url)
    return url


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """Airflow's own metadata DB (SQLite) for dag.test(), migrated once per session."""
    subprocess.run([str(Path(sys.executable).with_name("airflow")), "db", "migrate"], check=True, capture_output=True)
    return os.environ["AIRFLOW_HOME"]


@pytest.fixture
def sqlite_warehouse(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from fupin.warehouse import db

    url = f"sqlite:///{data_root / 'warehouse.sqlite'}"
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    db.upgrade(url)
    return url


@pytest.fixture(scope="session")
def people():
    from fupin.demo.samples import make_population

    return make_population(40, seed=7)


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free local port that keeps what it receives."""

    def __init__(self, port: int, refuse_after: int | None = None):
        from email import message_from_bytes, policy

        self._parse = lambda data: message_from_bytes(data, policy=policy.default)
        self.port = port
        self.refuse_after = refuse_after
        self.messages: list = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        if self.refuse_after is not None and len(self.messages) >= self.refuse_after:
            return "421 service shutting down"
        self.messages.append(self._parse(envelope.content))
        return "250 OK"

    def start(self) -> Mailbox:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def keys(self) -> list[str]:
        return [m["X-Fupin-Key"] for m in self.messages]


def smtp_connection_uri(port: int) -> str:
    import json

    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                       "extra": {"disable_tls": True, "disable_ssl": True, "retry_limit": 0, "timeout": 5}})


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch):
    from fupin.ops.cluster import free_port

    box = Mailbox(free_port()).start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(box.port))
    yield box
    box.stop()


# --- the fast tier: `make test-fast` (pytest -m "not slow") ---------------------------------------
# Every test that starts a process, a server or a browser, or takes longer than FAST_LIMIT, is
# marked `slow` (or `airflow`/`distributed`, which are slow by nature). This check makes it true:
# in a run that leaves out the slow ones, a test that took longer fails the run, naming it.

_took: dict[str, float] = {}


def pytest_sessionstart(session) -> None:  # pytest's Session
    """The heavy libraries imported once per process, before any test: their import (1–2 s for
    Great Expectations, ~3 s for Airflow under the outbox's SMTP hook) is no test's duration."""
    if "not slow" in (session.config.getoption("markexpr") or ""):
        import airflow.providers.smtp.hooks.smtp  # noqa: F401
        import great_expectations  # noqa: F401
        import openpyxl  # noqa: F401
        import pandas  # noqa: F401
        import python_calamine  # noqa: F401


def pytest_runtest_logreport(report) -> None:  # pytest's TestReport
    _took[report.nodeid] = _took.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session, exitstatus) -> None:  # pytest's Session
    if "not slow" not in (session.config.getoption("markexpr") or "") or hasattr(session.config, "workerinput"):
        return  # judged once, by the run that saw every test's report (xdist's controller)
    over = sorted((d, n) for n, d in _took.items() if d > FAST_LIMIT)
    if over:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"tests over {FAST_LIMIT:g} s not marked slow (mark them, or make them faster):", red=True)
            for d, n in reversed(over):
                reporter.write_line(f"  {d:5.1f} s  {n}", red=True)
        session.exitstatus = 1
