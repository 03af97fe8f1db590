"""HealthProbeActor: probes through the SessionActor on a timer."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import pykka

from mt5guard.actors.breaker_view import BreakerView
from mt5guard.actors.health_policy import HealthPolicy, StatusChange
from mt5guard.bus import EventBus, deliver
from mt5guard.clock import Clock, Timer
from mt5guard.config import HealthConfig
from mt5guard.messages import (
    BreakerState,
    BreakerStateChanged,
    GetHealth,
    HealthChanged,
    HealthReport,
    ProbeRecorded,
    ProbeResult,
    RunProbe,
    SubscribeBreaker,
    SubscribeHealth,
)
from mt5guard.supervision import ChildHandle, ChildUnavailable

__all__ = ["HealthProbeActor"]

_log = logging.getLogger("mt5guard.health")


class _ProbeUnsent:
    """The probe timer found the session down (told from the clock's thread)."""

    __slots__ = ("reason", "seq")

    def __init__(self, seq: int, reason: str) -> None:
        self.seq, self.reason = seq, reason


class _ProbeTimedOut:
    __slots__ = ("seq",)

    def __init__(self, seq: int) -> None:
        self.seq = seq


class HealthProbeActor(pykka.ThreadingActor):
    """Probes every ``interval`` seconds (a fixed-rate grid from the first
    probe); a probe without a reply within ``timeout`` seconds is a failure.
    While the breaker is OPEN probing pauses (status OUT_OF_SERVICE); on
    HALF_OPEN it probes at once, and that probe is the breaker's trial call.
    """

    def __init__(
        self,
        account: str,
        symbol: str,
        config: HealthConfig,
        clock: Clock,
        bus: EventBus,
        session: ChildHandle,
        breaker: ChildHandle,
        breaker_view: BreakerView | None = None,
    ) -> None:
        super().__init__()
        self.account = account
        self._breaker_view = breaker_view or BreakerView()
        self._breaker_epoch = -1
        self._symbol = symbol
        self._config = config
        self._clock = clock
        self._bus = bus
        self._session = session
        self._breaker = breaker
        self._policy = HealthPolicy(config, clock.monotonic())
        self._breaker_state = BreakerState.CLOSED
        self._seq = 0
        self._outstanding: int | None = None
        self._sent_at = 0.0
        self._next_due = clock.monotonic()  # fixed-rate schedule of probes
        self._probe_timer: Timer | None = None
        self._timeout_timer: Timer | None = None
        self._subscribers: list[Any] = []

    def __str__(self) -> str:
        return f"HealthProbeActor {self.account}"

    def on_start(self) -> None:
        with contextlib.suppress(ChildUnavailable):
            self._breaker.tell(SubscribeBreaker(self.actor_ref))
        now = self._clock.now()
        for component, status in self._policy.statuses().items():
            self._bus.publish(HealthChanged(self.account, component, None, status, "started", now))
        known = self._breaker_view.get()  # an OPEN breaker pauses even the first probe
        if known is not None:
            self._on_breaker(known)
        self._probe_now()

    def on_stop(self) -> None:
        self._cancel_timers()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _ProbeUnsent):
            if message.seq == self._outstanding:
                self._finish(self._failed(message.seq, f"session unavailable: {message.reason}"))
        elif isinstance(message, ProbeResult):
            if message.seq == self._outstanding:
                self._finish(message)
        elif isinstance(message, _ProbeTimedOut):
            if message.seq == self._outstanding:
                self._finish(self._failed(message.seq, "probe timed out "
                                          f"after {self._config.timeout:g} s (MT5TimeoutError)"))
        elif isinstance(message, BreakerStateChanged):
            self._on_breaker(message)
        elif isinstance(message, GetHealth):
            message.reply_to.set_result(self.report())
        elif isinstance(message, SubscribeHealth):
            self._subscribers.append(message.subscriber)
            now = self._clock.now()
            for component, status in self._policy.statuses().items():
                deliver(message.subscriber,
                         HealthChanged(self.account, component, None, status, "current", now))
        else:
            return super().on_receive(message)
        return None

    def report(self) -> HealthReport:
        statuses = self._policy.statuses()
        components = tuple((k, v) for k, v in statuses.items() if k != "overall")
        return HealthReport(self.account, statuses["overall"], components, self._breaker_state,
                            self._policy.last_result, self._clock.now())

    # internals --------------------------------------------------------------

    def _probe_now(self) -> None:
        """Probe at once (first probe, HALF_OPEN trial) unless paused or one is out."""
        if self._breaker_state is BreakerState.OPEN or self._outstanding is not None:
            return
        self._seq += 1
        seq = self._outstanding = self._seq
        self._next_due = self._sent_at = self._clock.monotonic()
        try:
            self._session.tell(RunProbe(self._symbol, seq, reply_to=self.actor_ref))
        except ChildUnavailable as exc:
            self._finish(self._failed(seq, f"session unavailable: {exc.reason}"))
            return
        self._arm_timeout(seq, self._config.timeout)

    def _arm_next(self) -> None:
        """Schedule the next probe on the fixed-rate grid (missed slots are skipped).

        The timer tells the SessionActor directly, from the clock's thread, so a
        probe costs one hop less than waking this actor first; the timeout is
        armed now, counted from the moment the probe will be sent.
        """
        if self._breaker_state is BreakerState.OPEN or self._outstanding is not None:
            return
        now, interval = self._clock.monotonic(), self._config.interval
        self._next_due += interval
        if self._next_due <= now:
            self._next_due += interval * ((now - self._next_due) // interval + 1)
        delay = self._next_due - now
        self._seq += 1
        seq = self._outstanding = self._seq
        self._sent_at = self._next_due
        me, session = self.actor_ref, self._session
        probe = RunProbe(self._symbol, seq, reply_to=me)

        def send() -> None:
            try:
                session.tell(probe)
            except ChildUnavailable as exc:
                deliver(me, _ProbeUnsent(seq, exc.reason))

        self._probe_timer = self._clock.call_later(delay, send)
        self._arm_timeout(seq, delay + self._config.timeout)

    def _arm_timeout(self, seq: int, delay: float) -> None:
        me = self.actor_ref
        self._timeout_timer = self._clock.call_later(delay, lambda: deliver(me, _ProbeTimedOut(seq)))

    def _cancel_timers(self) -> None:
        for timer in (self._probe_timer, self._timeout_timer):
            if timer is not None:
                timer.cancel()
        self._probe_timer = self._timeout_timer = None

    def _failed(self, seq: int, why: str) -> ProbeResult:
        latency_ms = (self._clock.monotonic() - self._sent_at) * 1000.0
        return ProbeResult(seq, False, False, False, latency_ms, self._clock.now(), why)

    def _finish(self, result: ProbeResult) -> None:
        self._outstanding = None
        self._cancel_timers()
        self._bus.publish(ProbeRecorded(self.account, result))
        if not (result.skipped or self._breaker_state is BreakerState.OPEN):
            self._publish(self._policy.record(result, self._clock.monotonic()))
        self._arm_next()

    def _on_breaker(self, message: BreakerStateChanged) -> None:
        if message.epoch < self._breaker_epoch:
            return  # older than what the view told us at start
        self._breaker_epoch = message.epoch
        previous, self._breaker_state = self._breaker_state, message.new
        blocked = message.new in (BreakerState.OPEN, BreakerState.HALF_OPEN)
        self._publish(self._policy.set_breaker_open(blocked, f"breaker {message.new.value}"))
        if message.new is BreakerState.OPEN:
            self._cancel_timers()  # paused; a probe already at the session is ignored
            self._outstanding = None
        elif message.new is BreakerState.HALF_OPEN and previous is not BreakerState.HALF_OPEN:
            self._probe_now()  # the trial call: do not wait for the next slot
        elif previous is BreakerState.OPEN:
            self._probe_now()  # reset or disabled while OPEN: resume probing

    def _publish(self, changes: list[StatusChange]) -> None:
        now = self._clock.now()
        for change in changes:
            event = HealthChanged(self.account, change.component, change.old, change.new,
                                  change.reason, now)
            self._bus.publish(event)
            self._subscribers = [s for s in self._subscribers if deliver(s, event)]
