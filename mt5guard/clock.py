"""Time as an object you are handed.

No actor in mt5guard reads the system clock or sleeps: everything that needs
time gets a :class:`Clock`. :class:`SystemClock` is the real one;
:class:`mt5guard.testing.VirtualClock` moves only when a test says so. The idea
is borrowed from Twisted's ``task.Clock`` and trio's ``MockClock``.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "Timer"]

_MAX_WAIT = 3600.0  # seconds the scheduler sleeps at most before looking again


@runtime_checkable
class Timer(Protocol):
    """A scheduled callback that has not necessarily fired yet."""

    def cancel(self) -> None:
        """Prevent the callback from running; harmless once it has run."""


@runtime_checkable
class Clock(Protocol):
    """Wall time, monotonic time and timers.

    Timer callbacks run on a thread owned by the clock (or, for a virtual
    clock, on the thread that advances it). They must be quick and must only
    ``tell`` messages to actors.
    """

    def now(self) -> datetime:
        """Wall-clock time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        """Run ``callback`` once, ``delay`` seconds from now (clamped at 0)."""

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds`` of this clock's time.

        Only simulated *external* systems use this (the simulated terminal
        models a blocking MT5 call with it). Actors never sleep.
        """

    def attach_actor(self, actor: Any) -> None:
        """Called with every actor mt5guard starts, before its thread starts.

        A virtual clock uses it to know when the actors have settled; the
        system clock ignores it.
        """


class _ScheduledCall:
    __slots__ = ("callback", "cancelled", "due", "seq")

    def __init__(self, due: float, seq: int, callback: Callable[[], object]) -> None:
        self.due = due
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def __lt__(self, other: _ScheduledCall) -> bool:
        return (self.due, self.seq) < (other.due, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class SystemClock:
    """The real clock, with one scheduler thread for all timers.

    The scheduler thread is a daemon started on the first ``call_later`` and
    ended by :meth:`close`. A callback that raises (anything, even a
    ``BaseException``) is logged and does not stop the scheduler; a timer
    however far away (``inf`` included) never stops the others.
    """

    def __init__(self) -> None:
        self._heap: list[_ScheduledCall] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def now(self) -> datetime:
        return datetime.now(UTC)

    #: ``time.monotonic`` itself: a method wrapping it cost a Python call, and the hot
    #: read of a worker-backed session reads the clock four times (issue 21).
    monotonic = staticmethod(time.monotonic)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def attach_actor(self, actor: Any) -> None:
        return None

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        call = _ScheduledCall(time.monotonic() + max(0.0, delay), next(self._seq), callback)
        with self._cond:
            if self._closed:
                raise RuntimeError("SystemClock is closed; no new timers can be scheduled")
            heapq.heappush(self._heap, call)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mt5guard-clock", daemon=True
                )
                self._thread.start()
            if self._heap[0] is call:  # else the scheduler already wakes up before it is due
                self._cond.notify()
        return call

    def close(self) -> None:
        """Drop pending timers and end the scheduler thread."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def _run(self) -> None:
        import logging

        log = logging.getLogger("mt5guard.clock")
        while True:
            with self._cond:
                while not self._closed:
                    if self._heap and self._heap[0].cancelled:
                        heapq.heappop(self._heap)
                        continue
                    wait = self._heap[0].due - time.monotonic() if self._heap else None
                    if wait is not None and wait <= 0:
                        break
                    # bounded: a timer years away must not overflow the lock's timeout
                    self._cond.wait(timeout=None if wait is None else min(wait, _MAX_WAIT))
                if self._closed:
                    return
                call = heapq.heappop(self._heap)
            try:
                call.callback()
            except BaseException:  # this thread serves every timer of the process
                log.exception("timer callback failed")


class PollTimer:
    """At most one pending poll: ``interval`` clock seconds after :meth:`arm`,
    ``message()`` is delivered to the actor (or callable) it was armed with.

    The owner calls :meth:`fired` when the poll arrives and arms again after it;
    the timer only tells, so the poll runs on the owner's thread.
    """

    def __init__(self, clock: Clock, interval: float, message: Callable[[], Any]) -> None:
        self.clock = clock
        self.interval = interval  # seconds of clock time
        self._message = message
        self._timer: Any = None

    def arm(self, target: Any) -> None:
        """Schedule the next poll for ``target`` unless one is pending."""
        if self._timer is None:
            # Imported here: the bus brings pykka and logging, which a terminal worker (it
            # imports this module for SystemClock, never arms a PollTimer) must not pay for.
            from mt5guard.events.bus import deliver

            message = self._message
            self._timer = self.clock.call_later(self.interval,
                                                lambda: deliver(target, message()))

    def fired(self) -> None:
        self._timer = None

    def cancel(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
