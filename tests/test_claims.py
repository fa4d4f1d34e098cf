"""Nothing a bureau sends is lost, and each file has one owner: slow writers, racing
ingesters, a file that keeps failing for reasons of ours, private folders, `fupin inbox`.

The races run in real processes on SQLite and PostgreSQL (the `warehouse` fixture)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fupin.config import settings
from fupin.ingest import inbox
from fupin.ingest.batch import ingest_inbox
from fupin.warehouse.db import engine
from fupin.warehouse.schema import drops, outbox
from tests.conftest import ROOT
from tests.helpers import count, on_warehouse, rows, sheet, write

SOURCE = "hrss"


@pytest.fixture
def window(monkeypatch):
    """A one-second stability window (the default is 30 s)."""
    ing = settings()["ingest"]
    monkeypatch.setitem(ing, "stable_seconds", 1.0)
    return 1.0


def _drive(until: float, every: float = 0.25) -> list[dict]:
    """Run the ingest as the DAG would, again and again, until `until` (a monotonic time)."""
    out: list[dict] = []
    while time.monotonic() < until:
        out += ingest_inbox()
        time.sleep(every)
    return out


def _slow_write(path: Path, data: bytes, cut: int, pause: float) -> threading.Thread:
    def run() -> None:
        with open(path, "wb") as fh:  # one open file, as an SMB or a copy tool writes it
            fh.write(data[:cut])
            fh.flush()
            time.sleep(pause)
            fh.write(data[cut:])
            fh.flush()
    t = threading.Thread(target=run)
    t.start()
    return t


def _ledger(url: str) -> list:
    with engine(url).connect() as conn:
        return list(conn.execute(select(drops.c.status, drops.c.sha256, drops.c.original_name, drops.c.receipt).order_by(drops.c.recorded_at)))


@pytest.mark.slow
def test_a_writer_pausing_twice_the_window_mid_xlsx_loses_nothing(tmp_path, sqlite_warehouse, data_root, people, window):
    full = write(tmp_path / "人社局_2017年6月.xlsx", sheet("employment", rows("employment", people))).read_bytes()
    writer = _slow_write(data_root / "shares" / SOURCE / "报送" / "人社局_2017年6月.xlsx", full, len(full) // 2, pause=2 * window)
    out = _drive(time.monotonic() + 2 * window + 3 * window + 1)
    writer.join()
    out += ingest_inbox()
    assert [r.status for r in out] == ["accepted"]  # once, and complete
    (row,) = _ledger(sqlite_warehouse)
    archived = next((data_root / "archive" / row.sha256[:2]).glob(row.sha256 + "*"))
    assert archived.read_bytes() == full
    assert count("employment", "2017-06", sqlite_warehouse) == len(rows("employment", people))


@pytest.mark.slow
def test_a_csv_cut_at_a_line_and_finished_later_is_taken_again_and_replaces_the_month(tmp_path, sqlite_warehouse, data_root, people, window):
    """A CSV cut exactly at a line break looks whole: it is taken; the rest its writer adds
    after the claim goes into the claimed inode, which is watched and taken again."""
    full = write(tmp_path / "人社局_2017年6月.csv", sheet("employment", rows("employment", people))).read_bytes()
    cut = full.index(b"\n", len(full) // 2) + 1
    writer = _slow_write(data_root / "shares" / SOURCE / "报送" / "人社局_2017年6月.csv", full, cut, pause=3 * window)
    out = _drive(time.monotonic() + 3 * window + 3 * window + 1)
    writer.join()
    out += ingest_inbox()
    assert [r.status for r in out] == ["accepted", "accepted"]
    assert out[1].replaced_previous is True
    assert count("employment", "2017-06", sqlite_warehouse) == len(rows("employment", people))
    last = _ledger(sqlite_warehouse)[-1]
    assert next((data_root / "archive" / last.sha256[:2]).glob(last.sha256 + "*")).read_bytes() == full
    assert list((data_root / "work" / SOURCE).iterdir()) == []


def test_an_incomplete_workbook_waits_for_its_grace_then_is_judged(tmp_path, sqlite_warehouse, data_root, people, window, monkeypatch):
    full = write(tmp_path / "x.xlsx", sheet("employment", rows("employment", people))).read_bytes()
    path = data_root / "shares" / SOURCE / "报送" / "人社局_2017年6月.xlsx"
    path.write_bytes(full[: len(full) // 2])
    old = time.time() - 5
    os.utime(path, (old, old))
    assert inbox.scan(SOURCE) == []  # settled, but not whole: its writer may come back
    monkeypatch.setitem(settings()["ingest"]["claims"], "incomplete_grace_seconds", 2.0)
    assert inbox.scan(SOURCE, now=time.time() + 3) == [path]  # given up waiting: judged as it is
    from fupin.ingest.batch import ingest_one

    r = ingest_one({"source": SOURCE, "path": str(inbox.claim(SOURCE, path).path)})
    assert r.status == "rejected" and [e["rule"] for e in r.errors] == ["corrupt"]


_RACER = """
import json, os, sys, time
from fupin.ingest.batch import ingest_inbox
seen = []
idle = 0
go = os.path.join(os.environ["FUPIN_DATA_ROOT"], "go")
while not os.path.exists(go) or idle < 5:  # polling from before the files arrive until none are left
    got = ingest_inbox()
    seen += [r.drop_id for r in got if r.status != "failed"]
    if [r for r in got if r.status == "failed"]:
        sys.exit(3)
    idle = 0 if got or not os.path.exists(go) else idle + 1
    time.sleep(0.1)
print(json.dumps(seen))
"""


@pytest.mark.slow
@pytest.mark.parametrize("processes", [4])
def test_racing_ingesters_take_each_file_exactly_once(tmp_path, warehouse, data_root, people, processes):
    months = [f"{2017 + i // 12}-{i % 12 + 1:02d}" for i in range(40)]
    staged = tmp_path / "staged"
    for m in months:
        write(staged / f"人社局_{m[:4]}年{int(m[5:])}月.csv", sheet("employment", rows("employment", people, m)))
    env = {**os.environ, "FUPIN_DATA_ROOT": str(data_root), "FUPIN_WAREHOUSE_URL": warehouse, "FUPIN_STABLE_SECONDS": "0",
           "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", _RACER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    time.sleep(4)  # every racer has imported and is polling: the files arrive under them
    for p in sorted(staged.iterdir()):
        os.rename(p, data_root / "shares" / SOURCE / "报送" / p.name)
    (data_root / "go").touch()
    results = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0 and "Traceback" not in err, err[-3000:]
    taken = [d for out, _ in results for d in json.loads(out.strip().splitlines()[-1])]
    assert len(taken) == len(set(taken)) == 40  # every file once, by exactly one racer
    ledger = _ledger(warehouse)
    wrong = [(r.original_name, json.loads(r.receipt)["errors"][:2]) for r in ledger if r.status != "accepted"]
    assert sorted(r.status for r in ledger) == ["accepted"] * 40, wrong
    assert len({r.original_name for r in ledger}) == 40
    assert list((data_root / "work" / SOURCE).iterdir()) == []
    assert all(count("employment", m, warehouse) == len(rows("employment", people, m)) for m in months)


@pytest.mark.slow
def test_a_claim_of_a_dead_process_is_taken_over(tmp_path, sqlite_warehouse, data_root, people):
    """A process that holds a claim and dies (SIGKILL) releases it at once."""
    write(data_root / "shares" / SOURCE / "报送" / "人社局_2017年6月.xlsx", sheet("employment", rows("employment", people)))
    (c,) = inbox.claim_new()
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from pathlib import Path
from fupin.ingest import inbox
c = inbox.Claimed("{SOURCE}", Path({str(c.path)!r}))
with inbox.owned(c) as mine:
    print(mine, flush=True)
    time.sleep(60)
"""], env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "True"
    assert inbox.pending() == []  # a live owner: nobody else takes it
    holder.kill()
    holder.wait()
    (again,) = inbox.pending()
    assert again.path == c.path
    assert [r.status for r in ingest_inbox()] == ["accepted"]


@pytest.mark.slow
def test_a_file_that_keeps_failing_for_our_reasons_is_quarantined_and_engineers_told(tmp_path, sqlite_warehouse, data_root, people,
                                                                                     monkeypatch):
    from fupin.ingest import pipeline
    from fupin.warehouse import load

    monkeypatch.setitem(settings()["ingest"]["claims"], "max_attempts", 3)

    def broken(*a, **k):
        raise RuntimeError("a bug triggered by this file")

    monkeypatch.setattr(load, "replace_month", broken)
    write(data_root / "shares" / SOURCE / "报送" / "人社局_2017年6月.xlsx", sheet("employment", rows("employment", people)))
    (c,) = inbox.claim_new()
    for _ in range(2):
        with pytest.raises(RuntimeError):
            pipeline.ingest_guarded(c)
        assert c.path.exists()  # retried: still claimed
    r = pipeline.ingest_guarded(c)
    assert r.status == "rejected" and [e["rule"] for e in r.errors] == ["system_failure"]
    assert "无需修改文件" in r.text()
    assert list((data_root / "work" / SOURCE).iterdir()) == []
    assert any(p.name.endswith(".回执.txt") for p in (data_root / "quarantine" / SOURCE).iterdir())
    with engine(sqlite_warehouse).connect() as conn:
        alerts = conn.execute(select(outbox.c.unit, outbox.c.subject, outbox.c.body).where(outbox.c.kind == "alert:ingest_gave_up")).all()
        assert conn.execute(select(func.count()).select_from(drops)).scalar_one() == 1
    assert [a.unit for a in alerts] == ["ops"] and "连续 3 次" in alerts[0].subject and "RuntimeError" in alerts[0].body


def test_a_warehouse_that_is_down_is_not_counted_against_the_file(tmp_path, data_root, people, monkeypatch):
    from fupin.ingest import pipeline

    monkeypatch.setitem(settings()["ingest"]["claims"], "max_attempts", 2)
    write(data_root / "shares" / SOURCE / "报送" / "人社局_2017年6月.xlsx", sheet("employment", rows("employment", people)))
    (c,) = inbox.claim_new()
    down = "postgresql+psycopg2://nobody@127.0.0.1:9/none"  # nothing listens on port 9
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017 - whatever the driver raises for a refused connection
            with on_warehouse(down):
                pipeline.ingest_guarded(c)
    assert c.path.exists() and not (c.path.with_name(f"{c.drop_id}.attempts")).exists()


def _modes(root: Path) -> list[str]:
    bad = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            mode = p.lstat().st_mode
            if mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH):
                bad.append(f"{p.relative_to(root)} {stat.filemode(mode)}")
    return bad


@pytest.mark.slow
def test_fupin_inbox_prints_a_receipt_per_file_and_everything_it_writes_is_private(tmp_path, people):
    root = tmp_path / "fresh"
    env = {**os.environ, "FUPIN_DATA_ROOT": str(root), "FUPIN_STABLE_SECONDS": "0"}
    env.pop("FUPIN_WAREHOUSE_URL", None)
    fupin = str(Path(sys.executable).with_name("fupin"))
    subprocess.run([fupin, "db", "upgrade"], env=env, check=True, capture_output=True)
    empty = subprocess.run([fupin, "inbox"], env=env, capture_output=True, text=True)  # lays out the folders
    assert empty.returncode == 0 and "no file to ingest" in empty.stderr
    box = root / "shares" / SOURCE / "报送"
    write(box / "人社局_2017年6月.xlsx", sheet("employment", rows("employment", people)))
    data = rows("employment", people, "2017-07")
    data[0]["id_number"] = data[0]["id_number"][:-1] + ("0" if data[0]["id_number"][-1] != "0" else "1")
    write(box / "人社局_2017年7月.xlsx", sheet("employment", data))
    done = subprocess.run([fupin, "inbox", "--json"], env=env, capture_output=True, text=True)
    receipts = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted((r["month"], r["status"]) for r in receipts) == [("2017-06", "accepted"), ("2017-07", "rejected")]
    assert done.returncode == 1  # a rejected file: the engineer's shell sees it
    with engine(f"sqlite:///{root / 'warehouse.sqlite'}").connect() as conn:
        assert conn.execute(select(func.count()).select_from(outbox).where(outbox.c.kind == "receipt")).scalar_one() == 2
    assert _modes(root) == []
    assert stat.S_IMODE((root / "shares" / SOURCE / "报送").stat().st_mode) == 0o770  # the file share writes here
