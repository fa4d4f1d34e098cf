"""What a scheduled run asks for (运行参数), as plain values the domains read: how it was started,
its logical date and its params — never Airflow's objects, so a domain function runs the same
from a task, the CLI or a test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fupin.calendar import current


@dataclass(frozen=True)
class Run:
    kind: str = "manual"  # Airflow's run type: scheduled, manual, asset_triggered, backfill
    logical_date: dt.datetime | None = None  # aware (UTC); None for a run started by data or by hand
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def scheduled(self) -> bool:
        return self.kind == "scheduled"

    def param(self, name: str) -> Any:
        return self.params.get(name)

    def deadline_month(self) -> str | None:
        """The reporting month whose deadline falls on the run's (local) date: the month before it."""
        if self.logical_date is None:
            return None
        cal = current()
        return cal.deadline_month(cal.local(self.logical_date).date())

    def months(self, due: list[str]) -> list[dict]:
        """The months a monthly check's run takes, oldest first (each builds on the previous
        month's findings), each with whether it is judged at the deadline (never waiting for data):

        - a manual run with a `month` param: that month, at the deadline;
        - a run on data: the months `due` (their data loaded and newer than their last check);
        - a run on the deadline (the 15th): last month too, with whatever has come.
        """
        if self.param("month"):
            return [{"month": self.param("month"), "at_deadline": True}]
        out = [{"month": m, "at_deadline": False} for m in due]
        deadline = self.deadline_month()
        if self.scheduled and deadline and deadline not in due:
            out.append({"month": deadline, "at_deadline": True})
        return sorted(out, key=lambda d: d["month"])
