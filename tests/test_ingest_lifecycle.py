"""Exactly once, nothing lost: archive, duplicates, replacement, stability, the kill, quarantine.

These run on SQLite and on PostgreSQL (the `warehouse` fixture)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from fupin.ingest import inbox
from fupin.ingest.pipeline import ingest_claimed
from fupin.warehouse.db import engine
from fupin.warehouse.schema import dataset_versions, drops, files
from tests.helpers import count, ingest, rows, rules, sheet, write


def _drops(url: str) -> list:
    with engine(url).connect() as conn:
        return list(conn.execute(select(drops.c.status, drops.c.sha256).order_by(drops.c.recorded_at)))


def test_accepted_file_is_archived_loaded_and_ledgered(tmp_path, warehouse, data_root, people):
    path = write(tmp_path / "reg_201706.xlsx", sheet("registry", rows("registry", people)))
    r = ingest("poverty_office", path)
    assert r.status == "accepted"
    archived = data_root / "archive" / r.sha256[:2] / f"{r.sha256}.xlsx"
    assert archived.read_bytes() == path.read_bytes()
    assert json.loads((data_root / "archive" / "receipts" / f"{r.drop_id}.json").read_text())["status"] == "accepted"
    assert count("registry", "2017-06", warehouse) == len(rows("registry", people))
    with engine(warehouse).connect() as conn:
        stored = conn.execute(select(drops.c.receipt).where(drops.c.drop_id == r.drop_id)).scalar_one()
    assert json.loads(stored)["rows"] == {"registry": len(rows("registry", people))}


def test_identical_bytes_again_are_a_recorded_duplicate(tmp_path, warehouse, people):
    path = write(tmp_path / "reg_201706.xlsx", sheet("registry", rows("registry", people)))
    first = ingest("poverty_office", path)
    again = ingest("poverty_office", path)
    assert (first.status, again.status) == ("accepted", "duplicate")
    assert again.duplicate_of == first.sha256
    assert [d.status for d in _drops(warehouse)] == ["accepted", "duplicate"]
    assert count("registry", url=warehouse) == len(rows("registry", people))


def test_new_file_for_the_month_replaces_its_rows(tmp_path, warehouse, people):
    data = rows("registry", people)
    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", data)))
    fewer = [r for r in data if r["household_id"] != data[0]["household_id"]]
    r = ingest("poverty_office", write(tmp_path / "reg_201706_v2.xlsx", sheet("registry", fewer)))
    assert r.status == "accepted" and r.replaced_previous
    assert count("registry", "2017-06", warehouse) == len(fewer)
    with engine(warehouse).connect() as conn:
        assert conn.execute(select(files.c.sha256)).all().__len__() == 2  # both versions stay in the ledger
        assert conn.execute(select(dataset_versions.c.sha256)).scalar_one() == r.sha256


def test_other_months_are_untouched_by_a_replacement(tmp_path, warehouse, people):
    data = rows("registry", people)
    ingest("poverty_office", write(tmp_path / "reg_201705.xlsx", sheet("registry", data)))
    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", data[:10])))
    assert count("registry", "2017-05", warehouse) == len(data)
    assert count("registry", "2017-06", warehouse) == 10


def test_rejected_file_loads_nothing_and_goes_to_quarantine_with_a_marked_copy(tmp_path, warehouse, data_root, people):
    from openpyxl import load_workbook

    data = copy.deepcopy(rows("dibao", people))
    data[2]["status"] = "暂停"
    data[4]["monthly_benefit"] = 5000
    r = ingest("civil_affairs", write(tmp_path / "民政局_2017年6月.xlsx", sheet("dibao", data)))
    assert r.status == "rejected"
    assert sorted((e["row"], e["rule"]) for e in r.errors if e["row"]) == [(4, "enum"), (6, "range")]
    assert count("dibao", url=warehouse) == 0
    q = data_root / "quarantine" / "civil_affairs"
    original = next(p for p in q.iterdir() if p.name.endswith("民政局_2017年6月.xlsx"))
    assert original.read_bytes() == (tmp_path / "民政局_2017年6月.xlsx").read_bytes()
    assert "第 4 行" in Path(str(original) + ".回执.txt").read_text()
    marked = load_workbook(r.annotated_workbook)
    ws = marked["农村低保对象"]
    status_col = [c.value for c in ws[1]].index("状态") + 1
    bad = ws.cell(row=4, column=status_col)
    assert bad.comment is not None and "可选值" in bad.comment.text
    assert bad.fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.cell(row=5, column=status_col).comment is None


def test_file_still_being_written_is_not_taken(data_root, people, tmp_path):
    write(data_root / "shares" / "poverty_office" / "报送" / "reg_201706.xlsx", sheet("registry", rows("registry", people)))
    os.environ["FUPIN_STABLE_SECONDS"] = "60"
    try:  # settings() reads the override each call: no cache to clear
        assert inbox.scan("poverty_office") == []
        later = time.time() + 61
        assert len(inbox.scan("poverty_office", now=later)) == 1
    finally:
        os.environ["FUPIN_STABLE_SECONDS"] = "0"


def test_office_lock_files_symlinks_and_folders_are_not_taken(data_root, tmp_path):
    box = data_root / "shares" / "health" / "报送"
    (box / "~$卫计局_201706.xlsx").write_bytes(b"lock")
    secret = tmp_path / "outside.xlsx"
    secret.write_bytes(b"PK\x03\x04 not ours")
    (box / "link_201706.xlsx").symlink_to(secret)
    (box / "sub").mkdir()
    (box / "sub" / "x_201706.xlsx").write_bytes(b"x")
    assert inbox.scan("health") == []
    assert secret.exists()


def test_hostile_names_never_leave_our_folders(data_root, sqlite_warehouse, people):
    assert inbox.safe_name("../../etc/passwd_201706.xlsx") == "passwd_201706.xlsx"
    # A backslash is an ordinary character in a Linux file name: a Windows share can deliver this.
    hostile = data_root / "shares" / "health" / "报送" / "a\\..\\..\\evil_201706.xlsx"
    write(hostile, sheet("medical", rows("medical", people)))
    (claimed,) = inbox.claim_new()
    assert claimed.path.parent == data_root / "work" / "health"
    assert ingest_claimed(claimed).status == "accepted"
    assert sorted(p.name for p in data_root.iterdir()) == ["archive", "inbox", "quarantine", "shares", "warehouse.sqlite",
                                                            "warehouse.sqlite-shm", "warehouse.sqlite-wal", "watch", "work"]


def test_zip_bomb_is_refused_before_parsing(tmp_path, sqlite_warehouse):
    path = tmp_path / "health_201706.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<x/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))  # compresses ~1000:1
    r = ingest("health", path)
    assert r.status == "rejected" and rules(r) == {"too_large"}


def test_formula_cells_are_copied_as_text_into_the_marked_copy(tmp_path, sqlite_warehouse, people):
    from openpyxl import load_workbook

    data = copy.deepcopy(rows("dibao", people))
    data[0]["name"] = '=HYPERLINK("http://example.invalid","x")'
    data[1]["status"] = "@SUM(1)"
    r = ingest("civil_affairs", write(tmp_path / "dibao_201706.csv", sheet("dibao", data)))
    assert r.status == "rejected"
    ws = load_workbook(r.annotated_workbook)["CSV"]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=@"]
    assert len(cells) == 2 and all(c.data_type == "s" for c in cells)


_KILLER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from sqlalchemy import event
    from fupin.county import County
    from fupin.ingest.inbox import Claimed
    from fupin.ingest.pipeline import ingest_claimed
    from fupin.warehouse.db import engine

    url, path, marker = sys.argv[1:4]
    eng = engine(url)

    # the month's rows are written (COPY on PostgreSQL, INSERTs on SQLite, neither committed)
    # when the month's version row is touched, in the same transaction: hang there
    @event.listens_for(eng, "after_execute")
    def _hang_once_the_rows_are_written(conn, clause, *args):
        if str(clause).startswith(("INSERT INTO dataset_versions", "UPDATE dataset_versions")):
            Path(marker).write_text("inside")
            time.sleep(600)

    with County(warehouse_url=url).active():
        ingest_claimed(Claimed("poverty_office", Path(path)))
    """
)


@pytest.mark.slow
def test_a_kill_in_the_middle_of_a_load_changes_nothing_and_the_rerun_loads_once(tmp_path, warehouse, data_root, people):
    data = rows("registry", people)
    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", data[:5])))
    write(data_root / "shares" / "poverty_office" / "报送" / "扶贫办_2017年6月.xlsx", sheet("registry", data))
    (claimed,) = inbox.claim_new()
    marker = tmp_path / "inside"
    proc = subprocess.Popen([sys.executable, "-c", _KILLER, warehouse, str(claimed.path), str(marker)], env=os.environ.copy())
    deadline = time.time() + 120
    while not marker.exists():
        assert proc.poll() is None, "the ingest ended before it reached the load"
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The month still holds the first file's rows, nothing of the second; the file is still claimed.
    assert count("registry", "2017-06", warehouse) == 5
    assert [d.status for d in _drops(warehouse)] == ["accepted"]
    (again,) = inbox.claim_new()
    assert again.path == claimed.path
    r = ingest_claimed(again)
    assert r.status == "accepted" and r.replaced_previous
    assert count("registry", "2017-06", warehouse) == len(data)
    assert [d.status for d in _drops(warehouse)] == ["accepted", "accepted"]
    assert inbox.claim_new() == []
    # A crash after the commit but before the clean-up: the next run only cleans up.
    claimed.path.write_bytes(b"")
    r2 = ingest_claimed(inbox.Claimed("poverty_office", claimed.path))
    assert r2.drop_id == r.drop_id and r2.status == "accepted"
    assert not claimed.path.exists()
    assert [d.status for d in _drops(warehouse)] == ["accepted", "accepted"]


def test_an_older_drop_arriving_late_does_not_overwrite_a_newer_one(tmp_path, warehouse, data_root, people):
    data = rows("registry", people)
    box = data_root / "shares" / "poverty_office" / "报送"
    old = write(box / "reg_201706_a.xlsx", sheet("registry", data[:3]))
    write(box / "reg_201706_b.xlsx", sheet("registry", data[:7]))
    os.utime(old, (time.time() - 100, time.time() - 100))
    claimed = {c.original_name: c for c in inbox.claim_new()}
    assert ingest_claimed(claimed["reg_201706_b.xlsx"]).status == "accepted"
    assert ingest_claimed(claimed["reg_201706_a.xlsx"]).status == "superseded"
    assert count("registry", "2017-06", warehouse) == 7


def test_same_bytes_named_for_another_month_are_loaded_for_it_with_a_warning(tmp_path, warehouse, people):
    data = write(tmp_path / "water.csv", sheet("water_supply", rows("water_supply", people)))
    may, june = tmp_path / "水务局_2017年5月.csv", tmp_path / "水务局_2017年6月.csv"
    may.write_bytes(data.read_bytes())
    june.write_bytes(data.read_bytes())
    first, second = ingest("water", may), ingest("water", june)
    assert (first.status, second.status) == ("accepted", "accepted")
    assert [w["rule"] for w in second.warnings] == ["same_as_other_month"]
    assert count("water_supply", "2017-05", warehouse) == count("water_supply", "2017-06", warehouse) == 105
    assert ingest("water", june).status == "duplicate"
