"""Faults that are not a file's content, named by their cause (故障说明) in one line.

An engineer reading an alert, a CLI error or a log line learns what happened — the disk is
full, a file cannot be read, the database cannot be reached — instead of an exception's type
or a driver's traceback. ID numbers in a message are masked.
"""

from __future__ import annotations

import errno

_ERRNO = {
    errno.ENOSPC: "磁盘已满（No space left on device）：请清理或扩容数据目录所在的磁盘",
    errno.EDQUOT: "磁盘配额已用完（Disk quota exceeded）：请清理或提高数据目录的配额",
    errno.EACCES: "无权访问文件或文件夹（Permission denied）：请检查数据目录的属主和权限",
    errno.EPERM: "操作不被允许（Operation not permitted）：请检查数据目录的属主和权限",
    errno.EROFS: "数据目录所在的文件系统为只读（Read-only file system）",
    errno.EIO: "磁盘读写错误（Input/output error）：请检查磁盘或网络存储",
    errno.ENOENT: "文件或文件夹不存在（No such file or directory）",
    errno.ESTALE: "网络存储的文件句柄失效（Stale file handle）：请检查共享存储的挂载",
}


def describe(exc: BaseException) -> str:
    """One line naming the cause of `exc` (Chinese first, the system's own words after)."""
    from fupin.ids import mask_ids_in

    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        where = f"：{exc.filename}" if getattr(exc, "filename", None) else ""
        return mask_ids_in(_ERRNO[exc.errno] + where)[:300]
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    if isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        return mask_ids_in("数据库无法连接或连接中断：" + _first(getattr(exc, "orig", None) or exc))[:300]
    if isinstance(exc, SQLAlchemyError):
        return mask_ids_in("数据库出错：" + _first(getattr(exc, "orig", None) or exc))[:300]
    return mask_ids_in(f"{type(exc).__name__}: {_first(exc)}")[:300]


def _first(exc: BaseException) -> str:
    text = str(exc)
    return next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
