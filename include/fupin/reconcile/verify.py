"""核查反馈: closing the loop on findings.

A finding goes down to the unit that must check it; the unit reports back what it found — 属实已整改
(rectified), 属实待整改 (confirmed, with a due date) or 不属实 (dismissed, with a reason) — on the
dashboard or in the reconciliation workbook's 核查结果 column. The next reconciliation respects it:
a dismissed finding whose data are unchanged is not reported again, and an escalation counts
only findings nobody has checked, whose due date has passed, or that were reported put right yet
are still in a later month's data.

The rules here are pure; `record` is the one writer of `verifications`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from fupin.calendar import date_label, month_end
from fupin.config import settings
from fupin.vocab import ESCALATING, OUTCOME_LABELS, FindingState, Outcome
from fupin.warehouse.schema import verifications

FINGERPRINT_COLUMNS = ("rule", "key", "town", "household_id", "card_no", "person_id", "other_id", "detail")


def finding_id(rule: str, key: str) -> str:
    """The finding's id, the same every month it is found: in URLs and workbooks instead of its
    key (a key can hold ID numbers, which must not reach access logs)."""
    return hashlib.sha1(f"{rule}|{key}".encode()).hexdigest()[:16]


def fingerprint(row: Mapping) -> str:
    """What the data said of the finding (its persons, household, card, town and the detail the
    rule wrote); a 不属实 holds only while this is the same."""
    text = "|".join("" if row.get(c) is None or row.get(c) != row.get(c) else str(row.get(c)) for c in FINGERPRINT_COLUMNS)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def state_of(verification: Mapping | None, print_now: str, month: str, as_of: dt.date, *, past_event: bool = False) -> FindingState:
    """Where a finding of `month` with data `print_now` stands, given its latest verification, on `as_of`.

    A finding about a past event (a payment made: F1–F5) stays in every later month's data
    however it was put right (the money recovered, the payment explained): reported put right,
    it holds while its data are unchanged, as a 不属实 does."""
    if verification is None:
        return FindingState.OPEN
    outcome = verification["outcome"]
    if outcome == Outcome.DISMISSED:
        return FindingState.DISMISSED if verification["fingerprint"] == print_now else FindingState.OPEN
    if outcome == Outcome.CONFIRMED:
        due = verification["due"]
        return FindingState.OVERDUE if due is not None and due < as_of else FindingState.CONFIRMED
    if past_event:
        return FindingState.RECTIFIED if verification["fingerprint"] == print_now else FindingState.REOPENED
    # rectified: borne out unless a later month's data still show it
    return FindingState.REOPENED if month > verification["month"] else FindingState.RECTIFIED


def as_of_month(month: str) -> dt.date:
    """The date a reconciliation of `month` judges due dates by: the month's last day (data time,
    so a re-run of an old month judges as it did then)."""
    return month_end(month)


def escalates(state: FindingState, persisted_months: int, after: int) -> bool:
    return persisted_months >= after and state in ESCALATING


def units_of_rule(owner: str) -> tuple[str, ...]:
    """The units that check a rule's findings (rules.RULES' owner): one, or both registries' offices."""
    return ("civil_affairs", "poverty_office") if owner == "both" else (owner,)


def may_check(unit: str | None, finding: Mapping, owner: str, unit_names: Mapping[str, str]) -> bool:
    """Whether `unit` may record the check of `finding` (whose rule `owner` checks): a bureau the
    findings of its rules, a town those in the town (it visits the households). The one rule for
    the dashboard and for a returned 核查 workbook."""
    if unit is None:
        return False
    return unit in units_of_rule(owner) or unit_names.get(unit) == finding.get("town")


def max_due(today: dt.date) -> dt.date:
    """The latest due date a 属实待整改 may be given (settings.yaml → verification.max_due_days):
    a date years away would hold the finding back from escalation for ever."""
    return today + dt.timedelta(days=int(settings()["verification"]["max_due_days"]))


class Refused(ValueError):
    """A verification that cannot be recorded, with the reason in Chinese for the user."""


@dataclass(frozen=True)
class Verification:
    """One unit's answer about one finding."""

    outcome: Outcome
    due: dt.date | None = None
    reason: str | None = None

    @classmethod
    def of(cls, outcome: str, due: dt.date | str | None, reason: str | None, today: dt.date) -> Verification:
        labels = {v: k for k, v in OUTCOME_LABELS.items()}
        try:
            kind = Outcome(labels.get((outcome or "").strip(), (outcome or "").strip()))
        except ValueError:
            raise Refused(f"核查结果“{outcome}”无法识别：请填写 属实已整改、属实待整改 或 不属实") from None
        reason = (reason or "").strip() or None
        if isinstance(due, str):
            try:
                due = dt.date.fromisoformat(due.strip()) if due.strip() else None
            except ValueError:
                raise Refused(f"整改期限“{due}”不是日期：请写成 2018-03-31 的形式") from None
        if kind == Outcome.CONFIRMED and due is None:
            raise Refused("属实待整改须填写整改期限")
        if kind == Outcome.CONFIRMED and due < today:
            raise Refused(f"整改期限 {date_label(due)} 已经过去：请填写今天以后的日期")
        if kind == Outcome.CONFIRMED and due > max_due(today):
            raise Refused(f"整改期限 {date_label(due)} 太远：最晚可填 {date_label(max_due(today))}，确需更长时间请分阶段整改并按期更新")
        if kind == Outcome.DISMISSED and not reason:
            raise Refused("不属实须说明理由（例如：经入户核实为两个不同的人）")
        return cls(kind, due if kind == Outcome.CONFIRMED else None, reason)


def record(conn, finding: Mapping, answer: Verification, *, user: str, unit: str | None, via: str,
           at: dt.datetime | None = None) -> int:
    """Store `answer` about `finding` (a stored finding row); its id."""
    from sqlalchemy import insert

    row = dict(finding_id=finding["finding_id"], rule=finding["rule"], month=finding["month"],
               fingerprint=finding["fingerprint"], outcome=str(answer.outcome), due=answer.due, reason=answer.reason,
               by_user=user, by_unit=unit, via=via, at=at or dt.datetime.now(dt.UTC))
    return conn.execute(insert(verifications).values(**row)).inserted_primary_key[0]
