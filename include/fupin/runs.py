"""What a scheduled run asks for (运行参数), as plain values the domains read: how it was started,
its logical date and its params — never Airflow's objects, so a domain function runs the same
from a task, the CLI or a test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
