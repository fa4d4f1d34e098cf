"""A county's task (`fupin.tasking`): at the XCom edge the domains' dataclasses leave a task as
their dicts and arrive in the next as themselves, by the called function's annotations; and the
first task of a process settles its heap (`fupin.heap`)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fupin.assess.run import Assessment
from fupin.assess.score import Action, Score
from fupin.reconcile.crosscheck import CrossSummary
from fupin.reconcile.run import Summary
from fupin.tasking import call, from_xcom, to_xcom

JUNE = Summary("2017-06", "2017-06", "2017-05", "低保本月数据未到", {"R1": 2}, {"应保尽保率": {"全县": 0.98}}, new={"R1": 1})
CARD = Assessment("2017Y", {"registry": "2017-12", "clinic": None},
                  [Score("I01", "脱贫人数", "440224102", 521, 550, 521.0, 550.0, ">=", "未达标", "差 29 人")],
                  [Action("440224102", "限期整改", ["I01"], dt.date(2018, 1, 30))])


def write_reports(summaries: list[Summary], note: str) -> list[str]:
    return [f"{s.month}:{s.dibao_month}:{note}" for s in summaries]


def rescore(card: Assessment, months: int) -> Assessment:
    return Assessment(card.period, card.data_months, card.scores, [*card.actions, Action(card.scores[0].unit, "约谈", ["I01"])][:months])


def test_a_dataclass_crosses_xcom_as_its_dict_and_comes_back_as_itself():
    sent = json.loads(json.dumps(to_xcom(CARD)))  # what XCom stores: JSON
    assert sent["actions"][0]["due"] == "2018-01-30"
    back = from_xcom(sent, Assessment)
    assert back == CARD and isinstance(back.scores[0], Score) and back.actions[0].due == dt.date(2018, 1, 30)
    assert from_xcom([JUNE.to_dict()], list[Summary]) == [JUNE]
    assert to_xcom([JUNE, "x"]) == [JUNE.to_dict(), "x"]


def test_an_optional_result_comes_back_typed_or_as_nothing():
    cross = CrossSummary("2017-06", {"R7": 1}, 0, {"440224": {"R7": 1}}, {"440224": {"registry": "2017-06"}}, [], [], {"440224": "仁化县"})
    assert from_xcom(cross.to_dict(), CrossSummary | None) == cross
    assert from_xcom(None, CrossSummary | None) is None
    assert from_xcom({"plain": 1}, dict) == {"plain": 1}  # a dict that stands for nothing stays one


def test_a_task_calls_its_function_with_typed_arguments_and_returns_plain_data():
    assert call(write_reports, ([JUNE.to_dict()],), {"note": "ok"}) == ["2017-06:2017-05:ok"]  # a plain argument is left alone
    out = call(rescore, (CARD.to_dict(),), {"months": 2})
    assert isinstance(out, dict) and [a["action"] for a in out["actions"]] == ["限期整改", "约谈"]


def test_a_task_settles_its_process_heap_once_after_importing_what_it_runs(monkeypatch):
    """The first task of a process freezes what it holds once its function's module is imported
    (the libraries out of the collector's way); later tasks of the process leave it be."""
    import gc
    import sys

    from fupin import heap
    from fupin.county import County
    from fupin.tasking import county_task

    old = gc.get_threshold()
    monkeypatch.setattr(heap, "_settled", False)
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)  # imported by the task, not before
    gc.unfreeze()
    try:
        stub = county_task(County(), "colorsys:rgb_to_hls")(lambda r, g, b: None)
        assert gc.get_freeze_count() == 0
        assert stub.function(1.0, 0.0, 0.0) == [0.0, 0.5, 1.0]  # a tuple leaves as XCom's list
        frozen = gc.get_freeze_count()
        assert frozen > 10_000 and gc.get_threshold()[0] == heap.THRESHOLDS[0]
        function = sys.modules["colorsys"].rgb_to_hls
        assert not any(o is function for o in gc.get_objects())  # frozen: no collection walks it again
        later = [object()]  # made after the first task: the second leaves it to the collector (once per process)
        assert stub.function(0.0, 0.0, 1.0) == [2 / 3, 0.5, 1.0]
        assert any(o is later for o in gc.get_objects())
    finally:
        gc.unfreeze()
        gc.set_threshold(*old)


@pytest.mark.slow  # starts a process
def test_a_settled_process_gives_its_heap_back_at_exit_so_nothing_reports_a_leak():
    """DuckDB's bindings (nanobind) print every object of theirs alive at exit as a leak: a process
    that settled its heap frees it at exit like any other, and its stderr stays empty."""
    import subprocess
    import sys

    code = "import duckdb; duckdb.sql('select 1').fetchall(); from fupin.heap import settle; settle()"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "leaked" not in run.stderr, run.stderr[:500]
