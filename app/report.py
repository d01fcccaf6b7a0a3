"""Plain-text renderings of findings for people: the status table and a term's derivation."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence

from tipstaff.engine.evaluate import CaseReport, TermFinding
from tipstaff.engine.order import Order
from tipstaff.engine.timecalc import fmt

WIDTH = 100  # the width tables aim for when the output is not a terminal (piped, a file)
GAP = "  "
MIN_WRAP = 44  # a wrapped column is never narrower than this, even if the table passes WIDTH

Cell = str | Sequence[str]  # one line, or several (one per line, never re-wrapped)


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], *, wrap: int | None = None,
          width: int = WIDTH) -> list[str]:
    """A plain-text table: a header row between rule lines, the rows, a closing rule.

    Columns are as wide as their widest cell. Column ``wrap`` (an index) takes what is left of
    ``width`` (at least :data:`MIN_WRAP`) and its text is wrapped at word boundaries; other
    cells given as several lines print one per line. No box-drawing characters, so the table
    reads the same in a terminal, a pipe or a file.
    """
    cells = [[[cell] if isinstance(cell, str) else list(cell) or [""] for cell in row]
             for row in rows]
    widths = [max([len(header)] + [len(line) for row in cells for line in row[i]])
              for i, header in enumerate(headers)]
    if wrap is not None:
        others = sum(w for i, w in enumerate(widths) if i != wrap) + len(GAP) * (len(headers) - 1)
        limit = max(MIN_WRAP, len(headers[wrap]), width - others)
        for row in cells:
            row[wrap] = [part for line in row[wrap]
                         for part in (textwrap.wrap(line, limit, break_on_hyphens=False)
                                      or [""])]
        widths[wrap] = max([len(headers[wrap])] + [len(line) for row in cells
                                                   for line in row[wrap]])

    def line(parts: Sequence[str]) -> str:
        return GAP.join(f"{part:{widths[i]}}" for i, part in enumerate(parts)).rstrip()

    rule = GAP.join("-" * w for w in widths)
    lines = [rule, line(headers), rule]
    for row in cells:
        for n in range(max(len(cell) for cell in row)):
            lines.append(line([cell[n] if n < len(cell) else "" for cell in row]))
    lines.append(rule)
    return lines


def _status(finding: TermFinding) -> str:
    return (finding.status + (" (late)" if finding.late else "")
            + (" (provisional)" if finding.provisional else ""))


def terminal_width() -> int:
    """The terminal's width (``$COLUMNS`` first), or :data:`WIDTH` when output is piped."""
    return shutil.get_terminal_size((WIDTH, 24)).columns


def render_report(report: CaseReport, order: Order, *, width: int | None = None
                  ) -> list[str]:
    """The case status as tables: the terms (status, due date, one-line reason), the
    violations with the events that prove them, and the pages still out. Long reasons wrap
    to ``width`` (default: :func:`terminal_width`), but never narrower than
    :data:`MIN_WRAP`, so a common one-line reason stays on one line."""
    width = width or terminal_width()
    verdict = "COMPLIANT" if report.compliant else "NOT COMPLIANT"
    lines = [f"{order.caption} — {order.case_number} ({order.court})",
             f"case {report.case}, as of {report.as_of.isoformat()}: {verdict}", ""]
    lines.append("Terms")
    lines += table(["Term", "Kind", "Status", "Due", "Reason"],
                   [[f.term.id, f.term.kind, _status(f),
                     fmt(f.due_date) if f.due_date else "—", f.reason()]
                    for f in report.terms], wrap=4, width=width)
    lines += ["", "Violations"]
    if report.violations:
        lines += table(["Term", "Reason", "Events"],
                       [[v.term, v.reason, list(v.events)] for v in report.violations],
                       wrap=1, width=width)
    else:
        lines.append("No violations.")
    out = [f for f in report.terms if f.outstanding]
    if out:
        lines += ["", "Pages still out"]
        lines += table(["Term", "Pages"], [[f.term.id, ", ".join(f.outstanding)] for f in out],
                       wrap=1, width=width)
    return lines


def explain_finding(finding: TermFinding) -> list[str]:
    """Why a term stands as it does: the order's text, the events, every date step."""
    term = finding.term
    lines = [f"{term.id} ({term.kind}, bearer {term.bearer}): {finding.status}"
             + (" (late)" if finding.late else ""),
             f"  {term.action}", "",
             f"The order — {term.citation.label()}:", f'  "{term.citation.text}"']
    if term.notes:
        lines += ["", "Reading:", f"  {term.notes}"]
    if finding.events:
        lines += ["", f"Events relied on: {', '.join(finding.events)}"]
    steps = finding.derivation()
    if steps:
        lines += ["", "Date:"]
        lines += [f"  [{s.rule}] {s.text}" for s in steps]
    if finding.deadline is not None:
        for flag in finding.deadline.flags:
            lines.append(f"  unsettled ({flag.id}): {flag.text}")
        lines.append(f"  Due: {fmt(finding.deadline.due_date)} "
                     f"({finding.deadline.due_at.isoformat()})")
    if finding.outstanding:
        lines += ["", f"Still out: {', '.join(finding.outstanding)}"]
    lines += ["", "Status:"] + [f"  {note}" for note in finding.notes]
    return lines
