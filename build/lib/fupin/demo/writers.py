"""Lay rows out as bureau files really look: title rows, a unit line, footers; .xlsx, .xls, .csv."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from fupin.config import Dataset


@dataclass
class SheetSpec:
    name: str
    headers: list[str]
    rows: list[list[object]]
    title: str | None = None
    unit_line: str | None = None
    footer: list[list[object]] = field(default_factory=list)
    number_row: bool = False

    def grid(self) -> list[list[object]]:
        out: list[list[object]] = []
        if self.title:
            out.append([self.title])
        if self.unit_line:
            out.append([self.unit_line])
        out.append(list(self.headers))
        if self.number_row:
            out.append([f"({i})" for i in range(1, len(self.headers) + 1)])
        out += self.rows
        out += self.footer
        return out


def dataset_sheet(ds: Dataset, rows: list[dict], name: str | None = None, headers: dict[str, str] | None = None,
                  title: str | None = None, unit_line: str | None = None, footer: bool = False) -> SheetSpec:
    """A sheet of `ds` with canonical headers (or the replacements in `headers`, by key)."""
    headers = headers or {}
    cols = [c for c in ds.columns]
    spec = SheetSpec(
        name=name or ds.title,
        headers=[headers.get(c.key, c.header) for c in cols],
        rows=[[r.get(c.key) for c in cols] for r in rows],
        title=title,
        unit_line=unit_line,
    )
    if footer:
        spec.footer = [[], ["合计", f"{len(rows)} 人"], ["填表人：王小明", None, "审核人：李华", None, "填报日期：2017年7月5日"]]
    return spec


def write_xlsx(path: Path, sheets: list[SheetSpec]) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for s in sheets:
        ws = wb.create_sheet(s.name[:31])
        for row in s.grid():
            ws.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_xls(path: Path, sheets: list[SheetSpec]) -> Path:
    """Excel 97-2003 (BIFF8), still common in offices."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for s in sheets:
        ws = wb.add_sheet(s.name[:31])
        for i, row in enumerate(s.grid()):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, dt.date):
                    ws.write(i, j, v, date_style)
                else:
                    ws.write(i, j, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def write_csv(path: Path, sheet: SheetSpec, encoding: str = "utf-8") -> Path:
    """`encoding`: utf-8, utf-8-sig (with BOM) or gbk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        for row in sheet.grid():
            w.writerow(["" if v is None else v for v in row])
    return path


def write_csv_stream(path: Path, ds: Dataset, rows, encoding: str = "utf-8") -> Path:
    """A dataset as CSV from an iterator of row dicts, never all in memory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = [c.key for c in ds.columns]
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow([c.header for c in ds.columns])
        for r in rows:
            w.writerow(["" if r.get(k) is None else r[k] for k in keys])
    return path


def write(path: Path, sheets: list[SheetSpec], encoding: str = "utf-8") -> Path:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return write_xlsx(path, sheets)
    if suffix == ".xls":
        return write_xls(path, sheets)
    if suffix == ".csv":
        return write_csv(path, sheets[0], encoding)
    raise ValueError(f"cannot write {suffix}")
