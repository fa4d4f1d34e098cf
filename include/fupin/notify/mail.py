"""One notice as a standard Internet message (RFC 5322 / MIME), built with `email.message`.

    multipart/mixed
      multipart/alternative
        text/plain                 the body as written (every client can show it)
        multipart/related
          text/html                the same body, with the charts shown where they belong
          image/png  Content-ID    each chart, inline (never a loose attachment)
      application/vnd.openxmlformats-officedocument.spreadsheetml.sheet   the workbooks
      text/html                    a report page, attached

Headers: `From` with its Chinese display name encoded as a word beside a real address,
`Reply-To` (where a unit's answer should go), `Date`, a `Message-ID` stable per notice, and
attachment names in Chinese (RFC 2231), short as the notice gives them.
"""

from __future__ import annotations

import hashlib
import html
import mimetypes
import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, parseaddr
from pathlib import Path

from fupin.vocab import one_line

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TYPES = {".xlsx": XLSX, ".xls": "application/vnd.ms-excel", ".html": "text/html", ".png": "image/png",
          ".pdf": "application/pdf", ".csv": "text/csv", ".txt": "text/plain"}


def address(text: str) -> Address:
    """`仁化县扶贫数据平台 <fupin@example>` → an Address whose display name is encoded apart."""
    name, addr = parseaddr(text)
    user, _, domain = addr.partition("@")
    return Address(display_name=name, username=user, domain=domain)


def addresses(items: list[str]) -> list[Address]:
    return [address(f"{n} <{a}>" if n else a) for n, a in getaddresses(items)]


def message_id(key: str, sender: Address) -> str:
    """The same for a notice however often it is (re)sent: a client shows it once."""
    return f"<{hashlib.sha1(key.encode()).hexdigest()[:20]}@{sender.domain or 'fupin.local'}>"


_URL = re.compile(r"https?://[^\s<>\"'）。，]+")


def _linked(text: str) -> str:
    """The body escaped for HTML, with its web addresses (the log link of an alert) clickable."""
    out, last = [], 0
    for m in _URL.finditer(text):
        out += [html.escape(text[last:m.start()]), f'<a href="{html.escape(m[0])}">{html.escape(m[0])}</a>']
        last = m.end()
    return "".join(out) + html.escape(text[last:])


def _html(body: str, images: list[str]) -> str:
    figures = "".join(f'<p><img src="cid:{_cid(p)}" alt="{html.escape(Path(p).stem)}" style="max-width:100%"></p>' for p in images)
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
            '<div style="font-family:\'Microsoft YaHei\',\'PingFang SC\',\'Noto Sans CJK SC\',sans-serif;font-size:14px;'
            'line-height:1.6;white-space:pre-wrap">' + _linked(body) + "</div>" + figures + "</body></html>")


def _cid(path: str) -> str:
    return hashlib.sha1(Path(path).name.encode()).hexdigest()[:16] + "@fupin"


def build(*, key: str, sender: str, to: list[str], cc: list[str], subject: str, body: str, attachments: list[str],
          reply_to: str | None = None, date: float | None = None) -> EmailMessage:
    """The message of one notice: text and HTML alternatives, inline charts, typed attachments."""
    frm = address(sender)
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = frm
    msg["To"] = addresses(to)
    if cc:
        msg["Cc"] = addresses(cc)
    if reply_to:
        msg["Reply-To"] = address(reply_to)
    msg["Subject"] = one_line(subject)
    msg["Date"] = formatdate(date, localtime=True)
    msg["Message-ID"] = message_id(key, frm)
    msg["X-Fupin-Key"] = key
    images = [a for a in attachments if a.lower().endswith(".png")]
    files = [a for a in attachments if a not in images]
    msg.set_content(body, subtype="plain", charset="utf-8")
    msg.add_alternative(_html(body, images), subtype="html", charset="utf-8")
    html_part = msg.get_payload()[-1]
    for path in images:
        html_part.add_related(Path(path).read_bytes(), maintype="image", subtype="png", cid=f"<{_cid(path)}>",
                              filename=Path(path).name, disposition="inline")
    for path in files:
        ctype = _TYPES.get(Path(path).suffix.lower()) or mimetypes.guess_type(path)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(Path(path).read_bytes(), maintype=maintype, subtype=subtype, filename=one_line(Path(path).name))
    return msg
