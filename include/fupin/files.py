"""Files and folders that hold personal data: owner and group only, never world-readable.

Everything under the data root — inboxes, the archive, quarantine, receipts, reports, the
SQLite warehouse, the mail sink — holds ID numbers and names. Folders are created 0750
(inboxes 0770: the file-share service writes there as a member of the group) and every entry
point of the platform (the CLI, each task through `County.active()`, the demo) sets the
process's umask to 027, so the files it writes are 0640 at most.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o027
DIR_MODE = 0o750
INBOX_MODE = 0o770


def restrict_umask() -> None:
    """Make every file this process creates from now on owner-and-group only (idempotent;
    a stricter umask already set is kept)."""
    current = os.umask(PRIVATE_UMASK)
    os.umask(current | PRIVATE_UMASK)


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
        # inboxes and their sub-folders (a unit's 核查结果 folder): the file-share service's group writes there
        mode = INBOX_MODE if base is not None and d != base / "inbox" and d.is_relative_to(base / "inbox") else DIR_MODE
        try:
            d.mkdir(mode=mode)
        except FileExistsError:
            continue
        os.chmod(d, mode)  # mkdir's mode is masked by the umask; this is the mode we mean
    return path
