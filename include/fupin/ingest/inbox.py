"""The shared folders: inboxes, the work area, the content-addressed archive, quarantine.

Layout under the data root::

    shares/<unit>/报送/<whatever the clerk named it>   drops, taken only once stable (the unit's share)
    shares/<unit>/核查结果/<...>                        the unit's filled-in 核查 workbooks
    shares/<unit>/回执/, 退回/                          copies for the clerk (`fupin.shares`)
    inbox/verification/<...>                          核查 workbooks of no known unit (engineers')
    work/<source>/<drop_id>__<short name>             claimed, being ingested
    work/<source>/<drop_id>.name                      the name as the clerk wrote it, whole
    work/<source>/<drop_id>.lock                      held (flock) by the one process ingesting it
    watch/<source>/<drop_id>__<short name>            ingested, watched for a writer that went on
    archive/<sha256[:2]>/<sha256><ext>                every file ever received, unchanged
    archive/receipts/<drop_id>.json|.txt              every receipt
    quarantine/<source>/<drop_id>__<short name>       rejected files, with receipt and marked copy

A name is never trusted as a path: only plain files directly inside an inbox are taken
(no sub-folders, no symlinks), and names are reduced to a short safe basename before reuse;
the whole original name travels beside the claim, so the month is read from all of it.

Nothing a bureau sends is lost:
- a drop is taken once neither its content (mtime) nor its inode (ctime: a rename, a
  timestamp set by a copy tool) has changed for `stable_seconds`, and an .xlsx/.xls/.ods
  that is structurally incomplete (a copy still under way) waits up to
  `claims.incomplete_grace_seconds` more;
- the claim is a rename, so a writer still holding the file writes into the claimed inode;
  the ingested file is kept in `watch/` and, if it changed after it was read, it is taken
  again as a new drop (which then replaces the month).

One owner per claim: a process ingests a claimed file only while it holds an exclusive
`flock` on the claim's lock file. A dead process's lock is released by the kernel at once
(on NFS, by the server when the client's lease expires), so its claim is taken over.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import stat
import struct
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fupin.config import contracts, data_root, settings
from fupin.files import private_dir
from fupin.vocab import SHARE_DROP, SHARE_RECEIPTS, SHARE_RETURNED, SHARE_VERIFY, SHARES, VERIFICATION_SOURCE

log = logging.getLogger(__name__)

# Files an office program is still writing, or its lock files.
_IN_PROGRESS = re.compile(r"^(~\$|\.~lock|\.)|\.(tmp|part|crdownload|swp)$", re.IGNORECASE)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|\u200e\u200f\u202a-\u202e\u2066-\u2069]")
NAME_BYTES = 150  # of a claimed file's short name: with the drop id, well under 255 bytes


@dataclass(frozen=True)
class Claimed:
    """A file moved out of an inbox for ingest; `path` is its place in the work area."""

    source: str
    path: Path

    @property
    def drop_id(self) -> str:
        return self.path.name.split("__", 1)[0]

    @property
    def sidecar(self) -> Path:
        return self.path.with_name(f"{self.drop_id}.name")

    @property
    def original_name(self) -> str:
        """The name as the clerk wrote it (whole, however long), else the short one."""
        try:
            return self.sidecar.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return self.path.name.split("__", 1)[1]

    @property
    def sender(self) -> str | None:
        """The unit whose folder the file was dropped in: the source's own unit, or for a 核查结果
        workbook the verifying unit's sub-folder (None: dropped where no unit is known)."""
        try:
            return self.path.with_name(f"{self.drop_id}.from").read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None if self.source == VERIFICATION_SOURCE else self.source

    @property
    def dropped_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.path.stat().st_mtime, dt.UTC)


def folder(kind: str, *parts: str) -> Path:
    """A folder under the data root, created owner-and-group only (it holds personal data)."""
    base = data_root()
    return private_dir(base.joinpath(kind, *parts), base)


def safe_name(name: str, limit: int = NAME_BYTES) -> str:
    """A dropped file's name, reduced to something safe and short to reuse in our own folders.

    The extension is kept; a long stem keeps its start and end (where months are written).
    """
    base = _UNSAFE.sub("_", os.path.basename(name.replace("\\", "/"))).strip(" .") or "unnamed"
    if len(base.encode("utf-8")) <= limit:
        return base
    stem, dot, ext = base.rpartition(".")
    if not dot or len(ext) > 8:
        stem, ext = base, ""
    budget = limit - len(ext.encode()) - 4  # "…" and the dot
    head, tail, i = "", "", 0
    while i < len(stem) // 2:
        more = len(stem[i].encode()) + len(stem[-1 - i].encode())
        if len(head.encode()) + len(tail.encode()) + more > budget:
            break
        head, tail, i = head + stem[i], stem[-1 - i] + tail, i + 1
    return head + "…" + tail + (f".{ext}" if ext else "")


class NotTaken(OSError):
    """An inbox entry the platform will not take: `why` says so in Chinese (for the engineers' alert)."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


_SYMLINK = "是符号链接（平台从不跟随链接）"


def _kind_problem(st: os.stat_result) -> str | None:
    """Why an entry (by its lstat) is not a file the platform takes, or None."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return _SYMLINK
    if stat.S_ISDIR(mode):
        return "是文件夹（只接收直接放在报送文件夹里的文件）"
    if stat.S_ISFIFO(mode):
        return "是管道（FIFO），不是文件"
    if stat.S_ISSOCK(mode):
        return "是套接字，不是文件"
    if not stat.S_ISREG(mode):
        return "是设备或其他特殊文件，不是普通文件"
    if st.st_nlink > 1:
        return f"是硬链接（同一文件有 {st.st_nlink} 个名字，可能指向报送文件夹以外的文件）"
    return None


def open_regular(path: Path | str) -> int:
    """Open a plain file for reading, safely whatever the entry is by then: never following a
    link, never blocking on a FIFO, and judged on the opened descriptor (a name checked before
    can have been swapped). NotTaken says why not; PermissionError when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotTaken(_SYMLINK) from None
        if exc.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket, or a FIFO with no writer on some systems
            raise NotTaken("是套接字或管道，不是文件") from None
        raise
    try:
        problem = _kind_problem(os.fstat(fd))
        if problem:
            raise NotTaken(problem)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def regular_file(path: Path | str) -> Iterator:
    """`open_regular` as a binary file object."""
    with os.fdopen(open_regular(path), "rb") as fh:
        yield fh


def sources() -> list[str]:
    """Every inbox folder: each reporting source's, and the one for filled-in 核查结果 workbooks."""
    return [*contracts().sources, VERIFICATION_SOURCE]


def ensure_folders() -> None:
    for source in sources():
        for kind in ("work", "quarantine"):
            folder(kind, source)
        inbox_folders(source)  # each verifying unit's own 核查结果 folder too
    for unit in share_units():
        for part in (SHARE_RECEIPTS, SHARE_RETURNED):
            folder(SHARES, unit, part)
    folder("archive", "receipts")


def share_units() -> list[str]:
    """The units with a shared folder: those that report a file, and those that check findings."""
    return [*dict.fromkeys([*contracts().sources, *verifying_units()])]


def drop_folder(unit: str) -> Path:
    """Where a reporting unit drops its monthly files: its share's 报送."""
    return folder(SHARES, unit, SHARE_DROP)


def _last_change(st: os.stat_result) -> float:
    return max(st.st_mtime, st.st_ctime)


def _zip_complete(fh) -> bool:  # a binary file object
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    size = os.fstat(fh.fileno()).st_size
    return all(i.header_offset + i.compress_size <= size for i in infos)


def _ole_complete(fh) -> bool:  # a binary file object
    """An Excel 97 compound file whose header's FAT and directory sectors all lie in the file."""
    head = fh.read(512)
    if len(head) < 512 or not head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return False
    sector = 1 << struct.unpack_from("<H", head, 30)[0]
    if sector not in (512, 4096):
        return False
    n_fat, dir_start = struct.unpack_from("<I", head, 44)[0], struct.unpack_from("<I", head, 48)[0]
    fat = [s for s in struct.unpack_from("<109I", head, 76)[: min(n_fat, 109)] if s < 0xFFFFFFFA]
    # sector n starts at (n + 1) * sector (the header fills the first)
    return (max([dir_start, *fat]) + 2) * sector <= os.fstat(fh.fileno()).st_size


def looks_complete(path: Path) -> bool:
    """Whether a file looks whole by its structure (a zip's central directory, an Excel 97
    file's sector tables, a CSV's last line break). Unknown kinds are taken as they are."""
    ext = path.suffix.lower()
    try:
        with regular_file(path) as fh:
            if ext in (".xlsx", ".xlsm", ".ods"):
                return _zip_complete(fh)
            if ext == ".xls":
                if fh.read(8) != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
                    return True  # not a compound file at all (an HTML "xls"): judged at ingest
                fh.seek(0)
                return _ole_complete(fh)
            if ext == ".csv":
                fh.seek(0, os.SEEK_END)
                if fh.tell() == 0:
                    return False
                fh.seek(-1, os.SEEK_END)
                return fh.read(1) in (b"\n", b"\r")
    except (NotTaken, PermissionError):  # judged (and refused) at once when it is claimed
        return True
    except OSError:
        return False
    return True


def _settled(path: Path, st: os.stat_result, now: float, wait: float, grace: float) -> bool:
    """Unchanged (content and inode) for `wait`, and whole — or unchanged for `grace` anyway."""
    quiet = now - _last_change(st)
    if quiet < wait:
        return False
    if quiet < max(grace, wait) and not looks_complete(path):
        log.info("%s is not complete yet; waiting for its writer", path.parent.name)
        return False
    return True


@dataclass(frozen=True)
class Entry:
    """Something in an inbox folder: a file to claim (`why` None), or one the platform will not
    take, with why. `sender` is the unit whose folder it is in (a 核查结果 workbook's sender)."""

    source: str
    path: Path
    sender: str | None
    why: str | None = None
    is_folder: bool = False  # an inbox folder itself (a link): reported, never moved
    moved_to: Path | None = None  # where a refused entry was set aside


def inbox_folders(source: str) -> list[tuple[Path, str | None]]:
    """The folders drops of `source` come in, with the unit each belongs to: a reporting source's
    报送 in its share (the unit is the source); for 核查结果 each verifying unit's 核查结果 in its
    share (its sender is known by where it was dropped), and inbox/verification/, whose sender
    is unknown (the engineers')."""
    if source != VERIFICATION_SOURCE:
        return [(drop_folder(source), source)]
    top = folder("inbox", source)
    return [(top, None)] + [(folder(SHARES, unit, SHARE_VERIFY), unit) for unit in verifying_units()]


def verifying_units() -> list[str]:
    """Units that check findings (each with its own 核查结果 folder): the reporting bureaus and
    offices (the owners of the rules) and the towns."""
    from fupin.config import town_offices, units

    towns = town_offices()
    return [u for u in units() if u in contracts().sources or u in towns]


def _real_folder(path: Path) -> str | None:
    """Why `path` (an inbox folder, or the inbox above it) may not be listed, or None: a folder
    reached through a link could be another county's inbox."""
    for p in (path.parent, path):
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
            return f"报送文件夹 {p.name} 是符号链接或不是文件夹，平台不读取其中的文件"
    return None


def entries(source: str, now: float | None = None) -> tuple[list[Entry], list[Entry]]:
    """(settled plain files to claim, oldest first; entries the platform will not take) in the
    inbox folders of `source`. Reads only (the inbox watcher asks it)."""
    cfg = settings()["ingest"]
    wait = float(cfg["stable_seconds"])
    grace = float(cfg["claims"]["incomplete_grace_seconds"])
    now = time.time() if now is None else now
    found: list[tuple[float, Entry]] = []
    refused: list[Entry] = []
    folders = inbox_folders(source)
    for inbox, sender in folders:
        bad = _real_folder(inbox)
        if bad:
            refused.append(Entry(source, inbox, sender, bad, is_folder=True))
            continue
        subfolders = {p.name for p, _ in folders[1:]} if sender is None else set()
        with os.scandir(inbox) as listing:
            for entry in listing:
                if _IN_PROGRESS.search(entry.name) or entry.name in subfolders:
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # taken meanwhile by another ingester
                    continue
                why = _kind_problem(st)
                if why and sender is None and source == VERIFICATION_SOURCE and _empty_dir(entry, st):
                    continue  # an empty folder beside the units' own (a unit no longer configured): it holds nothing
                if why:
                    if now - _last_change(st) >= wait:  # a link or folder being made: judged once it settles
                        refused.append(Entry(source, Path(entry.path), sender, why))
                elif _settled(Path(entry.path), st, now, wait, grace):
                    found.append((st.st_mtime, Entry(source, Path(entry.path), sender)))
    return [e for _, e in sorted(found, key=lambda x: x[0])], refused


def _empty_dir(entry: os.DirEntry, st: os.stat_result) -> bool:
    if not stat.S_ISDIR(st.st_mode):
        return False
    try:
        with os.scandir(entry.path) as inside:
            return next(inside, None) is None
    except OSError:
        return False


def scan(source: str, now: float | None = None) -> list[Path]:
    """Plain files in the inbox folders of `source` that are settled (see the module doc), oldest first."""
    return [e.path for e in entries(source, now=now)[0]]


def new_drop_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)


def _claim_path(source: str, path: Path, name: str, sender: str | None = None) -> Claimed:
    """Rename `path` into the work area as a new drop named `name` (atomic: one file system).

    The file is opened first (never following a link, never blocking), judged on the opened
    descriptor, and the renamed entry must be that same inode: anything swapped in between is
    NotTaken, and set aside in quarantine instead of claimed."""
    fd = open_regular(path)  # NotTaken, PermissionError: the caller refuses the entry
    try:
        seen = os.fstat(fd)
        work = folder("work", source)
        drop_id = new_drop_id()
        sides = [work / f"{drop_id}.name", work / f"{drop_id}.from"]
        sides[0].write_text(name, encoding="utf-8")  # first: a claim never exists without its name
        if sender is not None:
            sides[1].write_text(sender, encoding="utf-8")
        target = work / f"{drop_id}__{safe_name(name)}"
        try:
            os.rename(path, target)
            now = os.lstat(target)
            if (now.st_dev, now.st_ino) != (seen.st_dev, seen.st_ino):  # swapped between the open and the rename
                set_aside_entry(Entry(source, target, sender, "在读取前被替换成了其他东西"))
                raise NotTaken(_kind_problem(now) or "在读取前被替换成了其他文件")
        except (FileNotFoundError, NotTaken):  # no claim: its side files go
            for side in sides:
                side.unlink(missing_ok=True)
            raise
        try:
            os.fchmod(fd, 0o640)  # the clerk's file holds personal data: ours now, not the world's
        except PermissionError:  # owned by the file-share's user: its folder is private anyway
            pass
    finally:
        os.close(fd)
    return Claimed(source, target)


def claim(source: str, path: Path, name: str | None = None, sender: str | None = None) -> Claimed:
    """Move a stable file (from the inbox, or a copy made in the work area) to a new claim;
    `name` is the name the clerk gave it (default: its own), `sender` the unit it came from."""
    return _claim_path(source, path, name or path.name, sender)


def pending(now: float | None = None) -> list[Claimed]:
    """Claimed files whose ingest did not finish (a crash, a kill) and that no live process
    is ingesting now: to be ingested again."""
    wait = float(settings()["ingest"]["stable_seconds"])
    now = time.time() if now is None else now
    out: list[Claimed] = []
    for source in sources():
        work = folder("work", source)
        for p in sorted(work.iterdir()):
            if "__" not in p.name:
                continue
            c = Claimed(source, p)
            try:
                st = os.lstat(p)
            except FileNotFoundError:  # finished meanwhile by its owner
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            if now - _last_change(st) >= wait and not is_owned(c):
                out.append(c)
    return out


def set_aside_entry(entry: Entry) -> Path | None:
    """Move an entry the platform will not take out of the inbox (a rename: nothing is opened or
    followed) into `quarantine/<source>/refused/`, where the engineers find it; None if it went."""
    target_dir = folder("quarantine", entry.source, "refused")
    target = target_dir / f"{new_drop_id()}__{safe_name(entry.path.name)}"
    try:
        os.rename(entry.path, target)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a folder we cannot move (another file system, a mount): left, but reported
        log.warning("could not set aside an entry of inbox/%s (%s)", entry.source, type(exc).__name__)
        return entry.path
    return target


@dataclass
class Batch:
    """What one claim step took (at most `limit`), what it refused, and whether more is waiting."""

    claimed: list[Claimed]
    refused: list[Entry]
    more: bool = False


def max_per_run() -> int:
    """Claims per run: under Airflow's `max_map_length` (each is one mapped task)."""
    n = int(settings()["ingest"]["claims"]["max_per_run"])
    if not 0 < n <= 1000:
        raise ValueError(f"ingest.claims.max_per_run is {n}: it must be 1–1000 (Airflow maps at most 1024 items)")
    return n


def claim_batch(only: list[str] | None = None, limit: int | None = None) -> Batch:
    """Everything there is to ingest now, at most `limit` (default `max_per_run`): unfinished
    claims first, then files that changed after they were ingested, then new stable drops (of
    every inbox, or `only` these). Entries the platform will not take are set aside and returned."""
    limit = max_per_run() if limit is None else limit
    batch = Batch(pending()[:limit], [])
    batch.more = len(batch.claimed) >= limit
    if not batch.more:
        batch.claimed += sweep_done(limit=limit - len(batch.claimed))
    for source in only or sources():
        ready, refused = entries(source)
        for e in refused:
            moved = None if e.is_folder else set_aside_entry(e)
            if e.is_folder or moved is not None:
                batch.refused.append(dataclasses.replace(e, moved_to=moved))
        for e in ready:
            if len(batch.claimed) >= limit:
                batch.more = True
                break
            try:
                batch.claimed.append(claim(source, e.path, sender=e.sender))
            except FileNotFoundError:  # taken meanwhile by another scanner
                continue
            except (NotTaken, PermissionError) as exc:
                why = exc.why if isinstance(exc, NotTaken) else "平台无权读取该文件（文件权限或属主不对）"
                batch.refused.append(dataclasses.replace(e, why=why, moved_to=set_aside_entry(dataclasses.replace(e, why=why))))
    return batch


def claim_new(only: list[str] | None = None) -> list[Claimed]:
    """`claim_batch`'s claims (see there)."""
    return claim_batch(only).claimed


# --- one owner per claim ------------------------------------------------------------------------

_held: set[str] = set()  # lock paths this process holds (flock does not exclude a second open here)
_held_lock = threading.Lock()


def _lock_path(c: Claimed) -> Path:
    return c.path.with_name(f"{c.drop_id}.lock")


@contextmanager
def owned(c: Claimed) -> Iterator[bool]:
    """Hold the claim while the block runs: yields True if this process now owns it, False if
    another live process does (or the claim is gone). Released at the end, or at death."""
    lock = _lock_path(c)
    with _held_lock:
        if str(lock) in _held:
            yield False
            return
        _held.add(str(lock))
    fd = -1
    try:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o640)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except FileNotFoundError:
            yield False
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            yield False
            return
        # the lock file may have been unlinked by the owner that just finished: then ours is
        # a different inode, and the claim is gone
        try:
            ours = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            ours = False
        alive = c.path.exists()
        if ours and not alive:  # a lock file we (re)created for a claim finished meanwhile
            lock.unlink(missing_ok=True)
        yield ours and alive
    finally:
        if fd >= 0:
            os.close(fd)
        with _held_lock:
            _held.discard(str(lock))


def is_owned(c: Claimed) -> bool:
    """Whether some live process holds the claim now (a probe: takes and drops the lock)."""
    if not _lock_path(c).exists():
        return False  # nobody has ever taken it, or its owner finished
    with owned(c) as mine:
        return not mine and c.path.exists()


def release(c: Claimed) -> None:
    """The claim is finished: its side files go (the caller still holds the lock)."""
    c.sidecar.unlink(missing_ok=True)
    c.path.with_name(f"{c.drop_id}.from").unlink(missing_ok=True)
    c.path.with_name(f"{c.drop_id}.attempts").unlink(missing_ok=True)
    _lock_path(c).unlink(missing_ok=True)


# --- files that changed after they were read -----------------------------------------------------


def _stamp(st: os.stat_result) -> dict[str, int]:
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def set_aside(c: Claimed, seen: os.stat_result) -> None:
    """Move an ingested claim (same inode) to `watch/`, with the stat it was read at and
    its original name; `sweep_done` takes it again if a writer changes it later."""
    done = folder("watch", c.source)
    target = done / c.path.name
    (done / f"{c.drop_id}.seen").write_text(json.dumps({**_stamp(seen), "name": c.original_name, "sender": c.sender}, ensure_ascii=False), encoding="utf-8")
    try:
        os.rename(c.path, target)
    except FileNotFoundError:
        (done / f"{c.drop_id}.seen").unlink(missing_ok=True)


def _done(now: float):  # yields (source, path, stat, seen, seen_file, changed)
    """Every ingested file kept in `watch/`, with whether it changed since it was read and has
    settled again (the same rule as a new drop's)."""
    cfg = settings()["ingest"]
    wait, grace = float(cfg["stable_seconds"]), float(cfg["claims"]["incomplete_grace_seconds"])
    for source in sources():
        done = folder("watch", source)
        for p in sorted(done.iterdir()):
            if "__" not in p.name or p.is_symlink() or not p.is_file():
                continue
            seen_file = done / f"{p.name.split('__', 1)[0]}.seen"
            try:
                st = p.stat()
            except FileNotFoundError:  # taken again meanwhile by another ingester
                continue
            try:
                seen = json.loads(seen_file.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                seen = None
            unchanged = seen is not None and _stamp(st) == {"size": seen["size"], "mtime_ns": seen["mtime_ns"]}
            yield source, p, st, seen, seen_file, (not unchanged and _settled(p, st, now, wait, grace))


def changed_since_read(now: float | None = None) -> list[Path]:
    """Ingested files that changed after they were read and have settled: what `sweep_done`
    would take again. Reads only (the inbox watcher asks it)."""
    now = time.time() if now is None else now
    return [p for _, p, _, _, _, changed in _done(now) if changed]


def sweep_done(now: float | None = None, limit: int | None = None) -> list[Claimed]:
    """Claim again every ingested file that has changed since it was read and is settled now (at
    most `limit`); forget those unchanged for `claims.keep_done_seconds`."""
    keep = float(settings()["ingest"]["claims"]["keep_done_seconds"])
    now = time.time() if now is None else now
    again: list[Claimed] = []
    for source, p, st, seen, seen_file, changed in _done(now):
        if not changed:
            unchanged = seen is not None and _stamp(st) == {"size": seen["size"], "mtime_ns": seen["mtime_ns"]}
            if unchanged and now - _last_change(st) >= keep:
                p.unlink(missing_ok=True)
                seen_file.unlink(missing_ok=True)
            continue
        if limit is not None and len(again) >= limit:
            continue  # the next run takes it
        name = seen["name"] if seen else p.name.split("__", 1)[1]
        try:
            again.append(_claim_path(source, p, name, (seen or {}).get("sender")))
            log.warning("a file of %s changed after it was ingested; taken again as a new drop", source)
        except (FileNotFoundError, NotTaken, PermissionError):
            continue
        seen_file.unlink(missing_ok=True)
    return again


# --- archive -----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with regular_file(path) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def archive(path: Path, sha: str) -> Path:
    """Copy into the content-addressed archive (write, fsync, rename: never half a file)."""
    suffix = Path(safe_name(path.name)).suffix.lower()[:8]
    target = folder("archive", sha[:2]) / f"{sha}{suffix}"
    if not target.exists():
        tmp = target.with_name(target.name + f".{secrets.token_hex(4)}.tmp")
        try:
            with regular_file(path) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, target)
        except BaseException:  # a full disk, a kill: never half a file left in the archive
            tmp.unlink(missing_ok=True)
            raise
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
