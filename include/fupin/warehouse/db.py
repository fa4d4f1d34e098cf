"""Warehouse connections and migrations: SQLite file by default, PostgreSQL in production."""

from __future__ import annotations

import os
import sys
from functools import cache
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

from fupin.config import data_root

MIGRATIONS = Path(str(resources.files("fupin.warehouse") / "migrations"))  # package data


CONN_ID = "fupin_warehouse"  # the Airflow connection of a county deployment's warehouse


class SchemaBehind(RuntimeError):
    """The warehouse is at an older migration than the code: deploy did not upgrade it."""


def warehouse_url() -> str:
    """The active county's warehouse, first found of:

    - the county's `warehouse_url`, or its Airflow connection `warehouse_conn_id` (FUPIN_COUNTIES);
    - `FUPIN_WAREHOUSE_URL`;
    - the Airflow connection `fupin_warehouse` — from the UI or a secrets backend inside a task,
      from `AIRFLOW_CONN_FUPIN_WAREHOUSE` or a secrets backend anywhere;
    - a SQLite file under the data root."""
    from fupin.county import current

    county = current()
    if county.warehouse_url:
        return county.warehouse_url
    if county.warehouse_conn_id:
        found = connection_url(county.warehouse_conn_id)
        if not found:
            raise LookupError(f"county {county.code}: no Airflow connection {county.warehouse_conn_id!r} (its warehouse_conn_id)")
        return found
    url = os.environ.get("FUPIN_WAREHOUSE_URL")
    if url:
        return url
    if _airflow_has_connections():
        found = connection_url(CONN_ID)
        if found:
            return found
    return f"sqlite:///{data_root() / 'warehouse.sqlite'}"


def _airflow_has_connections() -> bool:
    """Whether asking Airflow for a connection can find one here: inside a task (the API serves
    the UI's connections), with the connection in the environment, or a secrets backend set.
    Elsewhere the question would only cost the import of Airflow."""
    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    in_task = runner is not None and getattr(runner, "SUPERVISOR_COMMS", None) is not None
    return in_task or f"AIRFLOW_CONN_{CONN_ID.upper()}" in os.environ or bool(os.environ.get("AIRFLOW__SECRETS__BACKEND"))


def connection_url(conn_id: str) -> str | None:
    """An Airflow connection as a SQLAlchemy URL (BaseHook: UI, environment, secrets backend),
    looked up once per process (inside a task each lookup is a call to the API server, and
    every `engine()` asks for the URL)."""
    return _connection_url(conn_id, os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}"))


@cache
def _connection_url(conn_id: str, _env_value: str | None) -> str | None:  # keyed by the env value: a changed one is read anew
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    scheme, rest = conn.get_uri().split("://", 1)
    return {"postgres": "postgresql+psycopg2", "postgresql": "postgresql+psycopg2"}.get(scheme, scheme) + "://" + rest


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
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            # 64 MiB of page cache (default 2 MiB): a month's load inserts into three indexes on
            # random keys (ID numbers, households), which thrash a small cache — 200,000 registry
            # rows load in about half the time
            cur.execute("PRAGMA cache_size=-65536")
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


@cache
def head_revision() -> str:
    """The newest migration this code carries."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


_checked: set[tuple[str, Path]] = set()


def require_current(url: str | None = None) -> None:
    """Fail with what to do when the warehouse is not at this code's migration (one query, once
    per process and warehouse). Tasks and commands call this; only `fupin db upgrade` (run by
    deploy: airflow-init, the make targets) changes the schema."""
    from sqlalchemy.engine import make_url

    from fupin.config import county_file

    url = url or warehouse_url()
    contracts_file = county_file("config", "contracts.yaml")
    if (url, contracts_file) in _checked:
        return
    have, want = current_revision(url), head_revision()
    shown = make_url(url).render_as_string(hide_password=True)
    if have != want:
        raise SchemaBehind(f"the warehouse {shown} is at migration {have or 'none (empty)'}, this code needs {want}: "
                           "run `fupin db upgrade` (airflow-init does it at deploy; `--all` for every county)")
    differ = contracts_differ(url)
    if differ:
        raise SchemaBehind(f"the warehouse {shown} does not have the tables {contracts_file} describes: " + "; ".join(differ)
                           + ". A dataset's columns are a migration: add one for them (or keep the contracts' columns as migrated)")
    _checked.add((url, contracts_file))


def contracts_differ(url: str | None = None) -> list[str]:
    """What differs between the active county's contracts and the warehouse's dataset tables:
    a table missing, a column missing or one the contracts do not declare."""
    from sqlalchemy import inspect

    from fupin.warehouse.schema import dataset_tables

    with engine(url).connect() as conn:
        found = inspect(conn)
        have_tables = set(found.get_table_names())
        out = []
        for name, table in dataset_tables.items():
            if name not in have_tables:
                out.append(f"no table {name}")
                continue
            have = {c["name"] for c in found.get_columns(name)}
            want = {c.name for c in table.columns}
            out += [f"{name}.{c} is missing" for c in sorted(want - have)]
            out += [f"{name}.{c} is not in the contracts" for c in sorted(have - want)]
    return out


def current_revision(url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
