"""Is the daemon healthy? Read from the store, so any process can answer (the CLI's
`tipstaff daemon status` and the HTTP `/healthz`): a leader wrote a heartbeat recently, and
nothing due has been waiting unsent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from tipstaff.store import outbox
from tipstaff.store.models import DaemonRow

UTC = dt.UTC
HEARTBEAT_MAX_AGE = dt.timedelta(minutes=2)


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat() if value else None


def health(session: Session, *, wall: dt.datetime, stale_after: dt.timedelta
           ) -> dict[str, Any]:
    """``{"healthy", "problems", "outbox", "daemons"}``; ``wall`` is the real time now."""
    daemons = list(session.exec(select(DaemonRow)).all())
    leaders = [d for d in daemons if d.role == "leader"]
    clock_now = leaders[0].clock_utc.replace(tzinfo=UTC) if leaders else wall
    figures = outbox.counts(session, now=clock_now, stale_after=stale_after)
    problems = []
    if not any(wall - d.beat_utc.replace(tzinfo=UTC) < HEARTBEAT_MAX_AGE for d in leaders):
        problems.append("no leading daemon has written a heartbeat in the last 2 minutes")
    if figures["stale"]:
        minutes = int(stale_after.total_seconds() // 60)
        problems.append(f"{figures['stale']} message(s) due more than {minutes} minutes ago "
                        "are still unsent")
    return {
        "healthy": not problems, "problems": problems, "outbox": figures,
        "daemons": [{"name": d.name, "role": d.role, "pid": d.pid, "clock": d.clock,
                     "beat_age_seconds": round((wall - d.beat_utc.replace(tzinfo=UTC))
                                               .total_seconds(), 1),
                     "clock_now": _iso(d.clock_utc), "sent": d.sent, "failures": d.failures,
                     "last_error": d.last_error, "last_sent": _iso(d.last_sent_utc)}
                    for d in daemons]}
