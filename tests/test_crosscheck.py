"""The province-wide cross-check (R7–R9) on a small province of three counties."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from fupin.ids import check_digit

NAMES = {"440224": "仁化县", "440229": "翁源县", "440281": "乐昌市"}


def pid(region: str, birth: str, seq: str) -> str:
    body = f"{region}{birth}{seq}"
    return body + check_digit(body)


def registry(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"id_number": i, "name": n, "town": "甲镇", "village": "一村"} for i, n in rows],
                        columns=["id_number", "name", "town", "village"])


def dibao(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"id_number": i, "name": n, "town": "乙镇", "village": "二村", "status": s} for i, n, s in rows],
                        columns=["id_number", "name", "town", "village", "status"])


MOVER = pid("440224", "19600101", "011")  # registered poor in two counties
DOUBLE = pid("440229", "19700202", "022")  # registered in 翁源县, on dibao in 仁化县
TYPO_A = pid("440281", "19800303", "033")  # 乐昌市's registry; 仁化县 has the same person one digit off
TYPO_B = pid("440281", "19800303", "043")
SWAP_B = pid("440281", "19800303", "303")  # a neighbour swap of TYPO_A's sequence (033 → 303)
ALONE = pid("440224", "19900404", "044")
ALONE_TYPO = pid("440224", "19900404", "045")  # on 翁源县's dibao, one digit off


def test_each_cross_county_rule_on_a_small_province():
    from fupin.reconcile.crosscheck import find
    from fupin.reconcile.rules import one_digit_apart

    assert one_digit_apart(TYPO_A, TYPO_B) and one_digit_apart(TYPO_A, SWAP_B)
    registries = {
        "440224": registry((MOVER, "王大"), (ALONE, "赵六"), (TYPO_B, "李明")),
        "440229": registry((MOVER, "王大"), (DOUBLE, "张三")),
        "440281": registry((TYPO_A, "李明"), (pid("440281", "19500505", "055"), "钱七")),
    }
    dibaos = {
        "440224": dibao((DOUBLE, "张三", "在保"), (pid("440224", "19500505", "567"), "钱七", "在保")),
        "440229": dibao((MOVER, "王大", "停保"), (ALONE_TYPO, "赵六", "停保")),  # suspended: no R8, but R9 all the same
        "440281": dibao((SWAP_B, "李明", "在保")),  # the same county as TYPO_A: R5's business, not R9's
    }
    f = find(registries, dibaos, NAMES)
    assert not one_digit_apart(TYPO_B, SWAP_B)
    assert {(r.rule, r.key) for r in f.itertuples()} == {
        ("R7", f"{MOVER}|440224|440229"),
        ("R8", f"{DOUBLE}|440229|440224"),
        ("R9", f"{TYPO_A}|440281|{TYPO_B}|440224"),  # both registered: once, from the smaller ID
        ("R9", f"{ALONE}|440224|{ALONE_TYPO}|440229"),  # a registry and another county's dibao: from the registry side
    }
    r8 = f[f["rule"] == "R8"].iloc[0]
    assert (r8.county, r8.other_county, r8.town, r8.other_town) == ("440229", "440224", "甲镇", "乙镇")
    assert r8.detail == "在翁源县建档立卡，同时在仁化县享受低保（在保）"
    assert not f["person_id"].str.contains("19500505").any()  # same name and birth, IDs three digits apart
    assert f[f["rule"] == "R9"]["detail"].str.contains("姓名、出生日期相同").all()


def test_a_county_without_data_takes_no_part():
    from fupin.reconcile.crosscheck import find

    f = find({"440224": registry((MOVER, "王大")), "440229": None}, {"440224": None, "440229": None}, NAMES)
    assert f.empty and list(f.columns)[:3] == ["rule", "key", "county"]


# --- a province of three counties, end to end through the DAG and real SMTP ------------------------

LECHANG = {"code": "440281", "name": "乐昌市", "towns": {"440281100": "乐城街道", "440281101": "北乡镇"},
           "villages": [("440281100", "乐城街道", "440281100201", "城南村", 1), ("440281101", "北乡镇", "440281101201", "北乡村", 0)]}


def _province_config(folder):
    """The province's own config: its office as `poverty_office`, its engineers, its name."""
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[1]
    (folder / "config").mkdir(parents=True)
    settings = yaml.safe_load((root / "config" / "settings.yaml").read_text(encoding="utf-8"))
    settings["county"] = {"code": "440000", "name": "广东省", "plan": "广东省脱贫攻坚实施方案"}
    (folder / "config" / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    units = {"sender": "广东省扶贫数据平台 <fupin@gd.fupin.example>", "reply_to": "省扶贫办 <spb@gd.fupin.example>",
             "units": {"poverty_office": {"name": "省扶贫办", "to": ["spb@gd.fupin.example"], "leaders": ["spb-leader@gd.fupin.example"]},
                       "ops": {"name": "省扶贫数据平台运维", "to": ["ops@gd.fupin.example"], "leaders": []}},
             "outbox": yaml.safe_load((root / "config" / "units.yaml").read_text(encoding="utf-8"))["outbox"]}
    (folder / "config" / "units.yaml").write_text(yaml.safe_dump(units, allow_unicode=True), encoding="utf-8")
    return folder


def _one_digit_off(person_id: str) -> str:
    body = person_id[:16] + str((int(person_id[16]) + 1) % 10)
    return body + check_digit(body)


@pytest.fixture
def three_counties(tmp_path, monkeypatch):
    """仁化县, 翁源县 and 乐昌市, each with its own warehouse holding 2017-06's registry and dibao,
    three people planted across them; the province with its own warehouse and config."""
    import yaml

    from fupin.config import clear_caches
    from fupin.county import County, counties
    from fupin.demo.samples import make_population, sample_rows
    from fupin.ingest.inbox import ensure_folders
    from fupin.warehouse import db
    from tests.helpers import store_snapshot
    from tests.test_counties import WENGYUAN, county_config

    listed = []
    for code, name, own in (("440224", "仁化县", None), ("440229", "翁源县", WENGYUAN), ("440281", "乐昌市", LECHANG)):
        root = tmp_path / code
        with County(data_root=str(root)).active():
            ensure_folders()
        url = f"sqlite:///{root / 'warehouse.sqlite'}"
        db.upgrade(url)
        conf = {"config_dir": str(county_config(tmp_path / f"{code}-config", own))} if own else {}
        listed.append({"code": code, "name": name, "data_root": str(root), "warehouse_url": url, **conf})
    (tmp_path / "province").mkdir()
    prov = {"code": "440000", "name": "广东省", "data_root": str(tmp_path / "province"),
            "warehouse_url": f"sqlite:///{tmp_path / 'province' / 'warehouse.sqlite'}",
            "config_dir": str(_province_config(tmp_path / "province-config"))}
    db.upgrade(prov["warehouse_url"])
    path = tmp_path / "counties.yaml"
    path.write_text(yaml.safe_dump({"province": prov, "counties": listed}, allow_unicode=True))
    monkeypatch.setenv("FUPIN_COUNTIES", str(path))
    monkeypatch.delenv("FUPIN_WAREHOUSE_URL", raising=False)

    frames = {}
    for i, county in enumerate(counties()):
        with county.active():
            people = make_population(12, seed=40 + i)
            frames[county.code] = {d: pd.DataFrame(sample_rows(d, people)) for d in ("registry", "dibao")}
    ren, weng, le = frames["440224"], frames["440229"], frames["440281"]
    capable = lambda f: f["registry"][f["registry"]["labor_capacity"] != "无劳动能力"]  # noqa: E731 -- not on dibao at home
    mover, double, typo = capable(weng).iloc[0], capable(le).iloc[0], capable(ren).iloc[0]
    # R7: 翁源县's person also on 仁化县's registry, in a 仁化县 household
    ren["registry"] = pd.concat([ren["registry"], ren["registry"].iloc[[0]].assign(
        id_number=mover["id_number"], name=mover["name"], relation="之子")], ignore_index=True)
    # R8: 乐昌市's person on 翁源县's dibao, in force
    weng["dibao"] = pd.concat([weng["dibao"], weng["dibao"].iloc[[0]].assign(
        id_number=double["id_number"], name=double["name"], status="在保", relation="配偶")], ignore_index=True)
    # R9: 仁化县's person on 乐昌市's dibao under an ID one digit off
    le["dibao"] = pd.concat([le["dibao"], le["dibao"].iloc[[0]].assign(
        id_number=_one_digit_off(typo["id_number"]), name=typo["name"], relation="配偶")], ignore_index=True)
    for code, by_dataset in frames.items():
        url = next(c["warehouse_url"] for c in listed if c["code"] == code)
        for dataset, frame in by_dataset.items():
            store_snapshot(url, dataset, "2017-06", frame)
    yield {"mover": mover["id_number"], "double": double["id_number"], "typo": typo["id_number"],
           "typo_dibao": _one_digit_off(typo["id_number"]), "province": prov, "counties": listed}
    clear_caches()


@pytest.mark.slow
@pytest.mark.airflow
def test_the_province_dag_finds_each_planted_case_and_mails_each_county_its_own(three_counties, airflow_db, mailbox):
    from airflow.dag_processing.dagbag import DagBag

    from fupin import queries
    from fupin.county import province
    from fupin.ids import mask
    from fupin.warehouse import db

    planted = three_counties
    bag = DagBag(dag_folder=str(Path(__file__).resolve().parents[1] / "dags"))
    assert bag.import_errors == {}
    dag = bag.dags["province_crosscheck"]
    names = {a.name for a in dag.timetable.asset_condition.objects}
    assert names == {"fupin/440224/reconciliation", "fupin/440229/reconciliation", "fupin/440281/reconciliation"}
    assert dag.test(run_conf={"month": "2017-06"}).state == "success"

    with province().active(), db.engine().connect() as conn:
        stored = queries.crosscheck_findings_of(conn, "2017-06")
    assert sorted((f["rule"], f["county"], f["other_county"], f["person_id"], f["other_id"]) for f in stored) == [
        ("R7", "440224", "440229", planted["mover"], planted["mover"]),
        ("R8", "440281", "440229", planted["double"], planted["double"]),
        ("R9", "440224", "440281", planted["typo"], planted["typo_dibao"]),
    ]
    assert all(f["persisted_months"] == 1 and not f["escalated"] for f in stored)

    by_to = {m["To"]: m for m in mailbox.messages}
    assert set(by_to) == {"fpb@renhua.fupin.example", "fpb@c440229.fupin.example", "fpb@c440281.fupin.example", "spb@gd.fupin.example"}
    ids = [planted[k] for k in ("mover", "double", "typo", "typo_dibao")]
    expected_cases = {"fpb@renhua.fupin.example": ("mover", "typo"), "fpb@c440229.fupin.example": ("mover", "double"),
                      "fpb@c440281.fupin.example": ("double", "typo_dibao")}
    for to, cases in expected_cases.items():
        body = by_to[to].get_body(("plain",)).get_content()
        assert not any(i in body for i in ids), to  # masked only
        assert all(mask(planted[c]) in body for c in cases), to
        others = {mask(planted[k]) for k in ("mover", "double", "typo", "typo_dibao")} - {mask(planted[c]) for c in cases}
        assert not any(o in body for o in others if o not in {mask(planted["typo"]), mask(planted["typo_dibao"])}), to
        assert "mzj@" in str(by_to[to]["Cc"]), to  # civil affairs copied
    summary = by_to["spb@gd.fupin.example"].get_body(("plain",)).get_content()
    assert "R7 跨县重复建档：1 条" in summary and "R8 跨县建档且享受低保：1 条" in summary and "R9 跨县疑似同一人：1 条" in summary
    assert "仁化县：2 条" in summary and "翁源县：2 条" in summary and "乐昌市：2 条" in summary
    assert not re.search(r"\d{17}[\dX]", summary) and "*" not in summary  # no ID numbers at all, not even masked

    # a re-run replaces the month and mails nobody again
    assert dag.test(run_conf={"month": "2017-06"}).state == "success"
    assert len(mailbox.messages) == 4

    # no newer data for two months: the same cases persist, and from the third month they are escalated
    from fupin.county import counties
    from fupin.reconcile.crosscheck import crosscheck_month, queue_notices, send_all

    for month in ("2017-07", "2017-08"):
        summary = crosscheck_month(month, counties(), province())
    assert summary.escalated == 3 and summary.behind == ["440224", "440229", "440281"] and summary.missing == []
    queue_notices(summary, counties(), province())
    with province().active():
        send_all()
    august = {m["To"]: m.get_body(("plain",)).get_content() for m in mailbox.messages[4:]}
    assert "（已连续 3 个月，已报省扶贫办）" in august["fpb@renhua.fupin.example"]
    assert "连续 3 个月以上未解决：3 条" in august["spb@gd.fupin.example"]
    assert "按其最近一月数据比对：仁化县、翁源县、乐昌市" in august["spb@gd.fupin.example"]


@pytest.mark.slow
def test_the_command_line_checks_the_province_and_migrates_its_warehouse(three_counties, capsys, monkeypatch, tmp_path):
    import json

    from fupin.cli import main

    assert main(["db", "upgrade", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["440224 仁化县", "440229 翁源县", "440281 乐昌市", "440000 广东省"]
    assert main(["crosscheck", "--month", "2017-06", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["counts"] == {"R7": 1, "R8": 1, "R9": 1} and summary["missing"] == [] and summary["behind"] == []
    assert main(["crosscheck", "--month", "2017-06"]) == 0
    out = capsys.readouterr().out
    assert "R8 跨县建档且享受低保: 1" in out and three_counties["mover"] not in out
    # a county deployment has no province to check
    monkeypatch.setenv("FUPIN_COUNTIES", str(tmp_path / "one.yaml"))
    (tmp_path / "one.yaml").write_text("counties:\n" + "".join(
        f"  - {{code: '{c['code']}', data_root: '{c['data_root']}', warehouse_url: '{c['warehouse_url']}'}}\n"
        for c in three_counties["counties"]))
    assert main(["crosscheck", "--month", "2017-06"]) == 2
    assert "province:" in capsys.readouterr().err
