"""Plain-text renderings of findings for people: the status table and a term's derivation."""

from __future__ import annotations

from tipstaff.engine.evaluate import CaseReport, TermFinding, flatten
from tipstaff.engine.order import Order
from tipstaff.engine.timecalc import fmt


def render_report(report: CaseReport, order: Order) -> list[str]:
    """The case status: each term with its status, due date and one-line reason."""
    verdict = "COMPLIANT" if report.compliant else "NOT COMPLIANT"
    lines = [f"{order.caption} — {order.case_number} ({order.court})",
             f"case {report.case}, as of {report.as_of.isoformat()}: {verdict}", ""]
    width = max(len(t.term.id) for t in report.terms)
    for finding in report.terms:
        due = fmt(finding.due_date) if finding.due_date else "—"
        mark = " (provisional)" if finding.provisional else ""
        late = " (late)" if finding.late else ""
        lines.append(f"  {finding.term.id:{width}}  {finding.status + late:15} {due}{mark}")
        lines.append(f"  {'':{width}}  {finding.reason()}")
        if finding.outstanding:
            lines.append(f"  {'':{width}}  still out: {', '.join(finding.outstanding)}")
    if report.violations:
        lines += ["", "Violations:"]
        for violation in report.violations:
            lines.append(f"  {violation.term}: {violation.reason} "
                         f"[events: {', '.join(violation.events)}]")
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
    steps = flatten(finding.anchor_steps)
    if finding.deadline is not None:
        steps += finding.deadline.steps
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
