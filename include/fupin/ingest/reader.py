"""The one file reader: a dropped workbook or CSV → its sheets as rows of cells.

Every file is hostile until read. Its format is judged by its name *and* its bytes: the
extension must be one we take (`.xlsx`, `.xlsm`, `.xls`, `.ods`, `.csv`) and the content must
be a spreadsheet of a kind we read (a renamed `.exe`, or a web page saved as `.xls`, is
refused). The size on disk and (for the zip formats) once uncompressed are capped.

Parsing runs in a forked child process under explicit bounds from `settings.yaml`
(`ingest.read_limits`): address space (memory), wall-clock time, cells and columns per sheet,
bytes per CSV field. Whatever the file does to the parser — an absurd sheet extent that makes
calamine allocate the whole grid and abort, a parser error, a hang — ends the child, never the
ingesting process, and becomes a `FileRejected` the receipt explains. A macro-enabled
workbook is read as data only: calamine never runs its macros.

Excel goes through calamine (python-calamine, the engine behind
`pandas.read_excel(engine="calamine")`) asked for every row as it sits in the sheet, so that a
row's index here is its Excel row number minus one.
"""

from __future__ import annotations

import csv
import faulthandler
import gc
import io
import os
import pickle
import resource
import signal
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fupin.config import settings


class FileRejected(Exception):
    """A file that cannot be read at all: the receipt says why, with `rule` as the code."""

    def __init__(self, rule: str, message: str, fix: str):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.fix = fix

    def __reduce__(self):  # crosses the pipe from the reading child
        return (FileRejected, (self.rule, self.message, self.fix))


class ReaderFault(RuntimeError):
    """The reader could not run (a missing module, a permission): not the file's fault, so the
    ingest fails and is retried instead of rejecting the file."""


@dataclass
class RawSheet:
    name: str
    rows: list[list[object]]


@dataclass
class WorkbookRead:
    """What the reader found: the format read, every sheet, and notes for the receipt."""

    format: str
    sheets: list[RawSheet]
    notes: list[tuple[str, str]] = field(default_factory=list)  # (rule, detail): warnings
    uncomputed: list[tuple[str, int, str]] = field(default_factory=list)  # formula cells saved without a value: (sheet, row, column)


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# What a clerk's extension may say, and which content formats it may then hold.
ACCEPTED = {".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".ods": "ods", ".csv": "csv"}
_LABEL = {"xlsx": "Excel 工作簿（.xlsx）", "xls": "Excel 97-2003 工作簿（.xls）", "ods": "OpenDocument 表格（.ods）", "csv": "CSV 文本"}
# Characters that change how a name is displayed (bidi overrides): never part of a real name.
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), None)

FORMAT_FIX = "请另存为 Excel 工作簿（.xlsx）、Excel 97-2003 工作簿（.xls）或 CSV（逗号分隔）后重新报送。"
_SPLIT_FIX = "请删除数据区域以外的空行、空列（选中数据下方的所有行后“删除”），或新建工作簿只粘贴数据后重新报送；数据确实很多时请按镇拆分为多个文件。"


def limits() -> dict[str, Any]:
    return settings()["ingest"]["read_limits"]


def extension(name: str) -> str:
    """The extension as a person reads it (display-changing characters removed), lower case."""
    return Path(name.translate(_BIDI).strip().rstrip(".")).suffix.lower()


def _content_format(path: Path) -> str | None:
    """`xlsx`, `ods`, `xls`, `csv` (text), `html`, or None (something else), by the bytes."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "mimetype" in names and zf.read("mimetype").strip() == b"application/vnd.oasis.opendocument.spreadsheet":
                    return "ods"
        except (zipfile.BadZipFile, OSError, KeyError):
            return "xlsx"  # a broken zip: judged (as corrupt) when it is opened
        return "xlsx" if any(n.startswith("xl/") for n in names) else None
    if head.startswith(_OLE_MAGIC):
        return "xls"
    probe = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if probe.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml", b"<meta", b"mime-version")):
        return "html"
    if b"\x00" in head and head.count(b"\x00") > len(head) // 8:
        return None  # binary, not text
    return "csv"


def judge_format(path: Path, name: str) -> tuple[str, list[tuple[str, str]]]:
    """The format to read `path` as, given the name the clerk gave it; refuse anything else."""
    ext = extension(name)
    content = _content_format(path)
    if ext not in ACCEPTED:
        raise FileRejected("format", f"不接收此类文件（扩展名 {ext or '无'}）。", FORMAT_FIX)
    if content == "html":
        raise FileRejected(
            "format", "该文件实为网页（HTML）格式，只是扩展名写成了表格文件。",
            "请用 Excel 或 WPS 打开该文件，“另存为” Excel 工作簿（.xlsx）后重新报送。",
        )
    if content is None or (content == "csv" and ACCEPTED[ext] != "csv"):
        raise FileRejected("format", f"文件内容不是表格（扩展名为 {ext}，但内容无法识别）。", FORMAT_FIX)
    if content != "csv" and ACCEPTED[ext] == "csv":
        raise FileRejected("format", f"文件扩展名为 .csv，但内容是{_LABEL[content]}。", "请把扩展名改回原来的格式，或另存为 CSV 后重新报送。")
    notes = []
    if content != ACCEPTED[ext]:
        notes.append(("extension_mismatch", f"扩展名为 {ext}，实际为{_LABEL[content]}，已按实际格式读取"))
    return content, notes


def _check_size(path: Path, fmt: str) -> None:
    cfg = settings()["ingest"]
    size = path.stat().st_size
    if size > cfg["max_file_bytes"]:
        raise FileRejected(
            "too_large",
            f"文件过大（{size // 1048576} MB，上限 {cfg['max_file_bytes'] // 1048576} MB）。",
            "请按镇拆分为多个文件，或删除无关的工作表、图片后重新报送。",
        )
    if fmt not in ("xlsx", "ods"):
        return
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FileRejected("corrupt", "文件已损坏，无法打开。", "请用 Excel 打开确认无误后重新保存并报送。") from exc
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    # one part inflating far beyond the rest (a bomb padded with stored bytes to pass the whole's
    # ratio): refused by its declared sizes, before anything is inflated and parsed
    bomb = any(i.file_size > _BOMB_PART_BYTES and i.file_size / max(1, i.compress_size) > cfg["max_compression_ratio"] for i in infos)
    if unpacked > cfg["max_uncompressed_bytes"] or unpacked / packed > cfg["max_compression_ratio"] or bomb:
        raise FileRejected(
            "too_large",
            f"工作簿解压后过大（{unpacked // 1048576} MB），可能已损坏或含有异常内容。",
            "请新建工作簿，只复制数据区域后重新报送。",
        )


_BOMB_PART_BYTES = 8 << 20  # small parts (styles, a sheet of a few rows) may compress as well as they like


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRejected(
        "encoding",
        "CSV 文件的文字编码无法识别（不是 UTF-8 或 GBK）。",
        "请在 Excel 中“另存为 CSV UTF-8（逗号分隔）”或直接报送 .xlsx 文件。",
    )


def _extent_rejected(sheet: str, height: int, width: int, lim: dict[str, Any]) -> FileRejected | None:
    if width > lim["max_columns"]:
        return FileRejected("extent", f"工作表“{sheet}”有 {width} 列（上限 {lim['max_columns']} 列），数据区域异常。", _SPLIT_FIX)
    if height * width > lim["max_cells"]:
        return FileRejected(
            "extent", f"工作表“{sheet}”的数据区域为 {height} 行 × {width} 列，超过 {lim['max_cells']:,} 个单元格的上限。", _SPLIT_FIX,
        )
    return None


def _read_csv(path: Path) -> list[RawSheet]:
    text = _decode_csv(path.read_bytes())
    # old Mac exports end lines with a bare CR; inside quoted cells a line break stays one
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lim = limits()
    csv.field_size_limit(lim["max_field_chars"])
    rows: list[list[object]] = []
    width = 0
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append(list(row))
            width = max(width, len(row))
            if width > lim["max_columns"] or len(rows) * width > lim["max_cells"]:
                raise _extent_rejected("CSV", len(rows), width, lim)
    except csv.Error as exc:
        raise FileRejected(
            "corrupt", f"CSV 文件第 {len(rows) + 1} 行无法读取（引号不成对，或单元格超过 {lim['max_field_chars']:,} 个字符）。",
            "请用 Excel 打开该文件检查这一行，或直接报送 .xlsx 文件。",
        ) from exc
    return [RawSheet("CSV", rows)]


def _read_excel(path: Path) -> list[RawSheet]:
    from python_calamine import CalamineWorkbook

    try:
        # by content, not by extension: a workbook renamed .xls is still read as what it is
        with open(path, "rb") as fh:
            wb = CalamineWorkbook.from_filelike(fh)
        names = list(wb.sheet_names)
    except Exception as exc:  # calamine raises several error types for a broken file
        raise FileRejected("corrupt", "文件已损坏或受密码保护，无法读取。", "请取消密码保护，用 Excel 打开确认无误后重新保存并报送。") from exc
    lim = limits()
    sheets = []
    for name in names:
        try:
            sheet = wb.get_sheet_by_name(name)
        except Exception as exc:
            raise FileRejected("corrupt", f"工作表“{name}”已损坏，无法读取。", "请用 Excel 打开确认无误后重新保存并报送。") from exc
        # a grid padded from A1 to the last used cell: its size is known before it is built
        end = sheet.end or (-1, -1)
        bad = _extent_rejected(name, end[0] + 1, end[1] + 1, lim)
        if bad:
            raise bad
        sheets.append(RawSheet(name, sheet.to_python(skip_empty_area=False)))
    return sheets


def _read(path: Path, fmt: str) -> list[RawSheet]:
    _check_size(path, fmt)
    return _read_csv(path) if fmt == "csv" else _read_excel(path)


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


def _uncomputed_formulas(path: Path) -> list[tuple[str, int, str]]:
    """(sheet, row, column letters) of every formula cell of an .xlsx saved without its value:
    calamine reads such a cell as empty. Streamed, in the reading child (its bounds hold)."""
    import posixpath
    import re
    import xml.etree.ElementTree as ET  # the standard alias

    out: list[tuple[str, int, str]] = []
    with zipfile.ZipFile(path) as zf:
        book = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        target = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", _NS)}
        for sh in book.findall("m:sheets/m:sheet", _NS):
            t = target.get(sh.get(f"{{{_NS['r']}}}id"), "")
            member = t.lstrip("/") if t.startswith("/") else posixpath.normpath(posixpath.join("xl", t))
            if member not in zf.namelist():
                continue
            with zf.open(member) as fh:
                for _, el in ET.iterparse(fh):
                    if el.tag != f"{{{_NS['m']}}}c":
                        continue
                    f, v = el.find("m:f", _NS), el.find("m:v", _NS)
                    if f is not None and (v is None or not (v.text or "").strip()) and el.find("m:is", _NS) is None:
                        m = re.match(r"([A-Z]+)(\d+)$", el.get("r", ""))
                        if m:
                            out.append((sh.get("name", ""), int(m[2]), m[1]))
                    el.clear()
    return out


def _vm_size() -> int:
    """This process's current address-space size in bytes (the child's limit is on top of it)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(path: Path, fmt: str, wfd: int, formulas: bool = False) -> None:
    """In the forked child: read under the memory limit, stream the result, exit."""
    try:
        # a parser that aborts prints its backtrace (with cell text) to stderr: not to our logs
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        faulthandler.disable()  # a test runner's fault handler would dump the abort too
        gc.disable()  # a throwaway process building millions of cells: collection is pure cost
        lim = limits()
        cap = _vm_size() + int(lim["max_memory_mb"]) * 1048576
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        try:
            result: object = _read(path, fmt)
            if formulas:
                result = (result, _uncomputed_formulas(path) if fmt == "xlsx" else [])
        except FileRejected as exc:
            result = exc
        except MemoryError:
            result = FileRejected("extent", f"读取该文件需要的内存超过上限（{lim['max_memory_mb']} MB），数据区域异常大。", _SPLIT_FIX)
        except (ImportError, PermissionError) as exc:  # the environment, not the file: retried
            result = ReaderFault(f"{type(exc).__name__}: {exc}")
        except Exception:  # anything a hostile file makes a parser raise
            result = FileRejected("corrupt", "文件已损坏或格式异常，无法读取。", "请用 Excel 打开确认无误后重新保存并报送。")
        with os.fdopen(wfd, "wb") as out:  # streamed: the parent unpickles while this pickles
            pickler = pickle.Pickler(out, protocol=pickle.HIGHEST_PROTOCOL)
            # no memo: it records every object written so that one sent twice goes once — a cost on
            # each of millions of cells, each its own object here: 200,000 rows pickled in 0.77 s
            # with it, 0.06 s without. Without a memo an object that refers to itself would never
            # end; what is sent here (sheets of rows of cells, or a rejection) never does.
            pickler.fast = True
            pickler.dump(result)
    finally:
        os._exit(0)


def _receive(rfd: int, box: dict) -> None:
    """In a thread of the parent: unpickle what the child streams (garbage collection paused:
    half the cost of loading millions of cells)."""
    was = gc.isenabled()
    gc.disable()
    try:
        with os.fdopen(rfd, "rb") as pipe:
            box["result"] = pickle.load(pipe)
    except Exception as exc:  # a child that died mid-stream: judged by its exit status
        box["error"] = exc
    finally:
        if was:
            gc.enable()


def _run_bounded(path: Path, fmt: str, formulas: bool = False):  # the sheets, with (sheets, uncomputed) if formulas
    """Parse in a forked child under the configured bounds; every failure is the file's."""
    import python_calamine  # noqa: F401 - imported before the fork: the child never imports anything

    lim = limits()
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(rfd)
        _child(path, fmt, wfd, formulas)
    os.close(wfd)
    box: dict = {}
    receiver = threading.Thread(target=_receive, args=(rfd, box), daemon=True)
    receiver.start()
    receiver.join(float(lim["max_seconds"]))
    timed_out = receiver.is_alive()
    if timed_out:
        os.kill(pid, signal.SIGKILL)  # the pipe closes, the receiver ends
        receiver.join()
    _, status = os.waitpid(pid, 0)
    if timed_out:
        raise FileRejected("extent", f"读取该文件超过 {lim['max_seconds']:g} 秒仍未完成，文件内容异常。", _SPLIT_FIX)
    if os.WIFSIGNALED(status) or "result" not in box:
        # calamine aborts when a sheet's extent would need more memory than the limit allows
        raise FileRejected("extent", f"读取该文件需要的内存超过上限（{lim['max_memory_mb']} MB），数据区域异常大或文件已损坏。", _SPLIT_FIX)
    if isinstance(box["result"], FileRejected | ReaderFault):
        raise box["result"]
    return box["result"]


def read_workbook(path: Path, name: str | None = None, formulas: bool = False) -> WorkbookRead:
    """Every sheet of the file at `path`, which the clerk named `name` (default: its own name);
    with `formulas`, also the formula cells saved without a value (`uncomputed`)."""
    fmt, notes = judge_format(path, name or path.name)
    if formulas:
        sheets, uncomputed = _run_bounded(path, fmt, True)
        return WorkbookRead(fmt, sheets, notes, uncomputed)
    return WorkbookRead(fmt, _run_bounded(path, fmt), notes)
