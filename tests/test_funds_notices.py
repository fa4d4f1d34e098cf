"""People get the money's findings (资金监管): the month's workbook and mail to 县财政局 and 县扶贫办,
each finding beside what the files say; each 责任单位 its own projects behind schedule, answerable
in its own workbook; 县审计局 only the F1, F2 and F4 cases left unanswered into their third month,
as 疑似 — and no mail body carries an ID number in full."""

from __future__ import annotations

import datetime as dt
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

from openpyxl import load_workbook

from fupin import queries
from fupin.funds.notices import queue_notices
from fupin.funds.report import write_reports
from fupin.funds.run import check_month
from fupin.ingest.verification import evaluate as read_answers
from fupin.notify.outbox import send_pending
from fupin.warehouse.db import engine
from tests.test_funds_rules import A, B, C, Z
from tests.test_funds_run import MONTHS, loaded  # noqa: F401 - the fixture

FULL_ID = re.compile(r"\d{17}[\dX]")


def _body(msg) -> str:
    return BytesParser(policy=policy.default).parsebytes(msg.as_bytes()).get_body(("plain",)).get_content()


def _rows(path: str, sheet: str) -> list[dict]:
    ws = load_workbook(path)[sheet]
    head = [c.value for c in ws[1]]
    return [dict(zip(head, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_the_month_goes_to_both_units_with_what_each_file_says(loaded, mailbox):  # noqa: F811
    summary = check_month("2017-07")
    (paths,) = write_reports([summary])
    assert queue_notices([summary], [paths]) == 4  # 县财政局, 县扶贫办, 县交通局's road, 县水务局's water works
    assert send_pending()["sent"] == 4
    got = {m["X-Fupin-Key"].split("/")[-1]: m for m in mailbox.messages}
    assert set(got) == {"finance", "poverty_office", "transport", "water"}  # 县审计局: nothing yet, in the first month
    body = _body(got["finance"])
    assert "F2 疑似重复拨付：2 条（新增 2" in body and not FULL_ID.search(body)
    # the workbook: each payment beside its project and the registry's household
    f1 = {r["拨付单号"]: r for r in _rows(paths["all"], "F1 收款户不在册")}
    assert f1["CZ03"]["拨付明细·证件号码"] == C and f1["CZ03"]["建档立卡·记录"].startswith("2017年7月在册：丹霞街道")
    assert f1["CZ02"]["建档立卡·记录"] == "2017年7月名单中没有该户编号" and f1["CZ02"]["项目库·项目名称"] == "到户帮扶项目01"
    f2 = _rows(paths["all"], "F2 疑似重复拨付")
    assert {r["拨付明细·拨付日期"] for r in f2} == {"2017-02-10、2017-04-10", "2017-06-28、2017-07-05"}
    f5 = {r["项目编号"]: r for r in _rows(paths["all"], "F5 未立项先拨付或超预算")}
    water = f5["440224XM20170003"]
    assert water["项目库·计划投资（元）"] == 200_000 and water["累计已拨付（元）"] == 250_000
    # a 责任单位's own workbook: its F6 project only, answerable
    road = load_workbook(paths["units"]["transport"])
    assert road.sheetnames == ["汇总", "F6 项目进度滞后"] and road["F6 项目进度滞后"].max_row == 2
    assert "计划 2017年3月1日 开工，至今未开工" in _body(got["transport"])


def test_a_responsible_unit_can_answer_in_its_own_workbook(loaded, data_root):  # noqa: F811
    summary = check_month("2017-07")
    (paths,) = write_reports([summary])
    wb = load_workbook(paths["units"]["transport"])
    ws = wb["F6 项目进度滞后"]
    head = [c.value for c in ws[1]]
    ws.cell(2, head.index("核查结果") + 1, "属实待整改")
    ws.cell(2, head.index("整改期限") + 1, dt.date(2017, 9, 30))
    answered = data_root / "answered.xlsx"
    wb.save(answered)
    with engine().connect() as conn:
        ev, answers = read_answers(Path(answered), answered.name, conn, dt.date(2017, 8, 10), sender="transport")
    assert not ev.errors and [a.outcome for _, a in answers] == ["confirmed"]
    with engine().connect() as conn:  # 县水务局 may not answer for 县交通局's road
        ev, _ = read_answers(Path(answered), answered.name, conn, dt.date(2017, 8, 10), sender="water")
    assert [i.rule for i in ev.errors] == ["verification_not_yours"]


def test_only_the_unanswered_suspicions_of_the_third_month_go_to_audit(loaded, mailbox):  # noqa: F811
    summaries = [check_month(m) for m in MONTHS]
    reports = write_reports(summaries)
    assert [r["audit"] for r in reports[:2]] == [None, None]
    queue_notices(summaries, reports)
    send_pending()
    (audit,) = [m for m in mailbox.messages if m["X-Fupin-Key"].endswith("/audit")]
    assert audit["X-Fupin-Key"] == "fund_audit/2017-09/audit" and audit["To"] == "sjj@renhua.fupin.example"
    body = _body(audit)
    assert "疑似" in body and "不代表已认定违规" in body and not FULL_ID.search(body)
    sheets = load_workbook(reports[2]["audit"]).sheetnames
    assert sheets == ["汇总", "F1 收款户不在册", "F2 疑似重复拨付", "F4 奖补无稳定就业"]  # nothing of F3, F5, F6
    rows = _rows(reports[2]["audit"], "F4 奖补无稳定就业")
    assert {r["受奖劳动力身份证号"] for r in rows} == {Z, B} and "核查结果" not in rows[0]  # 县审计局 reads; it answers nothing
    with engine().connect() as conn:
        assert summaries[2].to_audit == len([f for f in queries.findings_of(conn, "2017-09") if f["rule"] in ("F1", "F2", "F4")])
    # the fourth month: the same cases, still open — each was copied once, so nothing goes again
    october = check_month("2017-10", at_deadline=True)
    assert october.to_audit == summaries[2].to_audit
    queue_notices([october], write_reports([october]))
    send_pending()
    assert [m["X-Fupin-Key"] for m in mailbox.messages if m["X-Fupin-Key"].endswith("/audit")] == ["fund_audit/2017-09/audit"]
    assert A  # the household paid rightly appears nowhere in the audit's copy
    assert all(A not in str(v) for r in _rows(reports[2]["audit"], "F2 疑似重复拨付") for k, v in r.items() if k != "拨付明细·证件号码")
