"""The contract's row and cross-row rules, through GX and through the Python rules, on real files."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from fupin.config import contracts
from fupin.validate.suites import build_suite, load_suite
from tests.helpers import ingest, rows, rules, sheet, write

pytestmark = pytest.mark.usefixtures("sqlite_warehouse")


def _errors(r) -> list[tuple[int, str]]:
    return sorted((e["row"], e["rule"]) for e in r.errors if e["row"] and e["rule"] != "too_many_errors")


@pytest.mark.slow
@pytest.mark.parametrize("dataset", sorted(contracts().datasets))
def test_stored_suites_are_in_step_with_the_contracts(dataset):
    assert load_suite(dataset) == json.loads(json.dumps(build_suite(contracts().datasets[dataset]), ensure_ascii=False)), (
        "expectations/ is stale: run `fupin expectations build`"
    )


def test_one_head_per_household_and_same_income(tmp_path, people):
    data = copy.deepcopy(rows("registry", people))
    hh = [r for r in data if r["household_id"] == data[0]["household_id"]]
    assert len(hh) >= 2
    hh[1]["relation"] = "户主"  # two heads
    other = next(r for r in data if r["household_id"] != data[0]["household_id"] and r["relation"] != "户主")
    other["income_per_capita"] += 1
    r = ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", data)))
    assert r.status == "rejected"
    found = {e["rule"]: e for e in r.errors if e["rule"] in ("one_head", "same_income")}
    assert set(found) == {"one_head", "same_income"}
    assert data[0]["household_id"] in found["one_head"]["message"]
    assert other["household_id"] in found["same_income"]["message"]


def test_household_pattern_and_name_length(tmp_path, people):
    data = copy.deepcopy(rows("registry", people))
    for r in data:
        if r["household_id"] == data[0]["household_id"]:
            r["household_id"] = "4402241"
    data[-1]["name"] = "王"
    r = ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", data)))
    got = _errors(r)
    assert (2, "pattern") in got and (len(data) + 1, "length") in got


def test_exit_year_required_when_exited(tmp_path, people):
    data = copy.deepcopy(rows("registry", people))
    exited = [i for i, r in enumerate(data) if r["exit_status"] == "已脱贫"]
    data[exited[0]]["exit_year"] = None
    r = ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", data)))
    assert _errors(r) == [(exited[0] + 2, "required_if")]
    assert "已脱贫" in r.errors[-1]["fix"]


def test_conditional_columns_of_employment(tmp_path, people):
    data = copy.deepcopy(rows("employment", people))
    employed = next(i for i, r in enumerate(data) if r["employment_status"] != "未就业")
    data[employed]["employer"] = None
    data[0]["trained"], data[0]["training_program"] = "是", None
    r = ingest("hrss", write(tmp_path / "hrss_201706.xlsx", sheet("employment", data)))
    assert (employed + 2, "required_if") in _errors(r)
    assert (2, "required_if") in _errors(r)


def test_date_after_the_reporting_month(tmp_path, people):
    data = copy.deepcopy(rows("dibao", people))
    data[1]["start_date"] = dt.date(2017, 7, 1)
    data[2]["start_date"] = dt.date(2017, 6, 30)
    r = ingest("civil_affairs", write(tmp_path / "dibao_201706.xlsx", sheet("dibao", data)))
    assert _errors(r) == [(3, "after_month")]


def test_medical_aid_not_above_inpatient_cost(tmp_path, people):
    data = copy.deepcopy(rows("medical", people))
    data[0]["medical_aid_ytd"] = data[0]["inpatient_cost_ytd"] + 1
    r = ingest("health", write(tmp_path / "health_201706.xlsx", sheet("medical", data)))
    assert _errors(r) == [(2, "not_above")]


def test_duplicate_id_in_a_snapshot(tmp_path, people):
    data = copy.deepcopy(rows("dibao", people))
    data[3]["id_number"] = data[2]["id_number"]
    r = ingest("civil_affairs", write(tmp_path / "dibao_201706.xlsx", sheet("dibao", data)))
    assert _errors(r) == [(4, "duplicate_row"), (5, "duplicate_row")]
    # each of the two rows names the other, so the clerk finds both
    assert ["与第 5 行相同" in e["message"] for e in r.errors] == [True, False]
    assert ["与第 4 行相同" in e["message"] for e in r.errors] == [False, True]
    assert all("440224" in e["value"] and "*" in e["value"] for e in r.errors if e["rule"] == "unique")


def test_water_every_village_once(tmp_path, people):
    data = copy.deepcopy(rows("water_supply", people))
    dropped = data.pop(5)
    data.append(dict(data[0]))
    data[1]["households_tap"] = data[1]["households_total"] + 1
    r = ingest("water", write(tmp_path / "water_201706.xlsx", sheet("water_supply", data)))
    assert r.status == "rejected"
    assert (len(data) + 1, "unique") in _errors(r) and (3, "not_above") in _errors(r)
    missing = next(e for e in r.errors if e["rule"] == "missing_villages")
    assert dropped["village"] in missing["message"]


def test_missing_mandatory_sheet(tmp_path, people):
    r = ingest("health", write(tmp_path / "health_201706.xlsx", sheet("clinic", rows("clinic", people))))
    assert r.status == "rejected" and "missing_dataset" in rules(r)


def test_error_threshold_loads_the_good_rows(tmp_path, people, monkeypatch):
    from fupin.config import Source

    c = contracts()
    monkeypatch.setitem(c.sources, "health", Source("health", "县卫计局", ("medical", "clinic"), 0.5))
    data = copy.deepcopy(rows("medical", people))
    data[0]["basic_insurance"] = "不知道"
    r = ingest("health", write(tmp_path / "health_201706.xlsx", sheet("medical", data)))
    assert r.status == "accepted" and r.rows == {"medical": len(data) - 1}
    assert _errors(r) == [(2, "bool_format")]


def test_cross_source_warnings_never_reject(tmp_path, people):
    ingest("poverty_office", write(tmp_path / "reg_201706.xlsx", sheet("registry", rows("registry", people))))
    data = copy.deepcopy(rows("medical", people))
    from fupin.demo.samples import make_population

    stranger = make_population(1, seed=99)[0]
    data.append({**data[0], "id_number": stranger.id_number, "name": stranger.name})
    moved = next(p for p in people if p.town != data[1]["town"])
    data[1]["town"], data[1]["village"] = moved.town, moved.village
    r = ingest("health", write(tmp_path / "health_201706.xlsx", sheet("medical", data), sheet("clinic", rows("clinic", people))))
    assert r.status == "accepted"
    warned = sorted((w["row"], w["rule"]) for w in r.warnings if w["row"])
    assert warned == [(3, "location_differs"), (len(data) + 1, "not_in_registry")]
    # a file that names households, not persons: a household the registry does not hold is warned of, by its row
    farms = copy.deepcopy(rows("industry", people))
    farms.append({**farms[0], "household_id": "4402249999999999"})
    r = ingest("agriculture", write(tmp_path / "agri_201706.xlsx", sheet("industry", farms)))
    assert r.status == "accepted"
    assert [(w["row"], w["rule"], w["value"]) for w in r.warnings if w["row"]] == [(len(farms) + 1, "household_not_in_registry", "4402249999999999")]
