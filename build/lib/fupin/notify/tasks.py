"""The send step every DAG ends with: drain the outbox."""

from __future__ import annotations


def send_notices() -> dict[str, int]:
    from fupin.notify.outbox import send_pending

    return send_pending()
