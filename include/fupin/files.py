"""Files and folders that hold personal data: owner and group only, never world-readable.

Everything under the data root — inboxes, the archive, quarantine, receipts, reports, the
SQLite warehouse, the mail sink — holds ID numbers and names. Folders are created 0750
(the folders units drop into, 0770: the file-share service writes there as a member of the
group; it reads the rest of a unit's share, and nothing else of the platform) and every entry
point of the platform (the CLI, each task through `fupin.tasking.county_task`, the dashboard) sets
the process's umask to 027, once, so the files it writes are 0640 at most.
"""

from __future__ import annotations

import os
from pathlib import Path

from fupin.vocab import SHARE_WRITABLE, SHARES

PRIVATE_UMASK = 0o027
DIR_MODE = 0o750
INBOX_MODE = 0o770


def restrict_umask() -> None:
    """Make every file this process creates from now on owner-and-group only (idempotent;
    a stricter umask already set is kept)."""
    current = os.umask(PRIVATE_UMASK)
    os.umask(current | PRIVATE_UMASK)


def _drop_folder(d: Path, base: Path) -> bool:
    """A folder the file-share service's group writes into: a unit's 报送 or 核查结果, or a
    folder under inbox/ (the engineers' own)."""
    if d != base / "inbox" and d.is_relative_to(base / "inbox"):
        return True
    return d.parent.parent == base / SHARES and d.name in SHARE_WRITABLE


def private_dir(path: Path, base: Path | None = None) -> Path:
    """Create `path` (and its missing parents, up to and including `base`) owner-and-group only."""
    if path.is_dir():
        return path
    missing = []
    p = path
    while not p.exists() and p != p.parent:
        missing.append(p)
        if base is not None and p == base:
            break
        p = p.parent
    for d in reversed(missing):
        mode = INBOX_MODE if base is not None and _drop_folder(d, base) else DIR_MODE
        try:
            d.mkdir(mode=mode)
        except FileExistsError:
            continue
        os.chmod(d, mode)  # mkdir's mode is masked by the umask; this is the mode we mean
    return path
