"""Two runs of `make demo` send the same mail: every message of one has its twin in the other
(matched by X-Fupin-Key), identical once what differs between any two runs is set aside —
dates and times, message IDs, MIME boundaries, receipt numbers (a drop's id is its time and a
random part), and a workbook's file-level metadata (its cells are compared, not its zip).

    .venv/bin/python bench/compare_mails.py BEFORE/mail AFTER/mail
"""

from __future__ import annotations

import io
import re
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

VARIABLE = [
    (re.compile(r"\d{14}-[0-9a-f]{8}"), "<drop>"),
    (re.compile(r"\d{8}-\d{6}"), "<stamp>"),
    (re.compile(r"(19|20)\d\d年\d{1,2}月\d{1,2}日( \d\d:\d\d)?"), "<date>"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d+)?([+-]\d\d:\d\d|Z)?"), "<time>"),
]


def _norm(text: str) -> str:
    for pattern, token in VARIABLE:
        text = pattern.sub(token, text)
    return text


def _workbook(data: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    out = []
    for ws in wb.worksheets:
        out.append(f"# {ws.title}")
        for row in ws.iter_rows(values_only=True):
            out.append("|".join("" if v is None else str(v) for v in row))
    return _norm("\n".join(out))


def canonical(raw: bytes) -> list[str]:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    out = [f"{k}: {_norm(str(v))}" for k, v in msg.items() if k.lower() not in ("date", "message-id", "content-type")]
    for part in msg.walk():
        if part.is_multipart():
            continue
        kind, name = part.get_content_type(), part.get_filename()
        out.append(f"-- {kind} {_norm(name or '')}")
        payload = part.get_payload(decode=True) or b""
        if kind.startswith("text/"):
            out.append(_norm(payload.decode(part.get_content_charset() or "utf-8")))
        elif name and name.endswith(".xlsx"):
            out.append(_workbook(payload))
        else:
            out.append(f"{len(payload)} bytes, {hash(payload)}")
    return out


def load(folder: Path) -> dict[str, list[str]]:
    mails: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.eml")):
        raw = path.read_bytes()
        key = re.search(rb"X-Fupin-Key: ([^\r\n]+)", raw)
        shown = canonical(raw)
        name = (_norm(key.group(1).decode()) if key else path.name) + " " + next((h for h in shown if h.startswith("Subject:")), "")
        n = 1
        while f"{name} #{n}" in mails:  # the same notice kind and subject again (a re-sent receipt)
            n += 1
        mails[f"{name} #{n}"] = shown
    return mails


def main() -> int:
    before, after = load(Path(sys.argv[1])), load(Path(sys.argv[2]))
    print(f"before {len(before)} mails, after {len(after)}")
    differ = 0
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            differ += 1
            if differ <= 5:
                a, b = before.get(key) or [], after.get(key) or []
                first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
                print(f"DIFFERS {key}:\n  before: {a[first][:300] if first < len(a) else '—'}\n  after:  {b[first][:300] if first < len(b) else '—'}")
    print(f"{differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
