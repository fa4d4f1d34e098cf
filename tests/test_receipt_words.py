"""What a clerk reads: counts that add up, times and numbers as people write them, a 是否为 for
a misspelling, no hashes, a marked copy under a short name that prints on A4; and the
contracts declare every bound the checks rely on."""

from __future__ import annotations

import copy
import re
import zipfile

from openpyxl import load_workbook

from fupin.config import contracts
from fupin.ingest.pipeline import ingest_files
from tests.helpers import rows, sheet, write


def _bad_medical(people) -> list[dict]:
    data = copy.deepcopy(rows("medical", people))
    data[0]["id_number"] = data[0]["id_number"][:-1] + ("1" if data[0]["id_number"][-1] != "1" else "2")
    data[0]["basic_insurance"] = "不清楚"  # a second error on the same row
    data[2]["medical_aid_ytd"], data[2]["inpatient_cost_ytd"] = 99999.0, 5000.0
    data[3]["town"], data[3]["village"] = "周田镇", "柳唐村"  # a same-sound typo of 柳塘村
    data[4]["town"] = "周天镇"  # one character off 周田镇
    return data


def test_a_rejected_receipt_reads_as_a_clerk_needs_it(tmp_path, sqlite_warehouse, data_root, people):
    path = write(tmp_path / "卫计局_2017年5月_初报.xlsx", sheet("medical", _bad_medical(people)), sheet("clinic", rows("clinic", people)))
    (r,) = ingest_files("health", [path])
    text = r.text()
    assert r.status == "rejected"
    assert "5 处错误，涉及 4 行（文件中贫困人口医疗保障 " in text and "贫困村卫生站 " in text  # two on one row; per sheet
    assert "不允许有错误行" in text
    assert re.search(r"收到时间：\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", text)
    assert r.sha256[:12] not in text and "指纹" not in text and not re.search(r"\d{4}-\d{2}-\d{2}T", text)
    assert "99,999 元" in text and "99999.0" not in text
    assert "是否为：柳塘村？" in text and "是否为：周田镇？" in text
    rows_in_order = [int(m) for m in re.findall(r"第 (\d+) 行", text.split("明细：")[1])]
    assert rows_in_order == sorted(rows_in_order)
    # the marked copy: a short plain name, a readable and printable 错误说明
    marked = r.annotated_workbook
    assert marked.endswith("/县卫计局_2017年5月_标注.xlsx")
    wb = load_workbook(marked)
    ws = wb["错误说明"]
    assert [c.value for c in ws[1]] == ["工作表", "行号", "列", "填写的值", "问题", "处理办法"]
    assert ws.freeze_panes == "A2" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4) and ws.page_setup.orientation == "landscape"
    assert all(ws.column_dimensions[c].width >= 7 for c in "ABCDEF") and ws.column_dimensions["F"].width >= 40
    assert all(ws.cell(row=n, column=6).alignment.wrap_text for n in range(2, ws.max_row + 1))
    assert all(ws.row_dimensions[n].height and ws.row_dimensions[n].height >= 15 for n in range(2, ws.max_row + 1))
    assert ws.max_row - 1 == len(r.errors) + len(r.warnings)


def test_a_duplicate_names_the_earlier_file_and_its_date(tmp_path, sqlite_warehouse, data_root, people):
    path = write(tmp_path / "卫计局_2017年6月.xlsx", sheet("medical", rows("medical", people)), sheet("clinic", rows("clinic", people)))
    ingest_files("health", [path])
    (again,) = ingest_files("health", [path])
    text = again.text()
    assert again.status == "duplicate"
    assert re.search(r"该文件与 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} 报送的“卫计局_2017年6月.xlsx”完全相同", text)
    assert again.sha256[:12] not in text


def test_an_ods_workbook_is_read(tmp_path, sqlite_warehouse, data_root, people):
    """OpenDocument (LibreOffice, some domestic office suites) is taken like .xlsx."""
    ds = contracts().datasets["employment"]
    data = rows("employment", people)

    def cell(v) -> str:
        v = {True: "是", False: "否", None: ""}.get(v, v) if isinstance(v, bool) or v is None else v
        return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(x) for x in r) + "</table:table-row>"
                   for r in [[c.header for c in ds.columns]] + [[r[c.key] for c in ds.columns] for r in data])
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="就业">{body}</table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    path = tmp_path / "人社局_2017年6月.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                   'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                   '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    (r,) = ingest_files("hrss", [path])
    assert r.status == "accepted", r.text()
    assert r.format == "ods" and r.rows == {"employment": len(data)}


def test_every_contract_column_declares_its_bounds():
    """Numbers have a range, texts a length, datasets a natural key: nothing implausible loads."""
    for ds in contracts().datasets.values():
        assert ds.key and all(k in ds.keys for k in ds.key), ds.name
        for col in ds.columns:
            if col.type in ("money", "int"):
                assert col.min is not None and col.max is not None, (ds.name, col.key)
            elif col.type != "id" and col.type not in ("bool", "date"):
                assert col.text_limit, (ds.name, col.key)
