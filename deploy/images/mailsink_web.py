"""The offline install's mail sink: the project's SMTP sink (`mailsink.EmlSink`, every message
kept as an .eml) on :1025, and on :8025 a web view of what arrived plus the part of Mailpit's
API that scripts use (`GET /api/v1/messages` → total and the messages' subject, from, to), so
a test or an engineer reads either sink the same way.

    python3 mailsink_web.py FOLDER

Every message holds personal data: docker-compose.yaml publishes :8025 on 127.0.0.1 only.
"""

from __future__ import annotations

import html
import json
import sys
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aiosmtpd.controller import Controller
from mailsink import EmlSink

FOLDER = Path(sys.argv[1] if len(sys.argv) > 1 else "/var/lib/mailsink")
HEADERS_ONLY = BytesParser(policy=policy.default)


def summary(path: Path) -> dict:
    with path.open("rb") as fh:
        msg = HEADERS_ONLY.parse(fh, headersonly=True)
    try:
        created = parsedate_to_datetime(msg["Date"]).isoformat()
    except (TypeError, ValueError):
        created = None

    def people(*names):
        return [{"Name": n, "Address": a} for n, a in getaddresses([str(msg[h]) for h in names if msg[h]])]

    return {"ID": path.name, "MessageID": str(msg["Message-ID"] or ""), "Subject": str(msg["Subject"] or ""),
            "From": (people("From") or [{"Name": "", "Address": ""}])[0], "To": people("To"), "Cc": people("Cc"),
            "Created": created, "Size": path.stat().st_size}


def messages() -> list[Path]:
    return sorted(FOLDER.glob("*.eml"), reverse=True)


class View(BaseHTTPRequestHandler):
    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        # a mail's HTML shown here runs nothing and loads nothing
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/api/v1/messages":
            found = messages()
            body = {"total": len(found), "messages_count": len(found), "messages": [summary(p) for p in found]}
            return self._send(200, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8")
        if url.path.startswith("/message/"):
            path = FOLDER / Path(unquote(url.path.removeprefix("/message/"))).name
            if path.suffix != ".eml" or not path.is_file():
                return self._send(404, "没有这封邮件".encode(), "text/plain; charset=utf-8")
            msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            part = msg.get_body(("html", "plain"))
            content = part.get_content() if part is not None else ""
            if part is None or part.get_content_type() != "text/html":
                content = f"<pre>{html.escape(content)}</pre>"
            files = [html.escape(p.get_filename() or "") for p in msg.iter_attachments()]
            head = (f"<p><b>{html.escape(str(msg['Subject']))}</b><br>发件人：{html.escape(str(msg['From']))}<br>"
                    f"收件人：{html.escape(str(msg['To']))}<br>抄送：{html.escape(str(msg['Cc'] or ''))}<br>"
                    f"附件：{'、'.join(files) or '无'}</p><hr>")
            return self._send(200, (head + content).encode(), "text/html; charset=utf-8")
        found = messages()
        rows = "".join(
            f"<tr><td>{html.escape(s['Created'] or '')}</td><td>{html.escape(', '.join(t['Address'] for t in s['To']))}</td>"
            f"<td><a href='/message/{html.escape(s['ID'])}'>{html.escape(s['Subject'])}</a></td></tr>"
            for s in map(summary, found[:500]))
        page = (f"<!doctype html><meta charset=utf-8><title>邮件（测试收件箱）</title><h1>测试收件箱：共 {len(found)} 封</h1>"
                f"<table border=1 cellpadding=4><tr><th>时间</th><th>收件人</th><th>主题</th></tr>{rows}</table>")
        return self._send(200, page.encode(), "text/html; charset=utf-8")

    def log_message(self, *args):  # the subjects name units and months, not people; still, keep the log quiet
        pass


if __name__ == "__main__":
    smtp = Controller(EmlSink(FOLDER), hostname="0.0.0.0", port=1025)
    smtp.start()
    print(f"mail sink: SMTP :1025, web :8025, keeping mail in {FOLDER}", flush=True)
    try:
        ThreadingHTTPServer(("0.0.0.0", 8025), View).serve_forever()
    finally:
        smtp.stop()
