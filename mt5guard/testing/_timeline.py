"""Simulated time of the deterministic runtime: a monotonic count and a queue of timers.

Time starts at monotonic 0 (the wall time ``start``) and moves only when the
runtime fires the next timer or jumps to a deadline. Timers due at the same
instant fire in the order they were set. No thread, no lock: the runtime and
every actor on it share one thread.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["Timeline", "Timer"]

_heappush, _heappop = heapq.heappush, heapq.heappop  # two timers a probe: globals, not attributes
_CANCELLED = None  # a _Call's callback once cancelled


class Timer:
    """A callback due at a monotonic instant; :meth:`cancel` keeps it from firing."""

    __slots__ = ("callback", "cancelled", "due", "seq")

    def __init__(self, due: float, seq: int, callback: Callable[[], object]) -> None:
        self.due, self.seq, self.callback, self.cancelled = due, seq, callback, False

    def __lt__(self, other: Timer) -> bool:  # VirtualClock's heap holds Timers themselves
        return (self.due, self.seq) < (other.due, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class _Call(list):  # type: ignore[type-arg]  # [due, seq, callback]
    """A timer of the :class:`Timeline`: its own heap entry, ``[due, seq, callback]``.

    Made by ``list``'s own constructor (no ``__init__`` of ours, no tuple
    around it: two timers a probe) and ordered by the heap in C, by due time
    then by the order they were set (``seq`` is unique, so the callbacks are
    never compared). :meth:`cancel` drops the callback.
    """

    __slots__ = ()

    def cancel(self) -> None:
        self[2] = _CANCELLED


class Timeline:
    """Monotonic seconds (``mono``) from 0, the wall time they map to, and the timers."""

    __slots__ = ("_now", "_now_at", "_seq", "_start", "_timers", "mono")

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self.mono = 0.0
        self._now_at, self._now = 0.0, self._start
        self._timers: list[_Call] = []  # lists: compared in C, not by __lt__
        self._seq = itertools.count()

    def now(self) -> datetime:
        """The wall time (UTC) of ``mono``."""
        if self._now_at != self.mono:  # cached: actors ask many times per instant
            self._now_at, self._now = self.mono, self._start + timedelta(seconds=self.mono)
        return self._now

    def call_later(self, delay: float, callback: Callable[[], object]) -> _Call:
        """Run ``callback`` ``delay`` seconds from now (a negative delay means now)."""
        due = self.mono + delay if delay > 0.0 else self.mono  # max(0.0, delay), a NaN too
        timer = _Call((due, next(self._seq), callback))
        _heappush(self._timers, timer)
        return timer

    def fire_next(self, limit: float) -> bool:
        """Jump to the next timer due at or before ``limit`` and fire that instant's timers."""
        timers = self._timers
        while timers and timers[0][2] is _CANCELLED:
            _heappop(timers)
        if not timers or timers[0][0] > limit:
            return False
        due = timers[0][0]
        if due > self.mono:
            self.mono = due
        while timers and timers[0][0] == due:
            callback = _heappop(timers)[2]
            if callback is not _CANCELLED:
                callback()
        return True

    def pending(self) -> list[float]:
        """When (monotonic seconds) each timer not cancelled is due, soonest first."""
        return sorted(due for due, _, callback in self._timers if callback is not _CANCELLED)

    def clear(self) -> None:
        """Drop every timer."""
        self._timers.clear()
