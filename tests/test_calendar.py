"""The one calendar: periods, deadlines, time zone and schedules all come from settings.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from fupin.calendar import BadMonth, BadPeriod, Calendar, check_month, current
from fupin.config import contracts
from fupin.county import County

ROOT = Path(__file__).resolve().parents[1]


def test_the_default_calendar():
    cal = current()
    assert cal.period_last_month("2017H1") == "2017-06" and cal.period_last_month("2017Y") == "2017-12"
    assert cal.period_months("2017H1") == [f"2017-{m:02d}" for m in range(1, 7)]
    assert [cal.previous_period(p) for p in ("2016H1", "2016Y", "2017H1")] == [None, "2016H1", "2016Y"]
    assert cal.period_label("2017H1") == "2017年上半年" and cal.period_label("2017Y") == "2017年年终"
    assert cal.period_of(dt.date(2017, 6, 30)) == "2017H1" and cal.period_of(dt.date(2017, 12, 31)) == "2017Y"
    # Airflow's logical dates are UTC: 30 June 12:00 UTC is 20:00 in Shanghai, 31 Dec 16:30 UTC is already 1 January
    assert cal.local(dt.datetime(2017, 12, 31, 16, 30, tzinfo=dt.UTC)).date() == dt.date(2018, 1, 1)
    assert cal.reminder_of(dt.date(2017, 7, 10)) == ("2017-06", False) and cal.reminder_of(dt.date(2017, 7, 15)) == ("2017-06", True)
    assert cal.reminder_of(dt.date(2017, 7, 11)) is None
    assert cal.report_deadline("2017-12") == dt.datetime(2018, 1, 10, 23, 59, 59)
    assert cal.assessment_crons() == ["0 20 30 6 *", "0 20 31 12 *"]


@pytest.mark.parametrize("bad", ["2017-13", "2017-00", "2017-6", "201706", "", "2017-06-01"])
def test_a_month_that_is_not_one_is_refused(bad):
    with pytest.raises(BadMonth, match="YYYY-MM"):
        check_month(bad)


@pytest.mark.parametrize("bad", ["2017H2", "2017", "17H1", "2015Y", "2017y"])
def test_a_period_that_is_not_one_is_refused(bad):
    with pytest.raises(BadPeriod):
        current().check_period(bad)


def test_impossible_deadlines_are_refused():
    raw = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))["calendar"]
    with pytest.raises(ValueError, match="report_day"):
        Calendar.from_config({**raw, "report_day": 20, "final_day": 15})
    with pytest.raises(ValueError, match="December"):
        Calendar.from_config({**raw, "periods": {"H1": {"last_month": 6, "label": "上半年"}}})


@pytest.fixture
def moved_deadlines(tmp_path, monkeypatch):
    """A county whose bureaus report by the 12th, are chased again on the 18th, whose half-year
    closes in July, and which assesses at 18:30."""
    settings = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    settings["calendar"].update(report_day=12, final_day=18, assess_time="18:30", reminder_time="08:15",
                                periods={"H1": {"last_month": 7, "label": "上半年"}, "Y": {"last_month": 12, "label": "年终"}})
    own = tmp_path / "county" / "config"
    own.mkdir(parents=True)
    (own / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("FUPIN_CONFIG_DIR", str(own.parent))  # a county deployment's own config
    return County(config_dir=str(own.parent))


@pytest.mark.slow  # parses the dags folder with Airflow's DagBag: 2–3 s of imports
def test_changing_the_deadline_day_in_config_changes_every_schedule_and_rule(moved_deadlines, tmp_path):
    from airflow.dag_processing.dagbag import DagBag

    from fupin.assess import indicators as ind
    from fupin.ingest.templates import write_templates

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    assert bag.dags["submission_reminders"].timetable.expression == "15 8 12,18 * *"
    assert bag.dags["registry_reconcile"].timetable.timetable.expression == "0 9 18 * *"
    assert {t.expression for t in bag.dags["assessment"].timetable.timetables} == {"30 18 31 7 *", "30 18 31 12 *"}
    assert {str(bag.dags[d].timetable.timetable.timezone if d == "registry_reconcile" else bag.dags[d].timetable.timezone)
            for d in ("submission_reminders", "registry_reconcile")} == {"Asia/Shanghai"}

    with moved_deadlines.active():
        cal = current()
        assert cal.reminder_of(dt.date(2017, 8, 10)) is None
        assert cal.reminder_of(dt.date(2017, 8, 12)) == ("2017-07", False)
        assert cal.reminder_of(dt.date(2017, 8, 18)) == ("2017-07", True)
        assert cal.period_last_month("2017H1") == "2017-07"
        assert cal.period_of(dt.date(2017, 7, 31)) == "2017H1"
        # I19: a file of January that came on 11 February is on time now, one on the 13th is not
        drops = pd.DataFrame([
            {"source": "water", "month": f"2017-{m:02d}", "dropped_at": f"2017-{m + 1:02d}-{day} 10:00", "status": "accepted"}
            for m, day in ((1, 11), (2, 13), (3, 12), (4, 1), (5, 1), (6, 1))])
        m = ind.timeliness(ind.Inputs("2017H1", {}, {}, drops=drops))["water"]
        assert (m.numerator, m.denominator) == (5, 6)  # July, the period's last month, is not due yet
        assert m.note == "逾期：2017年2月（3月13日报送）；期限为次月12日"
        guide = write_templates(tmp_path / "templates")[0]

    from openpyxl import load_workbook

    text = "\n".join(str(c.value) for row in load_workbook(guide)["填写说明"].iter_rows() for c in row if c.value)
    assert "每月 12 日前报送上个月的数据" in text


def test_the_reminder_mail_states_the_configured_deadline(moved_deadlines, sqlite_warehouse, mailbox):
    from fupin.notify.outbox import send_pending
    from fupin.notify.reminders import remind

    with moved_deadlines.active():
        assert remind(dt.date(2017, 8, 10)) == []
        assert len(remind(dt.date(2017, 8, 12))) == len(contracts().sources)
        send_pending()
    body = mailbox.messages[0].get_body(("plain",)).get_content()
    assert "每月数据应于次月12日前报送" in body and "2017年7月" in body


def test_one_clock_moments_are_stored_with_their_zone_and_shown_in_beijing_time(warehouse):
    """A check made at 20:12 Beijing time on a server whose clock is UTC is stored as that moment
    (timestamptz on PostgreSQL, UTC on SQLite), read back aware, and shown 20:12 — not 12:12."""
    from sqlalchemy import insert, select

    from fupin.calendar import time_label
    from fupin.dashboard.data import _iso
    from fupin.warehouse.db import engine
    from fupin.warehouse.schema import verifications

    at = dt.datetime(2026, 12, 6, 12, 12, tzinfo=dt.UTC)  # 20:12 in Beijing
    with engine(warehouse).begin() as conn:
        conn.execute(insert(verifications).values(finding_id="f" * 16, rule="R1", month="2018-10", fingerprint="x" * 16, outcome="dismissed",
                                                  reason="r", by_user="u", by_unit=None, via="web", at=at))
        stored = conn.execute(select(verifications.c.at)).scalar_one()
    assert stored == at and stored.tzinfo is not None
    assert time_label(stored) == "2026年12月6日 20:12" == _iso(stored)
    assert time_label(at.isoformat()) == "2026年12月6日 20:12" and time_label(at.replace(tzinfo=None)) == "2026年12月6日 20:12"


def test_a_file_is_on_time_by_the_campaigns_clock():
    """Due by the 10th on Beijing time: 23:00 Beijing (15:00 UTC) is on time, 04:00 the next
    morning (20:00 UTC on the 10th) is late — whichever zone the moment is given in."""
    cal = current()
    on_time = dt.datetime(2017, 7, 10, 15, 0, tzinfo=dt.UTC)
    late = dt.datetime(2017, 7, 10, 20, 0, tzinfo=dt.UTC)
    assert cal.on_time("2017-06", [on_time]) and not cal.on_time("2017-06", [late])
    assert not cal.on_time("2017-06", pd.Series([late.replace(tzinfo=None)]))  # a naive moment is UTC
    assert cal.on_time("2017-06", [dt.datetime(2017, 7, 10, 23, 0, tzinfo=cal.tz)])  # given in Beijing time
