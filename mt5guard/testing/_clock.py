"""A clock that moves only when the test says so, and knows when actors are idle.

``advance`` plays the parts of trio's ``MockClock.jump`` and
``wait_all_tasks_blocked``: it fires due timers in time order and, after each,
waits until every attached actor has processed what it was sent. It learns
that by counting, per attached actor, messages put into the inbox against
the times the actor came back to its inbox for more (``on_start`` counts as
one unit of work). A thread blocked in
:meth:`VirtualClock.sleep` (a simulated slow terminal call) counts as idle,
since only advancing time can release it.

Inside :meth:`VirtualClock.autojump`, a wait of the test's thread on the
actors (a Session call, a pykka ask) moves time itself: when every actor is
idle and the answer is not there yet, time jumps to the next timer, as trio's
``MockClock(autojump_threshold=0)`` does.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from mt5guard.supervision._hosting import driver_of_current_thread, set_thread_driver
from mt5guard.supervision._pykka import observe
from mt5guard.testing._timeline import Timer

__all__ = ["SettleTimeout", "VirtualClock"]

DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning, markets open


class SettleTimeout(AssertionError):
    """The actors did not go idle within ``settle_timeout`` real seconds."""


class VirtualClock:
    """Simulated time for tests: ``now()`` starts at ``start`` and stays put.

    Timer callbacks run on the thread calling :meth:`advance`.
    ``settle_timeout`` is the real time (seconds) an advance waits for the
    actors to go idle before failing the test with :class:`SettleTimeout`.
    """

    def __init__(
        self,
        start: datetime = DEFAULT_START,
        *,
        settle_timeout: float = 10.0,
        on_advance: Callable[[datetime], None] | None = None,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._mono = 0.0
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._asleep = 0  # threads blocked in sleep()
        self._settle_timeout = settle_timeout
        self._on_advance = on_advance
        self._names: dict[int, str] = {}
        self._closed = False
        self._sleepers: dict[threading.Event, int | None] = {}
        self._pending: dict[int, int] = {}  # per attached actor: units of work not done
        self._sleeping: dict[int, int] = {}  # per attached actor: its thread is in sleep()
        self._thread_keys: dict[int, int] = {}  # thread ident -> attached actor
        self._busy_actors = 0  # attached actors with work pending and not asleep

    # Clock protocol -------------------------------------------------------

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._mono)

    def monotonic(self) -> float:
        return self._mono

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        with self._cond:
            call = Timer(self._mono + max(0.0, delay), next(self._seq), callback)
            heapq.heappush(self._heap, call)
            return call

    def sleep(self, seconds: float) -> None:
        """Block the calling thread until the clock has moved ``seconds``."""
        woken = threading.Event()

        def wake() -> None:
            with self._cond:
                self._unsleep(woken)
            woken.set()

        with self._cond:
            if self._closed:
                return
            key = self._thread_keys.get(threading.get_ident())
            self._sleepers[woken] = key
            if key is not None:
                self._change(key, sleeping=1)
            self._asleep += 1
            self._cond.notify_all()
            heapq.heappush(self._heap, Timer(self._mono + max(0.0, seconds), next(self._seq), wake))
            self._cond.notify_all()
        woken.wait()

    def attach_actor(self, actor: Any) -> None:
        # Work units per actor: on_start, then one per message put. The actor
        # finishes a unit each time it comes back to its inbox for the next
        # message, and finishes all of them when its loop ends (after the
        # supervisor has been told of its end).
        key = id(actor)
        with self._cond:
            self._names[key] = str(actor)
            self._change(key, pending=1)
        observe(actor, _InboxCounter(self, key))

    # test controls    # test controls --------------------------------------------------------

    def close(self) -> None:
        """End the simulation: wake every sleeper now; later sleeps return at once.

        Call it before stopping a tree in which a simulated call may still be
        hanging, or the stop waits for a hang that time will never end.
        """
        with self._cond:
            self._closed = True
            sleepers = list(self._sleepers)
            for woken in sleepers:
                self._unsleep(woken)
            self._heap.clear()
        for woken in sleepers:
            woken.set()

    def _unsleep(self, woken: threading.Event) -> None:
        """Count a sleeper as awake again (call with the lock held)."""
        if woken not in self._sleepers:
            return
        key = self._sleepers.pop(woken)
        self._asleep -= 1
        if key is not None and key in self._sleeping:
            self._change(key, sleeping=-1)

    def _busy(self, key: int) -> bool:
        return self._pending.get(key, 0) > 0 and not self._sleeping.get(key)

    def _change(self, key: int, *, pending: int = 0, sleeping: int = 0) -> None:
        """Adjust one actor's counts (lock held); wake settle() when all went idle."""
        was = self._busy(key)
        if pending:
            self._pending[key] = self._pending.get(key, 0) + pending
        if sleeping:
            left = self._sleeping.get(key, 0) + sleeping
            if left > 0:
                self._sleeping[key] = left
            else:
                self._sleeping.pop(key, None)
        now = self._busy(key)
        if was != now:
            self._busy_actors += 1 if now else -1
            if not self._busy_actors:
                self._cond.notify_all()

    def _idle(self) -> bool:
        """Every attached actor is waiting for mail, or asleep on this clock
        (then its queued mail waits for time to move, not for us)."""
        return self._busy_actors == 0

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order and letting actors settle.

        Timers due at the same instant fire together, then the actors settle;
        timers they schedule for that same instant fire next, before time moves.
        """
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        with self._cond:
            target = self._mono + seconds
        self.settle()
        while True:
            with self._cond:
                while self._heap and self._heap[0].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap or self._heap[0].due > target:
                    self._mono = target
                    break
                due = self._heap[0].due
                batch = []  # every timer due at this same instant, in scheduling order
                while self._heap and self._heap[0].due == due:
                    call = heapq.heappop(self._heap)
                    if not call.cancelled:
                        batch.append(call)
                self._mono = max(self._mono, due)
            self._moved()
            for call in batch:
                if not call.cancelled:
                    call.callback()
            self.settle()
        self._moved()
        self.settle()

    @contextlib.contextmanager
    def autojump(self) -> Iterator[None]:
        """Let this thread's waits on the actors move simulated time themselves.

        Inside the block a blocking call of this thread (``session.get_price``,
        ``ref.ask``) settles the actors, and while its answer is missing
        jumps time to the next timer and settles again, until the answer is
        there or its timeout has passed, in simulated seconds: a call that
        waits on a 60 s terminal timeout returns at ``now + 60 s`` at once.
        Like trio's ``MockClock(autojump_threshold=0)``. Calls made on other
        threads still need :meth:`advance`.
        """
        previous = driver_of_current_thread()
        set_thread_driver(self)
        try:
            yield
        finally:
            set_thread_driver(previous)

    def wait_until(self, ready: Callable[[], bool], timeout: float | None) -> bool:
        """Settle, then jump from timer to timer until ``ready()`` or ``timeout``
        simulated seconds have passed; whether ``ready()``. (The driver of
        :meth:`autojump`; nothing else needs to call it.)"""
        with self._cond:
            limit = None if timeout is None else self._mono + timeout
        while True:
            self.settle()
            if ready():
                return True
            with self._cond:
                while self._heap and self._heap[0].cancelled:
                    heapq.heappop(self._heap)
                due = self._heap[0].due if self._heap else None
                now = self._mono
            if due is None or (limit is not None and due > limit):
                if limit is not None and limit > now:
                    self.advance(limit - now)
                return ready()  # nothing scheduled before the limit can answer it
            self.advance(due - now)

    def advance_to(self, when: datetime) -> None:
        """Advance until ``now()`` equals ``when``."""
        self.advance((when - self.now()).total_seconds())

    def settle(self) -> None:
        """Wait (real time) until every attached actor is idle or asleep on this clock."""
        with self._cond:
            idle = self._cond.wait_for(self._idle, timeout=self._settle_timeout)
            if not idle:
                busy = [self._names[k] for k, n in self._pending.items()
                        if n > 0 and not self._sleeping.get(k)]
                raise SettleTimeout(
                    f"actors still busy after {self._settle_timeout} s real time: {busy}"
                )

    def sleepers(self) -> int:
        """How many threads are blocked in :meth:`sleep` now."""
        with self._cond:
            return self._asleep

    def wait_for_sleepers(self, count: int = 1) -> None:
        """Wait (real time) until ``count`` threads are blocked in :meth:`sleep`.

        For tests that start a call on another thread which should hang on
        simulated time: wait for it to be hanging before advancing.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._asleep >= count, timeout=self._settle_timeout):
                raise SettleTimeout(f"{self._asleep} thread(s) asleep, expected {count}")

    def pending_timers(self) -> list[float]:
        """Due times (monotonic seconds) of the timers not yet fired."""
        with self._cond:
            return sorted(c.due for c in self._heap if not c.cancelled)

    def _moved(self) -> None:
        if self._on_advance is not None:
            self._on_advance(self.now())


class _InboxCounter:
    """What one attached actor's inbox tells the clock (see ``attach_actor``)."""

    __slots__ = ("_clock", "_ident", "_key")

    def __init__(self, clock: VirtualClock, key: int) -> None:
        self._clock, self._key, self._ident = clock, key, 0

    def put(self) -> None:
        clock = self._clock
        with clock._cond:
            if self._key in clock._pending:
                clock._change(self._key, pending=1)

    def returned(self) -> None:
        clock = self._clock
        with clock._cond:
            if clock._pending.get(self._key, 0) > 0:
                clock._change(self._key, pending=-1)

    def loop_started(self) -> None:
        self._ident = threading.get_ident()
        with self._clock._cond:
            self._clock._thread_keys[self._ident] = self._key

    def loop_ended(self) -> None:
        clock, key = self._clock, self._key
        with clock._cond:
            clock._change(key, pending=-clock._pending.get(key, 0))
            clock._pending.pop(key, None)
            clock._names.pop(key, None)
            clock._thread_keys.pop(self._ident, None)
            clock._cond.notify_all()
