"""A supervisor's restart bookkeeping, kept outside the supervisor so it survives a rebuild.

The pure part of a restart decision: how many restarts fall in the intensity
window, and how long the next one waits. No threads, no clock reads (time is
an argument, monotonic seconds).
"""

from __future__ import annotations

import random

from mt5guard.supervision._backoff import Backoff
from mt5guard.supervision._child import _Child

__all__ = ["RestartHistory"]


class RestartHistory:
    """Restart intensity and backoff state of one supervisor.

    A parent that rebuilds a nested supervisor (after it crashed or gave up)
    builds a fresh actor; handing every incarnation the same history keeps
    its backoff going (600 s stays 600 s, not 60 s again) and its restarts
    counted in the same sliding window. Touched only by the supervisor
    owning it at the time (one incarnation at a time).
    """

    def __init__(self) -> None:
        self.restarts: list[float] = []
        """Monotonic seconds of each restart within the window."""
        self.attempts: dict[str, int] = {}
        """Consecutive failures per child name, as counted for backoff."""

    def count_restart(self, now: float, period: float) -> int:
        """Record a restart at ``now``; how many fall within the last ``period`` seconds."""
        self.restarts[:] = [t for t in self.restarts if now - t < period] + [now]
        return len(self.restarts)

    def next_delay(self, child: _Child, now: float, backoff: Backoff, rng: random.Random) -> float:
        """Seconds until ``child`` restarts, counting this failure for its backoff.

        A child that ran ``backoff.reset_after`` seconds or longer before it
        ended starts again from the first (shortest) delay.
        """
        if child.started_at is not None and now - child.started_at >= backoff.reset_after:
            child.attempts = 0
        delay = backoff.delay(child.attempts, rng)
        child.attempts += 1
        self.attempts[child.spec.name] = child.attempts
        return delay
