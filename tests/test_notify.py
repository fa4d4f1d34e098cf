"""The one notice sender, against a real SMTP server."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from fupin.notify.outbox import enqueue, notices, problems, send_pending
from tests.conftest import Mailbox
from tests.helpers import ingest, rows, sheet, write

LATER = dt.timedelta(hours=2)


def _queue(n: int) -> None:
    for i in range(n):
        enqueue("reconciliation", f"2017-{i + 1:02d}", "civil_affairs", "receipt_test", text=f"第 {i} 条")


@pytest.mark.usefixtures("test_template")
def test_each_notice_is_queued_once_and_sent_once(sqlite_warehouse, mailbox):
    _queue(3)
    _queue(3)  # a retried task queues again: nothing new
    assert len(notices()) == 3
    assert send_pending() == {"sent": 3, "failed": 0, "uncertain": 0}
    assert send_pending(dt.datetime.now() + LATER) == {"sent": 0, "failed": 0, "uncertain": 0}
    assert sorted(mailbox.keys()) == [f"reconciliation/2017-0{i}/civil_affairs" for i in (1, 2, 3)]
    msg = mailbox.messages[0]
    assert msg["To"] == "mzj@renhua.fupin.example"
    assert "测试" in msg["Subject"]


@pytest.mark.usefixtures("test_template")
def test_server_stopping_mid_batch_loses_nothing_and_sends_nothing_twice(sqlite_warehouse, monkeypatch):
    from fupin.ops.cluster import free_port
    from tests.conftest import smtp_connection_uri

    port = free_port()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(port))
    _queue(6)
    first = Mailbox(port, refuse_after=2).start()  # accepts two, then goes away
    try:
        got = send_pending()
    finally:
        first.stop()
    assert got == {"sent": 2, "failed": 4, "uncertain": 0}
    failed = problems()
    assert len(failed) == 4 and all(n.status == "failed" and n.last_error for n in failed)
    # while it is down, the retry fails again and keeps them
    assert send_pending(dt.datetime.now() + LATER) == {"sent": 0, "failed": 4, "uncertain": 0}
    back = Mailbox(port).start()
    try:
        assert send_pending(dt.datetime.now() + 5 * LATER) == {"sent": 4, "failed": 0, "uncertain": 0}
    finally:
        back.stop()
    keys = first.keys() + back.keys()
    assert sorted(keys) == sorted(f"reconciliation/2017-{i:02d}/civil_affairs" for i in range(1, 7))
    assert len(set(keys)) == len(keys)
    assert problems() == []


@pytest.mark.usefixtures("test_template")
def test_a_send_interrupted_after_the_claim_is_never_resent_by_itself(sqlite_warehouse, mailbox):
    from sqlalchemy import update

    from fupin.warehouse.db import engine
    from fupin.warehouse.schema import outbox

    _queue(1)
    with engine().begin() as conn:  # what a crash between the claim and the SMTP answer leaves
        conn.execute(update(outbox).values(status="sending", attempts=1))
    assert send_pending(dt.datetime.now() + LATER) == {"sent": 0, "failed": 0, "uncertain": 0}
    assert mailbox.messages == []
    assert [n.status for n in problems()] == ["sending"]


@pytest.mark.slow
def test_rejected_file_receipt_is_mailed_to_its_unit_with_the_marked_copy(tmp_path, sqlite_warehouse, mailbox, people):
    from fupin.ingest.notices import queue_receipt

    data = copy.deepcopy(rows("dibao", people))
    data[0]["status"] = "不详"
    r = ingest("civil_affairs", write(tmp_path / "民政局_2017年6月.xlsx", sheet("dibao", data)))
    assert not queue_receipt(r)  # queued with the drop's record already: once
    send_pending()
    (msg,) = mailbox.messages
    assert msg["To"] == "mzj@renhua.fupin.example" and "回执" in msg["Subject"]
    body = msg.get_body(("html",)).get_content()
    assert "第 2 行" in body and "状态" in body
    names = [p.get_filename() for p in msg.iter_attachments()]
    assert len(names) == 1 and names[0].endswith("标注.xlsx")
    # no full ID number anywhere in the mail
    assert not any(p.id_number in msg.as_string() for p in people)


@pytest.fixture
def test_template(tmp_path, monkeypatch):
    """A throwaway template for the outbox mechanics tests, beside the real ones."""
    import shutil

    from fupin.notify import outbox

    folder = tmp_path / "templates"
    shutil.copytree(outbox.TEMPLATES, folder)
    (folder / "receipt_test.j2").write_text("测试通知 {{ unit.name }}\n{{ text }}\n", encoding="utf-8")
    monkeypatch.setattr(outbox, "TEMPLATES", folder)
    outbox._jinja.cache_clear()
    yield
    outbox._jinja.cache_clear()


def test_reminders_on_the_tenth_and_the_fifteenth_once_each(sqlite_warehouse, mailbox, tmp_path, people):
    from fupin.config import contracts
    from fupin.notify.reminders import remind

    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", rows("registry", people))))
    bad = copy.deepcopy(rows("dibao", people))
    bad[0]["status"] = "不详"
    ingest("civil_affairs", write(tmp_path / "dibao_201706.xlsx", sheet("dibao", bad)))  # rejected: still missing
    assert remind(dt.date(2017, 7, 9)) == []
    late = remind(dt.date(2017, 7, 10))
    # every unit but 县扶贫办 misses its one file; 县扶贫办 sent its 建档立卡 but not its 扶贫项目库
    assert "civil_affairs" in late and "finance" in late and len(late) == len(contracts().sources) == 8
    assert remind(dt.date(2017, 7, 10)) == late  # a re-run queues nothing new
    send_pending()
    reminders = [m for m in mailbox.messages if "催报" in m["Subject"]]  # beside the two files' receipts
    assert len(reminders) == 8 and all(m["Cc"] is None for m in reminders)
    office = next(m for m in reminders if m["To"] == "fpb@renhua.fupin.example")
    assert "“扶贫项目库”" in office["Subject"] and "建档立卡" not in office["Subject"]
    assert "县扶贫办_扶贫项目库_2017年6月.xlsx" in office.get_body(("plain",)).get_content()
    water = next(m for m in reminders if m["To"] == "swj@renhua.fupin.example")
    assert "“" not in water["Subject"]  # a unit with one file: its file is not named
    assert len(mailbox.messages) == 10 and sum("回执" in m["Subject"] for m in mailbox.messages) == 2
    remind(dt.date(2017, 7, 15))
    send_pending()
    second = mailbox.messages[10:]
    assert len(second) == 8 and all(m["Cc"] == "fpb@renhua.fupin.example" for m in second)
    assert "第二次催报" in second[0]["Subject"]


def test_each_town_gets_only_its_own_r6_cases_masked(sqlite_warehouse, mailbox):
    from fupin.reconcile.notices import queue_exit_checks
    from fupin.reconcile.run import Summary

    rows = [{"town": "丹霞街道", "household_id": "4402240000010001", "person_id": "44022419800101123X", "persisted_months": 1},
            {"town": "闻韶镇", "household_id": "4402240000020001", "person_id": "440224198202021234", "persisted_months": 3}]
    september = Summary("2017-09", "2017-09", "2017-09", "", {}, {})
    assert queue_exit_checks(september, rows) == 2
    assert queue_exit_checks(september, rows) == 0
    send_pending()
    by_to = {m["To"]: m for m in mailbox.messages}
    danxia = by_to["t001@renhua.fupin.example"].get_body(("html",)).get_content()
    assert "440224********123X" in danxia and "4402240000010001" in danxia
    assert "44022419800101123X" not in danxia and "4402240000020001" not in danxia
    assert "7,101 元" in danxia and "你街道" in danxia  # the threshold as written; 丹霞街道 addressed as itself


class _RefusingOne(Mailbox):
    """A server that refuses one recipient (550), as a full or misspelt mailbox makes it."""

    def __init__(self, port: int, refused: str):
        super().__init__(port)
        self.refused = refused
        self.envelopes: list[list[str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's hook
        if address == self.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(list(envelope.rcpt_tos))
        return await super().handle_DATA(server, session, envelope)


class _Swallowing(Mailbox):
    """A server that takes the message and never answers it (a hung relay)."""

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.messages.append(self._parse(envelope.content))
        await asyncio.sleep(30)
        return "250 OK"


def _three_recipients() -> None:
    """An escalation: to the civil affairs bureau, copied to two leaders."""
    enqueue("reconciliation", "2017-06", "civil_affairs", "receipt_test", cc_leaders_of=("poverty_office", "civil_affairs"), text="升级")


@pytest.mark.usefixtures("test_template")
def test_a_refused_recipient_fails_alone_and_is_retried_alone(sqlite_warehouse, monkeypatch):
    from fupin.ops.cluster import free_port
    from tests.conftest import smtp_connection_uri

    port = free_port()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection_uri(port))
    _three_recipients()
    server = _RefusingOne(port, refused="fpb-leader@renhua.fupin.example").start()
    try:
        assert send_pending() == {"sent": 0, "failed": 1, "uncertain": 0}
    finally:
        server.stop()
    assert server.envelopes == [["mzj@renhua.fupin.example", "mzj-leader@renhua.fupin.example"]]
    (n,) = problems()
    assert n.status == "failed" and "fpb-leader@renhua.fupin.example" in n.last_error and "550" in n.last_error
    fixed = _RefusingOne(port, refused="nobody").start()
    try:
        assert send_pending(dt.datetime.now() + LATER) == {"sent": 1, "failed": 0, "uncertain": 0}
    finally:
        fixed.stop()
    assert fixed.envelopes == [["fpb-leader@renhua.fupin.example"]]  # only the one that missed it
    assert problems() == []


@pytest.mark.slow
@pytest.mark.usefixtures("test_template")
def test_a_server_that_swallows_data_and_hangs_never_gets_the_notice_twice(sqlite_warehouse, monkeypatch, capsys):
    import json

    from fupin.cli import main
    from fupin.ops.cluster import free_port

    port = free_port()
    uri = json.loads(__import__("tests.conftest", fromlist=["x"]).smtp_connection_uri(port))
    uri["extra"]["timeout"] = 1
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(uri))
    _queue(1)
    server = _Swallowing(port).start()
    try:
        assert send_pending() == {"sent": 0, "failed": 0, "uncertain": 1}
        assert send_pending(dt.datetime.now() + 10 * LATER) == {"sent": 0, "failed": 0, "uncertain": 0}
    finally:
        server.stop()
    assert len(server.messages) == 1
    (n,) = problems()
    assert n.status == "sending" and n.last_error.startswith("uncertain")
    assert main(["outbox"]) == 1 and "--resend" in capsys.readouterr().out
    # a person checked: it did not arrive; sent again by hand, once
    good = Mailbox(port).start()
    try:
        assert main(["outbox", "--resend", "reconciliation/2017-01/civil_affairs", "--send"]) == 0
    finally:
        good.stop()
    assert len(good.messages) == 1 and problems() == []
