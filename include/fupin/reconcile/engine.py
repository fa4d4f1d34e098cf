"""The columnar engine the reconciliation rules run on (比对引擎): an in-memory DuckDB.

A `Session` holds one DuckDB connection for one reconciliation: the registries go in as Arrow
tables (or pandas frames: tests and the demo hand those), each with the order its rows came in
(`_row`) and the types the rules expect; the rules ask in SQL and get plain rows back. Small
lookup tables made in Python (the upgraded legacy IDs, the cleaned names, each name's pinyin)
go in with `mapping`. Nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

# Two IDs whose first 17 digits differ in one place or by one swap of two neighbours (R5, R9):
# the SQL twin of `rules.one_digit_apart` (IDs are ASCII, so bytes are characters here).
_MACROS = """
create or replace macro one_digit_apart(a, b) as
  length(a) = 18 and strlen(a) = 18 and length(b) = 18 and strlen(b) = 18 and (
    hamming(left(a, 17), left(b, 17)) = 1
    or (hamming(left(a, 17), left(b, 17)) = 2
        and len(list_filter(range(1, 17), lambda i: substr(a, i, 1) <> substr(b, i, 1)
                                           and substr(a, i, 1) = substr(b, i + 1, 1)
                                           and substr(a, i + 1, 1) = substr(b, i, 1))) > 0))
"""
NUMERIC_COLUMNS = frozenset({"income_per_capita", "monthly_benefit"})


def as_arrow(source: object, columns: Iterable[str], keep: Iterable[str] = ()) -> pa.Table:
    """`columns` of an Arrow table or a pandas frame, as an Arrow table, plus `_row` (0, 1, …):
    strings as strings and money as doubles, whatever the source typed them as — except the
    columns to `keep` in their own type (dates, amounts: the SQL casts what it needs)."""
    columns, keep = list(columns), set(keep)
    if isinstance(source, pd.DataFrame):
        missing = [c for c in columns if c not in source.columns]
        if missing:
            raise KeyError(f"the snapshot has no column {', '.join(missing)}")
        arrays = [_pandas_kept(source[c], c) if c in keep else _pandas_column(source[c], c) for c in columns]
        table = pa.table(arrays, names=columns)
    elif isinstance(source, pa.Table):
        table = source.select(columns)
        table = pa.table([table[c] if c in keep else _typed(table[c], c) for c in columns], names=columns)
    else:
        raise TypeError(f"a snapshot is an Arrow table or a pandas frame, not {type(source).__name__}")
    return table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _pandas_kept(series: pd.Series, column: str) -> pa.Array:
    """A column kept in its type (date, number) when Arrow can tell it; otherwise as text."""
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _pandas_column(series, column)


def _target(column: str) -> pa.DataType:
    return pa.float64() if column in NUMERIC_COLUMNS else pa.string()


def _pandas_column(series: pd.Series, column: str) -> pa.Array:
    if column in NUMERIC_COLUMNS:
        return pa.array(pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan), from_pandas=True)
    try:  # strings (and missing values) convert in C; anything else is written out as text below
        array = pa.array(series, from_pandas=True)
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type) or pa.types.is_null(array.type):
            return array.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    values = series.astype(object).where(series.notna(), None)
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _typed(column: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    target = _target(name)
    return column if column.type == target else column.cast(target)


class Session:
    """One in-memory DuckDB for one run of the rules."""

    def __init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute("set preserve_insertion_order = false")  # every result the rules read is ordered explicitly
        self.con.execute(_MACROS)
        self._held: list[object] = []  # registered objects must outlive their views

    def __enter__(self) -> Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.con.close()
        self._held.clear()

    def register(self, name: str, source: object, columns: Iterable[str], keep: Iterable[str] = ()) -> None:
        table = as_arrow(source, columns, keep)
        self._held.append(table)
        self.con.register(name, table)

    def mapping(self, name: str, pairs: Mapping[str, str | None]) -> None:
        """A table `name` (k, v) of strings."""
        table = pa.table({"k": pa.array(list(pairs.keys()), type=pa.string()),
                          "v": pa.array(list(pairs.values()), type=pa.string())})
        self._held.append(table)
        self.con.register(name, table)

    def sql(self, query: str) -> None:
        self.con.execute(query)

    def rows(self, query: str) -> list[tuple]:
        return self.con.execute(query).fetchall()

    def values(self, query: str) -> list:
        return [r[0] for r in self.con.execute(query).fetchall()]
