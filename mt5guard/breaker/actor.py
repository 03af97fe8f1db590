"""BreakerActor: routes outcomes to the policy, owns its timers, publishes transitions."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import attrs

from mt5guard.breaker.messages import (
    BreakerSnapshot,
    BreakerState,
    BreakerStateChanged,
    CallFailed,
    CallRejected,
    CallSucceeded,
    ForceOpen,
    GetBreakerSnapshot,
    ResetBreaker,
    SetBreakerEnabled,
    SubscribeBreaker,
    TrialsGranted,
)
from mt5guard.breaker.policy import BreakerPolicy, Transition
from mt5guard.breaker.view import BreakerView
from mt5guard.clock import Clock, Timer
from mt5guard.config import BreakerConfig
from mt5guard.events.bus import EventBus, deliver
from mt5guard.supervision import GuardedActor

__all__ = ["BreakerActor"]

_log = logging.getLogger("mt5guard.breaker")


@attrs.frozen
class _TimerFired:
    kind: str
    epoch: int


class BreakerActor(GuardedActor):
    """One account's circuit breaker.

    It leaves OPEN on its own timer rather than on the next call: probes are
    paused while OPEN, so a breaker waiting for a call would never recover.
    Subscribers (actor refs are told, callables are called on this thread)
    get the current state first, then every transition.
    """

    def __init__(
        self,
        account: str,
        config: BreakerConfig,
        clock: Clock,
        bus: EventBus,
        view: BreakerView | None = None,
    ) -> None:
        super().__init__()
        self.account = account
        self._policy = BreakerPolicy(config)
        self._clock = clock
        self._bus = bus
        self._subscribers: list[Any] = []
        self._timer: Timer | None = None
        self._retry_at: datetime | None = None
        self._trials = 0
        # known before this actor runs: a session built after it reads its state at once
        self._view = view or BreakerView()
        self._view.set(self._state_event(None, "started"))

    def on_start(self) -> None:
        # the initial state, so metrics and status boards have a value before any transition
        self._bus.publish(self._state_event(None, "started"))

    def on_stop(self) -> None:
        self._cancel_timer()

    def on_receive(self, message: Any) -> Any:
        policy = self._policy
        if isinstance(message, CallSucceeded):
            trials_before = policy.trial_successes
            reconnected = message.operation == "connect"
            transition = policy.on_success(message.epoch, message.count, reconnected=reconnected)
            # only a counted trial success earns another trial; a stale one does not
            self._apply(transition, grant_more=policy.trial_successes > trials_before)
        elif isinstance(message, CallFailed):
            if message.successes_before:
                self._apply(policy.on_success(message.epoch, message.successes_before))
            self._apply(policy.on_failure(message.epoch, message.error_kind))
        elif isinstance(message, CallRejected):
            policy.on_rejected(message.count)
        elif isinstance(message, _TimerFired):
            if message.kind == "open":
                self._apply(policy.on_open_elapsed(message.epoch))
            else:
                self._apply(policy.on_trial_timeout(message.epoch))
        elif isinstance(message, SubscribeBreaker):
            self._subscribers.append(message.subscriber)
            deliver(message.subscriber, self._state_event(None, "current state"))
        elif isinstance(message, ForceOpen):
            self._apply(policy.force_open(message.reason))
        elif isinstance(message, ResetBreaker):
            self._apply(policy.reset())
        elif isinstance(message, SetBreakerEnabled):
            self._apply(policy.set_enabled(message.enabled))
        elif isinstance(message, GetBreakerSnapshot):
            message.reply_to.set_result(self.snapshot())
        else:
            return super().on_receive(message)
        return None

    def snapshot(self) -> BreakerSnapshot:
        p = self._policy
        return BreakerSnapshot(
            self.account, p.state, p.epoch, p.consecutive_failures, p.calls, p.failures,
            p.rejections, p.transitions, p.open_duration, self._retry_at,
        )

    # internals ------------------------------------------------------------

    def _apply(self, transition: Transition | None, grant_more: bool = False) -> None:
        policy = self._policy
        if transition is None:
            if grant_more and policy.state is BreakerState.HALF_OPEN:
                # the trial succeeded but more successes are needed: one more trial
                self._arm("trial", self._policy.config.trial_timeout, policy.epoch)
                self._send_all(TrialsGranted(policy.epoch, 1))
            return
        self._cancel_timer()
        self._retry_at = None
        if transition.new is BreakerState.OPEN and transition.open_for is not None:
            self._retry_at = self._clock.now() + timedelta(seconds=transition.open_for)
            self._arm("open", transition.open_for, transition.epoch)
        elif transition.new is BreakerState.HALF_OPEN:
            self._arm("trial", policy.config.trial_timeout, transition.epoch)
        self._trials = transition.trials
        event = self._state_event(transition.old, transition.reason)
        _log.debug("breaker %s: %s -> %s (%s)", self.account, transition.old.value,
                   transition.new.value, transition.reason)
        self._view.set(event)
        self._bus.publish(event)
        self._send_all(event)

    def _state_event(self, old: BreakerState | None, reason: str) -> BreakerStateChanged:
        p = self._policy
        return BreakerStateChanged(
            self.account, old, p.state, reason, self._clock.now(), p.epoch, self._retry_at,
            self._trials if p.state is BreakerState.HALF_OPEN else 0,
        )

    def _arm(self, kind: str, delay: float, epoch: int) -> None:
        self._cancel_timer()
        me = self.actor_ref
        fired = _TimerFired(kind, epoch)

        self._timer = self._clock.call_later(delay, lambda: deliver(me, fired))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _send_all(self, message: Any) -> None:
        self._subscribers = [s for s in self._subscribers if deliver(s, message)]
