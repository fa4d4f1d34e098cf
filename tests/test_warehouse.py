"""The Alembic migrations build exactly the schema the code uses, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fupin.warehouse import db
from fupin.warehouse.schema import metadata


def test_migrations_match_the_schema(warehouse):
    with db.engine(warehouse).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_is_idempotent(warehouse):
    before = db.current_revision(warehouse)
    db.upgrade(warehouse)
    assert db.current_revision(warehouse) == before == "0004"


def test_default_warehouse_is_a_sqlite_file_under_the_data_root(data_root, monkeypatch):
    monkeypatch.delenv("FUPIN_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_FUPIN_WAREHOUSE", raising=False)
    assert db.warehouse_url() == f"sqlite:///{data_root / 'warehouse.sqlite'}"
    monkeypatch.setenv("AIRFLOW_CONN_FUPIN_WAREHOUSE", "postgres://u:p@h:5432/w")
    assert db.warehouse_url() == "postgresql+psycopg2://u:p@h:5432/w"
