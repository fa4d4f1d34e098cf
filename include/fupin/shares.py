"""Each unit's shared folder (共享文件夹): what its clerk sees, and the SMB share that serves it.

Under the data root, `shares/<unit key>/` holds four folders, named for the clerk:

    报送/      the unit's monthly files: drop here (a reporting unit)
    核查结果/   the 核查 workbooks it fills in and returns (a unit that checks findings)
    回执/      every drop's receipt (回执.txt) and, where rows were refused, its marked copy
    退回/      a refused file, with its receipt and marked copy

The platform takes drops out of 报送/核查结果 (`fupin.ingest.inbox`) and writes 回执/退回 as
copies: the archive keeps the originals, so a clerk who tidies the share loses nothing.

Each unit's folder is served as one SMB share named as the county names the unit (县水务局,
丹霞街道), open only to the unit's own account and the engineers' (`smb_conf`, written by
`fupin share-config`). Samba writes as its own user in the platform's group, which may write
only into 报送 and 核查结果 (0770) and read 回执 and 退回 (0750): a clerk cannot forge a
receipt, and no share reaches the platform's own folders (`wide links = no`).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from fupin.config import settings
from fupin.files import private_dir
from fupin.vocab import SHARE_DROP, SHARE_RECEIPTS, SHARE_RETURNED, SHARE_VERIFY, SHARES
from fupin.wording import unit_name

_ACCOUNT = re.compile(r"[a-z][a-z0-9_]{0,30}")


def share_settings() -> dict:
    return settings().get("shares") or {}


def unc(unit: str | None, part: str = SHARE_DROP) -> str:
    r"""A folder of a unit's share as a clerk types it into Windows: \\服务器\县水务局\报送; for a
    text that goes to many units (unit None): \\服务器\本单位名称\核查结果."""
    server = share_settings().get("server") or "fupin"
    return "\\\\" + "\\".join([server, unit_name(unit) if unit else "本单位名称", part])


def account(unit: str) -> str:
    """The unit's login to its share: its key where that is a valid account name (water),
    else `unit_<key>` (a town's code)."""
    key = unit.lower()
    return key if _ACCOUNT.fullmatch(key) else "unit_" + re.sub(r"[^a-z0-9_]", "_", key)[:25]


def engineers_account() -> str:
    return share_settings().get("engineers_account") or "engineers"


def password_variable(name: str) -> str:
    """The .env variable holding a share account's password."""
    return "FUPIN_SHARE_PASSWORD_" + name.upper()


def deliver(unit: str, part: str, name: str, content: bytes | Path, root: Path) -> Path:
    """Put a copy into a unit's 回执 or 退回 (never 报送: the platform would take it as a drop).
    Written under a hidden name (Samba hides dot files) and renamed, so a clerk never opens half
    a file; the same delivery made again (a retried drop) replaces its own copy, as its name is
    the drop's."""
    if part not in (SHARE_RECEIPTS, SHARE_RETURNED):
        raise ValueError(f"deliver: {part} is not a folder the platform writes for a unit")
    folder = private_dir(root / SHARES / unit / part, root)
    target = folder / name
    tmp = folder / f".{secrets.token_hex(6)}.tmp"
    try:
        if isinstance(content, Path):
            with content.open("rb") as src, tmp.open("xb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
        else:
            tmp.write_bytes(content)
        os.chmod(tmp, 0o640)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def as_windows_text(text: str) -> bytes:
    """A receipt as Notepad on a clerk's Windows opens it right: UTF-8 with its mark, CRLF."""
    return "\ufeff".encode() + text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


# --- Samba ----------------------------------------------------------------------------------


def share_units_listing(share_units: list[str]) -> list[tuple[str, str, str]]:
    """(unit key, share name, account) of each unit with a share, refusing two units that would
    share a name or an account (a clerk must never reach another unit's folder by either)."""
    rows = [(u, unit_name(u), account(u)) for u in share_units]  # the share is named as the unit
    for i, what in ((1, "共享名"), (2, "账号")):
        seen: dict[str, str] = {}
        for row in rows:
            if row[i] in seen:
                raise ValueError(f"单位 {seen[row[i]]} 与 {row[0]} 的{what}相同（{row[i]}）：请在 units.yaml 中改名")
            seen[row[i]] = row[0]
    engineers = engineers_account()
    if any(a == engineers for _, _, a in rows):
        raise ValueError(f"运维账号 {engineers} 与某单位的账号相同：请改 settings.yaml 的 shares.engineers_account")
    return rows


def _safe(value: str) -> str:
    """A value as smb.conf may hold it: one line, no section or comment syntax."""
    cleaned = re.sub(r"[\x00-\x1f\x7f\[\];#%\\\"]", "", value).strip()
    if not cleaned:
        raise ValueError(f"无法用作共享名：{value!r}")
    return cleaned


def smb_conf(share_units: list[str], data_root: Path) -> str:
    """Samba's configuration: one share per unit (its own account and the engineers'), and the
    engineers' read-only view of all the shares. No guest, no anonymous listing, SMB2 and up,
    no symlink followed out of a share, dot files (the platform's temporary ones) hidden."""
    engineers = engineers_account()
    top = data_root / SHARES
    lines = [
        "# written by `fupin share-config` from units.yaml: do not edit (it is rewritten at each start)",
        "[global]",
        "  server role = standalone server",
        "  workgroup = FUPIN",
        "  server string = fupin",
        "  security = user",
        "  passdb backend = tdbsam",
        "  map to guest = never",
        "  restrict anonymous = 2",
        "  server min protocol = SMB2_10",
        "  smb ports = 445",
        "  disable netbios = yes",
        "  load printers = no",
        "  printing = bsd",
        "  printcap name = /dev/null",
        "  disable spoolss = yes",
        "  unix charset = UTF-8",
        "  unix extensions = no",
        "  follow symlinks = no",
        "  wide links = no",
        "  hide dot files = yes",
        "  veto files = /.*/",
        "  delete veto files = no",
        "  access based share enum = yes",
        "  force user = fupin-share",
        "  force group = root",
        "  create mask = 0640",
        "  force create mode = 0640",
        "  directory mask = 0770",
        "  log level = 1 auth_audit:3",
        "",
    ]
    for unit, name, login in share_units_listing(share_units):
        lines += [
            f"[{_safe(name)}]",
            f"  comment = {_safe(name)}的报送、核查结果、回执与退回",
            f"  path = {top / unit}",
            f"  valid users = {login} {engineers}",
            "  read only = no",
            "",
        ]
    lines += [
        "[运维]",
        "  comment = 各单位共享文件夹（运维只读）",
        f"  path = {top}",
        f"  valid users = {engineers}",
        "  read only = yes",
        "",
    ]
    return "\n".join(lines)


def accounts(share_units: list[str]) -> str:
    """The accounts file the Samba container reads: `<account> <unit key>` a line; each
    account's password is FUPIN_SHARE_PASSWORD_<ACCOUNT> in .env."""
    rows = [f"{login} {unit}" for unit, _, login in share_units_listing(share_units)]
    return "\n".join([f"{engineers_account()} engineers", *rows]) + "\n"


# the folders of a unit's share, for those who lay them out
PARTS = (SHARE_DROP, SHARE_VERIFY, SHARE_RECEIPTS, SHARE_RETURNED)
