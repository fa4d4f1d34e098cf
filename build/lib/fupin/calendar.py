"""Reporting months (`YYYY-MM`): ranges, steps, last days. Pure functions."""

from __future__ import annotations

import datetime as dt


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


def month_label(month: str | None) -> str:
    """`2017-06` as officials write it: 2017年6月."""
    return f"{month[:4]}年{int(month[5:])}月" if month else "月份未知"


def time_label(when: dt.datetime | str | None) -> str:
    """A moment as a clerk reads it: 2017年6月5日 09:06."""
    if when is None or when == "":
        return "—"
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    return f"{when.year}年{when.month}月{when.day}日 {when:%H:%M}"
