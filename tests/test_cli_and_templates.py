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


def _fupin(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([FUPIN, *args], capture_output=True, text=True, env={**os.environ, "FUPIN_WAREHOUSE_URL": "", **(env or {})})


@pytest.mark.slow
def test_ingest_json_prints_one_receipt_per_file(tmp_path, data_root, people):
    assert _fupin("db", "upgrade", "--data-root", str(data_root)).returncode == 0  # as deploy does
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


@pytest.mark.slow
def test_ingest_text_receipt_is_chinese(tmp_path, data_root, people):
    assert _fupin("db", "upgrade", "--data-root", str(data_root)).returncode == 0
    good = write(tmp_path / "卫计局_2017年6月.xlsx", sheet("medical", rows("medical", people)))
    out = subprocess.run([FUPIN, "ingest", "--source", "health", "--data-root", str(data_root), str(good)],
                         capture_output=True, text=True, env={**__import__("os").environ, "FUPIN_WAREHOUSE_URL": ""})
    assert out.returncode == 0
    assert "【报送回执】县卫计局 · 2017年6月" in out.stdout and "已通过" in out.stdout


@pytest.mark.slow
def test_commands_refuse_a_warehouse_behind_and_say_how_to_fix_it(tmp_path, data_root, people):
    """Only `fupin db upgrade` (deploy) migrates: a command on an unmigrated warehouse stops,
    names the revisions and the command to run, and changes nothing."""
    good = write(tmp_path / "卫计局_2017年6月.xlsx", sheet("medical", rows("medical", people)))
    out = _fupin("ingest", "--source", "health", "--data-root", str(data_root), str(good))
    assert out.returncode == 2 and out.stdout == ""
    assert "is at migration none (empty), this code needs" in out.stderr and "run `fupin db upgrade`" in out.stderr
    assert [p for p in (data_root / "archive").rglob("*") if p.is_file()] == [] and good.exists()
    assert _fupin("db", "upgrade", "--data-root", str(data_root)).returncode == 0
    assert _fupin("ingest", "--source", "health", "--data-root", str(data_root), str(good)).returncode == 0


@pytest.mark.slow
def test_the_cli_is_quiet_and_strict(tmp_path, data_root, people):
    """No library chatter on stderr unless asked (-v); months, periods and dates are checked
    (exit 2 saying what is expected); a command with no data to read says so and fails."""
    assert _fupin("db", "upgrade", "--data-root", str(data_root)).stderr == ""
    good = write(tmp_path / "卫计局_2017年6月.xlsx", sheet("medical", rows("medical", people)))
    out = _fupin("ingest", "--source", "health", "--data-root", str(data_root), str(good))
    assert out.returncode == 0 and out.stderr == ""
    loud = _fupin("-vv", "db", "upgrade", "--data-root", str(data_root))
    assert "alembic" in loud.stderr
    for args, expected in ((["reconcile", "--month", "2017-13"], "month must be YYYY-MM with a month 01-12"),
                           (["assess", "--period", "2017H2"], "period must look like 2017H1 or 2017Y"),
                           (["assess", "--period", "2017Y", "--as-of", "2017-02-30"], "not a date (YYYY-MM-DD)"),
                           (["demo", "generate", "--months", "2017-06:2017-01"], "the last month comes before the first")):
        bad = _fupin(*args, "--data-root", str(data_root))
        assert bad.returncode == 2 and expected in bad.stderr and "Traceback" not in bad.stderr, (args, bad.stderr)
    empty = tmp_path / "empty"
    assert _fupin("db", "upgrade", "--data-root", str(empty)).returncode == 0
    for args in (["assess", "--period", "2017Y"], ["reconcile", "--month", "2017-06"]):
        none = _fupin(*args, "--data-root", str(empty))
        assert none.returncode == 2 and "holds no data yet" in none.stderr and none.stdout == "", none.stderr
    import argparse

    from fupin.cli import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(commands) == {"db", "ingest", "inbox", "templates", "reconcile", "crosscheck", "outbox", "assess", "demo", "serve",
                             "expectations", "pools", "share-config"}
    for name, parser in commands.items():
        unhelped = [a.dest for a in parser._actions if not a.help]
        assert not unhelped, (name, unhelped)  # every option and argument says what it is


@pytest.mark.slow
def test_every_command_takes_the_county_before_or_after_it(tmp_path):
    """With FUPIN_COUNTIES: `fupin --county C cmd` and `fupin cmd --county C` work; without
    --county, or with one that is not listed, it says which counties there are."""
    import yaml

    listed = [{"code": code, "name": name, "data_root": str(tmp_path / code), "warehouse_url": f"sqlite:///{tmp_path / code / 'w.sqlite'}"}
              for code, name in (("440224", "仁化县"), ("440229", "翁源县"))]
    (tmp_path / "counties.yaml").write_text(yaml.safe_dump({"counties": listed}, allow_unicode=True), encoding="utf-8")
    env = {"FUPIN_COUNTIES": str(tmp_path / "counties.yaml")}
    both = _fupin("db", "upgrade", "--all", env=env)
    assert both.returncode == 0 and "440224 仁化县: warehouse at revision" in both.stdout and "440229 翁源县" in both.stdout
    assert (tmp_path / "440229" / "w.sqlite").exists()
    before = _fupin("--county", "440229", "outbox", env=env)
    after = _fupin("outbox", "--county", "440229", env=env)
    assert before.returncode == after.returncode == 0 and before.stdout == after.stdout == "outbox: nothing failed or stuck\n"
    for args in (["outbox"], ["--county", "440999", "outbox"]):
        refused = _fupin(*args, env=env)
        assert refused.returncode == 2 and "440224 仁化县" in refused.stderr and "440229 翁源县" in refused.stderr, refused.stderr
    alone = _fupin("--county", "440229", "outbox", "--data-root", str(tmp_path / "x"))
    assert alone.returncode == 2 and "FUPIN_COUNTIES is not set" in alone.stderr


@pytest.mark.slow
def test_templates_have_drop_downs_and_checks_and_read_back(tmp_path, sqlite_warehouse, people):
    from openpyxl import load_workbook

    from fupin.ingest.pipeline import ingest_files
    from fupin.ingest.templates import write_templates

    paths = write_templates(tmp_path / "t")
    assert len(paths) == sum(len(s.reports) for s in contracts().sources.values())  # one per monthly file (县扶贫办 sends two)
    assert any(p.name.startswith("县扶贫办_扶贫项目库_报送模板") for p in paths)
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
    paths = {p.name.split("_报送模板")[0]: p for p in write_templates(tmp_path / "t")}
    files = [(source, title) for source, src in c.sources.items() for title in src.reports]
    files.sort(key=lambda f: f == ("poverty_office", c.sources["poverty_office"].file_of("registry")))  # the registry last: no cross-check noise
    for source, title in files:
        label = c.sources[source].label
        wb = load_workbook(paths[label if title == label else f"{label}_{title}"])
        assert wb.sheetnames[0] == "填写说明" and wb["选项"].sheet_state == "hidden"
        for ds in (c.datasets[d] for d in c.sources[source].reports[title]):
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
        filled = tmp_path / f"{label}_{title}_2017年6月.xlsx"
        wb.save(filled)
        (r,) = ingest_files(source, [filled])
        assert r.status == "accepted", r.text()[:2000]
        assert r.warnings == [], r.text()[:2000]
        assert all(n == min(12000, len(rows(d, big))) for d, n in r.rows.items()), r.rows
    assert max(len(rows(d, big)) for d in ("registry", "medical", "employment")) >= 12000


@pytest.mark.slow
def test_ingesting_and_reconciling_from_the_cli_load_no_airflow(tmp_path):
    """Airflow configures logging (to stdout) as it is imported: the CLI's ingest and
    reconciliation path must not import it, or `--json` output would carry its log lines."""
    probe = ("import sys, fupin.cli, fupin.ingest.pipeline, fupin.ingest.batch, fupin.reconcile.run, fupin.assess.run; "
             "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
