"""The README's main job: West v. Dizon's deadlines through the real `tipstaff` command."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

TIPSTAFF = str(Path(sys.executable).parent / "tipstaff")
EVENTS = str(resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.events.jsonl"))

SHOWCASE = [
    ("Notice of production: within five days of defendant's compliance "
     "(say compliance was served Wed 2013-11-06)",
     ["due", "--court", "ed-cal", "--trigger", "2013-11-06", "--days", "5", "--explain"]),
    ("Return of documents: within twenty days of final judgment (hypothetical 2014-03-03) or "
     "the final disposition of an appeal (mandate 2015-07-17), whichever occurs later",
     ["due", "--court", "ed-cal", "--trigger", "2014-03-03", "--later-of", "2015-07-17",
      "--days", "20", "--explain"]),
    ("A notice of appeal from that judgment (FRAP 4(a)(1)(A), 30 days, no +3)",
     ["due", "--court", "ed-cal", "--system", "frap", "--trigger", "2014-03-03",
      "--days", "30", "--explain"]),
    ("E.D. Cal.'s legal holidays in 2013 (federal days; California days count forward only)",
     ["holidays", "--court", "ed-cal", "--year", "2013"]),
    ("The order itself, checked line by line against its schema and references",
     ["order", "check", str(resources.files("tipstaff.rules").joinpath(
         "orders", "west-v-dizon.yaml"))]),
    ("The case on 2015-08-01, from the bundled sample timeline: D-27 is still out",
     ["evaluate", "west-v-dizon", "--events", EVENTS, "--at", "2015-08-01"]),
    ("Why the return date is what it is",
     ["evaluate", "west-v-dizon", "--events", EVENTS, "--at", "2015-08-01",
      "--explain", "return-documents"]),
    ("The case on 2015-08-10: D-27 came back on 2015-08-04; everything is kept",
     ["evaluate", "west-v-dizon", "--events", EVENTS, "--at", "2015-08-10"]),
]


def main() -> int:
    """Run each showcase command and print it with its output."""
    for title, args in SHOWCASE:
        print(f"\n== {title}\n$ tipstaff {' '.join(args)}", flush=True)
        result = subprocess.run([TIPSTAFF, *args], check=False)
        # `evaluate` exits 1 for a case out of compliance: a finding, not a failure.
        if result.returncode not in (0, 1) or (result.returncode and args[0] != "evaluate"):
            return result.returncode
    print("\nThe opposition to plaintiff's motion (Doc. 49) is due on the fixed date the order "
          "names, Thu 2013-11-14: fixed dates are not computed or rolled (FRCP 6(a), 2009 "
          "Committee Note).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
