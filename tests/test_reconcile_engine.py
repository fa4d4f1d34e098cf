"""The reconciliation engine's own parts: the column-wise read of the warehouse on both databases,
the SQL twin of the one-digit-apart rule, and a whole month reconciled from the warehouse."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from fupin.ids import check_digit
from tests.helpers import on_warehouse, store_snapshot


@pytest.fixture(scope="module")
def demo_people():
    """The demo county's population (its months plant every rule's cases)."""
    from fupin.demo.population import build_population

    return build_population(2016)


@pytest.mark.slow
def test_the_arrow_read_equals_the_row_read_on_both_databases(warehouse, demo_people):
    """Every value the rules read comes back the same through the column-wise read as through
    pandas, also for a column empty in its first 1,500 rows (a reader that types a column on its
    first rows — ADBC's SQLite driver does — fails on the first text after a run of NULLs)."""
    from fupin import queries
    from fupin.demo import render
    from fupin.reconcile.rules import RULE_COLUMNS
    from fupin.warehouse import db

    reg = pd.DataFrame(render.rows(demo_people, "registry", "2017-06"))
    assert len(reg) > 1600
    reg["labor_capacity"] = reg["labor_capacity"].astype(object)
    reg.loc[reg.index[:1500], "labor_capacity"] = None
    reg.loc[reg.index[:1500], "income_per_capita"] = None
    store_snapshot(warehouse, "registry", "2017-06", reg)
    eng = db.engine(warehouse)
    with eng.connect() as conn:
        small = queries.snapshot_arrow(conn, "registry", "2017-06", RULE_COLUMNS["registry"])  # SQLite: through `conn`
        frame = queries.snapshot(conn, "registry", "2017-06", RULE_COLUMNS["registry"])
    (apart,) = queries.snapshots_arrow([(eng.url, "registry", "2017-06", RULE_COLUMNS["registry"])])  # SQLite: the reader process
    by_id = frame.astype(object).where(frame.notna(), None).set_index("id_number")
    for table in (small, apart):
        assert table.column_names == RULE_COLUMNS["registry"]
        assert table.num_rows == len(reg)
        got = {r["id_number"]: r for r in table.to_pylist()}
        for col in RULE_COLUMNS["registry"][1:]:
            assert {i: got[i][col] for i in got} == by_id[col].to_dict(), col
        assert sum(r["labor_capacity"] is None for r in got.values()) == 1500


def test_one_digit_apart_in_sql_is_the_python_rule():
    """The SQL macro R5 runs on, against the Python rule, over IDs one digit off, neighbours
    swapped, two digits off, far swaps, the same ID, only the check digit apart and short ones."""
    from fupin.reconcile.engine import Session
    from fupin.reconcile.rules import one_digit_apart

    rnd = random.Random(15)
    pairs = []
    for _ in range(400):
        body = "440224" + f"{rnd.randint(1930, 2010)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}" + f"{rnd.randint(0, 999):03d}"
        a = body + check_digit(body)
        i, j = sorted(rnd.sample(range(17), 2))
        one = body[:i] + str((int(body[i]) + 1) % 10) + body[i + 1:]
        swap = body[:i] + body[i + 1] + body[i] + body[i + 2:] if i < 16 else body
        far = body[:i] + body[j] + body[i + 1:j] + body[i] + body[j + 1:]
        two = one[:j] + str((int(one[j]) + 3) % 10) + one[j + 1:]
        pairs += [(a, b + check_digit(b)) for b in (one, swap, far, two)]
        pairs += [(a, a), (a, body + ("X" if a[-1] != "X" else "0")), (a, a[:17]), (a[:15], one[:15])]
    with Session() as s:
        s.mapping("pairs", {f"{a}|{b}": b for a, b in pairs})
        got = dict(s.rows("select k, one_digit_apart(split_part(k, '|', 1), v) from pairs"))
    expected = {f"{a}|{b}": one_digit_apart(a, b) for a, b in pairs}
    assert got == expected
    assert sum(expected.values()) > 500 and sum(not v for v in expected.values()) > 500


@pytest.mark.slow
def test_a_month_reconciled_from_the_warehouse_finds_the_planted_cases(warehouse, demo_people):
    """Both registries of a month with planted cases of R2, R4 and R5, stored in the warehouse
    (SQLite and PostgreSQL): `reconcile_month` reads them as Arrow and stores exactly the
    planted findings, with each finding's id, and the rates."""
    from fupin import queries
    from fupin.config import settings
    from fupin.demo import render
    from fupin.demo.population import expected_findings
    from fupin.reconcile.rules import reconcile
    from fupin.reconcile.run import reconcile_month
    from fupin.warehouse import db

    month = "2017-05"
    frames = {d: pd.DataFrame(render.rows(demo_people, d, month)) for d in ("registry", "dibao")}
    for dataset, frame in frames.items():
        store_snapshot(warehouse, dataset, month, frame)
    with on_warehouse(warehouse):
        summary = reconcile_month(month)
    expected = expected_findings(demo_people, month)
    assert summary.counts == {rule: len(keys) for rule, keys in expected.items()}
    assert sum(summary.counts.values()) >= 3
    with db.engine(warehouse).connect() as conn:
        stored = queries.findings_of(conn, month)
        rates = queries.rate_basis(conn, month)
    as_manifest = {"R4": lambda k: k.split(":", 1), "R5": lambda k: k.split("|")}
    got = {rule: sorted(as_manifest.get(rule, lambda k: k)(f["key"]) for f in stored if f["rule"] == rule) for rule in expected}
    assert got == expected
    assert all(len(f["finding_id"]) == 16 for f in stored)
    cfg = settings()["reconciliation"]
    in_memory = reconcile(frames["registry"], frames["dibao"], poverty_standard=cfg["poverty_standard"],
                          exit_threshold=cfg["exit_threshold"][2017]).rates
    assert rates == {(r.kind, r.town): (r.numerator, r.denominator) for r in in_memory.itertuples()}
    assert rates[("应保尽保率", "全县")][1] > 100


@pytest.mark.slow
def test_reading_a_sqlite_warehouse_keeps_the_locks_of_its_open_connections(sqlite_warehouse, demo_people):
    """The column-wise read must not bring a second SQLite library into the process: closing its
    file releases every POSIX lock the process holds on the warehouse (sqlite.org/howtocorrupt.html
    §2.2.1), so another process could checkpoint and truncate the WAL under an open read
    transaction — with ADBC's SQLite driver this checkpoint succeeds; it must find the reader."""
    import subprocess
    import sys

    from sqlalchemy import text

    from fupin import queries
    from fupin.demo import render
    from fupin.warehouse import db

    store_snapshot(sqlite_warehouse, "registry", "2017-06", pd.DataFrame(render.rows(demo_people, "registry", "2017-06")))
    path = sqlite_warehouse.removeprefix("sqlite:///")
    other = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('create table if not exists t (x)');"
             "c.execute('insert into t values (1)'); c.commit(); print(c.execute('pragma wal_checkpoint(TRUNCATE)').fetchone()[0])")
    with db.engine(sqlite_warehouse).connect() as held:
        held.exec_driver_sql("begin")
        before = held.execute(text("select count(*) from registry")).scalar()  # a read transaction, holding its WAL lock
        table = queries.snapshot_arrow(held, "registry", "2017-06", ["id_number"])
        busy = subprocess.run([sys.executable, "-c", other, path], capture_output=True, text=True, check=True).stdout.strip()
        assert busy == "1"  # the checkpoint could not pass our reader
        assert table.num_rows == before == held.execute(text("select count(*) from registry")).scalar()
        held.exec_driver_sql("rollback")


@pytest.mark.slow
def test_a_sqlite_warehouse_nobody_has_open_is_read_whole_by_the_reader_process(sqlite_warehouse, demo_people):
    """The reader process reads two tables at a time. On a WAL file no process has open and whose
    last writer died (its -wal and -shm left behind), the first of them to open it rebuilds the
    index under a lock: the other waits for it, as SQLAlchemy's connections do — it failed with
    "database is locked", one read in two."""
    import subprocess
    import sys

    from fupin.demo import render
    from fupin.warehouse import arrow, db
    from fupin.warehouse.schema import dataset_tables

    reg = pd.DataFrame(render.rows(demo_people, "registry", "2017-06"))
    for month in ("2017-05", "2017-06"):
        store_snapshot(sqlite_warehouse, "registry", month, reg)
    eng = db.engine(sqlite_warehouse)
    requests = [arrow.request(eng.url, dataset_tables["registry"], ["id_number"], {"month": m}) for m in ("2017-05", "2017-06")] * 3
    died = ("import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('create table if not exists t (x)');"
            "c.execute('insert into t values (1)'); c.commit(); os._exit(0)")  # gone without closing: -wal and -shm stay
    for _ in range(5):
        eng.dispose()  # no connection of this process holds the file open
        subprocess.run([sys.executable, "-c", died, eng.url.database], check=True)
        assert [t.num_rows for t in arrow.read_many(requests)] == [len(reg)] * 6


def test_a_sqlite_read_that_fails_says_why(tmp_path):
    """The reader process's failure comes back as an error naming what went wrong, never a hang
    or an empty table."""
    from sqlalchemy.engine import make_url

    from fupin.warehouse import arrow
    from fupin.warehouse.schema import dataset_tables

    missing = make_url(f"sqlite:///{tmp_path / 'no-such-warehouse.sqlite'}")
    with pytest.raises(RuntimeError, match="failed to open .*no-such-warehouse.sqlite"):
        arrow.read_many([arrow.request(missing, dataset_tables["registry"], ["id_number"], {"month": "2017-06"})])
