"""Drops start the ingest (报送触发): an Airflow 3 AssetWatcher per county, no per-minute clock.

`InboxTrigger` is a `BaseEventTrigger` that runs in the triggerer: one loop per county that
lists the county's seven inbox folders every `ingest.watch.poke_seconds` and judges each file
by the same rule the claim step uses (`inbox.scan`: unchanged for `stable_seconds` and whole,
see fupin.ingest.inbox). When settled files appear that it has not announced yet, it fires one
event on the county's inbox Asset (`fupin/inbox`, `fupin/440224/inbox`), which schedules
`bureau_ingest`. It never moves or deletes anything: the run's `claim_files` does that, and a
file the trigger announced leaves the inbox when it is claimed. It also announces a claim no
live process holds (a worker died in the middle) and an ingested file that changed after it was
read (a slow writer that paused past `stable_seconds`), so those are taken within seconds too.

What it has announced is remembered in memory, keyed by path, size and mtime: a file is
announced once, again if it changes or is still waiting `ingest.watch.reannounce_seconds` later
(more files than one run takes: the next run follows at once). After a triggerer restart the files still waiting
are announced once more — the run that follows finds them claimed or claims them, so nothing is
taken twice (claims are exclusive) and nothing is lost. An hourly run of `bureau_ingest` sweeps
up anything else and sends the notices waiting for a retry.

The trigger's arguments are the county's code and the poll interval only: the triggerer finds
the county's data root in its own FUPIN_COUNTIES, and no URL or secret is stored with the trigger.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

log = logging.getLogger(__name__)


def settled_files(county_code: str | None) -> dict[str, tuple[int, int]]:
    """Everything there is to ingest in the county, as path → (size, mtime_ns): settled new
    drops, claims no live process holds (a dead worker's), and ingested files that changed
    after they were read. Reads only."""
    from fupin.county import County, find
    from fupin.ingest import inbox

    county = find(county_code) if county_code else County()
    out: dict[str, tuple[int, int]] = {}
    with county.active():
        paths: list = []
        for source in inbox.sources():
            ready, refused = inbox.entries(source)
            # entries the platform will not take too: the run sets them aside and tells the engineers
            paths += [e.path for e in ready] + [e.path for e in refused if not e.is_folder]
        paths += [c.path for c in inbox.pending()] + inbox.changed_since_read()
        for path in paths:
            try:
                st = os.lstat(path)  # never follows a link, never opens (a FIFO would block)
            except FileNotFoundError:  # claimed meanwhile
                continue
            out[str(path)] = (st.st_size, st.st_mtime_ns)
    return out


def poke_seconds() -> float:
    from fupin.config import settings

    return float(settings()["ingest"]["watch"]["poke_seconds"])


def to_announce(now: dict[str, tuple[int, int]], announced: dict[str, tuple[tuple[int, int], float]], at: float,
                again_after: float) -> tuple[list[str], dict[str, tuple[tuple[int, int], float]]]:
    """(the paths to announce now, what is announced after that): a path new or changed, or still
    waiting `again_after` seconds after it was last announced (a run takes at most
    `claims.max_per_run` files: the rest must start the next run, not wait for the sweep)."""
    new = sorted(p for p, stamp in now.items()
                 if p not in announced or announced[p][0] != stamp or at - announced[p][1] >= again_after)
    # forget what left (claimed): a path that comes back is new
    kept = {p: (stamp, at if p in new else announced[p][1]) for p, stamp in now.items()}
    return new, kept


def reannounce_seconds() -> float:
    from fupin.config import settings

    return float(settings()["ingest"]["watch"]["reannounce_seconds"])


class InboxTrigger(BaseEventTrigger):
    """Fires when settled files arrive in a county's inboxes (one event per batch)."""

    def __init__(self, county: str | None = None, poke_interval: float = 2.0, reannounce: float = 60.0) -> None:
        super().__init__()
        self.county = county
        self.poke_interval = poke_interval
        self.reannounce = reannounce

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("fupin.ingest.watch.InboxTrigger", {"county": self.county, "poke_interval": self.poke_interval,
                                                     "reannounce": self.reannounce})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        announced: dict[str, tuple[tuple[int, int], float]] = {}
        while True:
            try:
                # file-system calls off the event loop: the triggerer runs many triggers
                now = await asyncio.to_thread(settled_files, self.county)
            except (FileNotFoundError, OSError) as exc:  # an unmounted share, an NFS hiccup: try again
                log.warning("cannot list the inboxes of county %s (%s); retrying", self.county or "-", type(exc).__name__)
                now = None
            if now is not None:
                new, announced = to_announce(now, announced, time.monotonic(), self.reannounce)
                if new:
                    yield TriggerEvent({"county": self.county, "files": [p.rsplit("/", 1)[-1] for p in new]})
            await asyncio.sleep(self.poke_interval)


def inbox_asset(county: str | None = None):  # an airflow.sdk Asset
    """The Asset a county's drops update, watched by its InboxTrigger."""
    from airflow.sdk import Asset, AssetWatcher

    name = "fupin/inbox" if county is None else f"fupin/{county}/inbox"
    trigger = InboxTrigger(county=county, poke_interval=poke_seconds(), reannounce=reannounce_seconds())
    return Asset(name=name, uri=f"fupin://inbox/{county or 'county'}",
                 watchers=[AssetWatcher(name=f"inbox_{county or 'county'}", trigger=trigger)])
