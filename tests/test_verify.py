"""核查反馈: a unit's check of a finding is stored with who and when, and the next reconciliation
respects it — a dismissed finding with unchanged data is not reported again (but is once its
data change), and an escalation counts only unverified, overdue or not-borne-out findings."""

from __future__ import annotations

import datetime as dt

import pytest

from fupin import queries
from fupin.calendar import months
from fupin.dashboard.access import Viewer
from fupin.dashboard.data import record_verification
from fupin.reconcile import verify
from fupin.reconcile.run import reconcile_month
from fupin.vocab import FindingState, Outcome
from fupin.warehouse.db import engine
from tests.helpers import fill_demo_warehouse, on_warehouse

ADMIN = Viewer("admin", frozenset({"admin"}), "poverty_office", full_ids=True, verify_any=True)
TOWN = Viewer("daqiao", frozenset({"viewer"}), "440224107", full_ids=False, verify_any=False)
TODAY = dt.date(2017, 3, 20)


def test_state_follows_the_latest_check():
    v = {"outcome": Outcome.DISMISSED, "fingerprint": "a", "month": "2017-02", "due": None}
    assert verify.state_of(None, "a", "2017-03", TODAY) == FindingState.OPEN
    assert verify.state_of(v, "a", "2017-03", TODAY) == FindingState.DISMISSED
    assert verify.state_of(v, "b", "2017-03", TODAY) == FindingState.OPEN  # the data changed
    due = {**v, "outcome": Outcome.CONFIRMED, "due": dt.date(2017, 3, 31)}
    assert verify.state_of(due, "a", "2017-03", dt.date(2017, 3, 31)) == FindingState.CONFIRMED
    assert verify.state_of(due, "a", "2017-04", dt.date(2017, 4, 30)) == FindingState.OVERDUE
    fixed = {**v, "outcome": Outcome.RECTIFIED}
    assert verify.state_of(fixed, "a", "2017-02", TODAY) == FindingState.RECTIFIED
    assert verify.state_of(fixed, "a", "2017-03", TODAY) == FindingState.REOPENED  # still in a later month
    assert verify.escalates(FindingState.OVERDUE, 3, 3) and not verify.escalates(FindingState.CONFIRMED, 5, 3)


def test_an_answer_must_be_complete():
    with pytest.raises(verify.Refused, match="整改期限"):
        verify.Verification.of("属实待整改", None, None, TODAY)
    with pytest.raises(verify.Refused, match="已经过去"):
        verify.Verification.of("confirmed", "2017-03-01", None, TODAY)
    with pytest.raises(verify.Refused, match="说明理由"):
        verify.Verification.of("不属实", None, " ", TODAY)
    with pytest.raises(verify.Refused, match="无法识别"):
        verify.Verification.of("查过了", None, None, TODAY)
    ok = verify.Verification.of("不属实", "2018-01-01", "两个不同的人", TODAY)
    assert (ok.outcome, ok.due, ok.reason) == (Outcome.DISMISSED, None, "两个不同的人")


MONTHS = months("2017-01", "2017-06")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A warehouse file with the demo county's registries of 2017-01..2017-06 (nothing reconciled)."""
    from fupin.demo.population import build_population
    from fupin.warehouse import db

    path = tmp_path_factory.mktemp("verify") / "w.sqlite"
    db.upgrade(f"sqlite:///{path}")
    fill_demo_warehouse(f"sqlite:///{path}", build_population(2016), {(d, m) for m in MONTHS for d in ("registry", "dibao")}, [])
    return path


@pytest.fixture
def first_months(loaded, tmp_path):
    """A copy of it for one test: (url, months)."""
    import shutil

    shutil.copy(loaded, tmp_path / "w.sqlite")
    return f"sqlite:///{tmp_path / 'w.sqlite'}", MONTHS


@pytest.fixture(scope="module")
def loaded_pg():
    """The same months in a PostgreSQL template database (copied per test)."""
    from fupin.demo.population import build_population
    from fupin.ops.cluster import recreate_database
    from fupin.warehouse import db
    from tests.conftest import PG_ADMIN_DSN, WORKER, _pg_available, skip_or_fail

    skip_or_fail([r for r in [_pg_available()] if r], "the PostgreSQL tests")
    url = recreate_database(PG_ADMIN_DSN, f"fupin_verify_template{WORKER}")
    db.upgrade(url)
    fill_demo_warehouse(url, build_population(2016), {(d, m) for m in MONTHS for d in ("registry", "dibao")}, [])
    db.engine(url).dispose()
    return f"fupin_verify_template{WORKER}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def either_months(request, tmp_path):
    """`first_months` on SQLite, or a fresh copy of the template on PostgreSQL: (url, months)."""
    if request.param == "sqlite":
        return request.getfixturevalue("first_months")
    from sqlalchemy import create_engine, text

    from tests.conftest import PG_ADMIN_DSN, WORKER

    template = request.getfixturevalue("loaded_pg")
    eng = create_engine(PG_ADMIN_DSN, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'drop database if exists "fupin_verify_test{WORKER}" with (force)'))
        conn.execute(text(f'create database "fupin_verify_test{WORKER}" template "{template}"'))
    eng.dispose()
    return PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/fupin_verify_test{WORKER}", MONTHS


def _persisting(url: str, ms: list[str]) -> tuple[str, dict]:
    """Reconcile `ms` in order; a finding found in all of them (the longest-lived)."""
    for m in ms:
        with on_warehouse(url):
            reconcile_month(m)
    with engine(url).connect() as conn:
        rows = queries.findings_of(conn, ms[-1])
    longest = max(rows, key=lambda r: (r["persisted_months"], r["finding_id"]))
    assert longest["persisted_months"] >= 3 and longest["escalated"], "the demo plants a finding persisting 3 months"
    return longest["finding_id"], longest


@pytest.mark.slow
def test_a_dismissed_finding_is_not_reported_again_and_escalation_counts_only_the_unchecked(first_months, monkeypatch):
    url, ms = first_months
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    fid, row = _persisting(url, ms[:4])
    month = ms[3]
    with engine(url).begin() as conn:
        shown = record_verification(conn, fid, {"outcome": "不属实", "reason": "经入户核实为两个不同的人"}, ADMIN, TODAY)
    assert shown["state"] == FindingState.DISMISSED and shown["verification"]["by"] == "admin"
    with engine(url).connect() as conn:
        (check,) = queries.verification_history(conn, fid)
    assert (check["by_user"], check["by_unit"], check["via"], check["month"]) == ("admin", "poverty_office", "web", month)
    assert isinstance(check["at"], dt.datetime)
    with on_warehouse(url):
        before = reconcile_month(month)  # the same month again: the check is respected at once
    with on_warehouse(url):
        after = reconcile_month(ms[4])
    with engine(url).connect() as conn:
        reported = {r["finding_id"] for r in queries.findings_of(conn, ms[4])}
        kept = {r["finding_id"]: r for r in queries.all_findings(conn, ms[4])}
    if fid in kept:  # the data still show it: kept for the record, not reported, not escalated
        assert fid not in reported
        assert kept[fid]["state"] == FindingState.DISMISSED and not kept[fid]["escalated"]
        assert after.dismissed[row["rule"]] == 1
    assert before.dismissed[row["rule"]] == 1
    with engine(url).connect() as conn:
        assert fid not in {r["finding_id"] for r in queries.findings_of(conn, month)}
        assert fid in {r["finding_id"] for r in queries.all_findings(conn, month)}
        assert before.counts[row["rule"]] == sum(r["rule"] == row["rule"] for r in queries.findings_of(conn, month))
        assert queries.reconciliation_run(conn, month).dismissed == '{"R1": 0, "R2": 0, "R3": 0, "R4": 0, "R5": 0, "R6": 0}'.replace(
            f'"{row["rule"]}": 0', f'"{row["rule"]}": 1')


@pytest.mark.slow
def test_dismissal_lapses_when_the_data_change_and_a_due_date_holds_escalation_until_it_passes(first_months, monkeypatch):
    url, ms = first_months
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    fid, row = _persisting(url, ms[:4])
    month = ms[3]
    with engine(url).begin() as conn:
        # a 不属实 recorded against other data (as if the finding's data had changed since)
        verify.record(conn, {**row, "fingerprint": "0" * 16}, verify.Verification(Outcome.DISMISSED, None, "旧数据"),
                      user="admin", unit="poverty_office", via="web")
    with on_warehouse(url):
        s = reconcile_month(month)
    assert s.dismissed[row["rule"]] == 0
    with engine(url).connect() as conn:
        again = {r["finding_id"]: r for r in queries.findings_of(conn, month)}
    assert again[fid]["state"] == FindingState.OPEN and again[fid]["escalated"]
    # 属实待整改 by the end of next month: reported, not escalated; past its due date: escalated
    with engine(url).begin() as conn:
        verify.record(conn, again[fid], verify.Verification(Outcome.CONFIRMED, dt.date(2017, 5, 31), None),
                      user="admin", unit="poverty_office", via="web")
    with on_warehouse(url):
        reconcile_month(month)
    with engine(url).connect() as conn:
        held = {r["finding_id"]: r for r in queries.findings_of(conn, month)}[fid]
    assert held["state"] == FindingState.CONFIRMED and not held["escalated"]
    for m in ms[4:]:
        with on_warehouse(url):
            reconcile_month(m)
    with engine(url).connect() as conn:
        later = {r["finding_id"]: r for r in queries.all_findings(conn, ms[5])}
    if fid in later:  # still in June's data, due 31 May: overdue, escalated
        assert later[fid]["state"] == FindingState.OVERDUE and later[fid]["escalated"]


@pytest.mark.slow
def test_a_town_verifies_only_its_own_findings(first_months, monkeypatch):
    url, ms = first_months
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    with on_warehouse(url):
        reconcile_month(ms[0])
    with engine(url).connect() as conn:
        rows = queries.findings_of(conn, ms[0])
    other = next(r for r in rows if r["town"] != "大桥镇")
    with engine(url).begin() as conn, pytest.raises(PermissionError, match="不由您的单位核查"):
        record_verification(conn, other["finding_id"], {"outcome": "rectified"}, TOWN, TODAY)
    with engine(url).begin() as conn, pytest.raises(LookupError):
        record_verification(conn, "0" * 16, {"outcome": "rectified"}, ADMIN, TODAY)


@pytest.mark.slow
def test_the_reconciliation_workbook_comes_back_with_its_checks_all_or_nothing(first_months, data_root, monkeypatch):
    """The workbook's 核查结果 column, filled in and dropped into the unit's 核查结果 folder: one bad row
    refuses the file (nothing stored, a marked copy); corrected, every answer is stored."""
    from openpyxl import load_workbook

    from fupin.ingest.pipeline import ingest_files
    from fupin.reconcile.report import COLUMNS, write_workbook
    from fupin.vocab import DropStatus

    url, ms = first_months
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    for m in ms[:3]:
        with on_warehouse(url):
            summary = reconcile_month(m)
    with on_warehouse(url):
        book = write_workbook(summary, data_root / "reports" / f"比对结果_{ms[2]}.xlsx")
    with engine(url).connect() as conn:
        rows = queries.findings_of(conn, ms[2])
    assert len(rows) >= 2
    keys = [k for k, _, _ in COLUMNS]
    wb = load_workbook(book)
    assert "本单位共享文件夹中的“核查结果”文件夹（\\\\fupin\\本单位名称\\核查结果）" in wb["汇总"]["A3"].value
    filled = []
    for ws in wb.worksheets[1:]:
        if ws.title[:2] not in ("R1", "R3", "R4", "R5"):  # the findings 县民政局 checks
            continue
        for r in range(2, ws.max_row + 1):
            fid = ws.cell(r, keys.index("finding_id") + 1).value
            if fid and len(filled) < 2:
                filled.append((ws, r, fid))
    (ws1, r1, first), (ws2, r2, second) = filled
    assert ws1.data_validations.dataValidation, "核查结果 is a drop-down"
    ws1.cell(r1, keys.index("check_outcome") + 1).value = "不属实"
    ws1.cell(r1, keys.index("check_note") + 1).value = "经入户核实为两个不同的人"
    ws2.cell(r2, keys.index("check_outcome") + 1).value = "属实待整改"  # no due date
    wb.save(tmp := data_root.parent / "比对结果_核查.xlsx")
    (refused,) = ingest_files("verification", [tmp], sender="civil_affairs")
    assert refused.status == DropStatus.REJECTED
    assert [e["rule"] for e in refused.errors] == ["verification_incomplete"] and "整改期限" in refused.errors[0]["fix"]
    assert refused.annotated_workbook and (data_root / "quarantine" / "verification").exists()
    assert "核查反馈" in refused.text()
    with engine(url).connect() as conn:
        assert queries.latest_verifications(conn, [first, second]) == {}  # nothing of it stored
    ws2.cell(r2, keys.index("check_due") + 1).value = dt.date.today() + dt.timedelta(days=30)
    wb.save(tmp)
    (taken,) = ingest_files("verification", [tmp], sender="civil_affairs")
    assert taken.status == DropStatus.ACCEPTED and taken.rows == {"核查结果": 2}
    with engine(url).connect() as conn:
        got = queries.latest_verifications(conn, [first, second])
    assert got[first]["outcome"] == Outcome.DISMISSED and got[first]["reason"] == "经入户核实为两个不同的人"
    assert got[second]["outcome"] == Outcome.CONFIRMED and got[second]["due"] == dt.date.today() + dt.timedelta(days=30)
    assert got[first]["via"] == f"file:{taken.drop_id}" and "比对结果_核查.xlsx" in got[first]["by_user"]
    assert got[first]["by_unit"] == "civil_affairs"  # who sent it, known by the folder it came from
    # and the next workbook shows them
    with on_warehouse(url):
        write_workbook(reconcile_month(ms[2]), book)
    shown = {ws.cell(r, keys.index("finding_id") + 1).value: ws.cell(r, keys.index("check_outcome") + 1).value
             for ws in load_workbook(book).worksheets[1:] for r in range(2, ws.max_row + 1)}
    assert shown.get(second) == "属实待整改" and first not in shown  # dismissed: not reported again


def _workbook(url: str, ms: list[str], data_root):
    """The reconciliation workbook of ms[2] (three months reconciled), opened, with the column of each key."""
    from openpyxl import load_workbook

    from fupin.reconcile.report import COLUMNS, write_workbook

    for m in ms[:3]:
        with on_warehouse(url):
            summary = reconcile_month(m)
    with on_warehouse(url):
        book = write_workbook(summary, data_root / "reports" / f"比对结果_{ms[2]}.xlsx")
    col = {k: i + 1 for i, (k, _, _) in enumerate(COLUMNS)}
    wb = load_workbook(book)
    rows = [(ws, r) for ws in wb.worksheets[1:] for r in range(2, ws.max_row + 1) if ws.cell(r, col["finding_id"]).value]
    return wb, col, rows


def _stored(url: str) -> list[dict]:
    from sqlalchemy import select

    from fupin.warehouse.schema import verifications

    with engine(url).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(verifications))]


@pytest.mark.slow
def test_a_returned_workbook_is_taken_only_for_what_its_sender_may_verify(either_months, data_root, monkeypatch):
    """A town's clerk drops the workbook into the town's own folder: answers about another town's
    findings refuse it whole, with a receipt naming them (to the town, copying the office that
    collects the checks); its own are stored with the town as their sender; a workbook dropped
    where no unit is known is refused. The dashboard's rule, the same for files."""
    import json

    from sqlalchemy import select

    from fupin.config import units
    from fupin.ingest.batch import ingest_inbox
    from fupin.vocab import DropStatus
    from fupin.warehouse.schema import outbox

    url, ms = either_months
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    wb, col, rows = _workbook(url, ms, data_root)
    code = {u.name: k for k, u in units().items()}
    by_town: dict[str, list] = {}
    for ws, r in rows:
        by_town.setdefault(ws.cell(r, col["town"]).value, []).append((ws, r))
    mine, other = [t for t, found in sorted(by_town.items(), key=lambda kv: -len(kv[1])) if t in code][:2]
    for town in (mine, other):
        ws, r = by_town[town][0]
        ws.cell(r, col["check_outcome"]).value = "不属实"
        ws.cell(r, col["check_note"]).value = "经入户核实为两个不同的人"
    drop = data_root / "shares" / code[mine] / "核查结果" / f"比对结果_{ms[2]}_核查.xlsx"
    wb.save(drop)
    (refused,) = ingest_inbox()
    assert refused.status == DropStatus.REJECTED and refused.sender == code[mine]
    assert [e["rule"] for e in refused.errors] == ["verification_not_yours"] and other in refused.errors[0]["message"]
    # the town's clerk finds it in their own share: the receipt in 回执; the workbook back in 退回,
    # with its receipt and marked copy; the other town's share holds nothing of it
    share = data_root / "shares" / code[mine]
    assert [p.name.endswith("_回执.txt") for p in (share / "回执").iterdir()] == [True]
    assert sorted(p.name.rsplit("_", 1)[-1] for p in (share / "退回").iterdir()) == ["原文件.xlsx", "回执.txt", "标注.xlsx"]
    assert [p for p in (data_root / "shares" / code[other]).rglob("*") if p.is_file()] == []
    assert _stored(url) == []  # nothing of it
    with engine(url).connect() as conn:
        (notice,) = conn.execute(select(outbox.c.unit, outbox.c.recipients).where(outbox.c.kind == "receipt")).all()
    assert notice.unit == code[mine] and json.loads(notice.recipients)["cc"] == list(units()["poverty_office"].to)

    ws, r = by_town[other][0]
    ws.cell(r, col["check_outcome"]).value = None
    wb.save(drop)
    (taken,) = ingest_inbox()
    assert taken.status == DropStatus.ACCEPTED, taken.errors
    (stored,) = _stored(url)
    assert stored["by_unit"] == code[mine] and stored["via"] == f"file:{taken.drop_id}"

    wb.save(data_root / "inbox" / "verification" / f"比对结果_{ms[2]}_核查.xlsx")  # no unit's folder
    (nobody,) = ingest_inbox()
    assert nobody.status == DropStatus.REJECTED and [e["rule"] for e in nobody.errors] == ["verification_no_sender"]
    assert len(_stored(url)) == 1


def _answer(ws, r, col, outcome="不属实", note="经入户核实为两个不同的人", due=None):
    ws.cell(r, col["check_outcome"]).value = outcome
    ws.cell(r, col["check_note"]).value = note
    ws.cell(r, col["check_due"]).value = due


@pytest.mark.slow
def test_a_returned_workbook_with_answers_it_cannot_take_is_refused_in_bounded_time(either_months, data_root, monkeypatch):
    """Two answers to one 编号, a due date decades away, a formula saved without its value, more
    rows than a file may hold, thousands of unknown 编号: each refused whole, saying which, with at
    most 200 problems listed; one answer given twice the same is taken once."""
    from fupin.config import settings
    from fupin.ingest.pipeline import ingest_files
    from fupin.vocab import DropStatus

    url, ms = either_months
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", url)
    wb, col, rows = _workbook(url, ms, data_root)
    (ws, r), (ws2, r2) = [(w, rr) for w, rr in rows if w.title[:2] != "R1"][:2]  # the rules 县扶贫办 checks
    path = data_root.parent / "核查.xlsx"

    def send(fill) -> dict:
        for w, rr in rows:
            _answer(w, rr, col, None, None)
        extra = ws.max_row
        fill()
        wb.save(path)
        ws.delete_rows(extra + 1, ws.max_row - extra)  # rows a case added go again
        (receipt,) = ingest_files("verification", [path], sender="poverty_office")
        return receipt

    def again(value: str, outcome: str) -> None:
        n = ws.max_row + 1
        ws.cell(n, col["finding_id"]).value = value
        _answer(ws, n, col, outcome, "经入户核实为两个不同的人" if outcome == "不属实" else "已整改")

    fid = ws.cell(r, col["finding_id"]).value
    twice = send(lambda: (_answer(ws, r, col), again(fid, "属实已整改")))
    assert twice.status == DropStatus.REJECTED and [e["rule"] for e in twice.errors] == ["verification_conflict"]
    far = send(lambda: _answer(ws, r, col, "属实待整改", "正在整改", dt.date(9999, 12, 31)))
    assert far.status == DropStatus.REJECTED and "太远" in far.errors[0]["fix"]
    formula = send(lambda: ws.cell(r, col["check_outcome"]).__setattr__("value", '="不属实"'))
    assert formula.status == DropStatus.REJECTED and {e["rule"] for e in formula.errors} == {"verification_formula"}
    monkeypatch.setitem(settings()["verification"], "max_rows", 1)
    many = send(lambda: (_answer(ws, r, col), _answer(ws2, r2, col)))
    assert many.status == DropStatus.REJECTED and [e["rule"] for e in many.errors] == ["verification_too_many"]
    monkeypatch.setitem(settings()["verification"], "max_rows", 20000)
    unknown = send(lambda: [again(f"{n:016x}", "不属实") for n in range(3000)])
    assert unknown.status == DropStatus.REJECTED and len(unknown.errors) == 201
    assert unknown.errors[-1]["rule"] == "verification_more" and "2,800" in unknown.errors[-1]["message"]
    assert _stored(url) == []
    same = send(lambda: (_answer(ws, r, col), again(fid, "不属实")))
    assert same.status == DropStatus.ACCEPTED and same.rows == {"核查结果": 1}
    assert [v["finding_id"] for v in _stored(url)] == [fid]
