"""The one notice sender: an outbox in the warehouse, drained through Airflow's SMTP connection.

- `enqueue` renders a notice (Jinja2, Chinese) and stores it under its key (kind, period,
  unit); a key already there is left alone, so re-running a task or a period never queues a
  notice twice.
- `send_pending` sends what is due through `smtp_default` (the SMTP provider's hook opens the
  connection; the message is a standard one, `fupin.notify.mail`). A row is marked `sending`
  before the SMTP exchange and `sent` after it. Delivery is per recipient: the addresses a
  server accepted are kept (`delivered`), a refused one makes the notice `failed` and only it
  is tried again with back-off. A crash, or a connection that breaks after the message was
  handed over (DATA), leaves it `sending`: never retried by itself (it may have arrived), shown
  by `fupin outbox` for a person to check, and re-sent by hand (`fupin outbox --resend KEY`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from fupin.config import county_settings, outbox_settings, units
from fupin.vocab import SENDABLE, NoticeStatus, one_line
from fupin.warehouse.db import engine
from fupin.warehouse.schema import outbox

log = logging.getLogger(__name__)
# package data (pyproject.toml), found where the package is installed, editable or not
TEMPLATES = Path(str(resources.files("fupin.notify") / "templates"))
SMTP_CONN_ID = "smtp_default"


@cache
def _jinja(one_line_values: bool = False):
    """The templates' environment; for subjects, every value shown is put on one line (a file name
    may hold any line break: a header cannot, and a subject must not end at one)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True, finalize=one_line if one_line_values else None)


def footer() -> str:
    """The last line of every notice: who sent it, and where a reply goes (`reply_to`)."""
    from email.utils import parseaddr

    cfg = outbox_settings()
    sender = parseaddr(cfg["sender"])[0] or "扶贫数据平台"
    reply = parseaddr(cfg["reply_to"])[0] if cfg.get("reply_to") else ""
    return f"此邮件由{sender}自动发送。" + (f"如有疑问，直接回复即送达{reply}。" if reply else "")


def render(template: str, **context: object) -> tuple[str, str]:
    """(subject, body) from `templates/<template>.j2`: the first line is the subject."""
    county = county_settings()
    context.setdefault("footer", footer())
    context.setdefault("office", units()["poverty_office"].name)  # the unit that leads the campaign
    context.setdefault("county_name", county["name"])
    context.setdefault("plan", county["plan"])
    env = _jinja()
    source, _, _ = env.loader.get_source(env, f"{template}.j2")
    first, _, rest = source.partition("\n")
    subject = _jinja(True).from_string(first).render(**context)
    body = env.from_string(rest).render(**context)
    return subject.strip(), body.lstrip("\n")


@dataclass(frozen=True)
class Notice:
    kind: str
    period: str
    unit: str
    status: str
    attempts: int
    subject: str
    last_error: str | None


def enqueue(kind: str, period: str, unit: str, template: str, *, cc_units: tuple[str, ...] = (), cc_leaders_of: tuple[str, ...] = (),
            attachments: tuple[str, ...] = (), address: str | None = None,
            conn: Connection | None = None, **context: object) -> bool:
    """Queue a notice about `unit` once (to `address`, another unit, if given); True if new.
    Given `conn`, it is queued in the caller's transaction (stored with what it tells of, or not at all)."""
    directory = units()
    target = directory[address or unit]
    subject, body = render(template, unit=target, **context)
    cc = [a for u in cc_units for a in directory[u].to] + [a for u in cc_leaders_of for a in directory[u].leaders]
    now = dt.datetime.now(dt.UTC)
    row = dict(kind=kind, period=period, unit=unit, subject=subject, body=body,
               recipients=json.dumps({"to": list(target.to), "cc": cc}), attachments=json.dumps(list(attachments)),
               status=NoticeStatus.PENDING, attempts=0, created_at=now, next_attempt_at=now)

    def add(c: Connection) -> bool:
        if c.execute(select(outbox.c.status).where(*_key(kind, period, unit))).first() is not None:
            return False
        c.execute(insert(outbox).values(**row))
        return True

    if conn is not None:
        return add(conn)
    try:
        with engine().begin() as c:
            return add(c)
    except IntegrityError:  # queued meanwhile by a concurrent task
        return False


def _key(kind: str, period: str, unit: str):
    return outbox.c.kind == kind, outbox.c.period == period, outbox.c.unit == unit


def _backoff(attempts: int) -> dt.timedelta:
    cfg = outbox_settings()
    return dt.timedelta(seconds=min(cfg["max_retry_seconds"], cfg["first_retry_seconds"] * 2 ** max(0, attempts - 1)))


class Uncertain(Exception):
    """The exchange broke after the message was handed over (DATA): it may have arrived."""


def _deliver(client, msg, sender: str, recipients: list[str]) -> dict[str, str]:  # an smtplib client
    """One SMTP transaction; returns the refused recipients with the server's answer.

    Refusals before DATA are certain (retried for those recipients only); a break after the
    message went over is `Uncertain` (never retried by itself: it could arrive twice)."""
    import smtplib

    refused: dict[str, str] = {}
    client.ehlo_or_helo_if_needed()
    code, answer = client.mail(sender)
    if code != 250:
        client.rset()
        raise smtplib.SMTPSenderRefused(code, answer, sender)
    for rcpt in recipients:
        code, answer = client.rcpt(rcpt)
        if code not in (250, 251):
            refused[rcpt] = f"{code} {answer.decode(errors='replace') if isinstance(answer, bytes) else answer}"
    if len(refused) == len(recipients):
        client.rset()
        return refused
    try:
        code, answer = client.data(msg.as_bytes())
    except smtplib.SMTPDataError:
        raise  # the server answered DATA with a refusal: nothing was handed over
    except (OSError, smtplib.SMTPException) as exc:
        raise Uncertain(f"{type(exc).__name__}: {exc}") from exc
    if code != 250:  # it answered the message with a refusal: not delivered to anyone
        raise smtplib.SMTPDataError(code, answer)
    return refused


def send_pending(now: dt.datetime | None = None, conn_id: str = SMTP_CONN_ID,
                 only: tuple[str, str, str] | None = None) -> dict[str, int]:
    """Send every due notice (or only the one keyed `only`: kind, period, unit) to the recipients
    that do not have it yet; returns counts."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    now = now or dt.datetime.now(dt.UTC)
    cfg = outbox_settings()
    eng = engine()
    with eng.connect() as conn:
        q = select(outbox).where(outbox.c.status.in_(SENDABLE), outbox.c.next_attempt_at <= now, outbox.c.attempts < cfg["max_attempts"])
        due = conn.execute((q.where(*_key(*only)) if only else q)
                           .order_by(outbox.c.created_at, outbox.c.kind, outbox.c.period, outbox.c.unit)).all()
    counts = {"sent": 0, "failed": 0, "uncertain": 0}
    if not due:
        return counts
    try:
        hook = SmtpHook(smtp_conn_id=conn_id)
        with hook:
            client = hook.get_conn()._smtp_client
            for row in due:
                outcome = _send_one(eng, client, row, cfg, now)
                if outcome:
                    counts[outcome] += 1
    except Exception as exc:  # the server is down or went away: what is left waits
        with eng.connect() as conn:
            left = conn.execute(q.where(*_key(*only)) if only else q).all()
        for row in left:
            _failed(eng, row, f"connect: {type(exc).__name__}: {exc}"[:500], now)
        counts["failed"] += len(left)
        log.warning("SMTP server unreachable (%s); %d notice(s) will be retried", type(exc).__name__, len(left))
    log.info("outbox: %d sent, %d failed, %d uncertain", counts["sent"], counts["failed"], counts["uncertain"])
    return counts


def send_notices() -> dict[str, int]:
    """The step every DAG ends with: drain the county's outbox (its warehouse must be current)."""
    from fupin.warehouse import db

    db.require_current()
    return send_pending()


def send_direct(unit: str, template: str, *, key: str, conn_id: str = SMTP_CONN_ID, **context: object) -> None:
    """Render and send one notice to `unit` now, without the outbox (for when the warehouse that
    holds the outbox is down). Raises if the server does not take it for every recipient."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    from fupin.notify.mail import address, build

    cfg = outbox_settings()
    target = units()[unit]
    subject, body = render(template, unit=target, **context)
    msg = build(key=key, sender=cfg["sender"], to=list(target.to), cc=[], subject=subject, body=body, attachments=[],
                reply_to=cfg.get("reply_to"))
    with SmtpHook(smtp_conn_id=conn_id) as hook:
        refused = _deliver(hook.get_conn()._smtp_client, msg, address(cfg["sender"]).addr_spec, list(target.to))
    if refused:
        raise RuntimeError(f"refused: {refused}")


def _send_one(eng, client, row, cfg: dict, now: dt.datetime) -> str | None:
    from fupin.notify.mail import address, build

    with eng.begin() as conn:
        claimed = conn.execute(
            update(outbox).where(*_key(row.kind, row.period, row.unit), outbox.c.status.in_(SENDABLE))
            .values(status=NoticeStatus.SENDING, attempts=outbox.c.attempts + 1)
        ).rowcount
    if not claimed:  # another sender took it: its count, not ours
        return None
    rcpt = json.loads(row.recipients)
    delivered = set(json.loads(row.delivered or "[]"))
    wanted = [a for a in dict.fromkeys(rcpt["to"] + rcpt["cc"]) if a not in delivered]
    try:
        msg = build(key=f"{row.kind}/{row.period}/{row.unit}", sender=cfg["sender"], to=rcpt["to"], cc=rcpt["cc"], subject=row.subject,
                    body=row.body, attachments=json.loads(row.attachments), reply_to=cfg.get("reply_to"))
        refused = _deliver(client, msg, address(cfg["sender"]).addr_spec, wanted)
    except Uncertain as exc:
        with eng.begin() as conn:  # stays `sending`: a person checks, then `fupin outbox --resend`
            conn.execute(update(outbox).where(*_key(row.kind, row.period, row.unit)).values(last_error=f"uncertain: {exc}"[:500]))
        log.error("notice %s/%s/%s: the connection broke after the message was sent; left for a person to check",
                  row.kind, row.period, row.unit)
        return "uncertain"
    except Exception as exc:  # a refusal by the server: retried later
        _failed(eng, row, f"{type(exc).__name__}: {exc}"[:500], now, attempted=True)
        return "failed"
    delivered |= set(wanted) - set(refused)
    values = {"delivered": json.dumps(sorted(delivered))}
    if refused:
        values |= {"status": NoticeStatus.FAILED, "last_error": "refused: " + "; ".join(f"{a} {e}" for a, e in refused.items())[:500],
                   "next_attempt_at": now + _backoff(row.attempts + 1)}
    else:
        values |= {"status": NoticeStatus.SENT, "sent_at": dt.datetime.now(dt.UTC), "last_error": None}
    with eng.begin() as conn:
        conn.execute(update(outbox).where(*_key(row.kind, row.period, row.unit)).values(**values))
    return "failed" if refused else "sent"


def _failed(eng, row, error: str, now: dt.datetime, attempted: bool = False) -> None:
    attempts = row.attempts + 1
    values = {"status": NoticeStatus.FAILED, "last_error": error, "next_attempt_at": now + _backoff(attempts)}
    if not attempted:
        values["attempts"] = attempts
    with eng.begin() as conn:
        conn.execute(update(outbox).where(*_key(row.kind, row.period, row.unit)).values(**values))


def resend(key: str) -> bool:
    """A person checked an interrupted (or given-up) notice: queue it again for the recipients
    that do not have it. `key` is `kind/period/unit` as `fupin outbox` prints it."""
    kind, period, unit = key.rsplit("/", 2)
    with engine().begin() as conn:
        return bool(conn.execute(
            update(outbox).where(*_key(kind, period, unit), outbox.c.status.in_([NoticeStatus.SENDING, NoticeStatus.FAILED]))
            .values(status=NoticeStatus.PENDING, attempts=0, next_attempt_at=dt.datetime.now(dt.UTC))
        ).rowcount)


def notices(status: str | None = None) -> list[Notice]:
    q = select(outbox.c.kind, outbox.c.period, outbox.c.unit, outbox.c.status, outbox.c.attempts, outbox.c.subject, outbox.c.last_error)
    if status:
        q = q.where(outbox.c.status == status)
    with engine().connect() as conn:
        return [Notice(*r) for r in conn.execute(q.order_by(outbox.c.created_at))]


def problems() -> list[Notice]:
    """Notices that need a person: failed ones, and ones whose send was interrupted."""
    with engine().connect() as conn:
        rows = conn.execute(select(outbox.c.kind, outbox.c.period, outbox.c.unit, outbox.c.status, outbox.c.attempts,
                                   outbox.c.subject, outbox.c.last_error)
                            .where(or_(outbox.c.status.in_([NoticeStatus.FAILED, NoticeStatus.SENDING]),
                                       and_(outbox.c.status == NoticeStatus.PENDING, outbox.c.attempts > 0))))
        return [Notice(*r) for r in rows]
