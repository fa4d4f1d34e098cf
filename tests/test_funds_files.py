"""县财政局's 扶贫资金拨付明细 and 县扶贫办's 扶贫项目库 as clerks send them: what passes, what is
refused and what the receipt says — the 统一社会信用代码's check character, a payment outside its
month, a reward without its labourer, dates out of order, a month without any payment."""

from __future__ import annotations

import datetime as dt

import pytest

from fupin.ids import mask, uscc_check, uscc_valid
from tests.helpers import ingest, rows, sheet, write

# real 统一社会信用代码 as published (腾讯, 百度, 阿里巴巴, 小米): each holds its check character
PUBLISHED = ["9144030071526726XG", "91110000802100433B", "91330100799655058B", "91110108551385082Q"]


def test_the_credit_codes_check_character():
    assert all(uscc_valid(c) for c in PUBLISHED)
    for code in PUBLISHED:
        for i in (2, 9, 16):  # one character typed wrong, anywhere: refused
            wrong = code[:i] + ("1" if code[i] != "1" else "2") + code[i + 1:]
            assert not uscc_valid(wrong), wrong
        assert uscc_check(code[:17]) == code[17]
    assert not uscc_valid("91440300715267I6XG")  # I, O, Z, S, V are never in a code
    assert not uscc_valid(PUBLISHED[0][:17])  # 17 characters: not a code


def _payment(no: str, paid: str, *, payee_type: str, name: str, payee_id: str, fund: str, amount: float,
             household: str | None = None, worker: str | None = None) -> dict:
    return {"payment_no": no, "paid_on": paid, "project_no": "440224XM20170001", "fund_type": fund, "payee_type": payee_type,
            "payee_name": name, "payee_id": payee_id, "household_id": household, "worker_id": worker, "amount": amount}


def test_a_payments_file_is_checked_row_by_row_and_says_what_to_fix(sqlite_warehouse, tmp_path, people):
    p = people[0]
    good = [
        _payment("CZ001", "2017-06-05", payee_type="农户", name=p.name, payee_id=p.id_number, fund="到户扶贫专项资金", amount=6000,
                 household=p.household_id),
        _payment("CZ002", "2017-06-15", payee_type="企业", name="某制衣厂", payee_id=PUBLISHED[0], fund="企业吸纳就业奖补", amount=2000,
                 worker=people[1].id_number),
    ]
    receipt = ingest("finance", write(tmp_path / "财政局_2017年6月.xlsx", sheet("fund_payments", good)))
    assert receipt.status == "accepted" and receipt.rows == {"fund_payments": 2}, receipt.errors
    bad = [
        *good,
        _payment("CZ003", "2017-06-16", payee_type="企业", name="某物流公司", payee_id=PUBLISHED[1][:-1] + "C", fund="产业发展", amount=9000),
        _payment("CZ004", "2017-05-31", payee_type="施工单位", name="某路桥公司", payee_id=PUBLISHED[2], fund="村道建设", amount=9000),
        _payment("CZ005", "2017-06-20", payee_type="企业", name="某制衣厂", payee_id=PUBLISHED[0], fund="企业吸纳就业奖补", amount=2000),
        _payment("CZ006", "2017-06-21", payee_type="农户", name=p.name, payee_id=p.id_number[:-1] + "0" if p.id_number[-1] != "0" else
                 p.id_number[:-1] + "1", fund="到户扶贫专项资金", amount=500, household=p.household_id),
    ]
    receipt = ingest("finance", write(tmp_path / "财政局_2017年6月_改.xlsx", sheet("fund_payments", bad)))
    assert receipt.status == "rejected"
    by_row = {e["row"]: e for e in receipt.errors}
    assert len(by_row) == len(receipt.errors) == 4  # one error on each wrong row, none on the two good ones
    credit, early, reward, household = (by_row[r] for r in sorted(by_row))
    assert credit["rule"] == "payee_id" and "统一社会信用代码" in credit["message"] and credit["value"] == mask(PUBLISHED[1][:-1] + "C")
    assert early["rule"] == "before_month" and "须在报送月份之内" in _fix(early)
    assert reward["rule"] == "required_if" and reward["column"] == "受奖劳动力身份证号"
    assert household["rule"] == "payee_id" and "身份证号" in household["message"]
    assert p.id_number not in str(receipt.to_dict())  # a household's ID is masked in the receipt


def _fix(issue: dict) -> str:
    from fupin.validate.issues import CATALOG

    return CATALOG[issue["rule"]][1]


def test_a_month_without_any_payment_is_reported_with_the_header_alone(sqlite_warehouse, tmp_path):
    receipt = ingest("finance", write(tmp_path / "财政局_2017年6月.xlsx", sheet("fund_payments", [])))
    assert receipt.status == "accepted" and receipt.rows == {"fund_payments": 0} and not receipt.errors


def test_an_empty_registry_is_refused_with_the_reason(sqlite_warehouse, tmp_path):
    receipt = ingest("poverty_office", write(tmp_path / "扶贫办_2017年6月.xlsx", sheet("registry", [])))
    assert receipt.status == "rejected" and [e["rule"] for e in receipt.errors] == ["no_rows"]
    assert "没有数据行" in receipt.errors[0]["message"]


def _project(no: str, **dates: str) -> dict:
    base = {"project_no": no, "project_name": "某村村道硬底化工程", "project_type": "村道建设", "town": "丹霞街道", "village": None,
            "responsible_unit": "县交通局", "planned_investment": 8.0, "length_km": 4.0, "approved_plan": "2017-02-01",
            "approved_on": "2017-02-03", "start_plan": "2017-03-01", "started_on": "2017-03-05", "complete_plan": "2017-08-01",
            "completed_on": None, "accept_plan": "2017-09-15", "accepted_on": None}
    return {**base, **dates}


def test_the_project_library_is_its_own_file_of_the_poverty_office(sqlite_warehouse, tmp_path, people):
    """县扶贫办 sends two files: the project library needs no registry sheet, nor the registry a library."""
    library = write(tmp_path / "扶贫办_扶贫项目库_2017年6月.xlsx", sheet("projects", [_project("440224XM20170001")]))
    receipt = ingest("poverty_office", library)
    assert receipt.status == "accepted" and receipt.rows == {"projects": 1}, receipt.errors
    registry = ingest("poverty_office", write(tmp_path / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people))))
    assert registry.status == "accepted" and "missing_dataset" not in {e["rule"] for e in registry.errors}
    # the ledger knows which of the office's files each drop was (I19 and the board count each)
    from fupin import queries
    from fupin.config import contracts
    from fupin.warehouse.db import engine

    with engine().connect() as conn:
        ledger = queries.ledger(conn, "2017-06")
    office = contracts().sources["poverty_office"]
    assert sorted(ledger["file"]) == sorted([office.file_of("projects"), office.file_of("registry")])


def test_a_project_started_before_its_approval_is_refused(sqlite_warehouse, tmp_path):
    wrong = _project("440224XM20170002", started_on="2017-01-20")
    receipt = ingest("poverty_office", write(tmp_path / "扶贫办_扶贫项目库_2017年6月.xlsx", sheet("projects", [wrong])))
    assert receipt.status == "rejected"
    (order,) = [e for e in receipt.errors if e["rule"] == "date_order"]
    assert order["column"] == "实际开工日期" and "实际立项日期" in order["message"]


@pytest.mark.parametrize("length", [None, 4.0])
def test_a_road_needs_its_length(sqlite_warehouse, tmp_path, length):
    receipt = ingest("poverty_office", write(tmp_path / "扶贫办_扶贫项目库_2017年6月.xlsx",
                                             sheet("projects", [_project("440224XM20170003", length_km=length)])))
    assert (receipt.status == "accepted") == (length is not None)
    assert dt.date(2017, 6, 1)  # the month named in the file


def test_the_household_file_shows_the_payments_with_ids_masked(sqlite_warehouse, tmp_path, people):
    """一户一档 lists what 县财政局 paid the household (and the village's projects); a viewer who may
    not see full ID numbers sees every ID of those rows masked, the payee's included."""
    import json

    from fupin.dashboard.access import Viewer
    from fupin.dashboard.data import household
    from fupin.warehouse.db import engine

    head = next(p for p in people if p.relation == "户主")
    paid = _payment("CZ001", "2017-06-05", payee_type="农户", name=head.name, payee_id=head.id_number, fund="到户扶贫专项资金",
                    amount=6000, household=head.household_id)
    assert ingest("poverty_office", write(tmp_path / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))).status == "accepted"
    assert ingest("finance", write(tmp_path / "财政局_2017年6月.xlsx", sheet("fund_payments", [paid]))).status == "accepted"
    office = Viewer("fpb", frozenset({"user"}), "poverty_office", full_ids=False, verify_any=False, county_wide=True)
    with engine().connect() as conn:
        file_ = household(conn, head.household_id, office, dt.date(2017, 7, 20))
    (payments,) = [t for t in file_["timeline"] if t["dataset"] == "fund_payments"]
    facts = dict(payments["months"][0]["rows"][0]["facts"])
    assert facts["证件号码"] == mask(head.id_number) and facts["金额（元）"] in (6000, 6000.0, "6,000")
    assert head.id_number not in json.dumps(file_, ensure_ascii=False, default=str)
