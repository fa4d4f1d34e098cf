"""The campaign's calendar (日程): reporting months, their deadlines, the assessment periods,
the time zone and the campaign years.

Everything that depends on a date asks this module, and this module asks configuration
(`settings.yaml` → `calendar:`), so changing a deadline day there changes the DAGs' schedules,
the reminders, the reconciliation deadline, I19 and the templates' instructions at once.

Months are `YYYY-MM` strings, periods `2017H1` / `2017Y`. The month helpers at the top are
pure; `Calendar` holds the configured values and `current()` gives the active county's.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# --- months ------------------------------------------------------------------------------------

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class BadMonth(ValueError):
    """Not a month of the form YYYY-MM."""


class BadPeriod(ValueError):
    """Not a period of the configured kinds (2017H1, 2017Y)."""


def check_month(month: str) -> str:
    """`month` if it is a real YYYY-MM month, else BadMonth saying what is expected."""
    if not isinstance(month, str) or not MONTH.match(month):
        raise BadMonth(f"month must be YYYY-MM with a month 01-12 (2017-06), not {month!r}")
    return month


def months(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, inclusive."""
    out = []
    month = first
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


def next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}"


def add_months(month: str, n: int) -> str:
    y, m = divmod(int(month[:4]) * 12 + int(month[5:]) - 1 + n, 12)
    return f"{y}-{m + 1:02d}"


def month_end(month: str) -> dt.date:
    return dt.date.fromisoformat(next_month(month) + "-01") - dt.timedelta(days=1)


def months_later(day: dt.date, n: int) -> dt.date:
    """The same day `n` months later (the month's last day where that month is shorter)."""
    end = month_end(add_months(f"{day.year}-{day.month:02d}", n))
    return end if day.day > end.day else end.replace(day=day.day)


def month_label(month: str | None) -> str:
    """`2017-06` as officials write it: 2017年6月."""
    return f"{month[:4]}年{int(month[5:])}月" if month else "月份未知"


def date_label(day: dt.date | str | None) -> str:
    """A date as officials write it: 2018年1月30日."""
    if day is None or day == "":
        return "—"
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return f"{day.year}年{day.month}月{day.day}日"


def pd_moment(value) -> dt.datetime:  # a datetime or a pandas Timestamp
    """A plain datetime of a pandas Timestamp (or a datetime as it is)."""
    return value.to_pydatetime() if hasattr(value, "to_pydatetime") else value


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A moment, aware, in UTC: a naive one is taken as UTC (the servers' clocks, Airflow's)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def time_label(when: dt.datetime | str | None) -> str:
    """A moment as a clerk reads it, on the campaign's clock (Beijing time): 2017年6月5日 09:06."""
    if when is None or when == "" or (not isinstance(when, str) and when != when):  # None, NaT
        return "—"
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    when = current().local(when)
    return f"{date_label(when.date())} {when:%H:%M}"


# --- the configured calendar ---------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """One kind of assessment period: its key (H1, Y), the last month it covers, its name."""

    key: str
    last_month: int
    label: str


@dataclass(frozen=True)
class Calendar:
    timezone: str
    first_year: int  # the campaign's first year: nothing before it, and its first period has no previous one
    report_day: int  # a month's files are due by this day of the next month (I19, first 催报)
    final_day: int  # second 催报 (copying the poverty office), and the reconciliation deadline
    reminder_time: str  # HH:MM, local
    reconcile_time: str
    assess_time: str  # on the last day of each period
    periods: tuple[Period, ...]  # in calendar order
    crosscheck_time: str = "18:00"  # the province's cross-check, on final_day after the counties' reconciliation

    @classmethod
    def from_config(cls, raw: dict) -> Calendar:
        periods = tuple(sorted((Period(str(k), int(v["last_month"]), str(v["label"])) for k, v in raw["periods"].items()),
                               key=lambda p: p.last_month))
        cal = cls(str(raw["timezone"]), int(raw["first_year"]), int(raw["report_day"]),
                  int(raw["final_day"]), str(raw["reminder_time"]), str(raw["reconcile_time"]), str(raw["assess_time"]), periods,
                  str(raw.get("crosscheck_time", "18:00")))
        if cls._hm(cal.crosscheck_time) <= cls._hm(cal.reconcile_time):
            raise ValueError("calendar: crosscheck_time must come after reconcile_time (the counties reconcile first)")
        if not 1 <= cal.report_day <= cal.final_day <= 28:
            raise ValueError("calendar: report_day ≤ final_day, both between 1 and 28 (every month has them)")
        if not periods or periods[-1].last_month != 12:
            raise ValueError("calendar: the last period must end in December (the year-end assessment)")
        return cal

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: dt.datetime) -> dt.datetime:
        """`moment` in the campaign's time zone (a naive moment is taken as UTC, as Airflow's are)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(self.tz)

    # periods

    def _kind(self, period: str) -> tuple[int, Period]:
        for p in self.periods:
            if isinstance(period, str) and re.fullmatch(rf"\d{{4}}{re.escape(p.key)}", period):
                year = int(period[:4])
                if year >= self.first_year:
                    return year, p
                raise BadPeriod(f"period {period}: the campaign starts in {self.first_year}")
        kinds = " or ".join(f"{self.first_year + 1}{p.key}" for p in self.periods)
        raise BadPeriod(f"period must look like {kinds}, not {period!r}")

    def check_period(self, period: str) -> str:
        self._kind(period)
        return period

    def period_last_month(self, period: str) -> str:
        year, p = self._kind(period)
        return f"{year}-{p.last_month:02d}"

    def period_months(self, period: str) -> list[str]:
        """The months a period covers: from January (a period's figures are for the year so far)."""
        last = self.period_last_month(period)
        return months(f"{last[:4]}-01", last)

    def period_label(self, period: str) -> str:
        """2017H1 → 2017年上半年."""
        year, p = self._kind(period)
        return f"{year}年{p.label}"

    def year_end(self, period: str) -> bool:
        """Whether `period` is the year-end one (the last, ending in December)."""
        return self._kind(period)[1] == self.periods[-1]

    def previous_period(self, period: str) -> str | None:
        year, p = self._kind(period)
        i = self.periods.index(p)
        if i > 0:
            return f"{year}{self.periods[i - 1].key}"
        return None if year <= self.first_year else f"{year - 1}{self.periods[-1].key}"

    def period_of(self, day: dt.date) -> str:
        """The period whose last month is the first at or after `day`'s month."""
        for p in self.periods:
            if day.month <= p.last_month:
                return f"{day.year}{p.key}"
        raise AssertionError("the last period ends in December")

    # deadlines

    def report_deadline(self, month: str) -> dt.datetime:
        """The last moment (local, naive) a month's file counts as on time: the end of
        `report_day` of the next month."""
        return dt.datetime.fromisoformat(f"{next_month(month)}-{self.report_day:02d}T23:59:59")

    def on_time(self, month: str, arrived) -> bool:  # datetimes, a Series of them
        """Whether any of the valid files of `month`, by when they arrived (moments: naive ones are
        UTC), came by its deadline on the campaign's clock (I19 and the reporting board count alike)."""
        deadline = self.report_deadline(month)
        return any(self.local(pd_moment(a)).replace(tzinfo=None) <= deadline for a in arrived)

    def report_due_label(self) -> str:
        return f"次月{self.report_day}日"

    def reminder_of(self, day: dt.date) -> tuple[str, bool] | None:
        """(the month reminded about, whether it is the final reminder) if `day` is a reminder
        day, else None."""
        if day.day not in (self.report_day, self.final_day):
            return None
        return self.deadline_month(day), day.day == self.final_day

    def deadline_month(self, day: dt.date) -> str:
        """The reporting month whose reconciliation deadline is `day`'s month's `final_day`."""
        return add_months(f"{day.year}-{day.month:02d}", -1)

    # schedules (cron, in `timezone`)

    @staticmethod
    def _hm(hhmm: str) -> tuple[int, int]:
        h, m = hhmm.split(":")
        return int(h), int(m)

    def reminder_cron(self) -> str:
        h, m = self._hm(self.reminder_time)
        return f"{m} {h} {self.report_day},{self.final_day} * *"

    def reconcile_cron(self) -> str:
        h, m = self._hm(self.reconcile_time)
        return f"{m} {h} {self.final_day} * *"

    def crosscheck_cron(self) -> str:
        """The province's cross-check: on the reconciliation deadline, after the counties' runs."""
        h, m = self._hm(self.crosscheck_time)
        return f"{m} {h} {self.final_day} * *"

    def assessment_crons(self) -> list[str]:
        """One cron per period, on the last day of its last month (February: the 28th)."""
        h, m = self._hm(self.assess_time)
        return [f"{m} {h} {month_end(f'2001-{p.last_month:02d}').day} {p.last_month} *" for p in self.periods]


def current() -> Calendar:
    """The active county's calendar (settings.yaml → calendar)."""
    from fupin.config import settings

    return Calendar.from_config(settings()["calendar"])
