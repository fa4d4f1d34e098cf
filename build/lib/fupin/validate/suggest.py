"""Did-you-mean (是否为) for a value that is not one of a closed set: towns, villages, options.

A clerk's misspelling is usually one character off (大唐村 for 大塘村), or a character of the
same sound typed from pinyin; both are found among the reference values and offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=4096)
def _sound(text: str) -> str:
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(text))


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by one substituted, inserted or deleted character (or not at all)."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def suggest(value: object, candidates: Iterable[str], limit: int = 3) -> list[str]:
    """The candidates a clerk most likely meant by `value`, best first (same sound, then one
    character off, then a candidate that contains it); none when nothing is close."""
    text = "" if value is None else str(value).strip()
    if not text:
        return []
    pool = [c for c in dict.fromkeys(candidates) if c != text]
    sound = _sound(text)
    ranked = [c for c in pool if _sound(c) == sound]
    ranked += [c for c in pool if c not in ranked and _one_edit(text, c)]
    ranked += [c for c in pool if c not in ranked and len(text) >= 2 and (text in c or c in text)]
    return ranked[:limit]


def did_you_mean(value: object, candidates: Iterable[str]) -> str:
    """`是否为：大塘村？` (or `是否为：甲、乙？`), or "" when nothing is close."""
    found = suggest(value, candidates)
    return f"是否为：{'、'.join(found)}？" if found else ""
