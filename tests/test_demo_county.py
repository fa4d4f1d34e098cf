"""The demo county reproduces the plan's numbers, read back from the generated files."""

from __future__ import annotations

from pathlib import Path

import pytest

from fupin.config import geography
from fupin.demo import plan
from fupin.demo.generate import generate
from fupin.demo.population import build_population
from fupin.ingest.pipeline import evaluate

pytestmark = pytest.mark.slow  # each test here starts processes or replays months

MONTHS = ["2016-01", "2016-12", "2017-12", "2018-12"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    manifest = generate(root, seed=2016, months=MONTHS)
    return root, manifest


def _frames(root: Path, manifest: dict, source: str, month: str) -> dict:
    (drop,) = [d for d in manifest["drops"] if d["source"] == source and d["month"] == month and "初报" not in d["file"]
               and "项目库" not in d["file"]]  # 县扶贫办's registry file, not its project library
    ev = evaluate(Path(drop["file"]), source, Path(drop["file"]).name)
    assert not ev.errors, ev.errors[:3]
    return ev.frames


def test_first_registry_has_the_plans_households_and_persons(generated):
    root, manifest = generated
    reg = _frames(root, manifest, "poverty_office", "2016-01")["registry"]
    assert reg["household_id"].nunique() == plan.TOTAL_HOUSEHOLDS == 3665
    assert len(reg) == plan.TOTAL_PERSONS == 10378
    poor = {(v.town, v.name) for v in geography().villages if v.is_poor}
    assert len(poor) == 33
    reg["in_poor_village"] = [(t, v) in poor for t, v in zip(reg["town"], reg["village"], strict=True)]
    capable = reg.groupby("household_id")["labor_capacity"].agg(lambda s: s.isin(["有劳动能力", "部分丧失劳动能力"]).any())
    reg["capable"] = reg["household_id"].map(capable)
    groups = {
        "poor_village_capable": reg[reg.capable & reg.in_poor_village],
        "other_capable": reg[reg.capable & ~reg.in_poor_village],
        "no_capacity": reg[~reg.capable],
    }
    got = {k: (g["household_id"].nunique(), len(g)) for k, g in groups.items()}
    assert got == {"poor_village_capable": (1234, 4424), "other_capable": (1256, 4232), "no_capacity": (1175, 1722)}
    # 兜底: every person without labour capacity is on dibao, in force
    dibao = _frames(root, manifest, "civil_affairs", "2016-01")["dibao"]
    in_force = set(dibao.loc[dibao["status"] == "在保", "id_number"])
    assert set(groups["no_capacity"]["id_number"]) <= in_force


def test_exits_by_year_end_are_the_plans(generated):
    root, manifest = generated
    exited = {}
    for year in (2016, 2017, 2018):
        reg = _frames(root, manifest, "poverty_office", f"{year}-12")["registry"]
        done = reg[(reg["exit_status"] == "已脱贫") & (reg["exit_year"] <= year)]
        exited[year] = len(done)
    assert exited == {2016: 2578, 2017: 2578 + 4686, 2018: 2578 + 4686 + 3114}


def test_manifest_states_the_census_and_plants_every_rule(generated):
    _, manifest = generated
    census = manifest["census_2016_01"]
    assert (census["households"], census["persons"]) == (3665, 10378)
    assert census["exits_cumulative"] == {"2016": 2578, "2017": 7264, "2018": 10378}
    planted = {r for m in manifest["findings"].values() for r, keys in m.items() if keys}
    assert planted <= {"R1", "R2", "R3", "R4", "R5", "R6"}


def test_every_rule_is_planted_over_the_campaign():
    from fupin.demo.population import expected_findings

    population = build_population(2016)
    seen = {r for m in plan.months() for r, keys in expected_findings(population, m).items() if keys}
    assert seen == {"R1", "R2", "R3", "R4", "R5", "R6"}
    modes = {e.target["mode"] for e in population.episodes if e.rule == "R5"}
    assert modes == {"digit", "swap", "homophone"}


def test_same_seed_same_county_other_seed_other_county():
    a, b, c = build_population(7), build_population(7), build_population(8)
    ids = lambda population: [m.id_number for h in population.households for m in h.members]  # noqa: E731
    assert ids(a) == ids(b)
    assert ids(a) != ids(c)
    assert [h.exit_month for h in a.households] == [h.exit_month for h in b.households]


def test_scale_multiplies_the_county_with_the_same_shape():
    population = build_population(2016, scale=2)
    persons = [m.id_number for h in population.households for m in h.members]
    assert len(persons) == 2 * plan.TOTAL_PERSONS and len(set(persons)) == len(persons)
    assert len({h.hid for h in population.households}) == 2 * plan.TOTAL_HOUSEHOLDS
    assert sum(len(h.members) for h in population.households if h.exit_month <= "2016-12") == 2 * 2578


def test_rejected_then_resent_file_and_late_files_are_in_the_drops(tmp_path):
    manifest = generate(tmp_path, seed=2016, months=["2017-03", "2017-05"], workers=1)
    health = [d for d in manifest["drops"] if d["source"] == "health" and d["month"] == "2017-05"]
    assert len(health) == 2 and health[0]["dropped_at"] < health[1]["dropped_at"]
    ev = evaluate(Path(health[0]["file"]), "health", Path(health[0]["file"]).name)
    assert {e.rule for e in ev.errors} == {"id_check_digit", "bool_format", "not_above"}
    late = next(d for d in manifest["drops"] if d["source"] == "water" and d["month"] == "2017-03")
    assert late["dropped_at"].startswith("2017-04-18")


@pytest.mark.airflow
def test_demo_run_replays_months_through_the_dags(tmp_path, airflow_db):
    """`fupin demo run` end to end on two months: the late water file draws two 催报."""
    import json
    import os
    import subprocess
    import sys

    # as `make demo` runs it: none of the suite's settings (the suite's stability window is 0)
    env = {k: v for k, v in os.environ.items() if k not in ("FUPIN_WAREHOUSE_URL", "FUPIN_DATA_ROOT", "FUPIN_STABLE_SECONDS")}
    fupin = str(Path(sys.executable).with_name("fupin"))
    out = subprocess.run([fupin, "demo", "run", "--data-root", str(tmp_path), "--months", "2017-03:2017-04"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "2017-03  ingest success, reconcile success" in out.stdout
    assert "催报: 10日 water, 15日 water" in out.stdout
    assert "资金: " in out.stdout and "资金: not checked" not in out.stdout  # the month's money was checked too
    assert "funds:    F1 收款户不在册 1" in out.stdout  # the planted payment to a household not in the registry (2017-03)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["files"] == {"accepted": 18}  # seven bureaus' files, 县扶贫办's project library and 县财政局's payments
    from airflow.models.pool import Pool

    from fupin.assets import pools

    assert Pool.get_pool("fupin_warehouse").slots == pools()["fupin_warehouse"]["slots"]  # loaded by the demo itself
    mails = sorted(p.name for p in (tmp_path / "mail").glob("*.eml"))
    assert sum("reminder_2017-03-" in m for m in mails) == 2
    assert sum("_receipt_" in m for m in mails) == 18
    assert sum("reconciliation_2017-0" in m for m in mails) == 4
    assert any("exit_check_2017-03" in m for m in mails)  # the planted R6 case, to its town only
    # every one of them is a standard message a strict parser and a real client take as meant
    from tests.helpers import mail_problems

    wrong = {m: mail_problems((tmp_path / "mail" / m).read_bytes()) for m in mails}
    assert {m: p for m, p in wrong.items() if p} == {}
    # and says nothing in internal words: names, never keys or codes
    from email import message_from_bytes, policy

    from tests.helpers import internal_words

    said = {}
    for m in mails:
        msg = message_from_bytes((tmp_path / "mail" / m).read_bytes(), policy=policy.default)
        said[m] = internal_words(msg["Subject"] + msg.get_body(("plain",)).get_content())
    assert {m: w for m, w in said.items() if w} == {}
    workbook = next(m for m in mails if "reconciliation_2017-03" in m)

    msg = message_from_bytes((tmp_path / "mail" / workbook).read_bytes(), policy=policy.default)
    (xlsx,) = list(msg.iter_attachments())
    assert xlsx.get_content_type() == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert msg["Reply-To"] is not None and msg["From"].addresses[0].display_name.endswith("扶贫数据平台")


def test_generator_workers_handle_term_by_default_whatever_the_parent_installed():
    """A process that ran Airflow tasks has its own SIGTERM handler, which forked workers
    inherit; the generator's workers reset it, so they can always be stopped."""
    import signal

    from fupin.demo.generate import worker_pool

    before = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        with worker_pool(2) as pool:
            seen = pool.map(signal.getsignal, [signal.SIGTERM, signal.SIGTERM])
    finally:
        signal.signal(signal.SIGTERM, before)
    assert seen == [signal.SIG_DFL, signal.SIG_DFL]
