"""Bates numbers: parse ranges like ``D-1..D-17``, do set arithmetic, render compactly."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from tipstaff.engine.errors import InputError

_PAGE = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")


def _split(page: str) -> tuple[str, int, int]:
    match = _PAGE.match(page.strip())
    if not match or (not match.group("prefix") and not match.group("number")):
        raise InputError(f"{page!r} is not a Bates number (expected e.g. D-17 or ABC000123)")
    digits = match.group("number")
    return match.group("prefix"), int(digits), len(digits)


def _format(prefix: str, number: int, width: int) -> str:
    return f"{prefix}{number:0{width}d}"


def expand(spec: str) -> list[str]:
    """``"D-1..D-3"`` -> ``["D-1", "D-2", "D-3"]``; a single page is itself."""
    spec = spec.strip()
    if ".." not in spec:
        prefix, number, width = _split(spec)
        return [_format(prefix, number, width)]
    first, _, last = spec.partition("..")
    p1, n1, w1 = _split(first)
    p2, n2, w2 = _split(last)
    if p1 != p2:
        raise InputError(f"{spec!r}: both ends of a Bates range need the same prefix")
    if n2 < n1:
        raise InputError(f"{spec!r}: the range runs backward")
    width = w1 if w1 == w2 else 1
    return [_format(p1, n, width) for n in range(n1, n2 + 1)]


def pages(specs: Iterable[str]) -> frozenset[str]:
    """Every page named by a list of ranges and single pages."""
    return _pages(tuple(specs))


@lru_cache(maxsize=8192)
def _pages(specs: tuple[str, ...]) -> frozenset[str]:
    # Cached: the same ranges are expanded for every evaluation of every case.
    found: set[str] = set()
    for spec in specs:
        found.update(expand(spec))
    return frozenset(found)


def sort_key(page: str) -> tuple[str, int]:
    """Order pages by prefix, then number (``D-2`` before ``D-10``)."""
    prefix, number, _ = _split(page)
    return prefix, number


def render(found: Iterable[str]) -> list[str]:
    """Compact ranges: ``["D-1..D-28", "D-30..D-37", "D-39..D-41"]``."""
    ordered = sorted(set(found), key=sort_key)
    out: list[str] = []
    start = prev = None
    for page in ordered:
        if prev is not None and start is not None:
            p_prefix, p_number, _ = _split(prev)
            prefix, number, _ = _split(page)
            if prefix == p_prefix and number == p_number + 1:
                prev = page
                continue
            out.append(start if start == prev else f"{start}..{prev}")
        start = prev = page
    if start is not None and prev is not None:
        out.append(start if start == prev else f"{start}..{prev}")
    return out
