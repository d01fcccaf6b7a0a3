"""The appellate chain behind "final disposition of an appeal" (TIME-COMPUTATION.md §5–6).

Each function returns a :class:`~tipstaff.engine.timecalc.Deadline` with its derivation:
the notice-of-appeal deadline (FRAP 4(a)(1)), the rehearing deadline (FRAP 40(d)(1)), the
predicted mandate (FRAP 41(b)), the certiorari window (Sup. Ct. R. 13.1, rolled under
R. 30.1 without state holidays), and :func:`final_disposition` under readings A, B and C.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from tipstaff.engine.calendar import CourtCalendar
from tipstaff.engine.errors import InputError
from tipstaff.engine.timecalc import (
    Alternative,
    Deadline,
    Flag,
    Step,
    compute,
    fmt,
    later_of,
)

Reading = Literal["A", "B", "C"]
READINGS: dict[str, str] = {
    "A": "mandate only: the date the court of appeals' mandate issued (FRAP 41)",
    "B": "exhaustion of all appeals: the later of the mandate and the end of the certiorari "
         "window (Sup. Ct. R. 13.1)",
    "C": "exhaustion including extension windows: reading B plus the unexercised "
         "Sup. Ct. R. 13.5 extension (up to 60 days)",
}


class EventDate(Deadline):
    """A date that is known because an event happened on it (an anchor, not a computation)."""

    __slots__ = ("label", "rule")

    def __init__(self, *, court: CourtCalendar, day: dt.date, label: str, rule: str) -> None:
        court.check_covered(day)
        super().__init__(court=court, due_date=day, filing="electronic")
        self.label = label
        self.rule = rule

    def _explain(self) -> tuple[list[Step], list[Flag], list[Alternative]]:
        return [Step(rule=self.rule, text=f"{self.label}: {fmt(self.due_date)}.")], [], []


def notice_of_appeal_deadline(*, district: CourtCalendar, judgment_entered: dt.date,
                              us_party: bool = False) -> Deadline:
    """FRAP 4(a)(1): 30 days after entry (60 with the United States a party); no +3."""
    return compute(court=district, trigger=judgment_entered, amount=60 if us_party else 30,
                   system="frap")


def appeal_extension_window(*, district: CourtCalendar, judgment_entered: dt.date,
                            us_party: bool = False) -> Deadline:
    """FRAP 4(a)(5)(A)(i): a motion to extend may be filed within 30 days after the time
    prescribed by 4(a) expires."""
    prescribed = notice_of_appeal_deadline(district=district, judgment_entered=judgment_entered,
                                           us_party=us_party)
    return compute(court=district, trigger=prescribed.due_date, amount=30, system="frap")


def rehearing_deadline(*, appeals: CourtCalendar, judgment_entered: dt.date,
                       us_party: bool = False) -> Deadline:
    """FRAP 40(d)(1): 14 days after the court of appeals' judgment (45 with the United States)."""
    return compute(court=appeals, trigger=judgment_entered, amount=45 if us_party else 14,
                   system="frap")


def predicted_mandate(*, appeals: CourtCalendar, judgment_entered: dt.date,
                      rehearing_denied: dt.date | None = None, us_party: bool = False
                      ) -> Deadline:
    """FRAP 41(b): 7 days after the rehearing time expires, or 7 days after an order denying
    a timely petition, whichever is later."""
    expiry = rehearing_deadline(appeals=appeals, judgment_entered=judgment_entered,
                                us_party=us_party)
    parts: list[tuple[str, Deadline]] = [
        ("7 days after the time for rehearing expires (FRAP 41(b))",
         compute(court=appeals, trigger=expiry.due_date, amount=7, system="frap")),
    ]
    if rehearing_denied is not None:
        parts.append(("7 days after the order denying rehearing (FRAP 41(b))",
                      compute(court=appeals, trigger=rehearing_denied, amount=7,
                              system="frap")))
    return later_of(parts)


def cert_window(*, appeals: CourtCalendar, judgment_entered: dt.date,
                rehearing_denied: dt.date | None = None) -> Deadline:
    """Sup. Ct. R. 13.1 and 13.3: 90 days after the judgment, or after the denial of a timely
    rehearing petition; the last day rolls under R. 30.1 (federal holidays only)."""
    start = rehearing_denied or judgment_entered
    return compute(court=appeals, trigger=start, amount=90, system="scotus")


def final_disposition(
    *,
    reading: str,
    appeals: CourtCalendar,
    appellate_judgment: dt.date,
    mandate_issued: dt.date | None = None,
    rehearing_denied: dt.date | None = None,
    cert_denied: dt.date | None = None,
    us_party: bool = False,
) -> Deadline:
    """The date of the final disposition of an appeal decided by the court of appeals.

    Uses the actual mandate date when known, else the FRAP 41(b) prediction. A denial of
    certiorari ends the certiorari window (readings B and C) on the day it is entered.
    """
    if reading not in READINGS:
        raise InputError(f"reading must be one of A, B, C; got {reading!r}")
    if mandate_issued is not None:
        mandate: Deadline = EventDate(court=appeals, day=mandate_issued,
                                      label="The mandate issued", rule="FRAP 41(c)")
    else:
        mandate = predicted_mandate(appeals=appeals, judgment_entered=appellate_judgment,
                                    rehearing_denied=rehearing_denied, us_party=us_party)
    if reading == "A":
        label = "mandate issued" if mandate_issued else "predicted mandate (FRAP 41(b))"
        return later_of([(label, mandate)])
    if cert_denied is not None:
        cert: Deadline = EventDate(court=appeals, day=cert_denied,
                                   label="The Supreme Court denied certiorari",
                                   rule="Sup. Ct. R. 16.3")
        cert_label = "certiorari denied"
    else:
        cert = cert_window(appeals=appeals, judgment_entered=appellate_judgment,
                           rehearing_denied=rehearing_denied)
        cert_label = "certiorari window closes (Sup. Ct. R. 13.1, 30.1)"
        if reading == "C":
            cert = compute(court=appeals, trigger=cert.due_date, amount=60, system="scotus")
            cert_label = "certiorari window with the R. 13.5 extension (60 days) closes"
    mandate_label = "mandate issued" if mandate_issued else "predicted mandate (FRAP 41(b))"
    return later_of([(mandate_label, mandate), (cert_label, cert)])
