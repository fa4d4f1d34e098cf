"""The plan's numbers (docs/spec/README.md, "The seed's numbers") and the campaign's calendar.

Pure data and pure functions: the generator builds a county that reproduces these, and the
tests check the generated files against them.
"""

from __future__ import annotations

from fupin import calendar
from fupin.assess.targets import largest_remainder
from fupin.config import settings

# 2016-01 registry (建档立卡), by kind of household.
HOUSEHOLDS = {"poor_village_capable": 1234, "other_capable": 1256, "no_capacity": 1175}
PERSONS = {"poor_village_capable": 4424, "other_capable": 4232, "no_capacity": 1722}
TOTAL_HOUSEHOLDS = 3665
TOTAL_PERSONS = 10378
POOR_VILLAGES = 33

# Persons exited by the end of each year, cumulative at county level.
EXITS_CUMULATIVE = {2016: 2578, 2017: 7264, 2018: 10378}
# Exit income thresholds (I03, R6) and the poverty standard live in config/settings.yaml.
EXIT_THRESHOLD: dict[int, int] = {int(y): int(v) for y, v in settings()["reconciliation"]["exit_threshold"].items()}
POVERTY_STANDARD: int = int(settings()["reconciliation"]["poverty_standard"])

FIRST_MONTH, LAST_MONTH = "2016-01", "2018-12"


def months(first: str = FIRST_MONTH, last: str = LAST_MONTH) -> list[str]:
    return calendar.months(first, last)


def exit_targets(town_persons: dict[str, int]) -> dict[int, dict[str, int]]:
    """Each town's cumulative exit target at each year end (I01), keyed by year then town code."""
    return {y: largest_remainder(total, town_persons) for y, total in EXITS_CUMULATIVE.items()}
