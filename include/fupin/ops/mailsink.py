"""A local SMTP server that stores every message as an `.eml` file (the demo's and
`make serve`'s mail host; production uses a real one through the same `smtp_default`)."""

from __future__ import annotations

import json
import re
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path


class EmlSink:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        # numbered on from what a restarted sink already holds: no message overwrites another
        numbers = (p.name.split("_", 1)[0] for p in folder.glob("*_*.eml"))
        self.count = max((int(n) for n in numbers if n.isdigit()), default=0)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.count += 1
        # the notice's key names the file: decoded and unfolded (a long key is sent RFC 2047-encoded)
        key = BytesHeaderParser(policy=policy.default).parsebytes(envelope.content)["X-Fupin-Key"]
        name = re.sub(r"[\x00-\x1f/\\]", "_", str(key)).replace(":", "-")[:150] if key else f"message-{self.count}"
        (self.folder / f"{self.count:04d}_{name}.eml").write_bytes(envelope.content)
        return "250 OK"


def start(folder: Path, port: int = 0):
    """Start the sink; returns (controller, port, the smtp_default connection as JSON)."""
    import logging

    from aiosmtpd.controller import Controller

    from fupin.ops.cluster import free_port

    logging.getLogger("mail.log").setLevel(logging.WARNING)

    if port == 0:
        port = free_port()
    controller = Controller(EmlSink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    conn = json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port,
                       "extra": {"disable_tls": True, "disable_ssl": True, "retry_limit": 0, "timeout": 10}})
    return controller, port, conn


if __name__ == "__main__":
    import sys
    import time

    ctl, p, _ = start(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1025)
    print(f"SMTP sink on 127.0.0.1:{p}, storing mail in {sys.argv[1]}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        ctl.stop()
