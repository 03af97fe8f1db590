"""The SessionActor's local view of its breaker: admission and outcome reports.

The BreakerActor pushes its state (BreakerStateChanged, TrialsGranted); the
session refuses calls locally while OPEN (no terminal call, no extra hop)
and tells the breaker each outcome afterwards. Plain successes and local
rejections are batched: counted, and told together with the next message
that matters.

Runs on the actor's thread, or on a caller's thread that holds the session's
:class:`~mt5guard.session._direct.Door` (the actor then waits for it), with one
exception: :meth:`BreakerLink.count_rejection` may run on any thread (a refusal on
the caller's thread while the breaker is OPEN never waits for the door).
"""

from __future__ import annotations

import threading
from typing import Any

from mt5guard.breaker.messages import (
    BreakerState,
    BreakerStateChanged,
    CallFailed,
    CallRejected,
    CallSucceeded,
    TrialsGranted,
)
from mt5guard.breaker.view import BreakerView
from mt5guard.clock import Clock
from mt5guard.errors import MT5CircuitBreakerOpen, MT5Error
from mt5guard.market import data as market_data
from mt5guard.supervision import ChildHandle, ChildUnavailable

__all__ = ["BreakerLink"]

_BATCH_SUCCESSES = 63  # plain successes counted before one CallSucceeded(count=64) is told
_REJECTIONS_EVERY = 1.0  # clock seconds: refusals are told at most this often (and at a change)
_BATCHABLE = frozenset({"get_price", "get_account_info", "positions", "orders", "place_order",
                        "probe", "modify_position", "close_position", "cancel_order",
                        "place_pending_order", "modify_order", "order_check",
                        "poll_quotes", "poll_trades"}) \
    | market_data.MARKET_DATA_OPERATIONS
_LIVE = (BreakerState.CLOSED, BreakerState.DISABLED)  # calls go through freely (admit: None)
# read per call: an enum member looked up on its class costs ~0.1 us each time (Python 3.11)
_OPEN, _HALF_OPEN = BreakerState.OPEN, BreakerState.HALF_OPEN


class BreakerLink:
    """The SessionActor's view of its breaker, and what it tells the breaker.

    Runs on the actor's thread only; ``clock`` gives latencies (monotonic s).
    """

    def __init__(self, clock: Clock, breaker: ChildHandle, view: BreakerView | None = None) -> None:
        self._clock = clock
        self._breaker = breaker
        self._view = view or BreakerView()
        self.state = BreakerState.CLOSED
        #: Calls go through freely (CLOSED or DISABLED): polls may spend them. Kept with
        #: ``state`` by :meth:`adopt` (a plain attribute: every read looks at it).
        self.live = True
        self._epoch: int | None = None
        self._retry_at: Any = None
        self._trials = 0
        self._quiet_successes = 0  # successes not told to the breaker yet
        self._quiet_rejections = 0  # local rejections not told yet
        self._rejections_told_at = float("-inf")  # clock.monotonic() of the last batch told
        self._counting = threading.Lock()  # guards _quiet_rejections only (see count_rejection)
        self._failure_streak = False  # the breaker counts a failure streak we must end

    def changed(self, message: BreakerStateChanged) -> None:
        """The breaker's new state: flush what it has not been told, then adopt it."""
        if self._epoch is not None and message.epoch < self._epoch:
            return  # older than what the view told us at start
        self.flush_rejections()
        if self._quiet_successes and message.epoch != self._epoch:
            self._tell(CallSucceeded(self._epoch, "batched", 0.0, count=self._quiet_successes))
            self._quiet_successes = 0
        self.adopt(message)

    def follow(self, subscriber: Any) -> None:
        """At the session's start: subscribe to the breaker, and take the state its
        view knows now (not CLOSED) before the first request."""
        known = self._view.follow(self._breaker, subscriber)
        if known is not None:
            self.adopt(known)

    def adopt(self, message: BreakerStateChanged) -> None:
        """Take ``message``'s state as ours (at start: what the breaker's view knows)."""
        self.state, self._epoch = message.new, message.epoch
        self.live = message.new in _LIVE
        self._retry_at, self._trials = message.retry_at, message.trials
        self._failure_streak = False

    def granted(self, message: TrialsGranted) -> None:
        """HALF_OPEN trials for the epoch we are in."""
        if message.epoch == self._epoch:
            self._trials += message.trials

    def admit(self, operation: str) -> MT5Error | None:
        """The local breaker check: no terminal call and no extra hop while OPEN; None
        (admitted) at once while :attr:`live`, so a hot caller may test ``live`` first."""
        if self.live:
            return None
        state = self.state
        if state is _OPEN or (state is _HALF_OPEN and self._trials <= 0):
            self.count_rejection()
            detail = "trial in progress" if state is _HALF_OPEN else ""
            return MT5CircuitBreakerOpen(operation=operation, retry_at=self._retry_at,
                                         detail=detail)
        if state is _HALF_OPEN:
            self._trials -= 1
        return None

    def count_rejection(self) -> None:
        """One call refused while OPEN, from any thread; the breaker is told them in batches.

        A batch is told once 64 are counted and a second of clock time has
        passed since the last one: however fast a caller hammers an OPEN
        breaker, its thread is woken at most once a second (each wake-up
        takes the GIL from the callers being refused). What is still counted
        is told before the session adopts a new breaker state and before a
        snapshot is read (:meth:`flush_rejections`).
        """
        with self._counting:
            self._quiet_rejections += 1
            if self._quiet_rejections <= _BATCH_SUCCESSES:
                return
            now = self._clock.monotonic()
            if now - self._rejections_told_at < _REJECTIONS_EVERY:
                return
            rejections, self._quiet_rejections = self._quiet_rejections, 0
            self._rejections_told_at = now
        self._tell(CallRejected(rejections))

    def flush_rejections(self) -> None:
        """Tell the breaker the refusals counted so far (any thread): before a snapshot
        is read, so its ``rejections`` count every refusal that came before."""
        with self._counting:
            rejections, self._quiet_rejections = self._quiet_rejections, 0
        if rejections:
            self._tell(CallRejected(rejections))

    def report(self, operation: str, started: float, error: MT5Error | None) -> None:
        """Tell the breaker an outcome; plain successes while CLOSED are batched.

        A success is told at once when it matters to the breaker (HALF_OPEN
        trials, ending a failure streak, an operation outside ``_BATCHABLE`` such
        as a connect); otherwise it is counted and rides along with the next
        message (probes included: while CLOSED, a probe's success changes nothing). ``started`` is the
        clock's monotonic seconds when the call began.
        """
        quiet, self._quiet_successes = self._quiet_successes, 0
        if error is not None and error.counts_for_breaker:
            self._failure_streak = True
            self._tell(CallFailed(self._epoch, operation, error.kind, error.code,
                                  (self._clock.monotonic() - started) * 1000.0,
                                  successes_before=quiet))
            return
        if (self.live and not self._failure_streak and quiet < _BATCH_SUCCESSES
                and operation in _BATCHABLE):
            self._quiet_successes = quiet + 1  # no latency: a batch is told without one
            return
        self._failure_streak = False
        self._tell(CallSucceeded(self._epoch, operation, (self._clock.monotonic() - started)
                                 * 1000.0, count=quiet + 1))

    def _tell(self, message: Any) -> None:
        try:
            self._breaker.tell(message)
        except ChildUnavailable:
            pass  # a breaker restarting takes us down with it (rest_for_one)
