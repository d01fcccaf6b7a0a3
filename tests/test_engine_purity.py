"""The engine never reads the wall clock: time is an input (DESIGN.md)."""

from __future__ import annotations

import re
from pathlib import Path

import tipstaff.engine

FORBIDDEN = re.compile(
    r"\b(datetime\.now|datetime\.utcnow|datetime\.today|date\.today|dt\.datetime\.now|"
    r"dt\.date\.today|pendulum\.now|pendulum\.today|time\.time|time\.monotonic|"
    r"time\.perf_counter|today\(\)|now\(\))")


def test_engine_sources_never_read_the_clock() -> None:
    """No module of tipstaff.engine calls now(), today(), time.time() or the like."""
    root = Path(tipstaff.engine.__file__).parent
    sources = sorted(root.glob("*.py"))
    assert sources, "the engine package has modules"
    offenders = [f"{path.name}:{number}: {line.strip()}"
                 for path in sources
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if FORBIDDEN.search(line) and not line.lstrip().startswith("#")]
    assert offenders == []
