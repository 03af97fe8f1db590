"""The circuit breaker as a pure state machine: no threads, time is an argument.

CLOSED --(failure_threshold consecutive failures, or failure_rate over the
window)--> OPEN --(open_duration elapsed, own timer)--> HALF_OPEN
--(success_threshold trial successes)--> CLOSED, or --(a trial fails, or no
trial result within trial_timeout)--> OPEN for twice as long (up to
max_open_duration). Closing resets the open duration. A successful connect
while OPEN moves to HALF_OPEN at once, so a terminal that came back is tried
without waiting out the open period.
"""

from __future__ import annotations

from collections import deque

import attrs

from mt5guard.breaker.messages import BreakerState
from mt5guard.config import BreakerConfig

__all__ = ["BreakerPolicy", "Transition"]


@attrs.frozen
class Transition:
    """A decision of the policy that the actor must act on."""

    old: BreakerState
    new: BreakerState
    reason: str
    epoch: int
    open_for: float | None = None
    """Seconds until HALF_OPEN when ``new`` is OPEN (None: stays open until reset)."""
    trials: int = 0


class BreakerPolicy:
    """Decides transitions from call outcomes; the actor owns timers and I/O.

    Outcomes carry the epoch they were observed in; an outcome from an older
    epoch (observed before the last transition) is ignored, and so is one
    with ``epoch=None`` (an observer that did not know the state yet).
    """

    def __init__(self, config: BreakerConfig) -> None:
        self.config = config
        self.state = BreakerState.CLOSED
        self.epoch = 0
        self.consecutive_failures = 0
        self.window: deque[bool] = deque(maxlen=config.window)
        self.open_duration = config.open_duration
        self.trial_successes = 0
        self.calls = 0
        self.failures = 0
        self.rejections = 0
        self.transitions = 0
        self._open_timed = False  # OPEN on its own timer (not forced by an operator)

    # outcomes --------------------------------------------------------------

    def on_success(
        self, epoch: int | None, count: int = 1, *, reconnected: bool = False
    ) -> Transition | None:
        """``count`` successes in a row (the session batches them while CLOSED).

        ``reconnected``: a successful connect, which moves a timed OPEN to
        HALF_OPEN whatever its epoch.
        """
        if reconnected and self.state is BreakerState.OPEN and self._open_timed:
            # a fresh connect proves the terminal is back: test it now, not in 10 minutes
            self.trial_successes = 0
            trials = self.config.half_open_max_trials
            return self._move(BreakerState.HALF_OPEN, "terminal reconnected", trials=trials)
        self.calls += count
        if not self._current(epoch):
            return None
        if self.state is BreakerState.CLOSED:
            self.consecutive_failures = 0
            self.window.extend([True] * min(count, self.config.window))
        elif self.state is BreakerState.HALF_OPEN:
            self.trial_successes += 1
            if self.trial_successes >= self.config.success_threshold:
                self.open_duration = self.config.open_duration
                self.window.clear()
                self.consecutive_failures = 0
                return self._move(BreakerState.CLOSED, "trial call succeeded")
        return None

    def on_failure(self, epoch: int | None, kind: str) -> Transition | None:
        self.calls += 1
        if not self._current(epoch):
            return None
        self.failures += 1
        if self.state is BreakerState.CLOSED:
            self.consecutive_failures += 1
            self.window.append(False)
            if self.consecutive_failures >= self.config.failure_threshold:
                reason = f"{self.consecutive_failures} consecutive failures (last: {kind})"
                return self._open(reason, grow=False)
            rate, limit = self._failure_rate(), self.config.failure_rate
            if rate is not None and limit is not None and rate >= limit:  # 0 is refused by config
                return self._open(f"failure rate {rate:.0%} over {len(self.window)} calls", False)
        elif self.state is BreakerState.HALF_OPEN:
            return self._open(f"trial call failed ({kind})", grow=True)
        return None

    def on_rejected(self, count: int = 1) -> None:
        self.rejections += count

    # timers ----------------------------------------------------------------

    def on_open_elapsed(self, epoch: int) -> Transition | None:
        if epoch != self.epoch or self.state is not BreakerState.OPEN or not self._open_timed:
            return None  # stale, or forced open: only reset() ends that
        self.trial_successes = 0
        trials = self.config.half_open_max_trials
        return self._move(BreakerState.HALF_OPEN, "open period elapsed", trials=trials)

    def on_trial_timeout(self, epoch: int) -> Transition | None:
        if epoch != self.epoch or self.state is not BreakerState.HALF_OPEN:
            return None
        wait = self.config.trial_timeout
        return self._open(f"no trial result within {wait:g} s", grow=True)

    # operator commands -----------------------------------------------------

    def force_open(self, reason: str) -> Transition | None:
        if self.state is BreakerState.OPEN:
            return None
        return self._move(BreakerState.OPEN, reason, open_for=None)

    def reset(self) -> Transition | None:
        self.open_duration = self.config.open_duration
        self.window.clear()
        self.consecutive_failures = 0
        if self.state is BreakerState.CLOSED:
            return None
        return self._move(BreakerState.CLOSED, "reset by operator")

    def set_enabled(self, enabled: bool) -> Transition | None:
        if not enabled and self.state is not BreakerState.DISABLED:
            return self._move(BreakerState.DISABLED, "disabled by operator")
        if enabled and self.state is BreakerState.DISABLED:
            self.window.clear()
            self.consecutive_failures = 0
            return self._move(BreakerState.CLOSED, "enabled by operator")
        return None

    # internals -------------------------------------------------------------

    def _current(self, epoch: int | None) -> bool:
        if self.state in (BreakerState.OPEN, BreakerState.DISABLED):
            return False
        return epoch is not None and epoch == self.epoch

    def _failure_rate(self) -> float | None:
        if self.config.failure_rate is None or len(self.window) < self.config.minimum_calls:
            return None
        return self.window.count(False) / len(self.window)

    def _open(self, reason: str, grow: bool) -> Transition:
        if grow:
            self.open_duration = min(self.config.max_open_duration, self.open_duration * 2)
        return self._move(BreakerState.OPEN, reason, open_for=self.open_duration)

    def _move(
        self, new: BreakerState, reason: str, *, open_for: float | None = None, trials: int = 0
    ) -> Transition:
        old, self.state = self.state, new
        self._open_timed = new is BreakerState.OPEN and open_for is not None
        self.epoch += 1
        self.transitions += 1
        return Transition(old, new, reason, self.epoch, open_for, trials)
