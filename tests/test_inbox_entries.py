"""No entry in an inbox, and no number of them, can wedge a county's ingest: only plain files are
opened (never following a link, never blocking, judged on the opened descriptor), whatever else
is there is set aside and told to the engineers once, claims come in batches under Airflow's map
limit, and a file the platform cannot read is refused at once instead of retried for ever."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from fupin.ingest import inbox
from fupin.ingest.batch import claim_files, ingest_inbox, ingest_one
from fupin.warehouse.db import engine
from fupin.warehouse.schema import drops, outbox
from tests.helpers import count, rows, sheet, write

SOURCE = "hrss"  # one dataset (employment)
NAME = "人社局_2017年6月.csv"


def _good(path: Path, people) -> Path:
    return write(path, sheet("employment", rows("employment", people)))


def _alerts(url: str | None = None) -> list:
    with engine(url).connect() as conn:
        return conn.execute(select(outbox.c.unit, outbox.c.subject, outbox.c.body).where(outbox.c.kind == "alert:inbox_entries")).all()


def _in_time(fn, seconds: float = 60):
    """Run `fn` in a thread; fail (instead of hanging the suite) if it blocks."""
    box: dict = {}

    def run() -> None:
        try:
            box["out"] = fn()
        except BaseException as exc:  # raised again in the test's thread
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn} blocked for {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["out"]


@pytest.mark.slow
def test_entries_that_are_not_plain_files_are_set_aside_and_told_once(tmp_path, warehouse, data_root, people):
    """A FIFO, a socket, a folder named like a month's file, a symlink and a hard link to a file
    outside the data root: none is opened, followed or chmod-ed; each leaves the inbox for
    quarantine/<source>/refused/, one alert lists them, and the good file beside them is ingested."""
    box = data_root / "shares" / SOURCE / "报送"
    os.mkfifo(box / "人社局_2017年7月.csv")
    (box / "人社局_2017年8月.xlsx").mkdir()
    outside = tmp_path / "outside.csv"
    outside.write_text("身份证号\n", encoding="utf-8")
    os.chmod(outside, 0o644)
    os.link(outside, box / "人社局_2017年9月.csv")
    os.symlink(outside, box / "人社局_2017年10月.csv")
    here = os.getcwd()
    os.chdir(box)  # a socket's path must be short
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind("人社局_2017年11月.csv")
    finally:
        os.chdir(here)
    _good(box / NAME, people)

    out = _in_time(ingest_inbox)
    sock.close()
    assert [r.status for r in out] == ["accepted"] and count("employment", "2017-06", warehouse) > 0
    assert sorted(os.listdir(box)) == []
    refused = sorted(p.name.split("__", 1)[1] for p in (data_root / "quarantine" / SOURCE / "refused").iterdir())
    assert refused == sorted(["人社局_2017年7月.csv", "人社局_2017年8月.xlsx", "人社局_2017年9月.csv", "人社局_2017年10月.csv",
                              "人社局_2017年11月.csv"])
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644 and outside.read_text(encoding="utf-8") == "身份证号\n"
    (alert,) = _alerts(warehouse)
    assert alert.unit == "ops" and "5 项" in alert.subject
    for word in ("管道", "文件夹", "硬链接", "符号链接", "套接字"):
        assert word in alert.body
    assert ingest_inbox() == [] and len(_alerts(warehouse)) == 1  # told once


def test_a_fifo_swapped_in_after_the_scan_is_never_opened_blocking(tmp_path, sqlite_warehouse, data_root, people, monkeypatch):
    """The scan saw a plain file; a FIFO was renamed over it before the claim: the claim opens it
    without blocking, sees what it is on the descriptor, and sets it aside."""
    box = data_root / "shares" / SOURCE / "报送"
    path = _good(box / NAME, people)
    stale = inbox.entries(SOURCE)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    os.rename(fifo, path)
    monkeypatch.setattr(inbox, "entries", lambda source, now=None: stale if source == SOURCE else ([], []))
    batch = _in_time(inbox.claim_batch, 20)
    assert batch.claimed == [] and [e.why for e in batch.refused] == ["是管道（FIFO），不是文件"]
    assert not path.exists() and not list((data_root / "work" / SOURCE).iterdir())


def test_an_inbox_folder_that_is_a_link_is_not_followed(tmp_path, sqlite_warehouse, data_root, people):
    """inbox/hrss made a link to another county's inbox: its files are not taken, the link stays
    (it is the folder, not a drop) and the engineers are told."""
    other = tmp_path / "other-county" / "shares" / SOURCE / "报送"
    other.mkdir(parents=True)
    theirs = _good(other / NAME, people)
    shutil.rmtree(data_root / "shares" / SOURCE / "报送")
    os.symlink(other, data_root / "shares" / SOURCE / "报送")
    assert ingest_inbox() == []
    assert theirs.exists() and (data_root / "shares" / SOURCE / "报送").is_symlink()
    (alert,) = _alerts(sqlite_warehouse)
    assert "符号链接" in alert.body


def test_claims_come_in_batches_under_the_map_limit(tmp_path, sqlite_warehouse, data_root, people):
    """More files than one run takes: a run claims `max_per_run`, in batches of `files_per_task`
    (one mapped task each, under Airflow's max_map_length), the rest wait in the inbox,
    untouched, for the next run; nothing is swallowed."""
    from fupin.ingest.batch import files_per_task

    assert 0 < inbox.max_per_run() <= 1000
    box = data_root / "shares" / SOURCE / "报送"
    for n in range(1100):
        (box / f"人社局_2017年6月_{n:04d}.csv").write_text("x\n", encoding="utf-8")
    batches = claim_files()
    first = [i["path"] for b in batches for i in b["files"]]
    assert len(first) == len(set(first)) == inbox.max_per_run() and len(os.listdir(box)) == 1100 - inbox.max_per_run()
    assert 1 < len(batches) <= 1024 and all(0 < len(b["files"]) <= files_per_task() for b in batches)
    assert all(len(b["label"]) <= 250 and b["label"].startswith(Path(b["files"][0]["path"]).name + "、") for b in batches)
    # the next run takes the unfinished claims first (the same ones): nothing new is swallowed meanwhile
    assert {i["path"] for b in claim_files() for i in b["files"]} == set(first)
    assert len(os.listdir(box)) == 1100 - inbox.max_per_run()


@pytest.mark.slow
def test_each_batch_is_ingested_and_the_next_takes_the_rest(tmp_path, sqlite_warehouse, data_root, people):
    box = data_root / "shares" / SOURCE / "报送"
    for n in range(1, 8):
        _good(box / f"人社局_2017年{n}月.csv", people)
    taken = []
    while True:
        batch = inbox.claim_batch(limit=3)
        taken.append(len(batch.claimed))
        for c in batch.claimed:
            ingest_one({"source": c.source, "path": str(c.path)})
        if not batch.more:
            break
    assert taken == [3, 3, 1] and not os.listdir(box)
    with engine().connect() as conn:
        assert conn.execute(select(drops.c.drop_id)).all().__len__() == 7


def test_the_watcher_announces_what_is_still_waiting_again():
    """A file left for the next run is announced again after `reannounce_seconds`, so the next run
    follows at once; a file already announced and not yet due is not."""
    from fupin.ingest.watch import to_announce

    new, seen = to_announce({"a": (1, 1), "b": (1, 1)}, {}, at=100.0, again_after=60)
    assert new == ["a", "b"]
    assert to_announce({"a": (1, 1), "b": (1, 1)}, seen, at=130.0, again_after=60)[0] == []
    assert to_announce({"a": (1, 1), "b": (2, 2)}, seen, at=130.0, again_after=60)[0] == ["b"]  # changed
    new, seen = to_announce({"a": (1, 1)}, seen, at=161.0, again_after=60)
    assert new == ["a"] and set(seen) == {"a"}  # still waiting; b left (claimed)


def _unprivileged(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    """`fupin` as root without the right to read others' files (what a file-share's 0600 file is
    to the platform's user)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to drop the right to read others' files")
    return subprocess.run(["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
                           str(Path(sys.executable).with_name("fupin")), *argv],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_a_file_the_platform_cannot_read_is_refused_at_once(tmp_path, sqlite_warehouse, data_root, people):
    """A 0600 file of another user in the inbox is not claimed, retried or lost: set aside at the
    first run, the engineers told why; the good file beside it is ingested."""
    box = data_root / "shares" / SOURCE / "报送"
    locked = _good(box / "人社局_2017年7月.csv", people)
    os.chown(locked, 12345, 12345)
    os.chmod(locked, 0o600)
    _good(box / NAME, people)
    env = {"FUPIN_DATA_ROOT": str(data_root), "FUPIN_WAREHOUSE_URL": sqlite_warehouse}
    done = _unprivileged(["inbox", "--json"], env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert not locked.exists() and os.listdir(box) == []
    (alert,) = _alerts(sqlite_warehouse)
    assert "无权读取" in alert.body and "人社局_2017年7月.csv" in alert.body


@pytest.mark.slow
def test_a_claim_that_became_unreadable_is_quarantined_after_its_attempts(tmp_path, sqlite_warehouse, data_root, people):
    """A claimed file that cannot be read any more fails the same way each run; after
    `max_attempts` it is quarantined with a receipt and the engineers' alert — not retried for ever."""
    import yaml

    conf = tmp_path / "conf"
    (conf / "config").mkdir(parents=True)
    settings = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "settings.yaml").read_text(encoding="utf-8"))
    settings["ingest"]["claims"]["max_attempts"] = 2
    (conf / "config" / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    c = inbox.claim(SOURCE, _good(data_root / "shares" / SOURCE / "报送" / NAME, people))
    os.chown(c.path, 12345, 12345)
    os.chmod(c.path, 0o600)
    env = {"FUPIN_DATA_ROOT": str(data_root), "FUPIN_WAREHOUSE_URL": sqlite_warehouse, "FUPIN_CONFIG_DIR": str(conf)}
    first = _unprivileged(["inbox"], env)
    assert first.returncode == 1 and "无权访问" in first.stderr and "Traceback" not in first.stderr
    second = _unprivileged(["inbox", "--json"], env)
    assert "system_failure" in second.stdout, (first.stderr, second.stdout, second.stderr)
    assert not c.path.exists() and not list((data_root / "work" / SOURCE).iterdir())
    with engine(sqlite_warehouse).connect() as conn:
        (row,) = conn.execute(select(drops.c.status)).all()
        kinds = sorted(r.kind for r in conn.execute(select(outbox.c.kind)))
    assert row.status == "rejected" and kinds == ["alert:ingest_gave_up", "receipt"]
    assert (data_root / "quarantine" / SOURCE / c.path.name).exists()


@pytest.fixture
def small_disk(tmp_path):
    """A data root on a 1 MiB file system (a disk that fills up)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a small tmpfs")
    root = tmp_path / "small"
    root.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(root)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield root
    subprocess.run(["umount", "-l", str(root)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_named_and_leaves_nothing_behind(tmp_path, small_disk, monkeypatch):
    """The archive copy does not fit: the ingest fails saying the disk is full (not an exception
    type), no half copy in archive/ and no probe file in work/; the file stays claimed for the next
    run, which takes it once there is room."""
    from fupin.ingest.inbox import ensure_folders
    from fupin.warehouse import db

    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    db.upgrade(url)
    monkeypatch.setenv("FUPIN_DATA_ROOT", str(small_disk))
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    ensure_folders()
    big = small_disk / "shares" / SOURCE / "报送" / NAME
    big.write_bytes(b"a," * 300_000 + b"\n")  # 600 kB: its archive copy cannot fit beside it
    (failed,) = ingest_inbox()
    assert failed.status == "failed" and failed.error.startswith("磁盘已满"), failed
    leftovers = [p.name for p in small_disk.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".probe")]
    assert leftovers == []
    assert len([p for p in (small_disk / "work" / SOURCE).iterdir() if "__" in p.name]) == 1


def test_thousands_of_fifos_at_once_are_set_aside_in_one_alert(tmp_path, sqlite_warehouse, data_root):
    """Thousands of FIFOs at once: listed, set aside and told in one alert, without opening any."""
    box = data_root / "shares" / SOURCE / "报送"
    for n in range(2000):
        os.mkfifo(box / f"p{n}.csv")
    assert _in_time(ingest_inbox, 120) == []
    assert os.listdir(box) == [] and len(os.listdir(data_root / "quarantine" / SOURCE / "refused")) == 2000
    (alert,) = _alerts(sqlite_warehouse)
    assert "2000 项" in alert.subject and "另有 1950 项" in alert.body
