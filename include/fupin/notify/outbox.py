"""The one notice sender: an outbox in the warehouse, drained through Airflow's SMTP connection.

- `enqueue` renders a notice (Jinja2, Chinese) and stores it under its key (kind, period,
  unit); a key already there is left alone, so re-running a task or a period never queues a
  notice twice.
- `send_pending` sends what is due through `smtp_default` (the SMTP provider's hook). A row is
  marked `sending` before the SMTP exchange and `sent` after it: a crash in between leaves it
  `sending`, which is never retried by itself (that could send it twice) and shows in
  `fupin outbox` for a person to check. A send that fails is `failed`, retried with back-off.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from fupin.config import outbox_settings, units
from fupin.warehouse.db import engine
from fupin.warehouse.schema import outbox

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).with_name("templates")
SMTP_CONN_ID = "smtp_default"


@cache
def _jinja():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True)


def render(template: str, **context: object) -> tuple[str, str]:
    """(subject, body) from `templates/<template>.j2`: the first line is the subject."""
    text = _jinja().get_template(f"{template}.j2").render(**context)
    subject, _, body = text.partition("\n")
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
            attachments: tuple[str, ...] = (), address: str | None = None, url: str | None = None, **context: object) -> bool:
    """Queue a notice about `unit` once (to `address`, another unit, if given); True if new."""
    directory = units()
    target = directory[address or unit]
    subject, body = render(template, unit=target, **context)
    cc = [a for u in cc_units for a in directory[u].to] + [a for u in cc_leaders_of for a in directory[u].leaders]
    now = dt.datetime.now()
    row = dict(kind=kind, period=period, unit=unit, subject=subject, body=body,
               recipients=json.dumps({"to": list(target.to), "cc": cc}), attachments=json.dumps(list(attachments)),
               status="pending", attempts=0, created_at=now, next_attempt_at=now)
    try:
        with engine(url).begin() as conn:
            if conn.execute(select(outbox.c.status).where(*_key(kind, period, unit))).first() is not None:
                return False
            conn.execute(insert(outbox).values(**row))
        return True
    except IntegrityError:  # queued meanwhile by a concurrent task
        return False


def _key(kind: str, period: str, unit: str):
    return outbox.c.kind == kind, outbox.c.period == period, outbox.c.unit == unit


def _html(body: str, attachments: list[str]) -> str:
    """The body as HTML; PNG attachments are shown inline (the hook gives each a Content-ID)."""
    images = "".join(f'<p><img src="cid:{html.escape(Path(a).name)}" alt="{html.escape(Path(a).name)}"></p>'
                     for a in attachments if a.lower().endswith(".png"))
    return ('<div style="font-family:\'Microsoft YaHei\',\'PingFang SC\',sans-serif;font-size:14px;white-space:pre-wrap">'
            + html.escape(body) + "</div>" + images)


def _backoff(attempts: int) -> dt.timedelta:
    cfg = outbox_settings()
    return dt.timedelta(seconds=min(cfg["max_retry_seconds"], cfg["first_retry_seconds"] * 2 ** max(0, attempts - 1)))


def send_pending(now: dt.datetime | None = None, url: str | None = None, conn_id: str = SMTP_CONN_ID) -> dict[str, int]:
    """Send every due notice; returns counts of sent and failed."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    now = now or dt.datetime.now()
    cfg = outbox_settings()
    eng = engine(url)
    with eng.connect() as conn:
        due = conn.execute(
            select(outbox).where(
                outbox.c.status.in_(["pending", "failed"]), outbox.c.next_attempt_at <= now, outbox.c.attempts < cfg["max_attempts"]
            ).order_by(outbox.c.created_at, outbox.c.kind, outbox.c.period, outbox.c.unit)
        ).all()
    counts = {"sent": 0, "failed": 0}
    if not due:
        return counts
    hook = None
    try:
        hook = SmtpHook(smtp_conn_id=conn_id).get_conn()
    except Exception as exc:  # noqa: BLE001 - the server is down: every due notice waits
        for row in due:
            _failed(eng, row, f"connect: {exc}", now)
        counts["failed"] = len(due)
        log.warning("SMTP server unreachable; %d notice(s) will be retried", len(due))
        return counts
    try:
        for row in due:
            with eng.begin() as conn:
                claimed = conn.execute(
                    update(outbox).where(*_key(row.kind, row.period, row.unit), outbox.c.status.in_(["pending", "failed"]))
                    .values(status="sending", attempts=outbox.c.attempts + 1)
                ).rowcount
            if not claimed:  # another sender took it
                continue
            rcpt = json.loads(row.recipients)
            try:
                files = json.loads(row.attachments)
                hook.send_email_smtp(
                    to=rcpt["to"], cc=rcpt["cc"] or None, subject=row.subject, html_content=_html(row.body, files),
                    from_email=cfg["sender"], files=files or None,
                    custom_headers={"Message-ID": f"<{row.kind}.{row.period}.{row.unit}@fupin>", "X-Fupin-Key": f"{row.kind}/{row.period}/{row.unit}"},
                )
            except Exception as exc:  # noqa: BLE001 - any refusal: retry later
                _failed(eng, row, str(exc)[:500], now, attempted=True)
                counts["failed"] += 1
                continue
            with eng.begin() as conn:
                conn.execute(update(outbox).where(*_key(row.kind, row.period, row.unit)).values(status="sent", sent_at=dt.datetime.now(), last_error=None))
            counts["sent"] += 1
    finally:
        try:
            hook.__exit__(None, None, None)
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass
    log.info("outbox: %d sent, %d failed", counts["sent"], counts["failed"])
    return counts


def _failed(eng, row, error: str, now: dt.datetime, attempted: bool = False) -> None:
    attempts = row.attempts + 1
    values = {"status": "failed", "last_error": error, "next_attempt_at": now + _backoff(attempts)}
    if not attempted:
        values["attempts"] = attempts
    with eng.begin() as conn:
        conn.execute(update(outbox).where(*_key(row.kind, row.period, row.unit)).values(**values))


def notices(status: str | None = None, url: str | None = None) -> list[Notice]:
    q = select(outbox.c.kind, outbox.c.period, outbox.c.unit, outbox.c.status, outbox.c.attempts, outbox.c.subject, outbox.c.last_error)
    if status:
        q = q.where(outbox.c.status == status)
    with engine(url).connect() as conn:
        return [Notice(*r) for r in conn.execute(q.order_by(outbox.c.created_at))]


def problems(url: str | None = None) -> list[Notice]:
    """Notices that need a person: failed ones, and ones whose send was interrupted."""
    with engine(url).connect() as conn:
        rows = conn.execute(select(outbox.c.kind, outbox.c.period, outbox.c.unit, outbox.c.status, outbox.c.attempts,
                                   outbox.c.subject, outbox.c.last_error)
                            .where(or_(outbox.c.status.in_(["failed", "sending"]), and_(outbox.c.status == "pending", outbox.c.attempts > 0))))
        return [Notice(*r) for r in rows]
