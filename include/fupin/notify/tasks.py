"""The send step every DAG ends with: drain the outbox."""

from __future__ import annotations


def send_notices() -> dict[str, int]:
    from fupin.notify.outbox import send_pending
    from fupin.warehouse import db

    db.require_current()
    return send_pending()
