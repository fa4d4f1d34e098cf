"""The shared folders: inboxes, the work area, the content-addressed archive, quarantine.

Layout under the data root::

    inbox/<source>/<whatever the clerk named it>      drops, read only once stable
    work/<source>/<drop_id>__<name>                   claimed, being ingested
    archive/<sha256[:2]>/<sha256><ext>                every file ever received, unchanged
    archive/receipts/<drop_id>.json|.txt              every receipt
    quarantine/<source>/<drop_id>__<name>             rejected files, with receipt and marked copy

A name is never trusted as a path: only plain files directly inside an inbox are taken
(no sub-folders, no symlinks), and names are reduced to a safe basename before reuse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from fupin.config import contracts, data_root, settings

log = logging.getLogger(__name__)

# Files an office program is still writing, or its lock files.
_IN_PROGRESS = re.compile(r"^(~\$|\.~lock|\.)|\.(tmp|part|crdownload|swp)$", re.IGNORECASE)
_UNSAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|]")


@dataclass(frozen=True)
class Claimed:
    """A file moved out of an inbox for ingest; `path` is its place in the work area."""

    source: str
    path: Path

    @property
    def drop_id(self) -> str:
        return self.path.name.split("__", 1)[0]

    @property
    def original_name(self) -> str:
        return self.path.name.split("__", 1)[1]

    @property
    def dropped_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.path.stat().st_mtime)


def folder(kind: str, *parts: str, root: Path | None = None) -> Path:
    path = (root or data_root()).joinpath(kind, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_name(name: str) -> str:
    """A dropped file's name, reduced to something safe to reuse in our own folders."""
    base = _UNSAFE.sub("_", os.path.basename(name.replace("\\", "/"))).strip(" .")
    return (base or "unnamed")[-120:]


def ensure_folders(root: Path | None = None) -> None:
    for source in contracts().sources:
        for kind in ("inbox", "work", "quarantine"):
            folder(kind, source, root=root)
    folder("archive", "receipts", root=root)


def _stable(st: os.stat_result, now: float, wait: float) -> bool:
    return now - st.st_mtime >= wait


def scan(source: str, root: Path | None = None, now: float | None = None) -> list[Path]:
    """Plain files in `inbox/<source>/` whose size and mtime have settled, oldest first."""
    inbox = folder("inbox", source, root=root)
    wait = float(settings()["ingest"]["stable_seconds"])
    now = time.time() if now is None else now
    found: list[tuple[float, Path]] = []
    with os.scandir(inbox) as entries:
        for entry in entries:
            if _IN_PROGRESS.search(entry.name):
                continue
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                if stat.S_ISLNK(st.st_mode):
                    log.warning("ignoring a symlink in inbox/%s (links are never followed)", source)
                continue
            if _stable(st, now, wait):
                found.append((st.st_mtime, Path(entry.path)))
    return [p for _, p in sorted(found)]


def new_drop_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)


def claim(source: str, path: Path, root: Path | None = None) -> Claimed:
    """Move a stable file from the inbox to the work area (atomic: same file system)."""
    target = folder("work", source, root=root) / f"{new_drop_id()}__{safe_name(path.name)}"
    os.rename(path, target)
    return Claimed(source, target)


def pending(root: Path | None = None) -> list[Claimed]:
    """Claimed files whose ingest did not finish (a crash, a kill): to be ingested again."""
    out: list[Claimed] = []
    for source in contracts().sources:
        work = folder("work", source, root=root)
        for p in sorted(work.iterdir()):
            if p.is_file() and not p.is_symlink() and "__" in p.name:
                out.append(Claimed(source, p))
    return out


def claim_new(root: Path | None = None, sources: list[str] | None = None) -> list[Claimed]:
    """Everything there is to ingest now: unfinished claims first, then new stable drops."""
    claimed = pending(root)
    for source in sources or list(contracts().sources):
        for path in scan(source, root=root):
            try:
                claimed.append(claim(source, path, root=root))
            except FileNotFoundError:  # taken meanwhile by another scanner
                continue
    return claimed


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def archive(path: Path, sha: str, root: Path | None = None) -> Path:
    """Copy into the content-addressed archive (write, fsync, rename: never half a file)."""
    suffix = Path(safe_name(path.name)).suffix.lower()[:8]
    target = folder("archive", sha[:2], root=root) / f"{sha}{suffix}"
    if not target.exists():
        tmp = target.with_name(target.name + f".{secrets.token_hex(4)}.tmp")
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)
    return target


_MONTH_PATTERNS = (
    re.compile(r"(20\d{2})\s*年\s*(0?[1-9]|1[0-2])\s*月"),
    re.compile(r"(?<!\d)(20\d{2})[-_.](0?[1-9]|1[0-2])(?!\d)"),
    re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(?!\d)"),
)


def months_in_name(name: str) -> set[str]:
    """Every reporting month written in a file name (`YYYYMM`, `YYYY-MM`, `YYYY_MM`, `YYYY年M月`)."""
    stem = Path(name).stem
    found = set()
    for pattern in _MONTH_PATTERNS:
        for m in pattern.finditer(stem):
            found.add(f"{m[1]}-{int(m[2]):02d}")
    return found
