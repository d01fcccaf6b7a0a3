"""The daemon's clock: real time, or a simulated clock running N times faster than real time
from a chosen instant (demos and tests play months of a case in seconds).

The daemon reads its clock once per tick and hands the instant to everything below it; the
engine and the store never read a clock.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

UTC = dt.UTC


class RealClock:
    """Wall-clock time."""

    description = "real"

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    def real_seconds_until(self, instant: dt.datetime) -> float:
        """Real seconds from now until ``instant`` (negative when it has passed)."""
        return (instant - self.now()).total_seconds()

    def run(self) -> None:
        """Real time always runs."""

    def hold(self, *, not_after: dt.datetime | None = None) -> None:
        """Real time cannot be held."""


@dataclass
class SimulatedClock:
    """Simulated time from ``start``: it runs at ``speed`` simulated seconds per real second
    while the daemon sleeps, and stands still while it works.

    Standing still makes a simulation deterministic: work takes no simulated time, and a
    sleep towards an instant never overshoots it (at 1,000,000x, one real millisecond of
    wake-up latency would otherwise be 17 simulated minutes, and every reminder would look
    late). Real outages still show: a daemon restarted later starts later.
    """

    start: dt.datetime
    speed: float
    _now: dt.datetime = field(init=False)
    _running_since: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        self._now = self.start.astimezone(UTC)

    @property
    def description(self) -> str:
        return f"simulated from {self.start.isoformat()} at {self.speed:g}x"

    def now(self) -> dt.datetime:
        if self._running_since is None:
            return self._now
        elapsed = (time.monotonic() - self._running_since) * self.speed
        return self._now + dt.timedelta(seconds=elapsed)

    def run(self) -> None:
        """Let time pass (the daemon is about to sleep)."""
        if self._running_since is None:
            self._running_since = time.monotonic()

    def hold(self, *, not_after: dt.datetime | None = None) -> None:
        """Stop time (the daemon woke), never past ``not_after``, the instant it slept for."""
        moment = self.now()
        if not_after is not None and moment > not_after:
            moment = max(not_after, self._now)
        self._now = moment
        self._running_since = None

    def real_seconds_until(self, instant: dt.datetime) -> float:
        return (instant - self.now()).total_seconds() / self.speed


Clock = RealClock | SimulatedClock
