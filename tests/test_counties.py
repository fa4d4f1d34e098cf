"""A provincial deployment: counties as the partition of the data and of the tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.helpers import count, rows, sheet, write

ROOT = Path(__file__).resolve().parents[1]


# 翁源县: another county of the province, with its own code, towns, villages and addresses
WENGYUAN = {"code": "440229", "name": "翁源县", "towns": {"440229100": "龙仙镇", "440229101": "坝仔镇", "440229102": "江尾镇"},
            "villages": [("440229100", "龙仙镇", "440229100201", "青云村", 1), ("440229100", "龙仙镇", "440229100202", "上坪村", 0),
                         ("440229101", "坝仔镇", "440229101201", "建阳村", 1), ("440229101", "坝仔镇", "440229101202", "坝仔村", 0),
                         ("440229102", "江尾镇", "440229102201", "仙北村", 0), ("440229102", "江尾镇", "440229102202", "石下村", 1)]}


def county_config(folder: Path, county: dict) -> Path:
    """A county's own config dir: settings (code, name, plan, ID prefixes), units (its towns and
    addresses) and reference (its towns and villages); contracts, targets and suites are the project's."""
    import csv

    (folder / "config").mkdir(parents=True)
    (folder / "reference").mkdir()
    settings = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    settings["county"] = {"code": county["code"], "name": county["name"], "plan": f"{county['name']}脱贫攻坚实施方案",
                          "id_prefixes": [county["code"]]}
    (folder / "config" / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    units = yaml.safe_load((ROOT / "config" / "units.yaml").read_text(encoding="utf-8"))
    domain = f"c{county['code']}.fupin.example"
    units["sender"] = f"{county['name']}扶贫数据平台 <fupin@{domain}>"
    units["reply_to"] = f"县扶贫办 <fpb@{domain}>"
    kept = {k: u for k, u in units["units"].items() if not k.isdigit()}
    kept |= {code: {"name": name, "to": [f"t{code[-3:]}"], "leaders": []} for code, name in county["towns"].items()}
    units["units"] = {k: {**u, "to": [a.split("@")[0] + "@" + domain for a in u["to"]],
                          "leaders": [a.split("@")[0] + "@" + domain for a in u.get("leaders", [])]} for k, u in kept.items()}
    (folder / "config" / "units.yaml").write_text(yaml.safe_dump(units, allow_unicode=True), encoding="utf-8")
    with open(folder / "reference" / "towns.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["town_code", "town"])
        w.writerows(county["towns"].items())
    with open(folder / "reference" / "villages.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["town_code", "town", "village_code", "village", "is_poor_village", "households", "population"])
        w.writerows([(*v, 100, 400) for v in county["villages"]])
    return folder


@pytest.fixture
def province(tmp_path, monkeypatch):
    """Two counties, each with its own data root and warehouse: 仁化县 with the project's config,
    翁源县 with its own code, towns, villages and units."""
    from fupin.config import clear_caches
    from fupin.ingest.inbox import ensure_folders
    from fupin.warehouse import db

    own = county_config(tmp_path / "440229-config", WENGYUAN)
    listed = []
    for code, name, conf in (("440224", "仁化县", None), ("440229", "翁源县", str(own))):
        root = tmp_path / code
        root.mkdir()
        url = f"sqlite:///{root / 'warehouse.sqlite'}"
        db.upgrade(url)
        listed.append({"code": code, "name": name, "data_root": str(root), "warehouse_url": url, **({"config_dir": conf} if conf else {})})
    path = tmp_path / "counties.yaml"
    path.write_text(yaml.safe_dump({"counties": listed}, allow_unicode=True))
    monkeypatch.setenv("FUPIN_COUNTIES", str(path))
    monkeypatch.delenv("FUPIN_WAREHOUSE_URL", raising=False)
    for c in listed:  # each county's own folders (its units' 核查结果 folders among them)
        with _county(c["code"]).active():
            ensure_folders()
    yield {c["code"]: c for c in listed}
    clear_caches()


def _county(code: str):
    from fupin.county import counties

    return next(c for c in counties() if c.code == code)


def _people_of(code: str, n: int = 30, seed: int = 5):
    """A county's own poor households: its towns, villages, household numbers and IDs."""
    from fupin.demo.samples import make_population

    with _county(code).active():
        return make_population(n, seed=seed)


def test_each_county_gets_its_own_dags_and_assets(province):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    workflows = ("bureau_ingest", "registry_reconcile", "funds_supervision", "assessment", "submission_reminders")
    assert set(bag.dag_ids) == {f"{w}__{c}" for w in workflows for c in province}
    schedule = bag.dags["registry_reconcile__440229"].timetable
    names = {a.name for a in schedule.asset_condition.objects}
    assert names == {"fupin/440229/registry", "fupin/440229/dibao"}
    assert "county:440229" in bag.dags["bureau_ingest__440229"].tags


@pytest.mark.slow
@pytest.mark.airflow
def test_a_countys_files_load_into_its_own_warehouse_and_mail_its_own_units(province, airflow_db, people, mailbox):
    from airflow.dag_processing.dagbag import DagBag

    c1, c2 = province["440224"], province["440229"]
    theirs = _people_of("440229")
    with _county("440229").active():
        registry = rows("registry", theirs)
        write(Path(c2["data_root"]) / "shares" / "poverty_office" / "报送" / "扶贫办_2017年6月.xlsx", sheet("registry", registry))
    write(Path(c1["data_root"]) / "shares" / "civil_affairs" / "报送" / "民政局_2017年6月.xlsx", sheet("dibao", rows("dibao", people)))
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.dags["bureau_ingest__440229"].test().state == "success"

    assert count("registry", "2017-06", c2["warehouse_url"]) == len(registry)
    assert count("registry", url=c1["warehouse_url"]) == 0 and count("dibao", url=c1["warehouse_url"]) == 0
    # the other county's drop is still waiting in its own inbox, untouched
    assert (Path(c1["data_root"]) / "shares" / "civil_affairs" / "报送" / "民政局_2017年6月.xlsx").exists()
    assert [m["To"] for m in mailbox.messages] == ["fpb@c440229.fupin.example"]
    assert "翁源县扶贫数据平台" in str(mailbox.messages[0]["From"])


@pytest.mark.slow
def test_a_second_county_loads_and_reconciles_by_its_own_configuration(province, tmp_path):
    """翁源县 differs from 仁化县 in code, towns and villages: its files pass its own checks (towns,
    villages, household numbers starting 440229) and reconcile; 仁化县's warehouse sees none of it;
    a file with 仁化县's towns and numbers is refused there, in words that name 翁源县's."""
    from fupin import queries
    from fupin.config import geography
    from fupin.ingest.pipeline import ingest_files
    from fupin.reconcile.rules import RULES
    from fupin.reconcile.run import reconcile_month
    from fupin.warehouse.db import engine

    c1, c2 = province["440224"], province["440229"]
    theirs = _people_of("440229")
    ours = _people_of("440224")
    with _county("440229").active():
        assert set(geography().towns) == {"龙仙镇", "坝仔镇", "江尾镇"}
        reg = rows("registry", theirs)
        dib = rows("dibao", theirs)
        dib.pop()  # one registry person not on dibao: a finding to reconcile
        got = ingest_files("poverty_office", [write(tmp_path / "扶贫办_2017年6月.xlsx", sheet("registry", reg))])
        got += ingest_files("civil_affairs", [write(tmp_path / "民政局_2017年6月.xlsx", sheet("dibao", dib))])
        assert [r.status for r in got] == ["accepted", "accepted"], [r.errors[:3] for r in got]
        summary = reconcile_month("2017-06")
        wrong = ingest_files("poverty_office", [write(tmp_path / "扶贫办_2017年7月.xlsx", sheet("registry", rows("registry", ours, "2017-07")))])[0]
    assert all(p.household_id.startswith("440229") and p.id_number.startswith("440229") for p in theirs)
    assert count("registry", "2017-06", c2["warehouse_url"]) == len(reg) and count("dibao", "2017-06", c2["warehouse_url"]) == len(dib)
    assert count("registry", url=c1["warehouse_url"]) == 0 and count("dibao", url=c1["warehouse_url"]) == 0
    with engine(c2["warehouse_url"]).connect() as conn:
        found = queries.findings_frame(conn, "2017-06", RULES)
    assert sum(summary.counts.values()) == len(found) > 0 and set(found["town"]) <= {"龙仙镇", "坝仔镇", "江尾镇"}
    assert wrong.status == "rejected"
    by_rule = {e["rule"]: e for e in wrong.errors}
    assert {"pattern", "town"} <= set(by_rule)
    assert "440229 开头的 16 位户编号" in by_rule["pattern"]["fix"]
    assert any(t in by_rule["town"]["fix"] for t in ("龙仙镇", "坝仔镇", "江尾镇"))
    assert not any("440224" in e["fix"] or "仁化" in e["fix"] for e in wrong.errors)


@pytest.mark.slow
def test_a_county_given_only_its_code_name_and_reference_is_judged_as_itself(tmp_path, monkeypatch):
    """翁源县 listed by code and name with a config dir holding only reference/: its patterns, ID
    prefixes and name come from counties.yaml, never from the project's (仁化县's) settings."""
    import shutil

    from fupin.config import clear_caches, contracts, county_settings
    from fupin.county import County
    from fupin.ingest.inbox import ensure_folders
    from fupin.ingest.pipeline import ingest_files
    from fupin.warehouse import db

    full = county_config(tmp_path / "full", WENGYUAN)
    only_reference = tmp_path / "440229-reference-only"
    shutil.copytree(full / "reference", only_reference / "reference")
    root = tmp_path / "440229"
    with County(data_root=str(root)).active():
        ensure_folders()
    url = f"sqlite:///{root / 'warehouse.sqlite'}"
    db.upgrade(url)
    path = tmp_path / "counties.yaml"
    path.write_text(yaml.safe_dump({"counties": [{"code": "440229", "name": "翁源县", "data_root": str(root), "warehouse_url": url,
                                                  "config_dir": str(only_reference)}]}, allow_unicode=True))
    monkeypatch.setenv("FUPIN_COUNTIES", str(path))
    monkeypatch.delenv("FUPIN_WAREHOUSE_URL", raising=False)
    clear_caches()
    try:
        theirs = _people_of("440229")
        with _county("440229").active():
            facts = county_settings()
            assert (facts["code"], facts["name"], facts["id_prefixes"]) == ("440229", "翁源县", ("440229",))
            assert "仁化" not in facts["plan"]
            assert contracts().datasets["registry"].column("household_id").pattern.startswith("^440229")
            got = ingest_files("poverty_office", [write(tmp_path / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", theirs)))])
            got += ingest_files("civil_affairs", [write(tmp_path / "民政局_2017年6月.xlsx", sheet("dibao", rows("dibao", theirs)))])
        assert [r.status for r in got] == ["accepted", "accepted"], [r.errors[:3] for r in got]
        said = [i["message"] + i["fix"] for r in got for i in r.errors + r.warnings]
        assert not any("地区码" in t or "440224" in t for t in said), said
        assert count("registry", "2017-06", url) == len(rows("registry", theirs))
    finally:
        clear_caches()


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
        domain = "c440229.fupin.example" if code == "440229" else "renhua.fupin.example"
        assert set(seen[code]) == {(code, str(Path(c["data_root"]).resolve()), c["warehouse_url"], domain)}
    assert dict(os.environ) == before
    assert current().code is None  # nothing leaks out of the threads


@pytest.mark.slow
def test_each_county_has_its_own_warehouse_pool(province, tmp_path):
    """One county's hundred files cannot hold every slot while another's reconciliation waits."""
    import json
    import os
    import subprocess
    import sys

    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    for code in province:
        assert bag.dags[f"bureau_ingest__{code}"].get_task("ingest_files").pool == f"fupin_warehouse__{code}"
        assert bag.dags[f"registry_reconcile__{code}"].get_task("reconcile").pool == f"fupin_warehouse__{code}"
    out = tmp_path / "pools.json"
    done = subprocess.run([str(Path(sys.executable).with_name("fupin")), "pools", str(out)], env=dict(os.environ),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    written = json.loads(out.read_text(encoding="utf-8"))
    assert set(written) == {"fupin_warehouse__440224", "fupin_warehouse__440229"}
    assert written["fupin_warehouse__440229"]["description"].startswith("翁源县") and written["fupin_warehouse__440229"]["slots"] >= 1
