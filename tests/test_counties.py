"""A provincial deployment: counties as the partition of the data and of the tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import count, rows, sheet, write

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def province(tmp_path, monkeypatch):
    """Two counties, each with its own data root and warehouse; the second with its own units."""
    from fupin.config import clear_caches
    from fupin.ingest.inbox import ensure_folders
    from fupin.warehouse import db

    own = tmp_path / "c2-config" / "config"
    own.mkdir(parents=True)
    units = (ROOT / "config" / "units.yaml").read_text(encoding="utf-8")
    (own / "units.yaml").write_text(units.replace("renhua.fupin.example", "c2.fupin.example"), encoding="utf-8")
    listed = []
    for code, conf in (("440224", None), ("440299", str(tmp_path / "c2-config"))):
        root = tmp_path / code
        ensure_folders(root)
        url = f"sqlite:///{root / 'warehouse.sqlite'}"
        db.upgrade(url)
        listed.append({"code": code, "name": code, "data_root": str(root), "warehouse_url": url, **({"config_dir": conf} if conf else {})})
    path = tmp_path / "counties.yaml"
    path.write_text(yaml.safe_dump({"counties": listed}, allow_unicode=True))
    monkeypatch.setenv("FUPIN_COUNTIES", str(path))
    monkeypatch.delenv("FUPIN_WAREHOUSE_URL", raising=False)
    yield {c["code"]: c for c in listed}
    clear_caches()


def test_each_county_gets_its_own_dags_and_assets(province):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {f"{w}__{c}" for w in ("bureau_ingest", "registry_reconcile", "assessment", "submission_reminders") for c in province}
    schedule = bag.dags["registry_reconcile__440299"].timetable
    names = {a.name for a in schedule.asset_condition.objects}
    assert names == {"fupin/440299/registry", "fupin/440299/dibao"}
    assert "county:440299" in bag.dags["bureau_ingest__440299"].tags


@pytest.mark.airflow
def test_a_countys_files_load_into_its_own_warehouse_and_mail_its_own_units(province, airflow_db, people, mailbox):
    from airflow.dag_processing.dagbag import DagBag

    c1, c2 = province["440224"], province["440299"]
    write(Path(c2["data_root"]) / "inbox" / "poverty_office" / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
    write(Path(c1["data_root"]) / "inbox" / "civil_affairs" / "民政局_2017年6月.xlsx", sheet("dibao", rows("dibao", people)))
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.dags["bureau_ingest__440299"].test().state == "success"

    assert count("registry", "2017-06", c2["warehouse_url"]) == len(rows("registry", people))
    assert count("registry", url=c1["warehouse_url"]) == 0 and count("dibao", url=c1["warehouse_url"]) == 0
    # the other county's drop is still waiting in its own inbox, untouched
    assert (Path(c1["data_root"]) / "inbox" / "civil_affairs" / "民政局_2017年6月.xlsx").exists()
    assert [m["To"] for m in mailbox.messages] == ["fpb@c2.fupin.example"]


def test_two_counties_active_at_once_in_two_threads_do_not_mix(province):
    """The active county is a context variable: each thread sees its own config, data root and
    warehouse while the other is active, and the environment is never touched."""
    import os
    import threading

    from fupin.config import data_root, units
    from fupin.county import counties, current
    from fupin.warehouse.db import warehouse_url

    before = dict(os.environ)
    both = threading.Barrier(2)
    seen: dict[str, list] = {}

    def work(county) -> None:
        with county.active():
            for _ in range(50):
                both.wait()  # the two threads interleave at every step
                seen.setdefault(county.code, []).append(
                    (current().code, str(data_root()), warehouse_url(), units()["poverty_office"].to[0].split("@")[1]))

    threads = [threading.Thread(target=work, args=(c,)) for c in counties()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for code, c in province.items():
        domain = "c2.fupin.example" if code == "440299" else "renhua.fupin.example"
        assert set(seen[code]) == {(code, str(Path(c["data_root"]).resolve()), c["warehouse_url"], domain)}
    assert dict(os.environ) == before
    assert current().code is None  # nothing leaks out of the threads
