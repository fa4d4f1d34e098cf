"""The one file reader: a dropped workbook or CSV → its sheets as rows of cells.

Every file is hostile until read: the format is judged by its bytes (not its name), the size
on disk and (for .xlsx, a zip) once uncompressed are capped, and a CSV's encoding is detected
from UTF-8, UTF-8 with BOM and GBK/GB18030.

Excel goes through calamine (python-calamine, the engine behind
`pandas.read_excel(engine="calamine")`) asked for every row as it sits in the sheet, so that a
row's index here is its Excel row number minus one.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from fupin.config import settings


class FileRejected(Exception):
    """A file that cannot be read at all: the receipt says why, with `rule` as the code."""

    def __init__(self, rule: str, message: str, fix: str):
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.fix = fix


@dataclass
class RawSheet:
    name: str
    rows: list[list[object]]


_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"

FORMAT_FIX = "请另存为 Excel 工作簿（.xlsx）、Excel 97-2003 工作簿（.xls）或 CSV（逗号分隔）后重新报送。"


def sniff_format(path: Path) -> str:
    """`xlsx`, `xls` or `csv`, by content; anything else is rejected."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head == _XLS_MAGIC:
        return "xls"
    if path.suffix.lower() == ".csv":
        return "csv"
    raise FileRejected(
        "format",
        f"无法识别的文件格式（{path.suffix or '无扩展名'}）。",
        FORMAT_FIX,
    )


def _check_size(path: Path, fmt: str) -> None:
    cfg = settings()["ingest"]
    size = path.stat().st_size
    if size > cfg["max_file_bytes"]:
        raise FileRejected(
            "too_large",
            f"文件过大（{size // 1048576} MB，上限 {cfg['max_file_bytes'] // 1048576} MB）。",
            "请按镇拆分为多个文件，或删除无关的工作表、图片后重新报送。",
        )
    if fmt != "xlsx":
        return
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise FileRejected("corrupt", "文件已损坏，无法打开。", "请用 Excel 打开确认无误后重新保存并报送。") from exc
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if unpacked > cfg["max_uncompressed_bytes"] or unpacked / packed > cfg["max_compression_ratio"]:
        raise FileRejected(
            "too_large",
            f"工作簿解压后过大（{unpacked // 1048576} MB），可能已损坏或含有异常内容。",
            "请新建工作簿，只复制数据区域后重新报送。",
        )


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


def read_workbook(path: Path) -> tuple[str, list[RawSheet]]:
    """Return the detected format and every sheet's rows."""
    fmt = sniff_format(path)
    _check_size(path, fmt)
    if fmt == "csv":
        text = _decode_csv(path.read_bytes())
        rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(text))]
        return fmt, [RawSheet("CSV", rows)]
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = [
            RawSheet(name, wb.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for name in wb.sheet_names
        ]
    except Exception as exc:  # calamine raises several error types for a broken file
        raise FileRejected("corrupt", "文件已损坏或受密码保护，无法读取。", "请取消密码保护，用 Excel 打开确认无误后重新保存并报送。") from exc
    return fmt, sheets
