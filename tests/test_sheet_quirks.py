"""Every quirk of "What real sheets look like" (contracts.md), each on a real file."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from fupin.ids import check_digit
from tests.helpers import column, count, ingest, rows, rules, sheet, write

pytestmark = pytest.mark.usefixtures("warehouse")  # SQLite and PostgreSQL


def test_title_unit_line_and_footers_are_not_data(tmp_path, people):
    reg = rows("registry", people)
    s = sheet("registry", reg, title="仁化县2017年6月建档立卡贫困人口情况表", unit_line="填报单位：县扶贫办", footer=True)
    r = ingest("poverty_office", write(tmp_path / "扶贫办_2017年6月.xlsx", s))
    assert r.status == "accepted", r.text()
    assert r.rows == {"registry": len(reg)}
    assert count("registry", "2017-06") == len(reg)


def test_two_header_rows_with_merged_cells(tmp_path, people):
    from openpyxl import Workbook

    from fupin.config import contracts

    ds = contracts().datasets["medical"]
    data = rows("medical", people)
    wb = Workbook()
    ws = wb.active
    ws.append(["仁化县2017年6月贫困人口医疗保障情况表"])
    # Upper header row: identity columns written once and merged down; insurance columns grouped.
    ws.append(["身份证号", "姓名", "镇", "村", "参保情况", None, "费用情况（元）", None])
    ws.append([None, None, None, None, "基本医疗保险", "大病保险", "本年累计住院费用（元）", "本年累计医疗救助（元）"])
    for c in "ABCD":
        ws.merge_cells(f"{c}2:{c}3")
    ws.merge_cells("E2:F2")
    ws.merge_cells("G2:H2")
    for row in data:
        ws.append([row[c.key] for c in ds.columns])
    path = tmp_path / "卫计局_2017年6月.xlsx"
    wb.save(path)
    r = ingest("health", path)
    assert r.rows.get("medical") == len(data), r.text()
    assert "missing_dataset" not in rules(r)  # clinic is an optional sheet


def test_column_number_row_under_the_header_is_skipped(tmp_path, people):
    s = sheet("dibao", rows("dibao", people))
    s.number_row = True
    r = ingest("civil_affairs", write(tmp_path / "民政_201706.xlsx", s))
    assert r.status == "accepted", r.text()
    assert r.rows["dibao"] == len(rows("dibao", people))


def test_header_variants_and_aliases(tmp_path, people):
    headers = {
        "id_number": "*公民身份号码",
        "income_per_capita": "家庭年人均\n可支配收入(元)",
        "town": "所属镇",
        "village": " 行政村 ",
        "helper_unit": "帮扶　单位",
    }
    r = ingest("poverty_office", write(tmp_path / "reg_2017-06.xlsx", sheet("registry", rows("registry", people), headers=headers)))
    assert r.status == "accepted", r.text()


def test_unknown_columns_are_ignored_and_listed(tmp_path, people):
    s = sheet("dibao", rows("dibao", people))
    s.headers.append("备用电话")
    for row in s.rows:
        row.append("13800000000")
    r = ingest("civil_affairs", write(tmp_path / "dibao_2017_06.xlsx", s))
    assert r.status == "accepted"
    assert [w["column"] for w in r.warnings if w["rule"] == "extra_column"] == ["备用电话"]


def test_missing_required_column_rejects_the_file(tmp_path, people):
    s = sheet("dibao", rows("dibao", people))
    drop = s.headers.index("状态")
    s.headers.pop(drop)
    for row in s.rows:
        row.pop(drop)
    r = ingest("civil_affairs", write(tmp_path / "dibao_201706.xlsx", s))
    assert r.status == "rejected"
    assert [e["column"] for e in r.errors if e["rule"] == "missing_column"] == ["状态"]
    assert count("dibao") == 0


def test_ids_typed_as_numbers_are_row_errors_and_legacy_ids_upgraded(tmp_path, people):
    data = copy.deepcopy(rows("medical", people))
    data[0]["id_number"] = float(data[0]["id_number"][:17] + "0")  # Excel turned it into a float
    data[1]["id_number"] = "4.40224198001011E+17"
    legacy = "440224800101001"
    data[2]["id_number"] = legacy
    s = sheet("medical", data)
    r = ingest("health", write(tmp_path / "health_201706.xlsx", s))
    assert r.status == "rejected"
    assert sorted((e["row"], e["rule"]) for e in r.errors if e["row"]) == [(2, "id_as_number"), (3, "id_as_number")]
    # the third row was fine: its ID was upgraded (a warning), not an error
    assert any(w["row"] == 4 and w["rule"] == "id_upgraded" for w in r.warnings)


def test_legacy_id_is_stored_as_18_digits(tmp_path, people):
    data = copy.deepcopy(rows("medical", people))
    data[0]["id_number"] = "440224800101001"
    r = ingest("health", write(tmp_path / "health_201706.xlsx", sheet("medical", data)))
    assert r.status == "accepted", r.text()
    body = "44022419800101001"
    assert body + check_digit(body) in column("medical", "id_number")


def test_every_date_form(tmp_path, people):
    data = copy.deepcopy(rows("dibao", people))[:6]
    forms = [42887, "2017-06-01", "2017/6/1", "2017.6.1", "2017年6月1日", dt.datetime(2017, 6, 1)]
    for row, form in zip(data, forms, strict=True):
        row["start_date"] = form
    r = ingest("civil_affairs", write(tmp_path / "dibao_201706.xlsx", sheet("dibao", data)))
    assert r.status == "accepted", r.text()
    assert set(column("dibao", "start_date")) == {dt.date(2017, 6, 1)}


def test_every_yes_no_form(tmp_path, people):
    data = copy.deepcopy(rows("medical", people))[:12]
    forms = ["是", "否", "有", "无", "√", "×", "Y", "N", 1, 0, "已参保", "未参保"]
    for row, form in zip(data, forms, strict=True):
        row["basic_insurance"] = form
    r = ingest("health", write(tmp_path / "health_201706.xlsx", sheet("medical", data)))
    assert r.status == "accepted", r.text()
    assert column("medical", "basic_insurance") == [True, False] * 6


def test_numbers_with_separators_units_and_full_width_digits(tmp_path, people):
    data = copy.deepcopy(rows("dibao", people))[:3]
    data[0]["monthly_benefit"], data[1]["monthly_benefit"], data[2]["monthly_benefit"] = "1,234.5", "1234元", "１２３４"
    r = ingest("civil_affairs", write(tmp_path / "dibao_201706.xlsx", sheet("dibao", data)))
    assert r.status == "accepted", r.text()
    assert column("dibao", "monthly_benefit") == [1234.5, 1234.0, 1234.0]


def test_names_are_trimmed_and_keep_the_middle_dot(tmp_path, people):
    data = copy.deepcopy(rows("medical", people))[:3]
    data[0]["name"], data[1]["name"], data[2]["name"] = " 王小明 ", "\u3000李华\u3000", "阿卜杜•热合曼"
    r = ingest("health", write(tmp_path / "health_201706.xlsx", sheet("medical", data)))
    assert r.status == "accepted", r.text()
    assert column("medical", "name") == ["王小明", "李华", "阿卜杜·热合曼"]


def test_datasets_as_sheets_of_one_workbook_and_unmatched_sheets(tmp_path, people):
    from fupin.demo.writers import SheetSpec

    notes = SheetSpec("填表说明", ["说明"], [["请如实填写"]])
    path = write(tmp_path / "卫计局_2017年6月.xlsx", sheet("medical", rows("medical", people)), sheet("clinic", rows("clinic", people)), notes)
    r = ingest("health", path)
    assert r.status == "accepted", r.text()
    assert r.rows == {"medical": len(rows("medical", people)), "clinic": len(rows("clinic", people))}
    assert [w["sheet"] for w in r.warnings if w["rule"] == "unmatched_sheet"] == ["填表说明"]


def test_xls_workbook(tmp_path, people):
    r = ingest("civil_affairs", write(tmp_path / "民政局_2017年6月.xls", sheet("dibao", rows("dibao", people), title="低保对象名册")))
    assert r.status == "accepted" and r.format == "xls", r.text()
    assert count("dibao", "2017-06") == len(rows("dibao", people))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings(tmp_path, people, encoding):
    r = ingest("hrss", write(tmp_path / "人社局_201706.csv", sheet("employment", rows("employment", people)), encoding=encoding))
    assert r.status == "accepted" and r.format == "csv", r.text()
    assert set(column("employment", "town")) <= {"丹霞街道", "闻韶镇", "扶溪镇", "长江镇", "城口镇", "红山镇", "石塘镇", "董塘镇", "大桥镇", "周田镇", "黄坑镇"}
    assert column("employment", "name")[0] == rows("employment", people)[0]["name"]


def test_file_in_the_wrong_folder_is_rejected_not_loaded_elsewhere(tmp_path, people):
    r = ingest("civil_affairs", write(tmp_path / "建档立卡_201706.xlsx", sheet("registry", rows("registry", people))))
    assert r.status == "rejected" and "wrong_folder" in rules(r)
    assert count("registry") == 0 and count("dibao") == 0


@pytest.mark.parametrize("name", ["卫计局_2017年6月.xlsx", "health_201706.xlsx", "health-2017-06.xlsx", "health_2017_06.xlsx"])
def test_month_from_every_name_form(tmp_path, people, name):
    r = ingest("health", write(tmp_path / name, sheet("medical", rows("medical", people))))
    assert r.month == "2017-06" and r.status == "accepted"


@pytest.mark.parametrize("name,rule", [("health.xlsx", "month_missing"), ("health_201705_201706.xlsx", "month_ambiguous")])
def test_month_missing_or_ambiguous_is_a_rejection(tmp_path, people, name, rule):
    r = ingest("health", write(tmp_path / name, sheet("medical", rows("medical", people))))
    assert r.status == "rejected" and rule in rules(r)
    assert "文件名" in next(e["fix"] for e in r.errors if e["rule"] == rule)


def test_unknown_format_is_rejected_with_receipt(tmp_path, data_root):
    path = tmp_path / "health_201706.pdf"
    path.write_bytes(b"%PDF-1.4 not a table")
    r = ingest("health", path)
    assert r.status == "rejected" and "format" in rules(r)
    assert list((data_root / "quarantine" / "health").glob("*health_201706.pdf"))


def test_enumeration_aliases_and_closed_sets(tmp_path, people):
    data = copy.deepcopy(rows("registry", people))
    data[0]["labor_capacity"] = "普通劳动力"
    data[1]["labor_capacity"] = "弱劳动力"
    data[2]["poverty_cause"] = "因懒"
    r = ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", data)))
    assert [(e["row"], e["rule"]) for e in r.errors if e["row"]] == [(4, "enum")]
    data[2]["poverty_cause"] = "因病"
    r = ingest("poverty_office", write(tmp_path / "reg_201706b.xlsx", sheet("registry", data)))
    assert r.status == "accepted"
    assert column("registry", "labor_capacity")[:2] == ["有劳动能力", "部分丧失劳动能力"]


def test_village_suffixes_and_village_outside_its_town(tmp_path, people):
    data = copy.deepcopy(rows("medical", people))
    data[0]["village"] = data[0]["village"].removesuffix("村")
    data[1]["village"] = data[1]["village"] + "委会"
    r = ingest("health", write(tmp_path / "health_201706.xlsx", sheet("medical", data)))
    assert r.status == "accepted", r.text()
    other = next(p for p in people if p.town != data[2]["town"])
    data[2]["village"] = other.village
    r = ingest("health", write(tmp_path / "health_201706b.xlsx", sheet("medical", data)))
    assert [(e["row"], e["rule"]) for e in r.errors if e["row"]] == [(4, "village")]


def test_a_value_is_judged_by_its_cell_type_and_each_row_keeps_its_own_issue():
    """The normaliser judges each distinct cell once and spreads the result: 1, 1.0 and True are
    equal in Python but not the same cell (a number, and a tick box that is no year), and a
    wrong cell repeated on many rows is reported on each of them, in the sheet's order."""
    import pandas as pd

    from fupin.config import contracts
    from fupin.ingest.normalize import normalize_table
    from fupin.ingest.sheets import SheetTable

    ds = contracts().datasets["registry"]
    good = "440224198001011230"
    good = good[:17] + check_digit(good[:17])
    cells = [(good, 1), (good, True), (good, 1.0), ("4402241980010112", "否"), (good, "否"), ("4402241980010112", None)]
    table = SheetTable(sheet="表1", dataset=ds, header_row=1, rows=[(i + 2, list(c)) for i, c in enumerate(cells)],
                       columns={"id_number": (0, "身份证号"), "exit_year": (1, "脱贫年度")})
    frame, issues = normalize_table(table)
    assert frame["id_number"].tolist()[:3] == [good] * 3 and frame["id_number"].isna().tolist() == [False, False, False, True, False, True]
    # the year column: 1 and 1.0 are the year 1 (out of range: the suite's to say); True and 否 are no number
    assert [None if pd.isna(v) else v for v in frame["exit_year"]] == [1, None, 1, None, None, None]
    said = [(i.row, i.rule, i.column) for i in issues]
    # column by column as the contract lists them, each in the sheet's order across the cells' types
    assert said == [(5, "id_format", "身份证号"), (7, "id_format", "身份证号"),
                    (3, "int_format", "脱贫年度"), (5, "int_format", "脱贫年度"), (6, "int_format", "脱贫年度")], said
