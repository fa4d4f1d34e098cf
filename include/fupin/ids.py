"""身份证号 (GB 11643) validation, the 15→18 upgrade, and masking.

Pure functions: every rule here is a table of digits, easy to test by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")
# Numbers up to 2**53 are exact in a float; a 15-digit legacy ID is, an 18-digit one is not.
_EXACT_FLOAT_LIMIT = 2**53
# What a number-formatted ID looks like once it has been turned back into text.
_NUMBER_TEXT = re.compile(r"^(\d+\.\d*|\d+(\.\d+)?E[+-]?\d+)$")


def check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def upgrade15(id15: str) -> str:
    """Legacy 15-digit ID → 18 digits: insert the century `19`, append the check digit."""
    body = id15[:6] + "19" + id15[6:]
    return body + check_digit(body)


def birth_date(id18: str) -> dt.date | None:
    try:
        return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        return None


@dataclass(frozen=True)
class IdResult:
    """A normalised ID, or the rule it broke (`rule` is None when the ID is good)."""

    value: str | None
    rule: str | None = None
    warning: str | None = None


def parse_id(cell: object, home_prefix: str | tuple[str, ...] = "44") -> IdResult:
    """Normalise one cell of an ID column, judging by the cell's type as well as its digits.

    A number cell is trusted only when it can hold the ID exactly: a 15-digit legacy ID.
    An 18-digit ID stored as a number has lost digits (or its trailing X) and is never "fixed".
    """
    if isinstance(cell, bool) or cell is None:
        return IdResult(None, "id_missing" if cell is None else "id_format")
    if isinstance(cell, (int, float)):
        if isinstance(cell, float) and not cell.is_integer():
            return IdResult(None, "id_as_number")
        number = int(cell)
        if number < _EXACT_FLOAT_LIMIT and len(str(number)) == 15:
            text = str(number)
        else:
            return IdResult(None, "id_as_number")
    else:
        text = str(cell).strip().upper().replace(" ", "").replace("\u3000", "")
        text = text.translate(_FULLWIDTH_DIGITS)
    if not text:
        return IdResult(None, "id_missing")
    if _NUMBER_TEXT.match(text):
        return IdResult(None, "id_as_number")
    upgraded = bool(_ID15.match(text))
    if upgraded:
        text = upgrade15(text)
    if not _ID18.match(text):
        return IdResult(None, "id_format")
    if birth_date(text) is None:
        return IdResult(None, "id_birth_date")
    if check_digit(text[:17]) != text[17]:
        return IdResult(None, "id_check_digit")
    home = (home_prefix,) if isinstance(home_prefix, str) else tuple(home_prefix)
    warning = "id_region" if not text.startswith(home) else ("id_upgraded" if upgraded else None)
    return IdResult(text, None, warning)


def plain_valid(cells: list, home_prefix: str | tuple[str, ...] = "44"):  # a NumPy bool array
    """Which of `cells` `parse_id` would take as they are, without a word: text of 18 ASCII digits
    (X last) with a real birth date, the right check character and a home region. Decided for
    a whole column at once (Arrow and NumPy): the rest go through `parse_id` one by one."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    ok = np.array([isinstance(c, str) for c in cells], dtype=bool)
    if not ok.any():
        return ok
    texts = pa.array([c for c, is_text in zip(cells, ok.tolist(), strict=True) if is_text], type=pa.string())
    shaped = pc.match_substring_regex(texts, r"^[0-9]{17}[0-9X]$").to_numpy(zero_copy_only=False)
    ok[np.flatnonzero(ok)] = shaped
    if not shaped.any():
        return ok
    plain = texts.filter(pa.array(shaped))
    local = np.zeros(len(plain), dtype=bool)
    for prefix in (home_prefix,) if isinstance(home_prefix, str) else home_prefix:
        local |= pc.starts_with(plain, prefix).to_numpy(zero_copy_only=False)
    born = pd.to_datetime(pc.utf8_slice_codeunits(plain, 6, 14).to_pandas(), format="%Y%m%d", errors="coerce").notna().to_numpy()
    digits = np.frombuffer("".join(plain.to_pylist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    weights, check = np.array(_WEIGHTS, dtype=np.int64), np.frombuffer(_CHECK.encode("ascii"), dtype=np.uint8)
    checked = check[((digits[:, :17].astype(np.int64) - ord("0")) @ weights) % 11] == digits[:, 17]
    ok[np.flatnonzero(ok)] = born & checked & local
    return ok


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")


def is_valid(id18: str) -> bool:
    return bool(_ID18.match(id18)) and birth_date(id18) is not None and check_digit(id18[:17]) == id18[17]


# 统一社会信用代码 (GB 32100-2015): 18 characters of this alphabet (no I, O, Z, S, V), the last a
# check character: 31 - (Σ value × weight mod 31), 31 written as 0
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check(first17: str) -> str:
    """The check character of a 统一社会信用代码's first 17."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    """An 18-character 统一社会信用代码 whose shape (registering body and type, 6-digit region
    code, organisation code) and check character hold."""
    return bool(_USCC_SHAPE.match(code)) and uscc_check(code[:17]) == code[17]


def mask(value: object) -> str:
    """`440224********123X`: region code and the last four, never the birth date."""
    text = "" if value is None else str(value).strip()
    if len(text) <= 6:
        return "*" * len(text)
    if len(text) <= 10:
        return text[:2] + "*" * (len(text) - 2)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


_ID_IN_TEXT = re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{15})(?![\dXx])")


def mask_ids_in(text: str) -> str:
    """`text` with every 15- or 18-digit ID number in it masked (error messages quote values)."""
    return _ID_IN_TEXT.sub(lambda m: mask(m[1]), text)
