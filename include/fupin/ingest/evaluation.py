"""What a file was found to hold, before anything is written: shared by the monthly files'
pipeline and the returned 核查 workbooks (`fupin.ingest.verification`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from fupin.ingest.reader import RawSheet
from fupin.validate.issues import Issue


@dataclass
class Evaluation:
    """Everything learnt about a file before anything is written."""

    month: str | None = None
    format: str | None = None
    sheets: list[RawSheet] = field(default_factory=list)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    locate: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]
