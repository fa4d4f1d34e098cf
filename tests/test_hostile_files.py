"""No file can crash, hang or wedge the ingest: every hostile file ends as one receipt.

A fuzz corpus of files a clerk, a broken office PC or an attacker can produce goes through the
real pipeline; each must give exactly one receipt with the expected status, leave nothing in
`work/`, and keep the ingesting process within its bounds. Each read bound of
`settings.yaml` (`ingest.read_limits`) has its own test.
"""

from __future__ import annotations

import copy
import csv
import io
import resource
import time
import zipfile
from pathlib import Path

import pytest

from fupin.config import settings
from fupin.ingest import inbox
from fupin.ingest.pipeline import ingest_files
from tests.helpers import count, rows, rules, sheet, write

SOURCE = "hrss"  # one dataset (employment), person grain: every kind of cell is there


def _good_rows(people) -> list[dict]:
    return rows("employment", people)


def _csv_bytes(people, mutate=None, encoding="utf-8") -> bytes:
    """A valid employment CSV (canonical headers), after `mutate(list_of_row_lists)`."""
    from fupin.config import contracts

    ds = contracts().datasets["employment"]
    data = _good_rows(people)
    grid = [[c.header for c in ds.columns]] + [["" if r[c.key] is None else _cell(r[c.key]) for c in ds.columns] for r in data]
    if mutate:
        mutate(grid)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(grid)
    return buf.getvalue().encode(encoding)


def _cell(v) -> str:
    if v is True:
        return "是"
    if v is False:
        return "否"
    return str(v)


def _col(name: str) -> int:
    from fupin.config import contracts

    return [c.header for c in contracts().datasets["employment"].columns].index(name)


def _xlsx_with_cells(path: Path, cells: dict[str, object]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    for ref, v in cells.items():
        wb.active[ref] = v
    wb.save(path)
    return path


def _replace_member(src: Path, dst: Path, member: str, data: bytes) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, data if info.filename == member else zin.read(info.filename))
    return dst


def _corpus(tmp: Path, people) -> list[tuple[str, Path, str, str | None]]:
    """(case, file, expected status, a rule the receipt must carry or None)."""
    good_xlsx = write(tmp / "good.xlsx", sheet("employment", _good_rows(people)))
    cases: list[tuple[str, Path, str, str | None]] = []

    def add(case: str, name: str, data: bytes, status: str, rule: str | None) -> None:
        d = tmp / case
        d.mkdir()
        (d / name).write_bytes(data)
        cases.append((case, d / name, status, rule))

    def csv_case(case: str, status: str, rule: str | None, mutate=None, name="人社局_2017年6月.csv", raw=None) -> None:
        add(case, name, raw if raw is not None else _csv_bytes(people, mutate), status, rule)

    def set_cell(row: int, header: str, value: str):
        def mutate(grid):
            grid[row][_col(header)] = value
        return mutate

    # sheets whose extent makes a parser allocate the whole grid
    for case, refs in {"extent_corner": ("A1", "XFD1048576"), "extent_wide_tall": ("XFD1", "A300000"),
                       "extent_tall": ("A1", "A2000000"[:7])}.items():
        p = _xlsx_with_cells(tmp / f"{case}.xlsx", {refs[0]: "x", refs[1]: "y"})
        add(case, "人社局_2017年6月.xlsx", p.read_bytes(), "rejected", "extent" if case != "extent_tall" else None)
    # line endings, NUL and other control characters, numbers that are not numbers
    csv_case("csv_bare_cr", "accepted", None, raw=_csv_bytes(people).replace(b"\r\n", b"\r"))
    csv_case("csv_lf_only", "accepted", None, raw=_csv_bytes(people).replace(b"\r\n", b"\n"))
    csv_case("nul_in_name", "rejected", "control_char", set_cell(1, "姓名", "张\x00三"))
    csv_case("escape_in_village", "rejected", "control_char", set_cell(2, "村", "\x1b[31m红星村"))
    csv_case("inf_wage", "rejected", "not_finite", set_cell(1, "月工资（元）", "inf"))
    csv_case("infinity_wage", "rejected", "not_finite", set_cell(1, "月工资（元）", "-Infinity"))
    csv_case("nan_wage", "rejected", "not_finite", set_cell(1, "月工资（元）", "NaN"))
    csv_case("huge_wage", "rejected", "range", set_cell(1, "月工资（元）", "1e308"))
    csv_case("megabyte_name", "rejected", "corrupt", set_cell(1, "姓名", "张" * 1_000_000))
    csv_case("long_employer", "rejected", "too_long", set_cell(1, "用工单位", "某某公司" * 100))
    csv_case("duplicate_rows", "rejected", "duplicate_row", lambda g: g.extend([list(g[1])] * 5))
    csv_case("three_hundred_columns", "rejected", "extent", lambda g: [r.extend([""] * 300) for r in g])
    csv_case("unbalanced_quote", "rejected", None, raw=_csv_bytes(people).replace("张".encode(), b'"', 1))
    csv_case("utf16", "rejected", "format", raw=_csv_bytes(people).decode().encode("utf-16"))
    csv_case("only_bom", "rejected", "no_dataset", raw=b"\xef\xbb\xbf")
    csv_case("binary_as_csv", "rejected", "encoding", raw=bytes(range(256)) * 64)
    # names: a long one keeps its month; a disguised executable; months that are not months
    csv_case("long_name", "accepted", None, name="hrss_" + "x" * 150 + "_2017年6月.csv")  # 170 characters
    add("rlo_exe", "教育局_2017年6月\u202excslx.exe", good_xlsx.read_bytes(), "rejected", "format")
    add("exe_named_xlsx", "人社局_2017年6月.xlsx", b"MZ\x90\x00" + bytes(4000), "rejected", "format")
    csv_case("month_13", "rejected", "month_missing", name="人社局_2017年13月.csv")
    csv_case("two_months", "rejected", "month_ambiguous", name="人社局_2017年6月_2017年7月.csv")
    # formats that are not what they say
    add("html_as_xls", "人社局_2017年6月.xls", "<html><body><table><tr><td>姓名</td></tr></table></body></html>".encode(),
        "rejected", "format")
    add("xlsx_named_xls", "人社局_2017年6月.xls", good_xlsx.read_bytes(), "accepted", "extension_mismatch")
    reordered = write(tmp / "reordered.xlsx", sheet("employment", _good_rows(people)[::-1]))  # other bytes, same people
    add("xlsm", "人社局_2017年6月.xlsm", reordered.read_bytes(), "accepted", None)
    docx = tmp / "fake.docx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    add("docx_named_xlsx", "人社局_2017年6月.xlsx", docx.read_bytes(), "rejected", "format")
    add("empty_xlsx", "人社局_2017年6月.xlsx", b"", "rejected", None)
    add("truncated_xlsx", "人社局_2017年6月.xlsx", good_xlsx.read_bytes()[: good_xlsx.stat().st_size // 2], "rejected", "corrupt")
    add("random_ole", "人社局_2017年6月.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 40, "rejected", "corrupt")
    bomb = tmp / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 200_000_000 + b">")
    add("zip_bomb", "人社局_2017年6月.xlsx", bomb.read_bytes(), "rejected", "too_large")
    laughs = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + b"".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(8)) + (
        b']><worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&i;</t></is></c></row></sheetData></worksheet>')
    add("billion_laughs", "人社局_2017年6月.xlsx", _replace_member(good_xlsx, tmp / "laughs.xlsx", "xl/worksheets/sheet1.xml", laughs).read_bytes(),
        "rejected", None)
    csv_case("id_as_number", "rejected", "id_as_number", set_cell(1, "身份证号", "4.40224198001011E+17"))
    csv_case("empty_sheet_headers_only", "rejected", None, lambda g: g.__delitem__(slice(1, None)))
    return cases


@pytest.mark.slow
def test_fuzz_every_hostile_file_gets_one_receipt_and_leaves_nothing_behind(tmp_path, sqlite_warehouse, data_root, people):
    cases = _corpus(tmp_path, people)
    assert len(cases) >= 30
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    limit = settings()["ingest"]["read_limits"]["max_seconds"]
    wrong = []
    for case, path, status, rule in cases:
        t = time.monotonic()
        receipts = ingest_files(SOURCE, [path])
        took = time.monotonic() - t
        left = [p.name for p in (data_root / "work" / SOURCE).iterdir()]
        got = receipts[0] if len(receipts) == 1 else None
        found = rules(got) | rules(got, "warnings") if got else set()
        if got is None or got.status != status or (rule and rule not in found) or left or took > limit:
            wrong.append((case, len(receipts), got.status if got else None, sorted(found), left, round(took, 1)))
        if got is not None:
            assert "Traceback" not in got.text() and got.text().startswith("【报送回执】")
    assert wrong == [], "\n".join(map(str, wrong))
    # the parsers' allocations happened in the children: this process stayed small
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 400_000  # KiB
    accepted = sum(1 for _, _, s, _ in cases if s == "accepted")
    assert count("employment", "2017-06", sqlite_warehouse) == len(_good_rows(people))  # each accepted file replaced the month
    assert accepted >= 4


@pytest.fixture
def limits(monkeypatch):
    """The read bounds, to be tightened by a test (restored after it)."""
    lim = settings()["ingest"]["read_limits"]
    return lambda **kw: [monkeypatch.setitem(lim, k, v) for k, v in kw.items()]


@pytest.mark.slow
def test_cell_bound(tmp_path, sqlite_warehouse, data_root, people, limits):
    path = write(tmp_path / "人社局_2017年6月.xlsx", sheet("employment", _good_rows(people)))
    limits(max_cells=100)
    (r,) = ingest_files(SOURCE, [path])
    assert r.status == "rejected" and rules(r) == {"extent"}
    assert "100 个单元格" in r.errors[0]["message"] and "删除" in r.errors[0]["fix"]
    limits(max_cells=10_000)
    assert ingest_files(SOURCE, [path])[0].status == "accepted"


def test_column_bound(tmp_path, sqlite_warehouse, data_root, people, limits):
    path = write(tmp_path / "人社局_2017年6月.xlsx", sheet("employment", _good_rows(people)))
    limits(max_columns=5)
    (r,) = ingest_files(SOURCE, [path])
    assert r.status == "rejected" and rules(r) == {"extent"} and "上限 5 列" in r.errors[0]["message"]


def test_memory_bound(tmp_path, sqlite_warehouse, data_root, people, limits):
    path = tmp_path / "人社局_2017年6月.csv"
    path.write_bytes(_csv_bytes(people, lambda g: g.extend([list(g[1])] * 200_000)))  # ~30 MB of rows
    limits(max_memory_mb=20)
    (r,) = ingest_files(SOURCE, [path])
    assert r.status == "rejected" and rules(r) == {"extent"} and "内存" in r.errors[0]["message"]


@pytest.mark.slow
def test_time_bound(tmp_path, sqlite_warehouse, data_root, people, limits):
    path = tmp_path / "人社局_2017年6月.csv"
    path.write_bytes(_csv_bytes(people, lambda g: g.extend([list(g[1])] * 300_000)))
    limits(max_seconds=0.2)
    t = time.monotonic()
    (r,) = ingest_files(SOURCE, [path])
    assert time.monotonic() - t < 30
    assert r.status == "rejected" and rules(r) == {"extent"} and "0.2 秒" in r.errors[0]["message"]


def test_field_bound(tmp_path, sqlite_warehouse, data_root, people, limits):
    path = tmp_path / "人社局_2017年6月.csv"
    path.write_bytes(_csv_bytes(people, lambda g: g[1].__setitem__(_col("用工单位"), "某" * 200)))
    limits(max_field_chars=100)
    (r,) = ingest_files(SOURCE, [path])
    assert r.status == "rejected" and rules(r) == {"corrupt"} and "第 2 行" in r.errors[0]["message"]


@pytest.mark.slow
def test_a_crashing_file_does_not_take_the_others_down(tmp_path, sqlite_warehouse, data_root, people):
    """The grid that aborts calamine, between two good files, through the DAG's own path."""
    from fupin.ingest.batch import ingest_inbox

    box = data_root / "shares" / SOURCE / "报送"
    write(box / "人社局_2017年5月.xlsx", sheet("employment", rows("employment", people, "2017-05")))
    _xlsx_with_cells(box / "人社局_2017年6月.xlsx", {"A1": "x", "XFD1048576": "y"})
    write(box / "人社局_2017年7月.xlsx", sheet("employment", rows("employment", people, "2017-07")))
    out = {r.month: r.status for r in ingest_inbox()}
    assert out == {"2017-05": "accepted", "2017-06": "rejected", "2017-07": "accepted"}
    assert list((data_root / "work" / SOURCE).iterdir()) == []
    assert inbox.claim_new() == []


@pytest.mark.slow
def test_same_bytes_as_a_rejected_drop_are_judged_again(tmp_path, sqlite_warehouse, data_root, people, monkeypatch):
    """`duplicate` means only "already loaded": a file rejected under an old contract is
    checked again when it is sent again (here: the contract's wage cap is raised meanwhile)."""
    data = copy.deepcopy(_good_rows(people))
    worker = next(r for r in data if r["monthly_wage"] is not None)
    worker["monthly_wage"] = 60000.0
    path = write(tmp_path / "人社局_2017年6月.xlsx", sheet("employment", data))
    first = ingest_files(SOURCE, [path])[0]
    assert first.status == "rejected" and "range" in rules(first)
    again = ingest_files(SOURCE, [path])[0]
    assert again.status == "rejected"  # judged again, not "duplicate"
    assert "same_as_rejected" in rules(again, "warnings")
    note = next(w for w in again.warnings if w["rule"] == "same_as_rejected")["message"]
    assert "人社局_2017年6月.xlsx" in note and "上次未通过" in note and "年" in note
    good = write(tmp_path / "ok" / "人社局_2017年6月.xlsx", sheet("employment", _good_rows(people)))
    assert ingest_files(SOURCE, [good])[0].status == "accepted"
    dup = ingest_files(SOURCE, [good])[0]
    assert dup.status == "duplicate" and dup.same_as["file"] == "人社局_2017年6月.xlsx"
    assert "无需重新报送" in dup.text() and dup.sha256[:12] not in dup.text()
