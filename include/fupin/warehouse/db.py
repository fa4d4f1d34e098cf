"""Warehouse connections and migrations: SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from fupin.config import data_root

MIGRATIONS = Path(str(resources.files("fupin.warehouse") / "migrations"))  # package data


def warehouse_url() -> str:
    """The active county's warehouse (fupin.county), else `FUPIN_WAREHOUSE_URL`, else the Airflow
    connection `fupin_warehouse` given as an environment URI (`AIRFLOW_CONN_FUPIN_WAREHOUSE`),
    else a SQLite file under the data root."""
    from fupin.county import current

    url = current().warehouse_url or os.environ.get("FUPIN_WAREHOUSE_URL")
    if url:
        return url
    conn = os.environ.get("AIRFLOW_CONN_FUPIN_WAREHOUSE")
    if conn:
        scheme, rest = conn.split("://", 1)
        return {"postgres": "postgresql+psycopg2", "postgresql": "postgresql+psycopg2"}.get(scheme, scheme) + "://" + rest
    return f"sqlite:///{data_root() / 'warehouse.sqlite'}"


def engine(url: str | None = None) -> Engine:
    """The engine of `url` (default: `warehouse_url()`), one per URL per process."""
    return _engine(url or warehouse_url())


@cache
def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        eng = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(eng, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return eng
    return create_engine(url, pool_pre_ping=True)


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Create or upgrade the warehouse to the latest migration (`fupin db upgrade`)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
