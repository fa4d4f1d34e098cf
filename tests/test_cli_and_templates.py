"""The engineers' CLI and the clerks' templates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fupin.config import contracts
from tests.helpers import rows, sheet, write

FUPIN = str(Path(sys.executable).with_name("fupin"))


def test_ingest_json_prints_one_receipt_per_file(tmp_path, data_root, people):
    good = write(tmp_path / "卫计局_2017年6月.xlsx", sheet("medical", rows("medical", people)))
    bad = write(tmp_path / "health.xlsx", sheet("medical", rows("medical", people)[:5]))
    out = subprocess.run([FUPIN, "ingest", "--source", "health", "--data-root", str(data_root), "--json", str(good), str(bad), str(good)],
                         capture_output=True, text=True, env={**__import__("os").environ, "FUPIN_WAREHOUSE_URL": ""})
    assert out.returncode == 1  # one file was rejected
    receipts = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["status"] for r in receipts] == ["accepted", "rejected", "duplicate"]
    for r in receipts:
        assert {"file", "source", "month", "status", "rows", "errors", "warnings"} <= r.keys()
    assert receipts[0]["rows"] == {"medical": len(rows("medical", people))} and receipts[0]["month"] == "2017-06"
    err = receipts[1]["errors"][0]
    assert {"sheet", "row", "column", "rule", "message"} <= err.keys() and err["rule"] == "month_missing"
    assert (data_root / "warehouse.sqlite").exists()
    # no personal data in the log
    assert not any(p.id_number in out.stderr for p in people)


def test_ingest_text_receipt_is_chinese(tmp_path, data_root, people):
    good = write(tmp_path / "卫计局_2017年6月.xlsx", sheet("medical", rows("medical", people)))
    out = subprocess.run([FUPIN, "ingest", "--source", "health", "--data-root", str(data_root), str(good)],
                         capture_output=True, text=True, env={**__import__("os").environ, "FUPIN_WAREHOUSE_URL": ""})
    assert out.returncode == 0
    assert "【报送回执】县卫计局 · 2017年6月" in out.stdout and "已通过" in out.stdout


def test_templates_have_drop_downs_and_checks_and_read_back(tmp_path, sqlite_warehouse, people):
    from openpyxl import load_workbook

    from fupin.ingest.pipeline import ingest_files
    from fupin.ingest.templates import write_templates

    paths = write_templates(tmp_path / "t")
    assert len(paths) == len(contracts().sources)
    path = next(p for p in paths if p.name.startswith("县民政局"))
    wb = load_workbook(path)
    ws = wb["农村低保对象"]
    assert [c.value for c in ws[2]] == [c.header for c in contracts().datasets["dibao"].columns]
    kinds = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            kinds[ws.cell(row=2, column=rng.min_col).value] = dv.type
    assert kinds["与户主关系"] == kinds["保障类别"] == kinds["状态"] == kinds["镇"] == "list"
    assert kinds["月人均补差（元）"] == "decimal" and kinds["纳入日期"] == "date" and kinds["身份证号"] == "textLength"
    assert ws.column_dimensions["B"].number_format == "@"  # the whole ID column is text
    # a clerk fills the template below the header: it reads back as the dataset
    data = rows("dibao", people)
    for i, r in enumerate(data, 3):
        for j, col in enumerate(contracts().datasets["dibao"].columns, 1):
            ws.cell(row=i, column=j, value=r[col.key])
    filled = tmp_path / "县民政局_2017年6月.xlsx"
    wb.save(filled)
    (r,) = ingest_files("civil_affairs", [filled])
    assert r.status == "accepted", r.text()
    assert r.rows == {"dibao": len(data)}


@pytest.mark.slow
def test_every_template_filled_with_12000_rows_ingests_with_no_warning(tmp_path, sqlite_warehouse, data_root):
    """A clerk fills the template as handed out (12,000 rows where the dataset has that many
    people, every village where it is by village) and gets 已通过 with nothing to check."""
    from openpyxl import load_workbook

    from fupin.demo.samples import make_population
    from fupin.ingest.pipeline import ingest_files
    from fupin.ingest.templates import ROWS_CHECKED, write_templates

    big = make_population(20000, seed=11)
    c = contracts()
    paths = {p.name.split("_")[0]: p for p in write_templates(tmp_path / "t")}
    order = sorted(c.sources, key=lambda s: s == "poverty_office")  # the registry last: no cross-check noise
    for source in order:
        wb = load_workbook(paths[c.sources[source].label])
        assert wb.sheetnames[0] == "填写说明" and wb["选项"].sheet_state == "hidden"
        for ds in c.of_source(source):
            ws = wb[ds.title[:31]]
            for dv in ws.data_validations.dataValidation:  # every check covers the rows a county fills
                assert all(r.max_row >= ROWS_CHECKED + 2 >= 20002 for r in dv.sqref.ranges), (ds.name, str(dv.sqref))
            if "village" in ds.keys and "town" in ds.keys:
                village = [dv for dv in ws.data_validations.dataValidation
                           if any(ws.cell(row=2, column=r.min_col).value == ds.column("village").header for r in dv.sqref.ranges)]
                assert len(village) == 1 and village[0].formula1.startswith("INDIRECT(")
            data = rows(ds.name, big)[:12000]
            for i, r in enumerate(data, 3):
                for j, col in enumerate(ds.columns, 1):
                    ws.cell(row=i, column=j, value=r[col.key])
        filled = tmp_path / f"{c.sources[source].label}_2017年6月.xlsx"
        wb.save(filled)
        (r,) = ingest_files(source, [filled])
        assert r.status == "accepted", r.text()[:2000]
        assert r.warnings == [], r.text()[:2000]
        assert all(n == min(12000, len(rows(d, big))) for d, n in r.rows.items()), r.rows
    assert max(len(rows(d, big)) for d in ("registry", "medical", "employment")) >= 12000
