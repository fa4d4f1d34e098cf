"""The DAG files: they import cleanly, follow the house rules, and really run (dag.test())."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from tests.helpers import count, rows, sheet, write

DAGS = Path(__file__).resolve().parents[1] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dag_files_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "bureau_ingest" in dagbag.dag_ids


def test_every_dag_has_tags_no_catchup_and_a_docstring(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, dag_id
        assert dag.catchup is False, dag_id
        assert dag.doc_md, dag_id


def test_ingest_tasks_retry_with_back_off(dagbag):
    dag = dagbag.dags["bureau_ingest"]
    for task in dag.tasks:
        assert task.retries == 3
        assert task.retry_exponential_backoff
        assert task.on_failure_callback
    assert dag.max_active_runs == 1


def test_dag_files_import_no_heavy_library_at_top_level():
    import ast

    for path in DAGS.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in {"pandas", "great_expectations", "openpyxl", "sqlalchemy", "numpy"} for n in names), path


@pytest.mark.airflow
def test_bureau_ingest_runs_end_to_end(dagbag, airflow_db, sqlite_warehouse, data_root, people):
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    box = data_root / "inbox"
    write(box / "poverty_office" / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
    bad = copy.deepcopy(rows("dibao", people))
    bad[0]["status"] = "不详"
    write(box / "civil_affairs" / "民政局_2017年6月.xls", sheet("dibao", bad))
    write(box / "health" / "health_201706.csv", sheet("medical", rows("medical", people)))
    run = dagbag.dags["bureau_ingest"].test()
    assert run.state == "success"
    assert count("registry", "2017-06") == len(rows("registry", people))
    assert count("medical", "2017-06") == len(rows("medical", people))
    assert count("dibao") == 0
    assert [p.name for p in (box / "civil_affairs").iterdir()] == []
    assert any(p.name.endswith("民政局_2017年6月.xls.回执.txt") for p in (data_root / "quarantine" / "civil_affairs").iterdir())
    assert len(list((data_root / "archive" / "receipts").glob("*.json"))) == 3
    with create_session() as session:
        events = {e.asset.name: e.extra for e in session.query(AssetEvent).filter(AssetEvent.source_run_id == run.run_id)}
    assert set(events) == {"fupin/registry", "fupin/medical"}
    assert events["fupin/registry"]["month"] == "2017-06"
