"""The README's main job on the embedded default (SQLite): West v. Dizon end to end.

Creates (or reuses) ./tipstaff-data/tipstaff.sqlite3, loads the bundled order and its sample
timeline (re-running changes nothing), and shows the case's status, deadlines and the
derivation of a date, all through the real `tipstaff` command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

TIPSTAFF = str(Path(sys.executable).parent / "tipstaff")
EVENTS = str(resources.files("tipstaff.rules").joinpath("orders", "west-v-dizon.events.jsonl"))

SHOWCASE = [
    ("Create or upgrade the embedded database", ["init"]),
    ("Load the bundled order; it opens case west-v-dizon", ["order", "load", "west-v-dizon"]),
    ("Import the sample timeline (all or nothing; re-importing changes nothing)",
     ["event", "import", EVENTS]),
    ("The case on 2015-08-01: D-27 is still out", ["status", "west-v-dizon", "--at",
                                                   "2015-08-01"]),
    ("Why the return date is what it is",
     ["explain", "west-v-dizon", "return-documents", "--at", "2015-08-01"]),
    ("The case on 2015-08-10: D-27 came back on 2015-08-04; everything is kept",
     ["status", "west-v-dizon", "--at", "2015-08-10"]),
    ("The notice of production, computed directly: five days after compliance on 2013-11-12",
     ["due", "--court", "ed-cal", "--trigger", "2013-11-12", "--days", "5", "--explain"]),
    ("Every hash chain verified", ["audit", "verify"]),
]


def main() -> int:
    """Run each step and print it with its output."""
    env = dict(os.environ)
    env.setdefault("TIPSTAFF_HOME", str(Path.cwd() / "tipstaff-data"))
    for title, args in SHOWCASE:
        print(f"\n== {title}\n$ tipstaff {' '.join(args)}", flush=True)
        result = subprocess.run([TIPSTAFF, *args], check=False, env=env)
        # `status` exits 1 for a case out of compliance: a finding, not a failure.
        if result.returncode != 0 and not (result.returncode == 1 and args[0] == "status"):
            return result.returncode
    print(f"\nThe database is {env['TIPSTAFF_HOME']}/tipstaff.sqlite3; try "
          "`tipstaff status west-v-dizon --json` with TIPSTAFF_HOME set to that folder.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
