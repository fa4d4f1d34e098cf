"""Every drop's receipt is queued exactly once — in the transaction that records the drop, or by
the next run for a drop recorded without one — and any file name makes a sendable mail. Faults
that are not a file's are named by their cause, in one line."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError

from fupin.ingest import pipeline
from fupin.ingest.batch import claim_files, ingest_inbox
from fupin.notify.outbox import send_pending
from fupin.warehouse.db import engine
from fupin.warehouse.schema import drops, outbox
from tests.helpers import count, ingest, rows, rules, sheet, write

SOURCE = "hrss"
NAME = "人社局_2017年6月.csv"


def _receipts(url: str | None = None) -> list[str]:
    with engine(url).connect() as conn:
        return list(conn.execute(select(outbox.c.period).where(outbox.c.kind == "receipt")).scalars())


def _losing_the_database_once(calls: list) -> object:
    """`pipeline.queue_receipt` whose connection drops the first time it is called; `calls` gets
    each receipt it was given."""
    real = pipeline.queue_receipt

    def queue(receipt, conn=None):
        calls.append(receipt)
        if len(calls) == 1:
            raise OperationalError("INSERT INTO outbox", {}, ConnectionResetError("server closed the connection unexpectedly"))
        return real(receipt, conn)

    return queue


def test_a_database_lost_while_the_receipt_is_queued_loses_nothing_and_sends_it_once(warehouse, data_root, people, monkeypatch):
    """The connection drops as the receipt is queued: nothing of the drop is committed (no rows,
    no record), the file stays claimed, and the next run loads it and queues its receipt once."""
    write(data_root / "shares" / SOURCE / "报送" / NAME, sheet("employment", rows("employment", people)))
    calls = []
    monkeypatch.setattr(pipeline, "queue_receipt", _losing_the_database_once(calls))
    (failed,) = ingest_inbox()
    assert failed.status == "failed" and failed.error.startswith("数据库无法连接")
    assert count("employment", url=warehouse) == 0 and _receipts(warehouse) == []
    with engine(warehouse).connect() as conn:
        assert conn.execute(select(func.count()).select_from(drops)).scalar() == 0
    (done,) = ingest_inbox()
    assert done.status == "accepted" and count("employment", url=warehouse) > 0
    assert _receipts(warehouse) == [done.drop_id] and [r.drop_id for r in calls] == [done.drop_id] * 2
    assert ingest_inbox() == [] and _receipts(warehouse) == [done.drop_id]


class _OutletEvents:
    """What Airflow hands a task as `outlet_events`: the events added through the ingest alias."""

    def __init__(self):
        self.added: list[tuple[str, str]] = []

    def __getitem__(self, alias):
        return self

    def add(self, asset, extra):
        self.added.append((asset.name.rsplit("/", 1)[-1], extra["drop_id"]))  # fupin/<dataset>


def test_a_file_failing_in_a_batch_leaves_the_others_loaded_and_the_retry_announces_them_again(sqlite_warehouse, data_root, people,
                                                                                            mailbox, monkeypatch):
    """bureau_ingest's mapped task takes several files: one failing for a reason not its own (the
    database lost as its receipt is queued) does not stop the next; the task fails, to be retried.
    Airflow keeps a task's asset events only when it succeeds, so the retry announces the file the
    failed try loaded as well as the one it loads now; each receipt goes out once."""
    from fupin.ingest.batch import FilesFailed, ingest_files

    write(data_root / "shares" / SOURCE / "报送" / NAME, sheet("employment", rows("employment", people)))
    write(data_root / "shares" / "health" / "报送" / "卫计局_2017年6月.csv", sheet("medical", rows("medical", people)))
    (batch,) = claim_files()
    assert len(batch["files"]) == 2 and "、" in batch["label"]
    calls = []
    monkeypatch.setattr(pipeline, "queue_receipt", _losing_the_database_once(calls))
    first = _OutletEvents()
    with pytest.raises(FilesFailed, match="本批 2 个文件中 1 个入库失败"):
        ingest_files(batch, outlet_events=first)
    failed_source = calls[0].source
    other = next(f["source"] for f in batch["files"] if f["source"] != failed_source)
    assert [dataset for dataset, _ in first.added] == [{"hrss": "employment", "health": "medical"}[other]]
    retry = _OutletEvents()
    done = ingest_files(batch, outlet_events=retry)
    assert sorted(d["status"] for d in done) == ["accepted", "accepted"]
    assert sorted(dataset for dataset, _ in retry.added) == ["employment", "medical"]
    assert {drop for _, drop in retry.added} == {d["drop_id"] for d in done}
    assert count("employment", url=sqlite_warehouse) == len(rows("employment", people))
    assert sorted(m["X-Fupin-Key"].rsplit("/", 1)[-1] for m in mailbox.messages) == ["health", "hrss"]


def test_a_drop_recorded_without_its_receipt_gets_it_from_the_next_run(warehouse, data_root, people):
    """A drop recorded by an older version that died before queueing its receipt: the next claim
    step queues it, once."""
    write(data_root / "shares" / SOURCE / "报送" / NAME, sheet("employment", rows("employment", people)))
    (done,) = ingest_inbox()
    with engine(warehouse).begin() as conn:
        conn.execute(delete(outbox).where(outbox.c.kind == "receipt"))
    assert claim_files() == [] and _receipts(warehouse) == [done.drop_id]
    assert claim_files() == [] and _receipts(warehouse) == [done.drop_id]


@pytest.mark.parametrize("brk", ["\r", "\n", "\f", "\x85", "\u2028", "\x0b"])
def test_any_file_name_makes_a_sendable_receipt(sqlite_warehouse, data_root, people, mailbox, brk):
    """Windows allows line breaks of several kinds in a name: the receipt goes out, its subject
    whole on one line (never cut at the break), the name as the clerk wrote it otherwise."""
    name = f"人社局{brk}2017年6月{brk}第二批.csv"
    write(data_root / "shares" / SOURCE / "报送" / name, sheet("employment", rows("employment", people)))
    (done,) = ingest_inbox()
    assert done.status == "accepted"
    assert send_pending()["sent"] == 1
    (msg,) = mailbox.messages
    assert "人社局 2017年6月 第二批.csv" in msg["Subject"] and "\n" not in str(msg["Subject"])
    assert "人社局 2017年6月 第二批.csv" in msg.get_body(("plain",)).get_content()


@pytest.mark.parametrize("month", ["2099年12月", "2009年1月"])
def test_a_month_outside_the_campaign_is_refused(sqlite_warehouse, data_root, people, tmp_path, month):
    r = ingest(SOURCE, write(tmp_path / f"人社局_{month}.csv", sheet("employment", rows("employment", people))))
    assert r.status == "rejected" and rules(r) == {"month_out_of_range"}
    assert "写错" in r.errors[0]["fix"] and count("employment", url=sqlite_warehouse) == 0


def test_a_zip_bomb_is_refused_by_its_declared_sizes(sqlite_warehouse, data_root, people, tmp_path):
    """A workbook whose one part inflates 1000-fold, padded with stored random bytes so that the
    whole's ratio looks ordinary: refused by the sizes its zip declares, before any parsing."""
    good = write(tmp_path / "good.xlsx", sheet("employment", rows("employment", people)))
    bomb = tmp_path / "人社局_2017年6月.xlsx"
    buf = io.BytesIO()
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info.filename))
        out.writestr(zipfile.ZipInfo("xl/media/image1.bin"), os.urandom(3 << 20), compress_type=zipfile.ZIP_STORED)
        out.writestr("xl/worksheets/sheet9.xml", b"<c/>" * (16 << 20), compress_type=zipfile.ZIP_DEFLATED)
    bomb.write_bytes(buf.getvalue())
    r = ingest(SOURCE, bomb)
    assert r.status == "rejected" and rules(r) == {"too_large"} and "解压后" in r.errors[0]["message"]


def test_an_attempts_count_does_not_outlive_a_successful_retry(sqlite_warehouse, data_root, people, monkeypatch):
    """A fault not the file's is counted in `.attempts`; once the file goes through, nothing of
    the count is left in work/."""
    write(data_root / "shares" / SOURCE / "报送" / NAME, sheet("employment", rows("employment", people)))
    real = pipeline.evaluate
    calls = []

    def fails_once(*args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a check that broke once")
        return real(*args, **kw)

    monkeypatch.setattr(pipeline, "evaluate", fails_once)
    (failed,) = ingest_inbox()
    assert failed.status == "failed" and any(p.suffix == ".attempts" for p in (data_root / "work" / SOURCE).iterdir())
    (done,) = ingest_inbox()
    assert done.status == "accepted" and list((data_root / "work" / SOURCE).iterdir()) == []


def test_the_cli_names_a_bad_input_or_a_fault_without_a_traceback(sqlite_warehouse, data_root, people, tmp_path, capsys, monkeypatch):
    from fupin.cli import main

    f = write(tmp_path / NAME, sheet("employment", rows("employment", people)))
    assert main(["outbox", "--resend", "foo"]) == 2
    assert "kind/period/unit" in capsys.readouterr().err
    assert main(["ingest", "--source", "nosuch", str(f)]) == 2
    err = capsys.readouterr().err
    assert "unknown source" in err and "kept in work" not in err
    assert main(["ingest", "--source", "verification", str(f)]) == 2
    assert "--unit" in capsys.readouterr().err
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", "postgresql+psycopg2://fupin@127.0.0.1:9/nowhere")
    assert main(["reconcile", "--month", "2017-06"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fupin reconcile: 数据库无法连接") and "Traceback" not in err and len(err.strip().splitlines()) == 1
