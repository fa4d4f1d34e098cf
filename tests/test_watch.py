"""Event-driven ingest: the triggerer's InboxTrigger announces settled drops, once each, and
never touches a bureau's file; bureau_ingest runs on the county's inbox Asset, not a clock."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.helpers import drops, rows, sheet, write

pytestmark = pytest.mark.slow  # each test here starts processes or replays months

ROOT = Path(__file__).resolve().parents[1]


async def _events(trigger, polls: int) -> list[dict]:
    """What the trigger fires over `polls` poll intervals."""
    got: list[dict] = []

    async def collect() -> None:
        async for event in trigger.run():
            got.append(event.payload)

    task = asyncio.create_task(collect())
    await asyncio.sleep(trigger.poke_interval * polls + trigger.poke_interval / 2)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return got


def test_a_settled_drop_is_announced_once_and_left_where_it_is(data_root, people, monkeypatch):
    from fupin.ingest.watch import InboxTrigger

    monkeypatch.setenv("FUPIN_STABLE_SECONDS", "1")
    trigger = InboxTrigger(county=None, poke_interval=0.3)
    first = write(drops(data_root, "poverty_office") / "扶贫办_2017年6月.xlsx", sheet("registry", rows("registry", people)))
    time.sleep(1.2)  # quiet for stable_seconds (mtime and ctime alike)
    second = write(drops(data_root, "health") / "卫计局_2017年6月.xlsx", sheet("medical", rows("medical", people)))  # just written
    events = asyncio.run(_events(trigger, polls=6))
    # the settled one at once; the fresh one once it has been quiet for stable_seconds; each once
    assert events[0] == {"county": None, "files": ["扶贫办_2017年6月.xlsx"]}
    assert events[1:] == [{"county": None, "files": ["卫计局_2017年6月.xlsx"]}]
    assert first.exists() and second.exists()  # the trigger never moves or deletes a bureau's file


def test_a_file_still_being_written_is_not_announced_until_whole(data_root, people, monkeypatch):
    from fupin.ingest.watch import InboxTrigger

    monkeypatch.setenv("FUPIN_STABLE_SECONDS", "0.5")
    whole = write(data_root / "staged.xlsx", sheet("registry", rows("registry", people))).read_bytes()
    half = data_root / "shares" / "poverty_office" / "报送" / "扶贫办_2017年6月.xlsx"
    half.write_bytes(whole[: len(whole) // 2])  # a copy that paused: no zip directory yet
    assert asyncio.run(_events(InboxTrigger(poke_interval=0.3), polls=4)) == []  # quiet, but not whole
    half.write_bytes(whole)
    time.sleep(0.6)
    assert asyncio.run(_events(InboxTrigger(poke_interval=0.3), polls=2)) == [{"county": None, "files": [half.name]}]


def test_the_trigger_carries_no_secret_and_finds_its_county(tmp_path, monkeypatch):
    import yaml

    from fupin.ingest.watch import InboxTrigger, settled_files

    root = tmp_path / "440229"
    listed = [{"code": "440229", "name": "翁源县", "data_root": str(root), "warehouse_url": "postgresql+psycopg2://u:secret@h/w"}]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"counties": listed}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("FUPIN_COUNTIES", str(tmp_path / "c.yaml"))
    monkeypatch.setenv("FUPIN_STABLE_SECONDS", "0")
    classpath, kwargs = InboxTrigger(county="440229", poke_interval=2.0).serialize()
    assert classpath == "fupin.ingest.watch.InboxTrigger" and kwargs == {"county": "440229", "poke_interval": 2.0, "reannounce": 60.0}
    (root / "shares" / "water" / "报送").mkdir(parents=True)
    (root / "shares" / "water" / "报送" / "水务局_2017年6月.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert [Path(p).name for p in settled_files("440229")] == ["水务局_2017年6月.csv"]


def test_bureau_ingest_runs_on_drops_and_an_hourly_sweep_not_every_minute():
    from airflow.dag_processing.dagbag import DagBag

    from fupin.ingest.watch import InboxTrigger

    dag = DagBag(dag_folder=str(ROOT / "dags")).dags["bureau_ingest"]
    schedule = dag.timetable
    assert schedule.timetable.expression == "0 * * * *"
    (asset,) = schedule.asset_condition.objects if hasattr(schedule.asset_condition, "objects") else (schedule.asset_condition,)
    assert asset.name == "fupin/inbox"
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, InboxTrigger) and watcher.trigger.county is None


@pytest.mark.parametrize("code", ["440224", "440229"])
def test_each_county_watches_its_own_inboxes(tmp_path, monkeypatch, code):
    import yaml
    from airflow.dag_processing.dagbag import DagBag

    listed = [{"code": c, "name": c, "data_root": str(tmp_path / c), "warehouse_url": f"sqlite:///{tmp_path / c / 'w.sqlite'}"}
              for c in ("440224", "440229")]
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({"counties": listed}), encoding="utf-8")
    monkeypatch.setenv("FUPIN_COUNTIES", str(tmp_path / "c.yaml"))
    asset = DagBag(dag_folder=str(ROOT / "dags")).dags[f"bureau_ingest__{code}"].timetable.asset_condition
    assert asset.name == f"fupin/{code}/inbox" and asset.watchers[0].trigger.county == code
