"""The README's main job on the embedded default (SQLite): West v. Dizon end to end.

Creates (or reuses) ./tipstaff-data/tipstaff.sqlite3, loads the bundled order and its sample
timeline (re-running changes nothing), and shows the case's status, deadlines and the
derivation of a date, all through the real `tipstaff` command.
"""

from __future__ import annotations

import os
import shutil
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

# The daemon on a simulated clock, in its own database (simulated time must not mix with the
# real-time record above): two years of West v. Dizon in seconds, each reminder logged as it
# fires (no SMTP server is configured, so the log is the channel).
SIMULATION = [
    ("Simulation database", ["init"]),
    ("The order, as entered on 2013-11-04", ["order", "load", "west-v-dizon"]),
    ("The daemon plays 2013-11-04..2015-09-01 at 10,000,000x, recording each event of the "
     "sample timeline when its moment comes", [
         "daemon", "--simulate-from", "2013-11-04T08:00:00-08:00", "--speed", "10000000",
         "--sweep-seconds", "1", "--until", "2015-09-01", "--replay", EVENTS,
         "--log-level", "WARNING"]),
    ("What was sent (and, with --state cancelled, what a satisfied deadline cancelled)",
     ["alerts", "list", "--state", "sent"]),
]


def _run(steps: list[tuple[str, list[str]]], env: dict[str, str]) -> int:
    for title, args in steps:
        print(f"\n== {title}\n$ tipstaff {' '.join(args)}", flush=True)
        result = subprocess.run([TIPSTAFF, *args], check=False, env=env)
        # `status` exits 1 for a case out of compliance: a finding, not a failure.
        if result.returncode != 0 and not (result.returncode == 1 and args[0] == "status"):
            return result.returncode
    return 0


def main() -> int:
    """Run each step and print it with its output."""
    env = {k: v for k, v in os.environ.items() if k != "TIPSTAFF_DATABASE_URL"}
    env.setdefault("TIPSTAFF_HOME", str(Path.cwd() / "tipstaff-data"))
    home = Path(env["TIPSTAFF_HOME"])
    if code := _run(SHOWCASE, env):
        return code
    simulation = home / "simulation"
    shutil.rmtree(simulation, ignore_errors=True)  # a simulation always starts afresh
    sim_env = {**env, "TIPSTAFF_HOME": str(simulation)}
    sim_env.pop("TIPSTAFF_SMTP_URL", None)
    if code := _run(SIMULATION, sim_env):
        return code
    print(f"\nThe database is {home}/tipstaff.sqlite3; try `tipstaff status west-v-dizon "
          "--json` with TIPSTAFF_HOME set to that folder. To run the daemon for real: "
          "`tipstaff daemon` (set TIPSTAFF_SMTP_URL and `tipstaff party set CASE PARTY "
          "--email ...` for e-mail; see README).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
