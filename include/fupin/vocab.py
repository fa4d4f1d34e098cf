"""The platform's vocabulary (术语): every closed set of values, and every word that more than one
module must spell the same way, defined once.

Values are stored in the warehouse as they are written here: changing one is a migration.
"""

from __future__ import annotations

import re
from enum import StrEnum

# every character after which str.splitlines() breaks a line, and the other C0/C1 controls: none
# may stand in a mail header (EmailMessage refuses them), and a name shown in a sentence reads better without
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: object) -> object:
    """A value as it may stand on one line (a file name in a subject or a sentence): any line
    break or control character becomes a space."""
    return _BREAKS.sub(" ", value).strip() if isinstance(value, str) else value


class DropStatus(StrEnum):
    """What became of a drop (报送结果): `drops.status` and the receipt's status."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # the same bytes are the month's data already
    SUPERSEDED = "superseded"  # valid, but a file dropped later holds the month


# a month counts as reported (催报, I19) once a valid file came for it, even if a later one replaced it
SUBMITTED = (DropStatus.ACCEPTED, DropStatus.SUPERSEDED)


class NoticeStatus(StrEnum):
    """A notice in the outbox (`outbox.status`)."""

    PENDING = "pending"  # queued, or queued again; sent when due
    SENDING = "sending"  # claimed by a sender; left so when the server broke after DATA (uncertain)
    SENT = "sent"
    FAILED = "failed"  # to be retried after its back-off, until max_attempts


# what a sender may take: new, or failed and due again
SENDABLE = (NoticeStatus.PENDING, NoticeStatus.FAILED)


class ScoreStatus(StrEnum):
    """An indicator's result for a unit (`assessment_scores.status`)."""

    MET = "达标"
    MISSED = "未达标"


class ActionKind(StrEnum):
    """What a lagging unit gets (`assessment_actions.action`)."""

    NOTICE = "通报"  # every lagging unit, every period
    RECTIFY = "限期整改"  # at year end, with a due date
    INTERVIEW = "约谈"  # the unit's head is summoned (a missed exit task, or the same miss twice)


class Outcome(StrEnum):
    """What a unit found when it checked a finding (核查结果, `verifications.outcome`)."""

    RECTIFIED = "rectified"  # 属实已整改: true, and put right
    CONFIRMED = "confirmed"  # 属实待整改: true, to be put right by a due date
    DISMISSED = "dismissed"  # 不属实: not true (two different people, ...), with a reason


OUTCOME_LABELS = {Outcome.RECTIFIED: "属实已整改", Outcome.CONFIRMED: "属实待整改", Outcome.DISMISSED: "不属实"}


class FindingState(StrEnum):
    """Where a finding stands, given its latest verification (`findings.state` at the run)."""

    OPEN = "open"  # 待核查: nobody has reported a check (or the data changed since a 不属实)
    CONFIRMED = "confirmed"  # 属实待整改, within its due date
    OVERDUE = "overdue"  # 属实待整改, past its due date
    RECTIFIED = "rectified"  # reported put right; the next month's data will tell
    REOPENED = "reopened"  # reported put right, yet a later month's data still shows it
    DISMISSED = "dismissed"  # 不属实 and the data unchanged: not reported again


STATE_LABELS = {FindingState.OPEN: "待核查", FindingState.CONFIRMED: "属实待整改", FindingState.OVERDUE: "整改逾期",
                FindingState.RECTIFIED: "已整改", FindingState.REOPENED: "报已整改但仍存在", FindingState.DISMISSED: "不属实（已排除）"}

# the states an escalation counts (持续 3 个月以上上报领导): unverified, overdue, or not borne out
ESCALATING = (FindingState.OPEN, FindingState.OVERDUE, FindingState.REOPENED)


# The inbox folder where towns and bureaus drop the reconciliation workbook with its 核查结果
# filled in: not a reporting source (no month to report, no deadline), ingested all the same.
VERIFICATION_SOURCE = "verification"
VERIFICATION_LABEL = "核查反馈"


# Each unit's shared folder (its own SMB share, `fupin share-config`), as the clerk sees it:
# `<data root>/shares/<unit key>/` holds these four folders and nothing else.
SHARES = "shares"
SHARE_DROP = "报送"  # the unit's monthly files: drop here
SHARE_VERIFY = "核查结果"  # the 核查 workbooks the unit fills in and returns
SHARE_RECEIPTS = "回执"  # every drop's receipt, with its marked copy
SHARE_RETURNED = "退回"  # a refused file, with its receipt and marked copy
SHARE_WRITABLE = (SHARE_DROP, SHARE_VERIFY)  # where the file-share service may write


# The county as a whole, where a measure or a rate is given per town and for the county: the key
# of the county's row in `reconciliation_rates.town` and of its measure in the indicators.
COUNTY_TOTAL = "全县"

# 劳动能力 values of a person who can work (I03, I07, R6's capable members)
LABOR_CAPABLE = ("有劳动能力", "部分丧失劳动能力")

# The dots clerks type inside ethnic-minority names (阿依·古丽), folded to the one middle dot.
NAME_DOTS = str.maketrans({"•": "·", "・": "·", "．": "·", "∙": "·", "‧": "·"})


# a name holding any of these needs `clean_name` (a regex character class, for pandas)
NAME_UNCLEAN = r"[\s" + "".join(chr(c) for c in NAME_DOTS) + "]"


def clean_name(value: object) -> str:
    """A person's name as compared and stored: no spaces, one kind of middle dot."""
    return "".join(str(value or "").split()).translate(NAME_DOTS)
