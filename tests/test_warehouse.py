"""The Alembic migrations build exactly the schema the code uses, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fupin.warehouse import db
from fupin.warehouse.schema import full_metadata


def test_migrations_match_the_schema(warehouse):
    with db.engine(warehouse).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), full_metadata())
    assert diff == []
    assert db.contracts_differ(warehouse) == []


def test_dataset_tables_follow_the_active_countys_contracts(tmp_path, monkeypatch, data_root):
    """A county with its own contracts.yaml gets its own tables (built once per contracts file, not
    fixed at import by whichever county was active), and a warehouse migrated without its extra
    column is refused at start, saying what differs."""
    import dataclasses

    import yaml

    from fupin.config import clear_caches, project_root
    from fupin.county import County
    from fupin.warehouse.schema import dataset_tables

    conf = tmp_path / "conf" / "config"
    conf.mkdir(parents=True)
    raw = yaml.safe_load((project_root() / "config" / "contracts.yaml").read_text(encoding="utf-8"))
    raw["datasets"]["employment"]["columns"].append({"header": "备注", "key": "remark", "type": "str", "required": False})
    (conf / "contracts.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    db.upgrade(url)
    own = dataclasses.replace(County(), config_dir=str(tmp_path / "conf"))
    try:
        assert "remark" not in dataset_tables["employment"].c
        with own.active():
            assert "remark" in dataset_tables["employment"].c and "remark" in dataset_tables["employment"].c  # cached
            assert db.contracts_differ(url) == ["employment.remark is missing"]
            with pytest.raises(db.SchemaBehind, match="employment.remark is missing"):
                db.require_current(url)
        assert "remark" not in dataset_tables["employment"].c  # the environment's again
        db.require_current(url)
    finally:
        clear_caches()


def test_upgrade_is_idempotent(warehouse):
    before = db.current_revision(warehouse)
    db.upgrade(warehouse)
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert db.current_revision(warehouse) == before == head and head is not None


def test_default_warehouse_is_a_sqlite_file_under_the_data_root(data_root, monkeypatch):
    monkeypatch.delenv("FUPIN_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_FUPIN_WAREHOUSE", raising=False)
    assert db.warehouse_url() == f"sqlite:///{data_root / 'warehouse.sqlite'}"
    monkeypatch.setenv("AIRFLOW_CONN_FUPIN_WAREHOUSE", "postgres://u:p@h:5432/w")
    assert db.warehouse_url() == "postgresql+psycopg2://u:p@h:5432/w"


@pytest.mark.postgres
def test_copy_on_postgresql_stores_exactly_what_inserts_store_elsewhere(tmp_path, people):
    """PostgreSQL loads with COPY, SQLite with INSERTs: the same frame reads back the same."""
    import datetime as dt

    import pandas as pd
    from sqlalchemy import select

    from fupin.warehouse import db, load
    from fupin.warehouse.schema import dataset_tables
    from tests.conftest import empty_pg_warehouse
    from tests.helpers import rows

    pg = empty_pg_warehouse()
    lite = f"sqlite:///{tmp_path / 'w.sqlite'}"
    frames = {}
    for dataset in ("registry", "employment"):
        data = rows(dataset, people)
        data[0] = {**data[0], "name": "a\tb\\c\nd\r·"}  # what COPY's text format must escape
        frame = pd.DataFrame(data).assign(sheet="Sheet1", row_no=range(3, 3 + len(data)))
        if dataset == "employment":
            frame["employment_start"] = pd.to_datetime(frame["employment_start"])
            for yes_no in ("training_willing", "trained"):  # as the ingest normalises them
                frame[yes_no] = frame[yes_no].map({"是": True, "否": False}).astype(object)
            frame.loc[1, "trained"] = None
        frames[dataset] = frame
    assert frames["registry"]["exit_year"].dtype == float  # whole years with gaps: floats
    rec = load.FileRecord("f" * 64, "d1", "poverty_office", "x.xlsx", "2017-06", "xlsx", 1, "-", dt.datetime(2017, 7, 1))
    stored = {}
    for url in (lite, pg):
        db.upgrade(url)
        with db.engine(url).begin() as conn:
            for dataset, frame in frames.items():
                assert load.replace_month(conn, dataset, "x", "2017-06", frame, rec) == "loaded"
        with db.engine(url).connect() as conn:
            stored[url] = {d: sorted(conn.execute(select(dataset_tables[d])).all(), key=lambda r: r.row_no) for d in frames}
    assert stored[pg] == stored[lite]
    reg = stored[pg]["registry"]
    assert reg[0].name == "a\tb\\c\nd\r·" and len(reg) == len(frames["registry"])
    assert {r.exit_year for r in reg} - {None} and all(isinstance(r.exit_year, int) for r in reg if r.exit_year is not None)
    emp = stored[pg]["employment"]
    assert emp[1].trained is None and any(r.trained is True for r in emp) and isinstance(emp[0].employment_start, dt.date)


def test_the_read_layer_gives_the_same_typed_snapshot_on_both_databases(warehouse, tmp_path, people):
    """Ingest a health file and a registry, then read them back through fupin.queries: the latest
    snapshot ≤ a month, booleans as booleans (SQLite stores 0/1), the submission ledger."""
    from fupin import queries
    from tests.helpers import ingest, rows, sheet, write

    medical = rows("medical", people, "2017-05")
    medical[1] = {**medical[1], "basic_insurance": "否"}
    assert ingest("health", write(tmp_path / "卫计局_2017年5月.xlsx", sheet("medical", medical))).status == "accepted"
    ingest("poverty_office", write(tmp_path / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people))))
    with db.engine(warehouse).connect() as conn:
        assert queries.latest_month(conn, "medical", "2017-09") == "2017-05"
        assert queries.latest_month(conn, "medical", "2017-04") is None
        assert queries.first_month(conn, "registry") == "2017-06"
        frame = queries.snapshot(conn, "medical", "2017-05")
        assert str(frame["basic_insurance"].dtype) == "boolean"
        assert frame.set_index("id_number")["basic_insurance"].to_dict() == {r["id_number"]: r["basic_insurance"] == "是" for r in medical}
        assert frame["basic_insurance"].value_counts().to_dict() == {True: len(medical) - 1, False: 1}
        assert list(queries.snapshot(conn, "registry", "2017-06", ["household_id"]).columns) == ["household_id"]
        assert queries.submitted_sources(conn, "2017-06") == {"poverty_office"}
        assert set(queries.ledger(conn)["source"]) == {"health", "poverty_office"}
        assert queries.has_data(conn)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_first_loads_of_one_month_at_once_take_turns_on_postgresql(people):
    """Two files of the same month loaded at the same moment, the month still empty: the second
    waits for the first and replaces it (it was dropped later) instead of failing on the key."""
    import datetime as dt
    import threading

    import pandas as pd
    from sqlalchemy import select

    from fupin.warehouse import load
    from fupin.warehouse.schema import dataset_versions
    from tests.conftest import empty_pg_warehouse
    from tests.helpers import rows

    url = empty_pg_warehouse()
    db.upgrade(url)
    frame = pd.DataFrame(rows("employment", people)).assign(sheet="Sheet1", row_no=lambda f: range(3, 3 + len(f)))
    frame["employment_start"] = pd.to_datetime(frame["employment_start"])
    for yes_no in ("training_willing", "trained"):  # as the ingest normalises them
        frame[yes_no] = frame[yes_no].map({"是": True, "否": False}).astype(object)

    def record(n: int) -> load.FileRecord:
        return load.FileRecord(f"{n}".ljust(64, "0"), f"drop{n}", "hrss", f"f{n}.xlsx", "2017-06", "xlsx", 1, "-",
                               dt.datetime(2017, 7, 1, 9, n))

    errors: list[BaseException] = []
    first = db.engine(url).connect()
    tx = first.begin()
    assert load.replace_month(first, "employment", "hrss", "2017-06", frame, record(1)) == "loaded"

    def second() -> None:
        try:
            with db.engine(url).begin() as conn:
                assert load.replace_month(conn, "employment", "hrss", "2017-06", frame, record(2)) == "replaced"
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    t = threading.Thread(target=second)
    t.start()
    t.join(1.0)
    assert t.is_alive()  # waiting for the first load's transaction
    tx.commit()
    first.close()
    t.join(30)
    assert errors == []
    with db.engine(url).connect() as conn:
        assert conn.execute(select(dataset_versions.c.sha256)).scalars().all() == [record(2).sha256]


@pytest.mark.postgres
def test_every_moment_is_a_timestamptz_on_postgresql():
    from sqlalchemy import text

    from fupin.warehouse import db
    from tests.conftest import empty_pg_warehouse

    url = empty_pg_warehouse()
    db.upgrade(url)
    with db.engine(url).connect() as conn:
        kinds = set(conn.execute(text("select data_type from information_schema.columns where table_schema = 'public' "
                                      "and data_type like 'timestamp%'")).scalars())
    assert kinds == {"timestamp with time zone"}
